// Drives one asynchronous seam call to completion on an AsioLoop (tools, tests, benchmarks).
#pragma once

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/check.h"
#include "net/loop/asio_loop.h"

namespace eddy::net {

// `submit` receives a completion taking absl::StatusOr<T> (AwaitValue) or absl::Status
// (AwaitStatus); the loop runs until it arrives. Crashes if the loop runs dry first.
template <typename T, typename Submit>
absl::StatusOr<T> AwaitValue(AsioLoop& loop, Submit submit) {
  std::optional<absl::StatusOr<T>> result;
  submit([&result](absl::StatusOr<T> value) { result.emplace(std::move(value)); });
  loop.RunUntil([&] { return result.has_value(); });
  EDDY_CHECK_MSG(result.has_value(), "completion never arrived");
  return *std::move(result);
}

template <typename Submit>
absl::Status AwaitStatus(AsioLoop& loop, Submit submit) {
  std::optional<absl::Status> result;
  submit([&result](absl::Status status) { result.emplace(std::move(status)); });
  loop.RunUntil([&] { return result.has_value(); });
  EDDY_CHECK_MSG(result.has_value(), "completion never arrived");
  return *std::move(result);
}

}  // namespace eddy::net
