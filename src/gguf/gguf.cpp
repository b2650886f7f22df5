#include "gguf/gguf.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "core/io.h"
#include "gguf/quants.h"

namespace gavel::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read little-endian
constexpr int kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;  // nested arrays deeper than this are treated as corrupt

}  // namespace

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::kU8:
      return "u8";
    case ValueType::kI8:
      return "i8";
    case ValueType::kU16:
      return "u16";
    case ValueType::kI16:
      return "i16";
    case ValueType::kU32:
      return "u32";
    case ValueType::kI32:
      return "i32";
    case ValueType::kF32:
      return "f32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kArray:
      return "array";
    case ValueType::kU64:
      return "u64";
    case ValueType::kI64:
      return "i64";
    case ValueType::kF64:
      return "f64";
  }
  return "?";
}

namespace {

bool is_unsigned(ValueType t) {
  return t == ValueType::kU8 || t == ValueType::kU16 || t == ValueType::kU32 ||
         t == ValueType::kU64;
}
bool is_signed(ValueType t) {
  return t == ValueType::kI8 || t == ValueType::kI16 || t == ValueType::kI32 ||
         t == ValueType::kI64;
}
bool is_float(ValueType t) { return t == ValueType::kF32 || t == ValueType::kF64; }

// Smallest encoded size of one value of type t; used to reject counts that cannot fit
// in the remaining bytes before anything is allocated.
size_t min_encoded_size(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kBool:
      return 1;
    case ValueType::kU16:
    case ValueType::kI16:
      return 2;
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kF32:
      return 4;
    case ValueType::kU64:
    case ValueType::kI64:
    case ValueType::kF64:
      return 8;
    case ValueType::kString:
      return 8;  // length prefix
    case ValueType::kArray:
      return 12;  // elem type + count
  }
  return 1;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::kF64); }

