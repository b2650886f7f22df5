#include "tensor/isa.h"

#include <cpuid.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "tensor/kernels/kernel_set.h"

namespace gavel::tensor {

namespace avx2 {
extern const KernelSet kKernelSet;
}
namespace avx512 {
extern const KernelSet kKernelSet;
}

namespace {

bool bit(unsigned reg, int b) { return (reg >> b) & 1u; }

// XCR0, the register state the OS saves (only valid when CPUID reports OSXSAVE).
uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

CpuInfo detect() {
  CpuInfo c;
  unsigned a = 0, b = 0, cx = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &cx, &d)) return c;
  const unsigned max_leaf = a;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &cx, 4);
  c.vendor = vendor;
  __get_cpuid(1, &a, &b, &cx, &d);
  c.sse42 = bit(cx, 20);
  c.fma = bit(cx, 12);
  c.f16c = bit(cx, 29);
  const bool osxsave = bit(cx, 27), avx_bit = bit(cx, 28);
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  c.os_avx = (xcr0 & 0x6) == 0x6;                   // XMM and YMM state
  c.os_avx512 = c.os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  c.avx = avx_bit;
  if (max_leaf >= 7) {
    __get_cpuid_count(7, 0, &a, &b, &cx, &d);
    c.avx2 = bit(b, 5);
    c.bmi2 = bit(b, 8);
    c.avx512f = bit(b, 16);
    c.avx512dq = bit(b, 17);
    c.avx512cd = bit(b, 28);
    c.avx512bw = bit(b, 30);
    c.avx512vl = bit(b, 31);
    c.avx512vbmi = bit(cx, 1);
    c.avx512vnni = bit(cx, 11);
    c.avx512fp16 = bit(d, 23);
    c.amx = bit(d, 24) && bit(d, 25);  // AMX-TILE and AMX-INT8
    __get_cpuid_count(7, 1, &a, &b, &cx, &d);
    c.avx_vnni = bit(a, 4);
    c.avx512bf16 = bit(a, 5);
  }
  unsigned ext = 0;
  __get_cpuid(0x80000000u, &ext, &b, &cx, &d);
  if (ext >= 0x80000004u) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      unsigned r[4];
      __get_cpuid(0x80000002u + i, &r[0], &r[1], &r[2], &r[3]);
      std::memcpy(brand + 16 * i, r, 16);
    }
    std::string s = brand;
    const auto first = s.find_first_not_of(' ');
    s = first == std::string::npos ? "" : s.substr(first);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    c.brand = s;
  }
  return c;
}

std::string have_string(const CpuInfo& c) {
  std::string s;
  for (const auto& f : c.feature_names()) s += (s.empty() ? "" : " ") + f;
  return s.empty() ? "none of them" : s;
}

const char* requirement(Isa isa) {
  return isa == Isa::kAvx2 ? "AVX2, FMA and F16C"
                           : "AVX-512 F, BW, VL, DQ and VNNI (with AVX2, FMA and F16C)";
}

std::mutex g_mu;
std::atomic<const KernelSet*> g_active{nullptr};

}  // namespace

std::vector<std::string> CpuInfo::feature_names() const {
  std::vector<std::string> n;
  const std::pair<bool, const char*> all[] = {{sse42, "sse4.2"},
                                              {avx, "avx"},
                                              {avx2, "avx2"},
                                              {fma, "fma"},
                                              {f16c, "f16c"},
                                              {bmi2, "bmi2"},
                                              {avx_vnni, "avx_vnni"},
                                              {avx512f, "avx512f"},
                                              {avx512bw, "avx512bw"},
                                              {avx512vl, "avx512vl"},
                                              {avx512dq, "avx512dq"},
                                              {avx512cd, "avx512cd"},
                                              {avx512vnni, "avx512_vnni"},
                                              {avx512vbmi, "avx512_vbmi"},
                                              {avx512bf16, "avx512_bf16"},
                                              {avx512fp16, "avx512_fp16"},
                                              {amx, "amx"}};
  for (const auto& [on, name] : all)
    if (on) n.push_back(name);
  return n;
}

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

const char* isa_name(Isa isa) { return isa == Isa::kAvx2 ? "avx2" : "avx512"; }

