// The engine adapters behind make_engine(), one file each (http_llamacpp.cpp, http_openai.cpp
// for vLLM and generic OpenAI-compatible servers, http_sglang.cpp, http_ollama.cpp).
#pragma once

#include <memory>

#include "backend/http_engine.h"

namespace gavel::backend::http::detail {

std::unique_ptr<Engine> make_llamacpp(const Tokenizer& tok, const VocabIndex& vocab,
                                      EngineOptions o);
std::unique_ptr<Engine> make_openai(const Tokenizer& tok, const VocabIndex& vocab, EngineOptions o,
                                    bool vllm);
std::unique_ptr<Engine> make_sglang(const Tokenizer& tok, const VocabIndex& vocab, EngineOptions o);
std::unique_ptr<Engine> make_ollama(const Tokenizer& tok, const VocabIndex& vocab, EngineOptions o);

}  // namespace gavel::backend::http::detail
