// KafkaStatus: a Kafka error code from a reply, as an absl::Status whose code tells the caller
// what to do (STYLE.md, "Errors") and whose message carries Kafka's error name, so a caller can
// both branch on the code and show the name an operator would search for.
//
// The Kafka code also travels as a payload (KafkaErrorCodeOf), for callers that must tell apart
// two errors that map to the same absl code (TOPIC_ALREADY_EXISTS vs. others, say).
//
// Mapping: NONE -> OK; REQUEST_TIMED_OUT -> kDeadlineExceeded; UNKNOWN_TOPIC_OR_PARTITION,
// UNKNOWN_TOPIC_ID, RESOURCE_NOT_FOUND -> kNotFound; TOPIC_ALREADY_EXISTS -> kAlreadyExists;
// OFFSET_OUT_OF_RANGE -> kOutOfRange; UNSUPPORTED_VERSION -> kUnimplemented; authorization
// failures -> kPermissionDenied; CORRUPT_MESSAGE -> kDataLoss; other retriable errors ->
// kUnavailable; INVALID_* and POLICY_VIOLATION -> kInvalidArgument; the rest ->
// kFailedPrecondition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace eddy::clients {

// `context` names what failed ("create topic events"); `message` is the broker's error message.
absl::Status KafkaStatus(int16_t code, std::string_view context,
                         const std::optional<std::string>& message = std::nullopt);

// The Kafka error code a KafkaStatus carries, if it came from one.
std::optional<int16_t> KafkaErrorCodeOf(const absl::Status& status);

// Kafka's name for a code ("NOT_CONTROLLER"), or "error <n>" for one Eddy does not know.
std::string KafkaErrorName(int16_t code);

// Whether a client may retry the same request unchanged (Kafka's RetriableException).
bool KafkaRetriable(int16_t code);

}  // namespace eddy::clients