// Bounds-checked little-endian reader over the file image. Every failure names the file,
// the item being read (`what`) and the byte offset.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  size_t pos() const { return pos_; }
  const uint8_t* here() const { return data_ + pos_; }
  Status skip(size_t n, const std::string& what) {
    if (n > remaining())
      return error(what, fmt::format("truncated: need {} bytes, {} left", n, remaining()));
    pos_ += n;
    return Status::Ok();
  }
  size_t remaining() const { return size_ - pos_; }

  Error error(const std::string& what, const std::string& msg) const {
    return error_at(pos_, what, msg);
  }
  Error error_at(size_t off, const std::string& what, const std::string& msg) const {
    return Error{fmt::format("{}: {}: {} (at byte offset {})", name_, what, msg, off),
                 StatusCode::kCorruption};
  }

  template <class T>
  Result<T> read(const std::string& what) {
    if (remaining() < sizeof(T))
      return error(what, fmt::format("truncated: need {} bytes, {} left", sizeof(T), remaining()));
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  Result<std::string> read_string(const std::string& what) {
    GAVEL_ASSIGN(std::string_view v, read_string_view(what));
    return std::string(v);
  }
  // A view into the image (which outlives the File, see File::parse).
  Result<std::string_view> read_string_view(const std::string& what) {
    size_t at = pos_;
    GAVEL_ASSIGN(uint64_t len, read<uint64_t>(what + " (string length)"));
    if (len > remaining())
      return error_at(at, what,
                      fmt::format("string length {} exceeds the {} bytes left", len, remaining()));
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

Status read_value(Reader& r, ValueType type, const std::string& what, int depth, Value& out);

Status read_array(Reader& r, const std::string& what, int depth, Value& out) {
  size_t at = r.pos();
  if (depth >= kMaxArrayDepth)
    return r.error(what, fmt::format("arrays nested deeper than {}", kMaxArrayDepth));
  GAVEL_ASSIGN(uint32_t et, r.read<uint32_t>(what + " (array element type)"));
  if (!valid_value_type(et))
    return r.error_at(at, what, fmt::format("invalid array element type {}", et));
  out.elem_type = static_cast<ValueType>(et);
  GAVEL_ASSIGN(uint64_t count, r.read<uint64_t>(what + " (array length)"));
  size_t min = min_encoded_size(out.elem_type);
  if (count > r.remaining() / min)
    return r.error_at(at, what,
                      fmt::format("array of {} {} elements cannot fit in the {} bytes left", count,
                                  value_type_name(out.elem_type), r.remaining()));
  if (out.elem_type == ValueType::kArray) {
    out.arr.resize(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i)
      GAVEL_TRY(read_value(r, out.elem_type, what, depth + 1, out.arr[i]));
    return Status::Ok();
  }
  // Numbers and strings stay in the image: checked here, read by Value::element / strings.
  out.raw = r.here();
  out.count = static_cast<size_t>(count);
  const size_t start = r.pos();
  if (out.elem_type == ValueType::kString) {
    for (uint64_t i = 0; i < count; ++i) GAVEL_TRY(r.read_string_view(what).status());
  } else {
    GAVEL_TRY(r.skip(static_cast<size_t>(count) * min, what));
  }
  out.raw_bytes = r.pos() - start;
  return Status::Ok();
}

Status read_value(Reader& r, ValueType type, const std::string& what, int depth, Value& out) {
  out.type = type;
  switch (type) {
#define GAVEL_SCALAR(VT, CT, FIELD)       \
  case ValueType::VT: {                   \
    GAVEL_ASSIGN(CT v, r.read<CT>(what)); \
    out.FIELD = v;                        \
    return Status::Ok();                  \
  }
    GAVEL_SCALAR(kU8, uint8_t, u)
    GAVEL_SCALAR(kU16, uint16_t, u)
    GAVEL_SCALAR(kU32, uint32_t, u)
    GAVEL_SCALAR(kU64, uint64_t, u)
    GAVEL_SCALAR(kI8, int8_t, i)
    GAVEL_SCALAR(kI16, int16_t, i)
    GAVEL_SCALAR(kI32, int32_t, i)
    GAVEL_SCALAR(kI64, int64_t, i)
    GAVEL_SCALAR(kF32, float, f)
    GAVEL_SCALAR(kF64, double, f)
#undef GAVEL_SCALAR
    case ValueType::kBool: {
      GAVEL_ASSIGN(uint8_t v, r.read<uint8_t>(what));
      out.u = v != 0;
      return Status::Ok();
    }
    case ValueType::kString: {
      GAVEL_ASSIGN(out.s, r.read_string(what));
      return Status::Ok();
    }
    case ValueType::kArray:
      return read_array(r, what, depth, out);
  }
  return r.error(what, fmt::format("invalid value type {}", static_cast<uint32_t>(type)));
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t& out) {
  return __builtin_mul_overflow(a, b, &out);
}

}  // namespace

const char* type_name(TensorType t) {
  switch (t) {
    case TensorType::kF32:
      return "F32";
    case TensorType::kF16:
      return "F16";
    case TensorType::kQ4_0:
      return "Q4_0";
    case TensorType::kQ4_1:
      return "Q4_1";
    case TensorType::kQ5_0:
      return "Q5_0";
    case TensorType::kQ5_1:
      return "Q5_1";
    case TensorType::kQ8_0:
      return "Q8_0";
    case TensorType::kQ8_1:
      return "Q8_1";
    case TensorType::kQ2_K:
      return "Q2_K";
    case TensorType::kQ3_K:
      return "Q3_K";
    case TensorType::kQ4_K:
      return "Q4_K";
    case TensorType::kQ5_K:
      return "Q5_K";
    case TensorType::kQ6_K:
      return "Q6_K";
    case TensorType::kQ8_K:
      return "Q8_K";
    case TensorType::kIQ4_NL:
      return "IQ4_NL";
    case TensorType::kIQ4_XS:
      return "IQ4_XS";
    case TensorType::kBF16:
      return "BF16";
  }
  // Other ggml ids: names for the ones ggml defines, "type#N" otherwise.
  switch (static_cast<uint32_t>(t)) {
    case 16:
      return "IQ2_XXS";
    case 17:
      return "IQ2_XS";
    case 18:
      return "IQ3_XXS";
    case 19:
      return "IQ1_S";
    case 21:
      return "IQ3_S";
    case 22:
      return "IQ2_S";
    case 24:
      return "I8";
    case 25:
      return "I16";
    case 26:
      return "I32";
    case 27:
      return "I64";
    case 28:
      return "F64";
    case 29:
      return "IQ1_M";
    case 34:
      return "TQ1_0";
    case 35:
      return "TQ2_0";
    case 39:
      return "MXFP4";
    case 40:
      return "NVFP4";
    case 41:
      return "Q1_0";
  }
  thread_local char buf[24];
  std::snprintf(buf, sizeof buf, "type#%u", static_cast<uint32_t>(t));
  return buf;
}

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

int64_t TensorInfo::rows() const {
  int64_t n = 1;
  for (size_t i = 1; i < ne.size(); ++i) n *= ne[i];
  return n;
}

File::~File() {
  if (map_ != nullptr) munmap(map_, map_size_);
}

Result<std::unique_ptr<File>> File::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error(path + ": cannot open", errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return os_error(path + ": cannot stat", e);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{fmt::format("{}: is {}, not a GGUF model file", path, file_kind(st.st_mode)),
                 StatusCode::kInvalidArgument};
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return Error{fmt::format("{}: empty file, not a GGUF model", path), StatusCode::kCorruption};
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  ::close(fd);
  if (map == MAP_FAILED) return os_error(path + ": mmap failed", e);
  auto parsed = parse(static_cast<const uint8_t*>(map), size, path);
  if (!parsed.ok()) {
    munmap(map, size);
    return parsed.error();
  }
  parsed.value()->map_ = map;
  parsed.value()->map_size_ = size;
  return parsed;
}

Result<std::unique_ptr<File>> File::parse(const uint8_t* data, size_t size, std::string name) {
  std::unique_ptr<File> f(new File());
  f->path_ = std::move(name);
  Reader r(data, size, f->path_);

  GAVEL_ASSIGN(uint32_t magic, r.read<uint32_t>("magic"));
  if (magic != kMagic) return r.error_at(0, "magic", "not a GGUF file (bad magic)");
  GAVEL_ASSIGN(f->version_, r.read<uint32_t>("version"));
  if (f->version_ == 1)
    return r.error_at(4, "version",
                      "GGUF v1 is not supported (32-bit counts; re-convert the model)");
  if (f->version_ == 0x02000000 || f->version_ == 0x03000000)
    return r.error_at(4, "version", "big-endian GGUF files are not supported");
  if (f->version_ != 2 && f->version_ != 3)
    return r.error_at(4, "version", fmt::format("unsupported GGUF version {}", f->version_));

  GAVEL_ASSIGN(uint64_t n_tensors, r.read<uint64_t>("tensor count"));
  GAVEL_ASSIGN(uint64_t n_kv, r.read<uint64_t>("metadata count"));
  // Each kv needs at least key length + type + 1 byte; each tensor info at least 8+4+4+8.
  if (n_kv > r.remaining() / 13)
    return r.error_at(
        16, "metadata count",
        fmt::format("{} entries cannot fit in the {} bytes left", n_kv, r.remaining()));
  if (n_tensors > r.remaining() / 24)
    return r.error_at(
        8, "tensor count",
        fmt::format("{} tensors cannot fit in the {} bytes left", n_tensors, r.remaining()));

  f->keys_.reserve(static_cast<size_t>(n_kv));
  f->values_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    GAVEL_ASSIGN(std::string key, r.read_string(fmt::format("metadata key #{}", k)));
    std::string what = fmt::format("key '{}'", key);
    if (f->key_index_.count(key)) return r.error(what, "duplicate metadata key");
    size_t at = r.pos();
    GAVEL_ASSIGN(uint32_t type, r.read<uint32_t>(what + " (value type)"));
    if (!valid_value_type(type))
      return r.error_at(at, what, fmt::format("invalid value type {}", type));
    Value v;
    GAVEL_TRY(read_value(r, static_cast<ValueType>(type), what, 0, v));
    f->key_index_.emplace(key, f->keys_.size());
    f->keys_.push_back(std::move(key));
    f->values_.push_back(std::move(v));
  }

  if (const Value* a = f->find("general.alignment")) {
    if (!is_unsigned(a->type) && !is_signed(a->type))
      return Error{fmt::format("{}: key 'general.alignment': expected an integer, got {}", f->path_,
                               value_type_name(a->type)),
                   StatusCode::kCorruption};
    int64_t al =
        is_unsigned(a->type) ? static_cast<int64_t>(std::min<uint64_t>(a->u, 1u << 31)) : a->i;
    if (al <= 0 || (al & (al - 1)) != 0 || al > (1 << 30))
      return Error{
          fmt::format("{}: key 'general.alignment': {} is not a power of two", f->path_, al),
          StatusCode::kCorruption};
    f->alignment_ = static_cast<size_t>(al);
  }

  f->tensors_.reserve(static_cast<size_t>(n_tensors));
  std::vector<size_t> info_offsets;
  for (uint64_t t = 0; t < n_tensors; ++t) {
    TensorInfo ti;
    info_offsets.push_back(r.pos());
    GAVEL_ASSIGN(ti.name, r.read_string(fmt::format("tensor #{} name", t)));
    std::string what = fmt::format("tensor '{}'", ti.name);
    if (f->tensor_index_.count(ti.name)) return r.error(what, "duplicate tensor name");
    GAVEL_ASSIGN(uint32_t n_dims, r.read<uint32_t>(what + " (n_dims)"));
    if (n_dims > kMaxDims)
      return r.error(what, fmt::format("{} dimensions (at most {} supported)", n_dims, kMaxDims));
    // Product of the non-zero dims must fit in int64 so n_elements()/rows() never overflow.
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      GAVEL_ASSIGN(uint64_t ne, r.read<uint64_t>(what + " (ne)"));
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          mul_overflows(n_el, ne == 0 ? 1 : ne, n_el) ||
          n_el > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return r.error(what, fmt::format("dimension {} = {} overflows the element count", d, ne));
      ti.ne.push_back(static_cast<int64_t>(ne));
    }
    size_t type_at = r.pos();
    GAVEL_ASSIGN(uint32_t type, r.read<uint32_t>(what + " (type)"));
    ti.type = static_cast<TensorType>(type);
    if (block_size(ti.type) == 0)
      return r.error_at(type_at, what, fmt::format("unknown ggml tensor type id {}", type));
    GAVEL_ASSIGN(ti.offset, r.read<uint64_t>(what + " (offset)"));
    int64_t ne0 = ti.ne.empty() ? 1 : ti.ne[0];
    if (ne0 % block_size(ti.type) != 0)
      return r.error_at(type_at, what,
                        fmt::format("ne[0] = {} is not a multiple of the {} block size {}", ne0,
                                    type_name(ti.type), block_size(ti.type)));
    uint64_t nbytes;
    if (mul_overflows(static_cast<uint64_t>(ti.rows()), row_bytes(ti.type, ne0), nbytes) ||
        nbytes > std::numeric_limits<size_t>::max())
      return r.error_at(type_at, what, "byte size overflows");
    ti.nbytes = static_cast<size_t>(nbytes);
    f->tensor_index_.emplace(ti.name, f->tensors_.size());
    f->tensors_.push_back(std::move(ti));
  }

  // The data section starts at the next multiple of the alignment.
  size_t end_of_infos = r.pos();
  size_t data_start = (end_of_infos + f->alignment_ - 1) / f->alignment_ * f->alignment_;
  f->data_offset_ = data_start;
  if (n_tensors > 0 && data_start > size)
    return Error{fmt::format("{}: truncated: data section would start at byte offset {} but the "
                             "file has {} bytes",
                             f->path_, data_start, size),
                 StatusCode::kCorruption};
  size_t data_size = data_start <= size ? size - data_start : 0;
  for (size_t t = 0; t < f->tensors_.size(); ++t) {
    TensorInfo& ti = f->tensors_[t];
    if (ti.offset % f->alignment_ != 0)
      return Error{fmt::format("{}: tensor '{}': data offset {} is not a multiple of the "
                               "alignment {} (tensor info at byte offset {})",
                               f->path_, ti.name, ti.offset, f->alignment_, info_offsets[t]),
                   StatusCode::kCorruption};
    if (ti.offset > data_size || ti.nbytes > data_size - ti.offset)
      return Error{fmt::format("{}: tensor '{}': data [{}, +{}) lies outside the {}-byte data "
                               "section starting at byte offset {} (truncated file?)",
                               f->path_, ti.name, ti.offset, ti.nbytes, data_size, data_start),
                   StatusCode::kCorruption};
    ti.data = data + data_start + ti.offset;
  }
  return f;
}

