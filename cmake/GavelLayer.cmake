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

# gavel_test(NAME SOURCES... LIBS ...): one GoogleTest binary, discovered by ctest.
function(gavel_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    GAVEL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    GAVEL_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
endfunction()
