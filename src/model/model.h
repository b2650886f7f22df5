// The model interface: one architecture = one class that declares (loads) its weights from a
// GGUF file and runs its forward pass over a batch of tokens of ONE sequence, reading and
// extending that sequence's SequenceState.
//
// Adding an architecture:
//   1. Write src/model/<arch>.cpp with `Result<std::unique_ptr<Model>> load_<arch>(const
//      gguf::File&, tensor::ThreadPool&)`. Dense attention variants can configure
//      DenseTransformer (transformer.h), as llama.cpp / qwen2.cpp / qwen3.cpp do; others
//      derive from Model directly.
//   2. If the sequence state is more than a KV cache (e.g. recurrent state of linear-attention
//      layers), derive a state class from SequenceState and return it from new_state(); clone()
//      must deep-copy it (used for prefix reuse).
//   3. Add the arch name and loader to the table in model.cpp.
// Weights are read in place from the mmap'd GGUF (tensor::Matrix); never dequantize a copy.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "gavel/status.h"
#include "gguf/gguf.h"
#include "tensor/thread_pool.h"

namespace gavel::model {

// Tokens per forward chunk: a forward call runs its tokens in chunks of this many (llama.cpp's
// default n_ubatch), and llama.cpp's kernel choice depends on a chunk's size, so this is part
// of the engine's exact-split rule (engine::SplitRule).
inline constexpr int kForwardChunk = 512;

struct HParams {
  std::string arch;
  int n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0;
  int head_dim = 0, n_rot = 0, n_ff = 0, n_ctx_train = 0;
  float rms_eps = 1e-5f, rope_base = 10000.f;
};

// Everything a sequence carries between forward calls. n_past() tokens have been consumed.
class SequenceState {
 public:
  virtual ~SequenceState() = default;
  int n_past() const { return n_past_; }
  int n_ctx() const { return n_ctx_; }
  virtual std::unique_ptr<SequenceState> clone() const = 0;
  // Forgets every token after the first n (n <= n_past). A state that cannot rewind
  // (recurrent layers) returns false; the caller then starts a fresh state.
  virtual bool truncate(int n) = 0;

 protected:
  int n_past_ = 0;
  int n_ctx_ = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const HParams& hparams() const = 0;
  virtual std::unique_ptr<SequenceState> new_state(int n_ctx) const = 0;
  // False when states cannot truncate() (recurrent layers): callers keep snapshots instead.
  virtual bool can_rewind() const { return true; }
  // Appends `tokens` at positions n_past.. and writes the logits (n_vocab floats per row) of
  // the batch rows listed in `logit_rows` (ascending, batch-relative) to `logits`. Only those
  // rows go through the output head. Not thread-safe: one forward at a time per Model.
  virtual Status forward(SequenceState& state, std::span<const int32_t> tokens,
                         std::span<const int> logit_rows, float* logits) = 0;
  // One token for each of several distinct sequences (batched decoding): appends tokens[i] to
  // states[i] and writes its next-token logits to row i of `logits`, bit for bit what
  // forward(*states[i], {tokens[i]}, {0}) gives, whatever the batch (batch invariance). The
  // caller (engine::LoadedModel::eval_decode) has checked the lists' lengths, that the states
  // are distinct and have room, and the token ids, so that a refused batch changes nothing.
  // The default runs them one by one; models that share the weight pass override it.
  virtual Status forward_decode(std::span<SequenceState* const> states,
                                std::span<const int32_t> tokens, float* logits);
};

// Every id in [0, n_vocab); the error names the first one outside.
Status check_tokens(std::span<const int32_t> tokens, int n_vocab);

// Picks the loader from general.architecture; errors name an unsupported architecture.
// `file` and `pool` must outlive the model.
Result<std::unique_ptr<Model>> load(const gguf::File& file, tensor::ThreadPool& pool);

}  // namespace gavel::model