const Value* File::find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &values_[it->second];
}

const TensorInfo* File::tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

size_t Value::size() const { return elem_type == ValueType::kArray ? arr.size() : count; }

namespace {
// What a read of an array's elements would name in an error: none fails, they were validated
// when the file was parsed.
const std::string kElements = "array element";
}  // namespace

Value Value::element(size_t k) const {
  if (elem_type == ValueType::kArray) return arr[k];
  Reader r(raw, raw_bytes, kElements);
  if (elem_type == ValueType::kString)
    for (size_t j = 0; j < k; ++j) (void)r.read_string_view(kElements);
  else
    (void)r.skip(k * min_encoded_size(elem_type), kElements);
  Value e;
  (void)read_value(r, elem_type, kElements, 1, e);
  return e;
}

std::vector<std::string_view> Value::strings() const {
  std::vector<std::string_view> out;
  if (elem_type != ValueType::kString) return out;
  out.reserve(count);
  Reader r(raw, raw_bytes, kElements);
  for (size_t k = 0; k < count; ++k) out.push_back(*r.read_string_view(kElements));
  return out;
}

void File::release_metadata_pages() const {
  if (map_ == nullptr) return;  // parsed from a caller's buffer
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  // Whole pages before the first tensor's data; the pages are clean, so they are dropped, not
  // written anywhere, and read from the file again if touched.
  const size_t end = std::min(data_offset_, map_size_) / page * page;
  if (end > 0) (void)madvise(map_, end, MADV_DONTNEED);
}

