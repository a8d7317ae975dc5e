// Helpers shared by the broker's Kafka handlers (broker_handlers.cc, admin_handlers.cc).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/broker/kafka_listener.h"
#include "core/kafka/header.h"
#include "core/kafka/wire.h"

namespace eddy::broker::internal {

// Decodes a request body, or answers kInvalidArgument (the listener closes the connection).
template <typename Request>
bool DecodeBody(const kafka::RequestFrame& frame, Request& request,
                RequestHandler::Respond& respond) {
  kafka::Reader reader(frame.body);
  if (request.Decode(frame.header.api_version, reader).ok() && reader.remaining_bytes() == 0) {
    return true;
  }
  std::move(respond)(absl::InvalidArgumentError(absl::StrCat("malformed ", Request::kName)));
  return false;
}

// Collects one answer per topic of a request and responds once all are in.
template <typename Response>
struct Gather {
  Response response;
  size_t outstanding = 0;
  kafka::RequestHeader header;
  RequestHandler::Respond respond;
  void Done() {
    if (--outstanding == 0) std::move(respond)(EncodeResponse(header, response));
  }
};

// A Raft term as a Kafka leader epoch (an int32; terms that large never happen in practice).
inline int32_t LeaderEpochOf(uint64_t term) {
  return static_cast<int32_t>(std::min<uint64_t>(term, static_cast<uint64_t>(INT32_MAX)));
}

}  // namespace eddy::broker::internal
