// `gavel info MODEL [--json]`: architecture, hyperparameters, tensor type counts, tokenizer
// summary and whether a chat template is embedded. Reads metadata only (no weights touched).
// `gavel info --system [--json]`: the CPU's features and the kernel set gavel runs on it.
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "command.h"
#include "gguf/gguf.h"
#include "model/qwen35.h"
#include "model/weights.h"
#include "tensor/isa.h"

namespace {

nlohmann::json collect(const gavel::gguf::File& f, std::string* error) {
  using nlohmann::json;
  json j;
  j["path"] = f.path();
  j["gguf_version"] = f.version();
  auto hp = gavel::model::read_hparams(f);
  if (hp.ok()) {
    const auto& h = *hp;
    j["architecture"] = h.arch;
    j["hparams"] = {
        {"n_vocab", h.n_vocab}, {"n_embd", h.n_embd},       {"n_layer", h.n_layer},
        {"n_head", h.n_head},   {"n_head_kv", h.n_head_kv}, {"head_dim", h.head_dim},
        {"n_rot", h.n_rot},     {"n_ff", h.n_ff},           {"n_ctx_train", h.n_ctx_train},
        {"rms_eps", h.rms_eps}, {"rope_base", h.rope_base}};
    if (h.arch == "qwen35") {
      auto lay = gavel::model::qwen35_layout(f);
      if (!lay.ok()) {
        *error = lay.message();
      } else {
        // MTP (nextn) blocks are stored but never run: n_layer counts the decoder layers.
        j["hparams"]["n_layer"] = lay->n_layer;
        int n_attn = 0;
        for (bool r : lay->recurrent) n_attn += r ? 0 : 1;
        j["layers"] = {{"pattern", lay->pattern()},          {"deltanet", lay->n_layer - n_attn},
                       {"full_attention", n_attn},           {"nextn_skipped", lay->n_nextn},
                       {"ssm_d_inner", lay->d_inner},        {"ssm_d_state", lay->d_state},
                       {"ssm_conv_kernel", lay->conv_kernel}};
      }
    }
  } else {
    auto arch = f.get_string("general.architecture");
    j["architecture"] = arch.ok() ? *arch : "";
    *error = hp.message();
  }
  std::map<std::string, int> types;
  uint64_t n_params = 0;
  for (const auto& t : f.tensors()) {
    ++types[gavel::gguf::type_name(t.type)];
    n_params += uint64_t(t.n_elements());
  }
  j["n_tensors"] = f.tensors().size();
  j["n_params"] = n_params;
  j["tensor_types"] = types;
  json tok;
  auto str = [&](const char* key) {
    auto v = f.get_string(key);
    return v.ok() ? *v : std::string();
  };
  tok["model"] = str("tokenizer.ggml.model");
  tok["pre"] = str("tokenizer.ggml.pre");
  const gavel::gguf::Value* toks = f.find("tokenizer.ggml.tokens");
  tok["vocab_size"] = toks ? toks->size() : 0;
  for (const char* k : {"bos", "eos", "eot", "pad"}) {
    auto id = f.get_int(fmt::format("tokenizer.ggml.{}_token_id", k));
    if (id.ok()) tok[fmt::format("{}_id", k)] = *id;
  }
  j["tokenizer"] = tok;
  j["chat_template"] = f.has("tokenizer.chat_template");
  return j;
}

// The CPU, the levels it runs and the chosen kernel set (or why none can run).
nlohmann::json system_info(std::string* error) {
  namespace t = gavel::tensor;
  const t::CpuInfo& c = t::cpu_info();
  nlohmann::json j;
  j["cpu"] = {{"vendor", c.vendor}, {"brand", c.brand}, {"features", c.feature_names()}};
  for (t::Isa i : t::all_isas())
    j["levels"].push_back({{"name", t::isa_name(i)},
                           {"runs_here", t::cpu_supports(i)},
                           {"matches", t::isa_description(i)}});
  const char* env = std::getenv(t::kIsaEnvVar);
  j["forced_by_env"] = env ? nlohmann::json(env) : nlohmann::json(nullptr);
  const gavel::Status st = t::init_kernels();
  if (st.ok()) {
    j["kernel_set"] = t::isa_name(t::active_isa());
    j["autovec_bits"] = t::autovec_lanes() * 32;
  } else {
    j["kernel_set"] = nullptr;
    *error = st.message();
  }
  return j;
}

void print_system(const nlohmann::json& j) {
  std::cout << "cpu: " << j["cpu"]["brand"].get<std::string>() << " ("
            << j["cpu"]["vendor"].get<std::string>() << ")\nfeatures:";
  for (const auto& f : j["cpu"]["features"]) std::cout << " " << f.get<std::string>();
  std::cout << "\nkernel levels:\n";
  for (const auto& l : j["levels"])
    std::cout << "  " << l["name"].get<std::string>() << ": "
              << (l["runs_here"].get<bool>() ? "runs here" : "not runnable on this CPU") << " ("
              << l["matches"].get<std::string>() << ")\n";
  std::cout << "kernel set: "
            << (j["kernel_set"].is_null() ? std::string("none")
                                          : j["kernel_set"].get<std::string>());
  if (!j["forced_by_env"].is_null())
    std::cout << " (" << gavel::tensor::kIsaEnvVar << "=" << j["forced_by_env"].get<std::string>()
              << ")";
  std::cout << "\n";
  if (j.contains("autovec_bits"))
    std::cout << "auto-vectorized loops (ssm_conv): " << j["autovec_bits"].get<int>()
              << "-bit, as llama.cpp built with -march=native here ("
              << gavel::tensor::kAutovecEnvVar << " overrides)\n";
}

gavel::cli::Register reg{
    {"info", "Show a GGUF model's architecture, hyperparameters, tensor types and tokenizer",
     [](CLI::App& app) -> gavel::cli::Runner {
       auto path = std::make_shared<std::string>();
       auto as_json = std::make_shared<bool>(false);
       auto system = std::make_shared<bool>(false);
       app.add_option("model", *path, "GGUF model file");
       app.add_flag("--json", *as_json, "Print JSON");
       app.add_flag("--system", *system,
                    "Show the CPU's features and the kernel set gavel uses on it (the level can "
                    "be forced lower with GAVEL_ISA=avx2)");
       return [=]() -> int {
         if (*system) {
           if (!path->empty()) return gavel::cli::fail("give a model or --system, not both");
           std::string error;
           const nlohmann::json j = system_info(&error);
           if (*as_json)
             std::cout << j.dump(2) << "\n";
           else
             print_system(j);
           return error.empty() ? 0 : gavel::cli::fail(error);
         }
         if (path->empty()) return gavel::cli::fail("info: a model file (or --system) is required");
         auto f = gavel::gguf::File::open(*path);
         if (!f.ok()) return gavel::cli::fail(f.message());
         std::string error;
         const nlohmann::json j = collect(**f, &error);
         if (*as_json) {
           std::cout << j.dump(2) << "\n";
         } else {
           std::cout << "architecture: " << j["architecture"].get<std::string>() << "\n";
           if (j.contains("hparams"))
             for (auto& [k, v] : j["hparams"].items())
               std::cout << "  " << k << ": " << v.dump() << "\n";
           if (j.contains("layers"))
             for (auto& [k, v] : j["layers"].items())
               std::cout << "  " << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump())
                         << "\n";
           std::cout << "tensors: " << j["n_tensors"] << " (" << j["n_params"] << " parameters)\n";
           for (auto& [k, v] : j["tensor_types"].items())
             std::cout << "  " << k << ": " << v << "\n";
           std::cout << "tokenizer:\n";
           for (auto& [k, v] : j["tokenizer"].items())
             std::cout << "  " << k << ": " << v.dump() << "\n";
           std::cout << "chat_template: " << (j["chat_template"].get<bool>() ? "present" : "absent")
                     << "\n";
         }
         if (!error.empty()) return gavel::cli::fail(error);
         return 0;
       };
     }}};

}  // namespace
