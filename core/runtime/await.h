// Drives one asynchronous seam call to completion on a loop — for tools, tests and benchmarks,
// never for broker code (which must not block its loop).
//
//   EDDY_ASSERT_OK_AND_ASSIGN(auto file, AwaitValue<runtime::FileHandle>(loop, [&](auto done) {
//     disk.Open("x", runtime::OpenMode::kCreateNew, std::move(done));
//   }));
//
// `Loop` is any loop with `bool RunOne()` that runs one pending event and returns false when
// nothing is pending (sim::SimLoop, net::AsioLoop).
#pragma once

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/check.h"

namespace eddy::runtime {

// `submit` receives a completion callback taking absl::StatusOr<T>. Crashes if the loop runs
// dry without the completion arriving (a lost completion is a bug in the seam implementation).
template <typename T, typename Loop, typename Submit>
absl::StatusOr<T> AwaitValue(Loop& loop, Submit submit) {
  std::optional<absl::StatusOr<T>> result;
  submit([&result](absl::StatusOr<T> value) { result.emplace(std::move(value)); });
  while (!result.has_value() && loop.RunOne()) {
  }
  EDDY_CHECK_MSG(result.has_value(), "completion never arrived");
  return *std::move(result);
}

// As AwaitValue, for completions taking a plain absl::Status.
template <typename Loop, typename Submit>
absl::Status AwaitStatus(Loop& loop, Submit submit) {
  std::optional<absl::Status> result;
  submit([&result](absl::Status status) { result.emplace(std::move(status)); });
  while (!result.has_value() && loop.RunOne()) {
  }
  EDDY_CHECK_MSG(result.has_value(), "completion never arrived");
  return *std::move(result);
}

}  // namespace eddy::runtime