const char* isa_description(Isa isa) {
  return isa == Isa::kAvx2
             ? "AVX2+FMA+F16C, 8 f32 lanes: llama.cpp built for AVX2 (GGML_NATIVE=OFF, "
               "GGML_AVX2/FMA/F16C=ON, no AVX-512), or natively on an AVX2-only CPU"
             : "AVX-512 F/BW/VL/DQ/VNNI, 16 f32 lanes: llama.cpp built natively "
               "(GGML_NATIVE=ON) on an AVX-512 VNNI CPU";
}

std::optional<Isa> parse_isa(std::string_view name) {
  std::string s(name);
  for (char& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  for (Isa i : all_isas())
    if (s == isa_name(i)) return i;
  return std::nullopt;
}

std::vector<Isa> all_isas() { return {Isa::kAvx2, Isa::kAvx512}; }

bool cpu_supports(Isa isa) {
  const CpuInfo& c = cpu_info();
  const bool avx2 = c.avx && c.os_avx && c.avx2 && c.fma && c.f16c;
  if (isa == Isa::kAvx2) return avx2;
  return avx2 && c.os_avx512 && c.avx512f && c.avx512bw && c.avx512vl && c.avx512dq && c.avx512cd &&
         c.avx512vnni;
}

std::optional<Isa> best_isa() {
  std::optional<Isa> best;
  for (Isa i : all_isas())
    if (cpu_supports(i)) best = i;
  return best;
}

const KernelSet& kernel_set(Isa isa) {
  return isa == Isa::kAvx2 ? avx2::kKernelSet : avx512::kKernelSet;
}

Status set_isa(Isa isa) {
  if (!cpu_supports(isa)) {
    const CpuInfo& c = cpu_info();
    return Error{fmt::format("the {} kernels need {}; this CPU ({}) has: {}", isa_name(isa),
                             requirement(isa), c.brand.empty() ? c.vendor : c.brand,
                             have_string(c))};
  }
  std::lock_guard<std::mutex> lock(g_mu);
  g_active.store(&kernel_set(isa));
  return Status::Ok();
}

Status init_kernels() {
  if (g_active.load()) return Status::Ok();
  if (std::string error; autovec_bits(&error) == 0) return Error{error};
  if (const char* env = std::getenv(kIsaEnvVar); env && *env) {
    const auto isa = parse_isa(env);
    if (!isa)
      return Error{fmt::format("{}={}: unknown level (use avx2 or avx512)", kIsaEnvVar, env)};
    auto st = set_isa(*isa);
    if (!st.ok()) return Error{fmt::format("{}={}: {}", kIsaEnvVar, env, st.message())};
    return st;
  }
  const auto best = best_isa();
  if (!best) {
    const CpuInfo& c = cpu_info();
    return Error{fmt::format("gavel's kernels need at least {} (x86-64-v3); this CPU ({}) has: {}",
                             requirement(Isa::kAvx2), c.brand.empty() ? c.vendor : c.brand,
                             have_string(c))};
  }
  return set_isa(*best);
}

Isa active_isa() { return kernels().isa; }

#ifndef GAVEL_NATIVE_VECTOR_BITS
#define GAVEL_NATIVE_VECTOR_BITS 512
#endif

int autovec_bits(std::string* error) {
  const char* env = std::getenv(kAutovecEnvVar);
  if (!env || !*env) return GAVEL_NATIVE_VECTOR_BITS >= 512 ? 512 : 256;
  if (std::strcmp(env, "256") == 0) return 256;
  if (std::strcmp(env, "512") == 0) return 512;
  if (error) *error = fmt::format("{}={}: use 256 or 512", kAutovecEnvVar, env);
  return 0;
}

int autovec_lanes() {
  static const int bits = [] {
    std::string error;
    const int b = autovec_bits(&error);
    if (b == 0) {
      std::fprintf(stderr, "gavel: %s\n", error.c_str());
      std::exit(1);
    }
    return b;
  }();
  return std::min(active_isa() == Isa::kAvx2 ? 256 : 512, bits) / 32;
}

const KernelSet& kernels() {
  const KernelSet* k = g_active.load(std::memory_order_acquire);
  if (k) return *k;
  // A kernel call before any model load (tests, tools): choose now, or stop with the reason.
  const Status st = init_kernels();
  if (!st.ok()) {
    std::fprintf(stderr, "gavel: %s\n", st.message().c_str());
    std::exit(1);
  }
  return *g_active.load(std::memory_order_acquire);
}

}  // namespace gavel::tensor
