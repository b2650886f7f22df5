# gavel_layer(NAME DEPS...): a static library from src/NAME/*.cpp, public headers in
# include/ and src/ (so layers include each other as "gguf/gguf.h").
function(gavel_layer name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(gavel_${name} STATIC ${srcs})
  target_include_directories(gavel_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
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
