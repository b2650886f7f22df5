// Fuzzes the JSONL readers of `gavel meta` and `gavel rank` (meta::read_jsonl, its field
// accessors, rank::load_pairwise and meta::load_items): any bytes must give data or an Error
// naming file and line, never a crash, an exception or a sanitizer report. The input reaches
// the readers as a file (a memfd), the way the commands read it. Short field names let the
// fuzzer hit them.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "meta/items.h"
#include "meta/jsonl.h"
#include "rank/data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("fuzz.jsonl", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    std::abort();
  auto js = gavel::meta::read_jsonl(path);
  if (js.ok()) {
    for (const auto& row : js->rows)
      for (const char* f : {"a", "a.b", "b.c.d", "", ".", "a..", "s"}) {
        (void)js->has(row, f);
        (void)js->number(row, f);
        (void)js->text(row, f);
      }
  }
  gavel::rank::PairwiseFields pf;
  (void)gavel::rank::load_pairwise(path, pf);
  pf = {"a", "b", "o", "p", "w", "q"};
  (void)gavel::rank::load_pairwise(path, pf);
  gavel::meta::ItemFields itf;
  (void)gavel::meta::load_items(path, itf);
  itf = {"g", "q", "v", "l", true};
  (void)gavel::meta::load_items(path, itf);
  return 0;
}
