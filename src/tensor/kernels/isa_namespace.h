// Included first by every file in src/tensor/kernels/: those files are compiled once per ISA
// level (src/tensor/CMakeLists.txt) with that level's compiler flags and GAVEL_ISA_NS naming
// the level's namespace, so each level's code lives in gavel::tensor::<level>.
//
// Rule for these files: no inline function or template from outside the level's namespace may
// be emitted out of line (std containers, std algorithms at -O0, ...), because the linker keeps
// one copy of such a symbol for the whole program, and the copy compiled for AVX-512 would
// then also run on AVX2-only CPUs. tests/tensor checks the compiled objects (isa_symbols).
#pragma once

#if !defined(GAVEL_ISA_NS)
#error "src/tensor/kernels/*.cpp are compiled once per ISA level; see src/tensor/CMakeLists.txt"
#endif
