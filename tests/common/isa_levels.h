// Runs a test once per ISA level (tensor/isa.h): TEST_P(IsaLevelTest, ...) with
// INSTANTIATE_TEST_SUITE_P(Levels, IsaLevelTest, ::testing::ValuesIn(gavel::tensor::all_isas()),
// IsaLevelName). A level this CPU cannot run is reported as skipped, naming the CPU; the levels
// it can run are tested. The active level is restored afterwards.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tensor/isa.h"

class IsaLevelTest : public ::testing::TestWithParam<gavel::tensor::Isa> {
 protected:
  void SetUp() override {
    using namespace gavel::tensor;
    const Isa isa = GetParam();
    if (!cpu_supports(isa))
      GTEST_SKIP() << "the " << isa_name(isa) << " level is not runnable on this CPU ("
                   << cpu_info().brand << "); the levels it runs are tested";
    ASSERT_TRUE(init_kernels().ok());
    saved_ = active_isa();
    const auto st = set_isa(isa);
    ASSERT_TRUE(st.ok()) << st.message();
    restore_ = true;
  }
  void TearDown() override {
    if (restore_) (void)gavel::tensor::set_isa(saved_);
  }

 private:
  gavel::tensor::Isa saved_ = gavel::tensor::Isa::kAvx2;
  bool restore_ = false;
};

inline std::string IsaLevelName(const ::testing::TestParamInfo<gavel::tensor::Isa>& info) {
  return gavel::tensor::isa_name(info.param);
}
