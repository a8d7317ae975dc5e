// GoogleTest matchers for absl::Status and absl::StatusOr (testonly).
//
//   EXPECT_THAT(log.Append(batch), IsOk());
//   EXPECT_THAT(Decode(bytes), StatusIs(absl::StatusCode::kDataLoss));
#pragma once

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace eddy::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status.ToString();
  return status.ok();
}

MATCHER_P(StatusIs, code, "has status code " + std::string(absl::StatusCodeToString(code))) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  return status.code() == code;
}

#define EDDY_ASSERT_OK(expression) ASSERT_THAT((expression), ::eddy::testing::IsOk())
#define EDDY_EXPECT_OK(expression) EXPECT_THAT((expression), ::eddy::testing::IsOk())

// EDDY_ASSERT_OK_AND_ASSIGN(auto batch, Decode(bytes)): fails the test (returning from it) if the
// StatusOr is not OK, otherwise moves its value into the left-hand side.
#define EDDY_ASSERT_OK_AND_ASSIGN(lhs, expression) \
  EDDY_ASSERT_OK_AND_ASSIGN_IMPL_(EDDY_MATCHERS_CONCAT_(eddy_assert_or_, __LINE__), lhs, expression)
#define EDDY_MATCHERS_CONCAT_INNER_(a, b) a##b
#define EDDY_MATCHERS_CONCAT_(a, b) EDDY_MATCHERS_CONCAT_INNER_(a, b)
#define EDDY_ASSERT_OK_AND_ASSIGN_IMPL_(status_or, lhs, expression) \
  auto status_or = (expression);                                    \
  ASSERT_TRUE(status_or.ok()) << status_or.status().ToString();     \
  lhs = std::move(status_or).value()

}  // namespace eddy::testing
