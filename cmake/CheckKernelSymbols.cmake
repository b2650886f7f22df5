# cmake -DNM=nm -DOBJECTS="a.o|b.o" -P CheckKernelSymbols.cmake
# The kernel objects (src/tensor/kernels/, one set per ISA level) may define global or weak
# symbols only inside their level's namespace gavel::tensor::<level>. A weak symbol outside it
# (an out-of-line std:: or gavel:: inline function) would be shared by the whole program and
# could run AVX-512 code on an AVX2-only CPU (see src/tensor/kernels/isa_namespace.h).
string(REPLACE "|" ";" objects "${OBJECTS}")
set(bad "")
set(checked 0)
foreach(obj ${objects})
  execute_process(COMMAND ${NM} -C --defined-only ${obj} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${obj}")
  endif()
  math(EXPR checked "${checked} + 1")
  string(REPLACE "\n" ";" lines "${out}")
  foreach(line ${lines})
    if(line MATCHES "^[0-9a-f]* ([A-Za-z]) (.*)$")
      set(kind "${CMAKE_MATCH_1}")
      set(name "${CMAKE_MATCH_2}")
      # Toolchain data, never code: the personality-routine pointer every TU with exception
      # tables shares, and ASan's ODR indicator bytes (named after a symbol of the namespace).
      if(name MATCHES "^DW\\.ref\\.__gxx_personality_v0$" OR name MATCHES "^__odr_asan\\.")
        continue()
      endif()
      if(kind MATCHES "^[TDRBWVu]$" AND NOT name MATCHES "^gavel::tensor::(avx2|avx512)::")
        list(APPEND bad "${obj}: ${kind} ${name}")
      endif()
    endif()
  endforeach()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "no kernel objects given")
endif()
if(bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "kernel objects define shared symbols outside their level's namespace:\n  ${bad}")
endif()
message(STATUS "${checked} kernel objects: every shared symbol is in its level's namespace")
