// Proves the checks stay on (this test is built without NDEBUG games: they must abort in every
// mode) and that a failure message carries the operands.
#include "core/base/check.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

TEST(CheckDeathTest, FailingCheckAbortsWithExpression) {
  EXPECT_DEATH(EDDY_CHECK(1 + 1 == 3), "EDDY_CHECK failed: 1 \\+ 1 == 3");
}

TEST(CheckDeathTest, FailingComparisonPrintsBothOperands) {
  const int offset = 7;
  const int last = 5;
  EXPECT_DEATH(EDDY_CHECK_LE(offset, last), "offset <= last \\(7 vs 5\\)");
}

TEST(CheckDeathTest, CheckOkPrintsTheStatus) {
  EXPECT_DEATH(EDDY_CHECK_OK(absl::DataLossError("torn tail")), "DATA_LOSS: torn tail");
}

TEST(CheckDeathTest, CheckOkAcceptsStatusOr) {
  const absl::StatusOr<int> value = absl::UnavailableError("no leader");
  EXPECT_DEATH(EDDY_CHECK_OK(value), "UNAVAILABLE: no leader");
  EDDY_CHECK_OK(absl::StatusOr<int>(3));
}

TEST(CheckDeathTest, MessageIsStreamed) {
  EXPECT_DEATH(EDDY_CHECK_MSG(false, "term " << 3 << " went back"), "term 3 went back");
}

TEST(CheckTest, PassingChecksDoNothing) {
  int evaluations = 0;
  EDDY_CHECK(++evaluations == 1);
  EDDY_CHECK_EQ(++evaluations, 2);
  EDDY_CHECK_OK(absl::OkStatus());
  EXPECT_EQ(evaluations, 2);  // Each operand is evaluated exactly once.
}

}  // namespace
}  // namespace eddy
