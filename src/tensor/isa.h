// Instruction-set levels and the kernel set chosen at run time.
//
// The kernels (src/tensor/kernels/) are compiled once per x86-64 level, each in its own
// namespace, and one set is chosen when the first model loads: the highest level the CPU (and
// the OS, for the AVX-512 register state) supports, or the level named by the GAVEL_ISA
// environment variable. Each level computes llama.cpp's float orders for a llama.cpp build for
// that level (docs/layers/engine.md, "ISA levels"), so the same GGUF gives different last bits
// on different levels, exactly as llama.cpp does.
// Everything outside src/tensor/kernels/ is compiled for baseline x86-64 and runs anywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/status.h"

namespace gavel::tensor {

enum class Isa {
  kAvx2,    // AVX2 + FMA + F16C: llama.cpp built with GGML_AVX2/FMA/F16C, no AVX-512
  kAvx512,  // AVX-512 F/BW/VL/DQ/VNNI (+ the AVX2 set): llama.cpp built natively for such a CPU
};

// The environment variable that forces a level ("avx2", "avx512").
inline constexpr const char* kIsaEnvVar = "GAVEL_ISA";

// "avx2", "avx512".
const char* isa_name(Isa isa);
// What the level needs and which llama.cpp build its results match.
const char* isa_description(Isa isa);
// Inverse of isa_name (case-insensitive); nullopt for anything else.
std::optional<Isa> parse_isa(std::string_view name);
// Every level, lowest first.
std::vector<Isa> all_isas();

// What CPUID (and XGETBV, for the OS-enabled register state) report.
struct CpuInfo {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ...
  std::string brand;   // "Intel(R) Xeon(R) ...", "" when not reported
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx_vnni = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512cd = false;
  bool avx512vnni = false, avx512vbmi = false, avx512bf16 = false, avx512fp16 = false;
  bool amx = false;
  bool os_avx = false;     // XCR0 enables the YMM state
  bool os_avx512 = false;  // XCR0 enables the opmask and ZMM state
  // Names of the features present, in the order above ("avx2", "fma", ...).
  std::vector<std::string> feature_names() const;
};
const CpuInfo& cpu_info();

// Whether this CPU and OS can run the level.
bool cpu_supports(Isa isa);
// The highest level the CPU supports; nullopt below AVX2 (gavel then refuses to run models).
std::optional<Isa> best_isa();

// Chooses the kernel set once: GAVEL_ISA when set, else best_isa(). Errors (an unknown name, a
// level this CPU cannot run, a CPU below AVX2) say what the CPU has. Called by every model
// load; cheap after the first call.
Status init_kernels();
// Forces a level (tests, benchmarks). Errors as init_kernels.
Status set_isa(Isa isa);
// The active level; init_kernels() must have succeeded.
Isa active_isa();

// The environment variable that sets the vector width (256 or 512 bits) of llama.cpp's
// auto-vectorized loops, which is not fixed by the level: GCC builds them as wide as
// -march=native prefers on the build machine (256 bits on the AVX-512 cores it knows, 512 where
// it tunes generically). Default: what this build's compiler prefers for -march=native here
// (src/tensor/CMakeLists.txt), as llama.cpp built natively on the same machine gets it.
inline constexpr const char* kAutovecEnvVar = "GAVEL_AUTOVEC_BITS";
// The preferred width in bits (the variable, else the build's probe); 0 and a message for a
// value other than 256 or 512.
int autovec_bits(std::string* error = nullptr);
// f32 lanes of those loops at the active level: min(level width, autovec_bits()) / 32.
int autovec_lanes();

}  // namespace gavel::tensor