namespace {

Error missing(const std::string& path, std::string_view key) {
  return Error{fmt::format("{}: missing metadata key '{}'", path, key), StatusCode::kNotFound};
}
Error wrong_type(const std::string& path, std::string_view key, const Value& v,
                 const char* expected) {
  std::string got = value_type_name(v.type);
  if (v.type == ValueType::kArray) got = fmt::format("array of {}", value_type_name(v.elem_type));
  return Error{fmt::format("{}: key '{}': expected {}, got {}", path, key, expected, got),
               StatusCode::kCorruption};
}

// Integer view of a scalar; false if it is not an integer or does not fit in int64.
bool as_int(const Value& v, int64_t& out) {
  if (is_signed(v.type)) {
    out = v.i;
    return true;
  }
  if (is_unsigned(v.type) && v.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    out = static_cast<int64_t>(v.u);
    return true;
  }
  return false;
}

bool as_float(const Value& v, double& out) {
  if (is_float(v.type)) {
    out = v.f;
    return true;
  }
  if (is_signed(v.type)) {
    out = static_cast<double>(v.i);
    return true;
  }
  if (is_unsigned(v.type)) {
    out = static_cast<double>(v.u);
    return true;
  }
  return false;
}

}  // namespace

Result<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != ValueType::kString) return wrong_type(path_, key, *v, "a string");
  return v->s;
}

