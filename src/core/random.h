// SplitMix64 (Steele, Lea, Flood 2014): a stateless 64-bit mix, used to derive independent
// reproducible seeds and draws from one seed (tournament prompt draws, simulated judges).
#pragma once

#include <cstdint>

namespace gavel {

inline uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace gavel
