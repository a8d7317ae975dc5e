// KafkaListener: a broker's Kafka front end on the transport's client side
// (core/runtime/transport.h). It parses each request frame, answers what the protocol itself
// defines (ApiVersions, KIP-511), hands every other request to the broker's RequestHandler, and
// sends the responses of each connection IN THE ORDER THE REQUESTS ARRIVED, whatever order the
// handler completes them in (a Produce waiting for its quorum holds back a later Metadata's
// answer, as Kafka clients require: they match responses to requests by order).
//
// BAD INPUT never crashes the broker; it is counted, and answered as Kafka answers it:
//   * a malformed header, an unknown api key, a version outside the supported range (other
//     than ApiVersions), or an API this broker does not implement: the connection is closed;
//   * an ApiVersions at an unsupported version: UNSUPPORTED_VERSION with the list, at v0;
//   * a body that does not decode: the handler reports kInvalidArgument and the connection is
//     closed (no response can be trusted to be read right).
// A response larger than one transport message (runtime::kMessageSizeBytesMax) closes the
// connection rather than reach the transport's limit.
// A connection with more than kQueuedRequestsMax requests waiting for their turn is closed:
// a client that never reads its responses cannot grow the broker's memory without bound.
//
// ADVERTISED APIS are exactly the handler's: ApiVersions lists only what it implements (and
// ApiVersions itself), with the versions the codec supports.
//
// LOOP AFFINITY: the runtime's loop. OWNERSHIP: the runtime and the handler outlive the
// listener; destroying it drops every connection's state (late responses go nowhere).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/kafka/header.h"
#include "core/kafka/wire.h"
#include "core/runtime/runtime.h"

namespace eddy::broker {

// What a handler answers with: one whole response frame (after the size prefix), or nothing
// (Produce with acks=0), or an error that closes the connection.
struct Response {
  std::optional<std::vector<uint8_t>> frame;  // nullopt: no response is sent
};

// Encodes `body` as the response to `request` (its correlation id and version).
template <typename Body>
absl::StatusOr<Response> EncodeResponse(const kafka::RequestHeader& request, const Body& body);

class RequestHandler {
 public:
  using Respond = absl::AnyInvocable<void(absl::StatusOr<Response>) &&>;
  virtual ~RequestHandler() = default;
  // Whether this broker implements `api_key` (ApiVersions excepted: the listener answers it).
  virtual bool Implements(int16_t api_key) const = 0;
  // The oldest version of `api_key` it serves (older ones are not advertised, and close the
  // connection as unsupported versions do).
  virtual int16_t MinVersion(int16_t /*api_key*/) const { return 0; }
  // The newest version it serves (newer ones likewise; the codec's maximum by default).
  virtual int16_t MaxVersion(int16_t /*api_key*/) const { return INT16_MAX; }
  // One request of an implemented API at a supported version; `frame.body` is valid during the
  // call only (copy what must outlive it). `respond` runs once, now or later; a non-OK status
  // closes the connection (kInvalidArgument: the body did not decode).
  virtual void Handle(runtime::ConnectionId connection, const kafka::RequestFrame& frame,
                      Respond respond) = 0;
  // The connection closed (by the client or the network); responses still owed go nowhere.
  virtual void OnClosed(runtime::ConnectionId /*connection*/) {}
};

struct ListenerStats {
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t api_versions_answered = 0;
  uint64_t malformed_requests = 0;     // bad header or body
  uint64_t unsupported_requests = 0;   // unknown key, version out of range, not implemented
  uint64_t overloaded_connections = 0; // closed for too many queued requests
  uint64_t oversized_responses = 0;    // closed: a response beyond one transport message
  uint64_t connections_closed = 0;     // by the listener, for any of the above
};

class KafkaListener {
 public:
  static constexpr size_t kQueuedRequestsMax = 1024;

  // Installs the transport's client handlers (once per runtime: one listener per broker).
  KafkaListener(runtime::Runtime& runtime, RequestHandler& handler);
  ~KafkaListener();
  KafkaListener(const KafkaListener&) = delete;
  KafkaListener& operator=(const KafkaListener&) = delete;

  const ListenerStats& stats() const { return stats_; }
  size_t open_connections() const { return connections_.size(); }

 private:
  struct Slot {
    bool done = false;
    std::optional<std::vector<uint8_t>> frame;
  };
  struct Connection {
    uint64_t next_sequence = 0;    // of the next request to arrive
    uint64_t first_sequence = 0;   // of slots.front()
    std::deque<Slot> slots;        // requests not yet answered in order
  };

  void OnRequest(runtime::ConnectionId connection, std::vector<uint8_t> frame);
  void OnClientClosed(runtime::ConnectionId connection);
  // Queues a slot for the next request; nullopt if the connection is overloaded (closed).
  std::optional<uint64_t> TakeSlot(runtime::ConnectionId connection);
  void Complete(runtime::ConnectionId connection, uint64_t sequence,
                absl::StatusOr<Response> response);
  void SendInOrder(runtime::ConnectionId connection);
  void CloseConnection(runtime::ConnectionId connection);
  std::vector<uint8_t> ApiVersionsFrame(const kafka::RequestHeader& header);

  runtime::Runtime& runtime_;
  RequestHandler& handler_;
  std::map<runtime::ConnectionId, Connection> connections_;
  ListenerStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// ---- implementation ----

template <typename Body>
absl::StatusOr<Response> EncodeResponse(const kafka::RequestHeader& request, const Body& body) {
  kafka::Writer writer;
  absl::Status s =
      kafka::EncodeResponseFrame(request.correlation_id, request.api_version, body, writer);
  if (!s.ok()) return s;
  const std::string flat = writer.Flatten();
  return Response{std::vector<uint8_t>(flat.begin() + 4, flat.end())};
}

}  // namespace eddy::broker
