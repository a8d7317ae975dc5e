// Proves the early-return macros propagate the first error unchanged and pass values through,
// and that the matchers tell OK from each error code.
#include "core/base/status_macros.h"

#include <memory>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;
using ::testing::Not;

absl::StatusOr<int> Parse(int input) {
  if (input < 0) return absl::InvalidArgumentError("negative");
  return input * 2;
}

absl::Status Chain(int input, int* out) {
  EDDY_ASSIGN_OR_RETURN(const int doubled, Parse(input));
  EDDY_RETURN_IF_ERROR(doubled > 100 ? absl::ResourceExhaustedError("big") : absl::OkStatus());
  *out = doubled;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MoveOnly(bool fail) {
  if (fail) return absl::UnavailableError("later");
  return std::make_unique<int>(5);
}

absl::StatusOr<int> UseMoveOnly(bool fail) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<int> value, MoveOnly(fail));
  return *value + 1;
}

TEST(StatusMacrosTest, PassesValueThrough) {
  int out = 0;
  EXPECT_THAT(Chain(21, &out), IsOk());
  EXPECT_EQ(out, 42);
}

TEST(StatusMacrosTest, ReturnsFirstError) {
  int out = 0;
  EXPECT_THAT(Chain(-1, &out), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Chain(60, &out), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(out, 0);
}

TEST(StatusMacrosTest, MovesMoveOnlyValues) {
  EXPECT_THAT(UseMoveOnly(false), IsOk());
  EXPECT_EQ(*UseMoveOnly(false), 6);
  EXPECT_THAT(UseMoveOnly(true), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(StatusMatchersTest, DistinguishOkFromErrors) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(absl::DataLossError("x"), Not(IsOk()));
  EXPECT_THAT(absl::DataLossError("x"), Not(StatusIs(absl::StatusCode::kInvalidArgument)));
  EDDY_ASSERT_OK_AND_ASSIGN(const int value, Parse(4));
  EXPECT_EQ(value, 8);
}

}  // namespace
}  // namespace eddy
