#include "core/kafka/errors.h"

#include <algorithm>

namespace eddy::kafka {
namespace {

constexpr ErrorInfo kErrors[] = {
#define EDDY_KAFKA_ERROR_INFO(name, code, kafka_name, retriable) \
  {ErrorCode::k##name, #kafka_name, retriable},
    EDDY_KAFKA_ERRORS(EDDY_KAFKA_ERROR_INFO)
#undef EDDY_KAFKA_ERROR_INFO
};

constexpr bool SortedByCode() {
  for (size_t i = 1; i < std::size(kErrors); ++i) {
    if (ToWire(kErrors[i - 1].code) >= ToWire(kErrors[i].code)) return false;
  }
  return true;
}
static_assert(SortedByCode(), "FindError binary-searches the table");

}  // namespace

std::span<const ErrorInfo> AllErrors() { return kErrors; }

const ErrorInfo* FindError(int16_t code) {
  const auto* it = std::lower_bound(
      std::begin(kErrors), std::end(kErrors), code,
      [](const ErrorInfo& info, int16_t value) { return ToWire(info.code) < value; });
  return it != std::end(kErrors) && ToWire(it->code) == code ? it : nullptr;
}

ErrorCode ErrorFromStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return ErrorCode::kNone;
    case absl::StatusCode::kInvalidArgument:
      return ErrorCode::kInvalidRequest;
    case absl::StatusCode::kFailedPrecondition:
      return ErrorCode::kNotLeaderOrFollower;
    case absl::StatusCode::kUnavailable:
      return ErrorCode::kLeaderNotAvailable;
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return ErrorCode::kRequestTimedOut;
    case absl::StatusCode::kDataLoss:
      return ErrorCode::kCorruptMessage;
    case absl::StatusCode::kResourceExhausted:
      return ErrorCode::kKafkaStorageError;
    case absl::StatusCode::kNotFound:
      return ErrorCode::kUnknownTopicOrPartition;
    case absl::StatusCode::kAlreadyExists:
      return ErrorCode::kTopicAlreadyExists;
    case absl::StatusCode::kOutOfRange:
      return ErrorCode::kOffsetOutOfRange;
    case absl::StatusCode::kUnimplemented:
      return ErrorCode::kUnsupportedVersion;
    case absl::StatusCode::kPermissionDenied:
      return ErrorCode::kClusterAuthorizationFailed;
    case absl::StatusCode::kUnauthenticated:
      return ErrorCode::kSaslAuthenticationFailed;
    case absl::StatusCode::kAborted:
      return ErrorCode::kConcurrentTransactions;
    default:
      return ErrorCode::kUnknownServerError;
  }
}

}  // namespace eddy::kafka
