// GGUF v2/v3 reader: metadata, tensor infos and mmap'd tensor data. Every count, offset and
// size is bounds-checked against the file; a corrupt or truncated file yields an Error that
// names the offending key/tensor and byte offset, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/status.h"

namespace gavel::gguf {

enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

// ggml tensor type ids (the subset gavel knows by name; others are kept as raw ids).
enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ4_NL = 20,
  kIQ4_XS = 23,
  kBF16 = 30,
};

const char* type_name(TensorType t);       // "Q4_K", or "type#N" for unknown ids
const char* value_type_name(ValueType t);  // "u32", "string", "array", ...

// One metadata value. Scalars are widened. Arrays of numbers and strings stay in the file image
// (validated when the file is parsed) and are read on demand: a vocabulary's tokens, merges and
// token types held as views and 64-bit numbers took 6 MiB for as long as the model was loaded.
// Arrays of arrays are Values.
struct Value {
  ValueType type = ValueType::kU8;
  ValueType elem_type = ValueType::kU8;  // for arrays
  uint64_t u = 0;                        // unsigned ints and bool
  int64_t i = 0;                         // signed ints
  double f = 0.0;                        // floats
  std::string s;                         // strings
  std::vector<Value> arr;                // arrays of arrays
  const uint8_t* raw = nullptr;          // arrays of numbers and strings: the encoded elements
  size_t raw_bytes = 0;                  // (valid while the File lives), their bytes
  size_t count = 0;                      // and their number
  size_t size() const;                   // elements of an array
  // Element k of an array (k < size()): direct for numbers and arrays, a walk over the first k
  // for strings (strings() reads them all in one pass).
  Value element(size_t k) const;
  std::vector<std::string_view> strings() const;  // an array of strings, as views into the file
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ne[0] is the contiguous (innermost) dimension
  TensorType type = TensorType::kF32;
  uint64_t offset = 0;            // relative to the data section
  const uint8_t* data = nullptr;  // into the mapping
  size_t nbytes = 0;
  int64_t n_elements() const;
  int64_t rows() const;  // product of ne[1..]
};

class File {
 public:
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  static Result<std::unique_ptr<File>> open(const std::string& path);
  // Parses an in-memory image (used by the fuzzer; the buffer must outlive the File).
  static Result<std::unique_ptr<File>> parse(const uint8_t* data, size_t size, std::string name);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  // Byte offset of the data section in the file (tensor offsets are relative to it).
  size_t data_offset() const { return data_offset_; }

  const std::vector<std::string>& keys() const { return keys_; }  // in file order
  const Value* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Typed getters: error names the key when missing or of the wrong type.
  Result<std::string> get_string(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;   // any integer type
  Result<double> get_float(std::string_view key) const;  // any float or integer type
  Result<bool> get_bool(std::string_view key) const;
  Result<std::vector<std::string>> get_string_array(std::string_view key) const;
  Result<std::vector<int64_t>> get_int_array(std::string_view key) const;
  Result<std::vector<double>> get_float_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(std::string_view name) const;

  // Gives the memory of the metadata's pages (the vocabulary's text) back to the system once
  // what needed them is built; later reads fault them in again from the file.
  void release_metadata_pages() const;

 private:
  File() = default;
  std::string path_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::string> keys_;
  std::vector<Value> values_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> key_index_, tensor_index_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
};

}  // namespace gavel::gguf
