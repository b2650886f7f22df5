// The random-weight tiny GGUF models the C++ tests run on, in the shared model cache
// ($GAVEL_TINY, default ~/.cache/gavel/tiny). scripts/setup.sh makes them; a test that finds
// one missing makes it with the tool that defines it (tools/make_tiny_gguf.py,
// tools/make_tiny_qwen35.py, run by the venv's python: $GAVEL_VENV, default
// ~/.cache/gavel/venv). The tools lock the cache directory and rename finished files into
// place, so tests running in parallel may ask for the same model at once. A model that cannot
// be made fails the test with the command that failed.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace gavel::testing {

inline std::filesystem::path home_dir() {
  const char* h = std::getenv("HOME");
  return h ? std::filesystem::path(h) : std::filesystem::path("/root");
}

inline std::filesystem::path tiny_dir() {
  const char* env = std::getenv("GAVEL_TINY");
  return env ? std::filesystem::path(env) : home_dir() / ".cache/gavel/tiny";
}

// The path of tiny model `name`, made by `tools/<tool_args> --out <dir>` when absent.
// Returns "" (after a test failure naming the command) when it cannot be made.
inline std::string tiny_model(const std::string& name, const std::string& tool_args) {
  namespace fs = std::filesystem;
  const fs::path dir = tiny_dir();
  const fs::path p = dir / name;
  if (!fs::exists(p)) {
    const char* venv = std::getenv("GAVEL_VENV");
    const fs::path py = (venv ? fs::path(venv) : home_dir() / ".cache/gavel/venv") / "bin/python";
    const std::string cmd = py.string() + " " GAVEL_SOURCE_DIR "/tools/" + tool_args + " --out " +
                            dir.string() + " > /dev/null";
    const int rc = std::system(cmd.c_str());
    if (rc != 0 || !fs::exists(p)) {
      ADD_FAILURE() << "tiny model " << p << " missing and `" << cmd << "` failed (rc " << rc
                    << "); run scripts/setup.sh first";
      return {};
    }
  }
  return p.string();
}

// The dense tiny models of tools/make_tiny_gguf.py: "<variant>-<type>.gguf".
inline std::string tiny_dense(const std::string& variant, const std::string& type) {
  std::string args = "make_tiny_gguf.py --variant " + variant + " --type f32";
  if (type != "f32") args += " --type " + type;
  return tiny_model(variant + "-" + type + ".gguf", args);
}

// The qwen35 tiny models of tools/make_tiny_qwen35.py ("qwen35-tiny-*", "qwen35-tiny-untied-*").
inline std::string tiny_qwen35(const std::string& name) {
  return tiny_model(name, "make_tiny_qwen35.py --which all");
}

}  // namespace gavel::testing
