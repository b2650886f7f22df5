// PageAllocator: a std::allocator for large, growing buffers (KV caches) that takes its memory
// straight from the kernel (mmap) and gives it back on free (munmap). Through malloc, buffers
// of a few MiB that grow and die at different times leave the heap fragmented: the freed
// space stays in the process (measured: +92 MiB peak RSS over a 40-prompt tournament run).
// Pages count towards RSS only once written, so an allocation costs what is used of it.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace gavel {

template <typename T>
struct PageAllocator {
  using value_type = T;
  PageAllocator() = default;
  template <typename U>
  PageAllocator(const PageAllocator<U>&) {}

  T* allocate(size_t n) {
    if (n == 0) return nullptr;
    if (n > size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    void* p =
        mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (p != nullptr) munmap(p, n * sizeof(T));
  }
  template <typename U>
  bool operator==(const PageAllocator<U>&) const {
    return true;
  }
};

}  // namespace gavel
