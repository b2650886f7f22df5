// A run-time count as a compile-time one, for the tails of tiled loops: each tail length gets
// its own instantiation of the tile (register arrays need a constant size).
#pragma once

#include <type_traits>

#include "tensor/kernels/isa_namespace.h"

namespace gavel::tensor::GAVEL_ISA_NS {

// f(std::integral_constant<int, k>{}) for k in [1, kMax]; nothing for other k.
template <int kMax, class F>
inline void with_static_count(int k, F&& f) {
  if constexpr (kMax > 0) {
    if (k == kMax)
      f(std::integral_constant<int, kMax>{});
    else
      with_static_count<kMax - 1>(k, f);
  }
}

}  // namespace gavel::tensor::GAVEL_ISA_NS
