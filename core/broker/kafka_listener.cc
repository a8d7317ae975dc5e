#include "core/broker/kafka_listener.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/base/check.h"
#include "core/kafka/generated/api_versions.h"
#include "core/kafka/generated/apis.h"

namespace eddy::broker {

KafkaListener::KafkaListener(runtime::Runtime& runtime, RequestHandler& handler)
    : runtime_(runtime), handler_(handler) {
  runtime::Transport& transport = runtime_.transport();
  transport.SetClientHandler([this](runtime::ConnectionId c, std::vector<uint8_t> frame) {
    OnRequest(c, std::move(frame));
  });
  transport.SetClientClosedHandler([this](runtime::ConnectionId c) { OnClientClosed(c); });
}

KafkaListener::~KafkaListener() { alive_.reset(); }

void KafkaListener::OnRequest(runtime::ConnectionId connection, std::vector<uint8_t> bytes) {
  ++stats_.requests;
  const kafka::RequestFrame frame = kafka::ParseRequestFrame(bytes);
  const bool api_versions = frame.ids_parsed &&
                            frame.header.api_key == kafka::ApiVersionsRequest::kApiKey;
  if (api_versions && (frame.status.ok() || absl::IsOutOfRange(frame.status))) {
    // KIP-511: answered even at a version this broker does not know. The body is not read: a
    // newer client's may not parse, and nothing in it changes the answer.
    const std::optional<uint64_t> slot = TakeSlot(connection);
    if (!slot.has_value()) return;
    ++stats_.api_versions_answered;
    return Complete(connection, *slot, Response{ApiVersionsFrame(frame.header)});
  }
  if (!frame.status.ok()) {
    if (absl::IsInvalidArgument(frame.status)) {
      ++stats_.malformed_requests;
    } else {
      ++stats_.unsupported_requests;  // unknown key or version out of range
    }
    return CloseConnection(connection);
  }
  if (!handler_.Implements(frame.header.api_key) ||
      frame.header.api_version < handler_.MinVersion(frame.header.api_key) ||
      frame.header.api_version > handler_.MaxVersion(frame.header.api_key)) {
    ++stats_.unsupported_requests;
    return CloseConnection(connection);
  }
  const std::optional<uint64_t> slot = TakeSlot(connection);
  if (!slot.has_value()) return;
  handler_.Handle(connection, frame,
                  [this, alive = std::weak_ptr<bool>(alive_), connection,
                   sequence = *slot](absl::StatusOr<Response> response) {
                    if (alive.expired()) return;
                    Complete(connection, sequence, std::move(response));
                  });
}

std::optional<uint64_t> KafkaListener::TakeSlot(runtime::ConnectionId connection) {
  Connection& c = connections_[connection];
  if (c.slots.size() >= kQueuedRequestsMax) {
    ++stats_.overloaded_connections;
    CloseConnection(connection);
    return std::nullopt;
  }
  c.slots.emplace_back();
  return c.next_sequence++;
}

void KafkaListener::Complete(runtime::ConnectionId connection, uint64_t sequence,
                             absl::StatusOr<Response> response) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;  // closed meanwhile: nowhere to send it
  Connection& c = it->second;
  EDDY_CHECK_GE(sequence, c.first_sequence);
  Slot& slot = c.slots[sequence - c.first_sequence];
  EDDY_CHECK(!slot.done);
  if (!response.ok()) {
    if (absl::IsInvalidArgument(response.status())) ++stats_.malformed_requests;
    return CloseConnection(connection);
  }
  slot.done = true;
  slot.frame = std::move(response->frame);
  SendInOrder(connection);
}

void KafkaListener::SendInOrder(runtime::ConnectionId connection) {
  Connection& c = connections_.at(connection);
  while (!c.slots.empty() && c.slots.front().done) {
    if (c.slots.front().frame.has_value()) {
      if (c.slots.front().frame->size() > runtime::kMessageSizeBytesMax) {
        // A response no transport message can carry (a request naming too much): the client
        // cannot be answered in order any more.
        ++stats_.oversized_responses;
        return CloseConnection(connection);
      }
      ++stats_.responses;
      runtime_.transport().SendToClient(connection, *std::move(c.slots.front().frame));
    }
    c.slots.pop_front();
    ++c.first_sequence;
  }
}

void KafkaListener::OnClientClosed(runtime::ConnectionId connection) {
  if (connections_.erase(connection) == 0) return;
  handler_.OnClosed(connection);
}

void KafkaListener::CloseConnection(runtime::ConnectionId connection) {
  ++stats_.connections_closed;
  connections_.erase(connection);
  runtime_.transport().CloseClient(connection);
  handler_.OnClosed(connection);
}

std::vector<uint8_t> KafkaListener::ApiVersionsFrame(const kafka::RequestHeader& header) {
  kafka::ApiVersionsAnswer answer = kafka::AnswerApiVersions(header.api_version);
  std::erase_if(answer.response.api_keys, [this](const auto& entry) {
    return entry.api_key != kafka::ApiVersionsRequest::kApiKey &&
           !handler_.Implements(entry.api_key);
  });
  for (auto& entry : answer.response.api_keys) {
    if (entry.api_key == kafka::ApiVersionsRequest::kApiKey) continue;
    entry.min_version = std::max(entry.min_version, handler_.MinVersion(entry.api_key));
    entry.max_version = std::min(entry.max_version, handler_.MaxVersion(entry.api_key));
  }
  kafka::Writer writer;
  EDDY_CHECK_OK(kafka::EncodeResponseFrame(header.correlation_id, answer.response_version,
                                           answer.response, writer));
  const std::string flat = writer.Flatten();
  return std::vector<uint8_t>(flat.begin() + 4, flat.end());
}

}  // namespace eddy::broker
