// Early-return helpers for absl::Status / absl::StatusOr (Debian's Abseil 20220623 lacks them).
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eddy::base_internal {
inline const absl::Status& AsStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}
}  // namespace eddy::base_internal

#define EDDY_STATUS_CONCAT_INNER_(a, b) a##b
#define EDDY_STATUS_CONCAT_(a, b) EDDY_STATUS_CONCAT_INNER_(a, b)

// EDDY_RETURN_IF_ERROR(expr): returns the status of `expr` (a Status or StatusOr) if not OK.
#define EDDY_RETURN_IF_ERROR(expression)                                             \
  do {                                                                               \
    const absl::Status eddy_status_ = ::eddy::base_internal::AsStatus((expression)); \
    if (!eddy_status_.ok()) [[unlikely]]                                             \
      return eddy_status_;                                                           \
  } while (false)

// EDDY_ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`; returns its status if not OK,
// otherwise moves the value into `lhs` (which may be a declaration: `auto x`).
#define EDDY_ASSIGN_OR_RETURN(lhs, expression) \
  EDDY_ASSIGN_OR_RETURN_IMPL_(EDDY_STATUS_CONCAT_(eddy_status_or_, __LINE__), lhs, expression)

#define EDDY_ASSIGN_OR_RETURN_IMPL_(status_or, lhs, expression) \
  auto status_or = (expression);                                \
  if (!status_or.ok()) [[unlikely]]                             \
    return status_or.status();                                  \
  lhs = std::move(status_or).value()
