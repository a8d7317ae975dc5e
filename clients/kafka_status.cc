#include "clients/kafka_status.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/kafka/errors.h"

namespace eddy::clients {
namespace {

using kafka::ErrorCode;

constexpr char kPayloadUrl[] = "type.eddy/kafka.error_code";

bool Is(int16_t code, ErrorCode error) { return code == kafka::ToWire(error); }

absl::StatusCode CodeFor(int16_t code) {
  if (Is(code, ErrorCode::kRequestTimedOut)) return absl::StatusCode::kDeadlineExceeded;
  if (Is(code, ErrorCode::kUnknownTopicOrPartition) || Is(code, ErrorCode::kUnknownTopicId) ||
      Is(code, ErrorCode::kResourceNotFound)) {
    return absl::StatusCode::kNotFound;
  }
  if (Is(code, ErrorCode::kTopicAlreadyExists)) return absl::StatusCode::kAlreadyExists;
  if (Is(code, ErrorCode::kOffsetOutOfRange)) return absl::StatusCode::kOutOfRange;
  if (Is(code, ErrorCode::kUnsupportedVersion)) return absl::StatusCode::kUnimplemented;
  if (Is(code, ErrorCode::kCorruptMessage)) return absl::StatusCode::kDataLoss;
  if (Is(code, ErrorCode::kTopicAuthorizationFailed) ||
      Is(code, ErrorCode::kClusterAuthorizationFailed) ||
      Is(code, ErrorCode::kGroupAuthorizationFailed)) {
    return absl::StatusCode::kPermissionDenied;
  }
  if (KafkaRetriable(code)) return absl::StatusCode::kUnavailable;
  const std::string name = KafkaErrorName(code);
  if (name.starts_with("INVALID_") || Is(code, ErrorCode::kPolicyViolation) ||
      Is(code, ErrorCode::kMessageTooLarge) || Is(code, ErrorCode::kRecordListTooLarge)) {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kFailedPrecondition;
}

}  // namespace

std::string KafkaErrorName(int16_t code) {
  const kafka::ErrorInfo* info = kafka::FindError(code);
  return info != nullptr ? std::string(info->name) : absl::StrCat("error ", code);
}

bool KafkaRetriable(int16_t code) {
  const kafka::ErrorInfo* info = kafka::FindError(code);
  return info != nullptr && info->retriable;
}

absl::Status KafkaStatus(int16_t code, std::string_view context,
                         const std::optional<std::string>& message) {
  if (code == 0) return absl::OkStatus();
  const bool detail = message.has_value() && !message->empty();
  absl::Status status(CodeFor(code), absl::StrCat(std::string(context), ": ", KafkaErrorName(code),
                                                  detail ? absl::StrCat(" (", *message, ")") : ""));
  status.SetPayload(kPayloadUrl, absl::Cord(absl::StrCat(code)));
  return status;
}

std::optional<int16_t> KafkaErrorCodeOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kPayloadUrl);
  int32_t code = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &code)) return std::nullopt;
  return static_cast<int16_t>(code);
}

}  // namespace eddy::clients
