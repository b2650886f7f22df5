# gavel_layer(NAME DEPS...): a static library from src/NAME/*.cpp, public headers in
# include/ and src/ (so layers include each other as "gguf/gguf.h").
function(gavel_layer name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(gavel_${name} STATIC ${srcs})
  target_include_directories(gavel_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(gavel_${name} PUBLIC ${ARGN})
endfunction()

# gavel_discover_isa_levels(TARGET [PREFIX p]): registers a gtest binary's tests with ctest
# twice: at the best ISA level this CPU runs (as users run it), and forced to the AVX2 level
# (GAVEL_ISA=avx2, names suffixed "@avx2"), so every engine test holds at both levels on an
# AVX-512 machine. On an AVX2-only machine both runs are the AVX2 level.
function(gavel_discover_isa_levels target)
  cmake_parse_arguments(D "" "PREFIX" "" ${ARGN})
  gtest_discover_tests(${target} TEST_PREFIX "${D_PREFIX}" DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS unit)
  gtest_discover_tests(${target} TEST_PREFIX "${D_PREFIX}" TEST_SUFFIX "@avx2"
                       DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit ENVIRONMENT GAVEL_ISA=avx2)
endfunction()

# gavel_test(NAME SOURCES... LIBS ... [ISA_LEVELS]): one GoogleTest binary, discovered by
# ctest (twice with ISA_LEVELS, see gavel_discover_isa_levels).
function(gavel_test name)
  cmake_parse_arguments(T "ISA_LEVELS" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    GAVEL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    GAVEL_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  if(T_ISA_LEVELS)
    gavel_discover_isa_levels(${name})
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
  endif()
endfunction()
