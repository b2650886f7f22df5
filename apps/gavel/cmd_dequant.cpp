// `gavel dequant`: developer tool over the GGUF layer. Dumps a file's metadata and tensor
// table as JSON, dequantizes one tensor, or dequantizes raw blocks of a given type (the
// parity tests against gguf-py drive it).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.h"
#include "core/io.h"
#include "gguf/gguf.h"
#include "gguf/quants.h"

namespace {

using gavel::gguf::File;
using gavel::gguf::TensorType;
using gavel::gguf::Value;
using gavel::gguf::ValueType;

nlohmann::json to_json(const Value& v) {
  switch (v.type) {
    case ValueType::kU8:
    case ValueType::kU16:
    case ValueType::kU32:
    case ValueType::kU64:
      return v.u;
    case ValueType::kI8:
    case ValueType::kI16:
    case ValueType::kI32:
    case ValueType::kI64:
      return v.i;
    case ValueType::kF32:
    case ValueType::kF64:
      return v.f;
    case ValueType::kBool:
      return v.u != 0;
    case ValueType::kString:
      return v.s;
    case ValueType::kArray: {
      nlohmann::json a = nlohmann::json::array();
      if (v.elem_type == ValueType::kString) {
        for (std::string_view s : v.strings()) a.push_back(s);
        return a;
      }
      for (size_t k = 0; k < v.size(); ++k) a.push_back(to_json(v.element(k)));
      return a;
    }
  }
  return nullptr;
}

nlohmann::json info_json(const File& f) {
  nlohmann::json j;
  j["version"] = f.version();
  j["alignment"] = f.alignment();
  j["data_offset"] = f.data_offset();
  nlohmann::json kv = nlohmann::json::array();
  for (const std::string& k : f.keys()) {
    const Value* v = f.find(k);
    nlohmann::json e = {{"key", k}, {"type", gavel::gguf::value_type_name(v->type)}};
    if (v->type == ValueType::kArray) e["elem_type"] = gavel::gguf::value_type_name(v->elem_type);
    e["value"] = to_json(*v);
    kv.push_back(std::move(e));
  }
  j["metadata"] = std::move(kv);
  nlohmann::json ts = nlohmann::json::array();
  for (const auto& t : f.tensors())
    ts.push_back({{"name", t.name},
                  {"ne", t.ne},
                  {"type", gavel::gguf::type_name(t.type)},
                  {"type_id", static_cast<uint32_t>(t.type)},
                  {"offset", t.offset},
                  {"nbytes", t.nbytes}});
  j["tensors"] = std::move(ts);
  return j;
}

int write_floats(const std::string& out, const std::vector<float>& v) {
  std::string_view bytes(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  gavel::Status s = gavel::write_file_atomic(out, bytes);
  return s.ok() ? 0 : gavel::cli::fail(s.message());
}

struct Options {
  std::string info, model, tensor, type, in, out;
};

int run(const Options& o) {
  if (!o.info.empty()) {
    auto f = File::open(o.info);
    if (!f.ok()) return gavel::cli::fail(f.message());
    std::string text =
        info_json(**f).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (o.out.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fputc('\n', stdout);
      return 0;
    }
    gavel::Status s = gavel::write_file_atomic(o.out, text);
    return s.ok() ? 0 : gavel::cli::fail(s.message());
  }
  if (o.out.empty()) return gavel::cli::fail("dequant: --out is required");
  if (!o.model.empty()) {
    auto f = File::open(o.model);
    if (!f.ok()) return gavel::cli::fail(f.message());
    const gavel::gguf::TensorInfo* t = (*f)->tensor(o.tensor);
    if (t == nullptr) return gavel::cli::fail(o.model + ": no tensor named '" + o.tensor + "'");
    std::vector<float> v(static_cast<size_t>(t->n_elements()));
    gavel::Status s = gavel::gguf::dequantize_tensor(*t, v.data());
    if (!s.ok()) return gavel::cli::fail(o.model + ": " + s.message());
    return write_floats(o.out, v);
  }
  if (o.type.empty() || o.in.empty())
    return gavel::cli::fail(
        "dequant: give --info FILE, --model FILE --tensor NAME, or --type T --in RAW");
  auto type = gavel::gguf::type_from_name(o.type);
  if (!type.ok()) return gavel::cli::fail(type.message());
  auto raw = gavel::read_file(o.in);
  if (!raw.ok()) return gavel::cli::fail(raw.message());
  const size_t bb = gavel::gguf::block_bytes(*type);
  if (raw->size() % bb != 0)
    return gavel::cli::fail(o.in + ": " + std::to_string(raw->size()) +
                            " bytes is not a whole number of " + o.type + " blocks");
  const int64_t n = static_cast<int64_t>(raw->size() / bb) * gavel::gguf::block_size(*type);
  std::vector<float> v(static_cast<size_t>(n));
  gavel::Status s = gavel::gguf::dequantize_row(*type, raw->data(), v.data(), n);
  if (!s.ok()) return gavel::cli::fail(s.message());
  return write_floats(o.out, v);
}

gavel::cli::Register reg{
    {"dequant", "(dev) GGUF metadata dump and dequantization to raw f32",
     [](CLI::App& app) -> gavel::cli::Runner {
       auto o = std::make_shared<Options>();
       app.add_option("--info", o->info, "print metadata + tensor table of a GGUF as JSON");
       app.add_option("--model", o->model, "GGUF file to read a tensor from");
       app.add_option("--tensor", o->tensor, "tensor name (with --model)");
       app.add_option("--type", o->type, "ggml type of the raw blocks in --in (e.g. Q4_K)");
       app.add_option("--in", o->in, "file of raw blocks");
       app.add_option("--out", o->out, "output: little-endian f32 (or JSON for --info)");
       gavel::cli::refuse_output_over_inputs(&app, "--out");
       return [o]() { return run(*o); };
     }}};

}  // namespace
