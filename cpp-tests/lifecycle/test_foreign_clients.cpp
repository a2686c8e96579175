// Clients written from the assignment text alone, in plain C and without
// isoprobe (foreign_client.c), against our course servers: exact summaries,
// in bounded time.
#include <gtest/gtest.h>

#include "lifecycle_support.h"

using namespace lifecycle;

namespace {

// Two course_server processes (run) in `dir`, each serving one client.
void serve_two_and_check(const std::string &mode, int proj) {
  TempDir dir, logs;
  KeyGuard k1(dir.path(), proj), k2(dir.path(), proj + 1);
  faults::Snapshot leak_check({dir.path()});
  Child a({ISOPROBE_COURSE_SERVER, "0", dir.path(), std::to_string(proj), "a", dir.path(), "shm-a", "sock-a"},
          logs.path());
  Child b({ISOPROBE_COURSE_SERVER, "0", dir.path(), std::to_string(proj + 1), "b", dir.path(), "shm-b", "sock b"},
          logs.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 2, milliseconds(20000)));
  auto start = Clock::now();
  isoprobe_test::Finished f = isoprobe_test::run(foreign_client(mode, dir.path()), milliseconds(30000));
  long long took = ms_since(start);
  EXPECT_TRUE(f.exited_with(0)) << f.err;
  EXPECT_EQ(f.out, host_summary(2, " shm-a sock-a shm-b sock b"));
  EXPECT_LT(took, 5000) << mode << " client waited for something";
  EXPECT_EQ(a.wait(milliseconds(20000)), 0) << a.err();
  EXPECT_EQ(b.wait(milliseconds(20000)), 0) << b.err();
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
  faults::measure("foreign " + mode + " client against 2 course servers", std::to_string(took) + " ms");
}

}  // namespace

TEST(ForeignClient, ReadingUntilCloseGetsTheExactSummaryFromOurServers) { serve_two_and_check("until-close", 60); }

TEST(ForeignClient, ASingleReadGetsTheExactSummaryFromOurServers) { serve_two_and_check("single-read", 62); }
