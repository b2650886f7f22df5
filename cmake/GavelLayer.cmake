# gavel_layer(NAME DEPS...): a static library from src/NAME/*.cpp. The layer's headers are
# reachable as "NAME/x.h" only through its include root, a build-tree directory that holds
# nothing but a link NAME -> src/NAME; the root is a PUBLIC include directory, so a layer
# sees its own headers and those of the layers it declares (and theirs in turn), and nothing
# else: "gguf/gguf.h" does not resolve in a layer that does not link gguf. core's root also
# holds include/ (gavel/status.h, gavel/backend.h). A layer may only declare layers listed
# before it in GAVEL_LAYERS (the layers below it), so no layer imports upward.
function(gavel_layer name)
  list(FIND GAVEL_LAYERS ${name} self)
  if(self LESS 0)
    message(FATAL_ERROR "layer ${name} is not listed in GAVEL_LAYERS")
  endif()
  foreach(dep ${ARGN})
    if(dep MATCHES "^gavel_(.+)$")
      list(FIND GAVEL_LAYERS ${CMAKE_MATCH_1} other)
      if(other LESS 0 OR NOT other LESS self)
        message(FATAL_ERROR "layer ${name} declares ${dep}, which is not a layer below it "
                            "in GAVEL_LAYERS (${GAVEL_LAYERS})")
      endif()
    endif()
  endforeach()
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(gavel_${name} STATIC ${srcs})
  set(root ${PROJECT_BINARY_DIR}/layer_include/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${name} SYMBOLIC)
  target_include_directories(gavel_${name} PUBLIC ${root})
  if(name STREQUAL "core")
    target_include_directories(gavel_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  endif()
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
