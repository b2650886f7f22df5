#include "tensor/matmul.h"

#include <algorithm>

#include "tensor/exact_order.h"
#include "tensor/quants.h"

namespace gavel::tensor {

void pack_input(ThreadPool& pool, ActType act, const float* x, int64_t ldx, int64_t n_tok,
                int64_t cols, PackedInput& out) {
  out.act = act;
  out.n_tok = n_tok;
  out.cols = cols;
  out.row_bytes = act_row_bytes(act, cols);
  out.data.resize(out.row_bytes * size_t(n_tok));
  if (act == ActType::kF16) out.f32.resize(size_t(n_tok * cols));
  const int64_t per = std::max<int64_t>(1, n_tok / (pool.size() * 4));
  const int n_tasks = int((n_tok + per - 1) / per);
  pool.parallel_for(n_tasks, [&](int task) {
    const int64_t t1 = std::min(n_tok, (task + 1) * per);
    for (int64_t t = task * per; t < t1; ++t) {
      uint8_t* row = out.data.data() + size_t(t) * out.row_bytes;
      quantize_act_row(act, x + t * ldx, row, cols);
      if (act == ActType::kF16)
        f16_to_f32_row(reinterpret_cast<const uint16_t*>(row), out.f32.data() + t * cols, cols);
    }
  });
}

void matmul_packed(ThreadPool& pool, const Matrix& w, const PackedInput& in, float* y, int64_t ldy,
                   KernelChoice choice) {
  constexpr int64_t kTokTile = 32, kMinTileTokens = 4;
  // Row chunks: enough tasks to balance threads, small enough for the chunk to stay in cache.
  const int64_t target = std::max<int64_t>(1, w.rows / (pool.size() * 8));
  const int64_t rows_per = std::clamp<int64_t>(target, 4, 64);
  const int n_tasks = int((w.rows + rows_per - 1) / rows_per);
  // Float weights are summed in llama.cpp's order (exact_order.h); the integer dots of the
  // quantized types are exact and their block order already matches ggml's.
  // The batch size the kernels are chosen for. The Q0-family tiles (matmul_rows_tiled) give
  // vec_dot's bits, so they serve one-token orders too.
  const int64_t batch = choice == KernelChoice::kPerToken ? 1 : in.n_tok;
  const DotOrder order = dot_order(w.rows, w.cols, batch);
  const bool f32 = w.type == TensorType::kF32, f16 = w.type == TensorType::kF16;
  const bool q4k_repacked = w.type == TensorType::kQ4_K && q4k_is_repacked(w.rows);
  const int64_t n_gemm = batch - batch % 4;  // repacked GEMM tokens; the rest take the GEMV
  const bool tiled = kquant_is_tiled(w.type, w.rows, batch);
  // Q4_K's GEMM tokens with 16 tokens per vector, where the level has that kernel.
  thread_local std::vector<uint8_t> lanes_buf;  // the caller's; the pool threads get lanes
  uint8_t* lanes = nullptr;
  const bool q4k_lanes = q4k_repacked && n_gemm > 0 && q8k_lanes_bytes(w.cols, n_gemm) > 0;
  if (q4k_lanes) {
    lanes_buf.resize(q8k_lanes_bytes(w.cols, n_gemm));
    lanes = lanes_buf.data();
    const int groups = int((n_gemm + kQ8KLaneTokens - 1) / kQ8KLaneTokens);
    pool.parallel_for(groups, [&](int g) {
      pack_q8k_lanes(w.cols, in.data.data(), in.row_bytes, n_gemm, g, g + 1, lanes);
    });
  }
  // The Q0-family tiles' activations, packed once for every row task (the caller's buffer).
  thread_local std::vector<uint8_t> tiles_buf;
  const uint8_t* tiles = nullptr;
  const bool q0_tiles = !q4k_repacked && !tiled && in.n_tok >= kMinTileTokens &&
                        q0_tiles_bytes(w.type, w.cols, in.n_tok) > 0;
  if (q0_tiles) {
    tiles_buf.resize(q0_tiles_bytes(w.type, w.cols, in.n_tok));
    uint8_t* buf = tiles_buf.data();  // a pointer: the name tiles_buf is each thread's own
    const int chunks = int((in.n_tok + kQ0TileChunkTokens - 1) / kQ0TileChunkTokens);
    pool.parallel_for(chunks, [&](int c) {
      pack_q0_tiles(w.type, w.cols, in.data.data(), in.row_bytes, in.n_tok, c, buf);
    });
    tiles = buf;
  }
  pool.parallel_for(n_tasks, [&](int task) {
    const int64_t r0 = task * rows_per, r1 = std::min(w.rows, r0 + rows_per);
    if (q4k_lanes) {
      matmul_q4k_lanes(w.cols, w.data + size_t(r0) * w.row_bytes, w.row_bytes, r1 - r0, lanes,
                       n_gemm, y + r0, ldy);
      for (int64_t r = r0; r < r1; ++r)  // the repacked GEMV order for the last n_tok % 4
        for (int64_t t = n_gemm; t < in.n_tok; ++t)
          y[t * ldy + r] =
              vec_dot_q4k_repacked(w.cols, w.data + size_t(r) * w.row_bytes,
                                   in.data.data() + size_t(t) * in.row_bytes, /*gemm=*/false);
      return;
    }
    if (f32 || f16) {
      const int64_t r_tiled =
          f16 && order == DotOrder::kGemm
              ? r0 + matmul_f16_gemm_rows(
                         w.cols,
                         reinterpret_cast<const uint16_t*>(w.data + size_t(r0) * w.row_bytes),
                         w.row_bytes / 2, r1 - r0, in.f32.data(), size_t(in.cols), in.n_tok, y + r0,
                         ldy)
              : r0;
      for (int64_t r = r_tiled; r < r1; ++r) {
        const uint8_t* wr = w.data + size_t(r) * w.row_bytes;
        for (int64_t t = 0; t < in.n_tok; ++t) {
          const uint8_t* x = in.data.data() + size_t(t) * in.row_bytes;
          y[t * ldy + r] =
              f32 ? dot_f32_ordered(order, w.cols, reinterpret_cast<const float*>(wr),
                                    reinterpret_cast<const float*>(x))
                  : dot_f16_ordered(order, w.cols, reinterpret_cast<const uint16_t*>(wr),
                                    reinterpret_cast<const uint16_t*>(x));
        }
      }
      return;
    }
    // Tiles of rows x tokens where the level has them, for enough tokens to repay decoding a
    // tile's weights; one token: several rows per pass (vec_dot_rows). Both give vec_dot's bits.
    const int64_t r_tiled =
        q4k_repacked || tiled ? r0
        : in.n_tok == 1       ? r0 + vec_dot_rows(w.type, w.cols, w.data + size_t(r0) * w.row_bytes,
                                                  w.row_bytes, r1 - r0, in.data.data(), y + r0)
        : !q0_tiles           ? r0
                    : r0 + matmul_rows_tiled(w.type, w.cols, w.data + size_t(r0) * w.row_bytes,
                                             w.row_bytes, r1 - r0, tiles, in.n_tok, y + r0, ldy);
    for (int64_t t0 = 0; t0 < in.n_tok; t0 += kTokTile) {
      const int64_t t1 = std::min(in.n_tok, t0 + kTokTile);
      for (int64_t r = r_tiled; r < r1; ++r) {
        const uint8_t* wr = w.data + size_t(r) * w.row_bytes;
        // Many tokens per call: the weight row is decoded once for them.
        const void* xs[kTokTile];
        float o[kTokTile];
        const int64_t g1 = q4k_repacked ? std::clamp(n_gemm, t0, t1) : t1;
        for (int64_t t = t0; t < g1; ++t) xs[t - t0] = in.data.data() + size_t(t) * in.row_bytes;
        if (q4k_repacked)  // groups of 4 tokens, as ggml's GEMM takes them (t0, n_gemm % 4 == 0)
          vec_dot_q4k_repacked_gemm(w.cols, wr, xs, int(g1 - t0), o);
        else if (tiled)
          vec_dot_kquant_tiled_multi(w.type, w.cols, wr, xs, int(g1 - t0), o);
        else
          vec_dot_multi(w.type, w.cols, wr, xs, int(g1 - t0), o);
        for (int64_t t = t0; t < g1; ++t) y[t * ldy + r] = o[t - t0];
        if (g1 < t1) {  // the repacked GEMV for the tokens outside GEMM groups
          for (int64_t t = g1; t < t1; ++t) xs[t - g1] = in.data.data() + size_t(t) * in.row_bytes;
          vec_dot_q4k_repacked_gemv_multi(w.cols, wr, xs, int(t1 - g1), o);
          for (int64_t t = g1; t < t1; ++t) y[t * ldy + r] = o[t - g1];
        }
      }
    }
  });
}

void matmul(ThreadPool& pool, const Matrix& w, const float* x, int64_t ldx, int64_t n_tok, float* y,
            int64_t ldy, PackedInput& scratch) {
  pack_input(pool, traits(w.type).act, x, ldx, n_tok, w.cols, scratch);
  matmul_packed(pool, w, scratch, y, ldy);
}

}  // namespace gavel::tensor
