// Always-on invariant checks.
//
// EDDY_CHECK and friends stay on in every build mode (unlike assert()): a broken internal
// invariant must stop the process at once, with the values that broke it in the message, rather
// than let a replica continue with corrupt state. They are for invariants only; input from a
// peer, a client or a disk is validated and answered with an absl::Status instead.
#pragma once

#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eddy::base_internal {

inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Prints "file:line: check failed: <expr> <detail>" to stderr and aborts. Never returns.
[[noreturn]] void CheckFailed(const char* file, int line, const char* expression,
                              const std::string& detail);

template <typename A, typename B>
std::string FormatOperands(const A& a, const B& b) {
  std::ostringstream out;
  out << "(" << a << " vs " << b << ")";
  return out.str();
}

}  // namespace eddy::base_internal

#define EDDY_CHECK(condition)                                                 \
  do {                                                                        \
    if (!(condition)) [[unlikely]] {                                          \
      ::eddy::base_internal::CheckFailed(__FILE__, __LINE__, #condition, ""); \
    }                                                                         \
  } while (false)

// EDDY_CHECK_MSG(cond, message): `message` is anything streamable into std::ostream, built only
// when the check fails.
#define EDDY_CHECK_MSG(condition, message)                               \
  do {                                                                   \
    if (!(condition)) [[unlikely]] {                                     \
      std::ostringstream eddy_check_message;                             \
      eddy_check_message << message;                                     \
      ::eddy::base_internal::CheckFailed(__FILE__, __LINE__, #condition, \
                                         eddy_check_message.str());      \
    }                                                                    \
  } while (false)

#define EDDY_CHECK_OP_(a, b, op)                                              \
  do {                                                                        \
    const auto& eddy_check_a = (a);                                           \
    const auto& eddy_check_b = (b);                                           \
    if (!(eddy_check_a op eddy_check_b)) [[unlikely]] {                       \
      ::eddy::base_internal::CheckFailed(                                     \
          __FILE__, __LINE__, #a " " #op " " #b,                              \
          ::eddy::base_internal::FormatOperands(eddy_check_a, eddy_check_b)); \
    }                                                                         \
  } while (false)

#define EDDY_CHECK_EQ(a, b) EDDY_CHECK_OP_(a, b, ==)
#define EDDY_CHECK_NE(a, b) EDDY_CHECK_OP_(a, b, !=)
#define EDDY_CHECK_LT(a, b) EDDY_CHECK_OP_(a, b, <)
#define EDDY_CHECK_LE(a, b) EDDY_CHECK_OP_(a, b, <=)
#define EDDY_CHECK_GT(a, b) EDDY_CHECK_OP_(a, b, >)
#define EDDY_CHECK_GE(a, b) EDDY_CHECK_OP_(a, b, >=)

// Checks that an absl::Status (or StatusOr) expression is OK; for call sites where an error
// can only mean a bug (e.g. encoding into a buffer we sized ourselves).
#define EDDY_CHECK_OK(expression)                                                         \
  do {                                                                                    \
    const absl::Status eddy_check_status = ::eddy::base_internal::StatusOf((expression)); \
    if (!eddy_check_status.ok()) [[unlikely]] {                                           \
      ::eddy::base_internal::CheckFailed(__FILE__, __LINE__, #expression ".ok()",         \
                                         std::string(eddy_check_status.ToString()));      \
    }                                                                                     \
  } while (false)

// Marks a branch that must never be reached.
#define EDDY_UNREACHABLE() ::eddy::base_internal::CheckFailed(__FILE__, __LINE__, "unreachable", "")
