// Await helpers for tests and tools that drive an asynchronous seam call to completion on a
// SimLoop: submit, run the loop until the completion arrives, return its result.
//
//   EDDY_ASSERT_OK_AND_ASSIGN(auto file, AwaitValue<runtime::FileHandle>(loop, [&](auto done) {
//     disk.Open("x", runtime::OpenMode::kCreateNew, std::move(done));
//   }));
#pragma once

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/check.h"
#include "sim/loop/sim_loop.h"

namespace eddy::sim {

// `submit` receives a completion callback taking absl::StatusOr<T>. Crashes if the loop runs
// dry without the completion arriving (a lost completion is a bug in the seam implementation).
template <typename T, typename Submit>
absl::StatusOr<T> AwaitValue(SimLoop& loop, Submit submit) {
  std::optional<absl::StatusOr<T>> result;
  submit([&result](absl::StatusOr<T> value) { result.emplace(std::move(value)); });
  while (!result.has_value() && loop.RunOne()) {
  }
  EDDY_CHECK_MSG(result.has_value(), "completion never arrived");
  return *std::move(result);
}

// As AwaitValue, for completions taking a plain absl::Status.
template <typename Submit>
absl::Status AwaitStatus(SimLoop& loop, Submit submit) {
  std::optional<absl::Status> result;
  submit([&result](absl::Status status) { result.emplace(std::move(status)); });
  while (!result.has_value() && loop.RunOne()) {
  }
  EDDY_CHECK_MSG(result.has_value(), "completion never arrived");
  return *std::move(result);
}

}  // namespace eddy::sim