Result<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key);
  int64_t out;
  if (!as_int(*v, out)) return wrong_type(path_, key, *v, "an integer (fitting in int64)");
  return out;
}

Result<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key);
  double out;
  if (!as_float(*v, out)) return wrong_type(path_, key, *v, "a number");
  return out;
}

Result<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != ValueType::kBool) return wrong_type(path_, key, *v, "a bool");
  return v->u != 0;
}

Result<std::vector<std::string>> File::get_string_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != ValueType::kArray || v->elem_type != ValueType::kString)
    return wrong_type(path_, key, *v, "an array of strings");
  std::vector<std::string> out;
  out.reserve(v->size());
  for (std::string_view s : v->strings()) out.emplace_back(s);
  return out;
}

Result<std::vector<int64_t>> File::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != ValueType::kArray || !(is_signed(v->elem_type) || is_unsigned(v->elem_type)))
    return wrong_type(path_, key, *v, "an array of integers");
  std::vector<int64_t> out(v->size());
  for (size_t i = 0; i < out.size(); ++i)
    if (!as_int(v->element(i), out[i]))
      return Error{fmt::format("{}: key '{}': element {} does not fit in int64", path_, key, i),
                   StatusCode::kOutOfRange};
  return out;
}

Result<std::vector<double>> File::get_float_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != ValueType::kArray ||
      !(is_float(v->elem_type) || is_signed(v->elem_type) || is_unsigned(v->elem_type)))
    return wrong_type(path_, key, *v, "an array of numbers");
  std::vector<double> out(v->size());
  for (size_t i = 0; i < out.size(); ++i) as_float(v->element(i), out[i]);
  return out;
}

}  // namespace gavel::gguf
