// main() for every GoogleTest binary: runs the tests and then checks that no
// System V segment created by this process or a child it spawned is still
// alive (`ipcs -m` must look the same before and after). Segments of other
// processes (tests ctest runs in parallel) are not this binary's business.
#include <gtest/gtest.h>

#include <set>

#include "test_support.h"

namespace {
class SegmentLeakCheck : public ::testing::Environment {
 public:
  void SetUp() override { before_ = isoprobe_test::own_shm_ids(); }
  void TearDown() override {
    std::set<int> leaked;
    for (int id : isoprobe_test::own_shm_ids())
      if (!before_.count(id)) leaked.insert(id);
    EXPECT_TRUE(leaked.empty()) << leaked.size() << " System V segment(s) created during the run are still alive";
  }

 private:
  std::set<int> before_;
};
}  // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new SegmentLeakCheck);
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  return RUN_ALL_TESTS();
}
