// BrokerConnection: one Kafka connection from a client to one broker, on the client seam
// (core/runtime/connector.h).
//
// It frames each request with a fresh correlation id and the client id, sends it, and matches
// replies to requests IN ORDER: a Kafka broker answers the requests of one connection in the
// order it received them, so a reply whose correlation id is not the oldest outstanding
// request's means the stream is broken, and the connection closes. A reply is decoded with the
// version its request was sent at (and the response header that version implies, KIP-482 and
// KIP-511).
//
// FAILURE. Every request gets exactly one outcome. When the connection is lost (refused, reset,
// broker crashed), a request times out (request_timeout: the connection is closed then too, since
// a later reply could not be told from this one's), a reply is malformed, or the owner calls
// Close(), every outstanding request fails: kUnavailable for loss and close, kDeadlineExceeded
// for the one that timed out, kDataLoss for a reply that does not decode. The request that
// failed may or may not have reached the broker: callers retry only what is safe to retry
// (idempotent producers, reads). A closed connection stays closed; the owner opens a new one.
//
// One-way requests (Produce with acks=0) get no reply and take no correlation slot.
//
// LOOP AFFINITY: the client runtime's loop. OWNERSHIP: the runtime outlives the connection;
// destroying it closes the connection and runs no callback.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/base/units.h"
#include "core/kafka/header.h"
#include "core/kafka/wire.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

// A decoded reply and the frame it was decoded from: Records fields are views into `frame`
// (core/kafka/wire.h), which moves with the reply and must outlive them. Move-only: a copy would
// hold views into the original's frame (the broker simulation's first sweep read freed memory
// through one).
template <typename Response>
struct Reply {
  Reply() = default;
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) noexcept = default;
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  std::vector<uint8_t> frame;
  Response response;
};

struct ConnectionOptions {
  std::optional<std::string> client_id = "eddy-client";
  Duration request_timeout = Duration::Seconds(30);
};

struct ConnectionStats {
  uint64_t requests_sent = 0;
  uint64_t one_way_sent = 0;
  uint64_t replies = 0;
  uint64_t timeouts = 0;
  uint64_t malformed_replies = 0;  // undecodable, or out of order
  uint64_t failed_requests = 0;    // every request that ended without a reply
};

class BrokerConnection {
 public:
  template <typename Response>
  using Done = absl::AnyInvocable<void(absl::StatusOr<Reply<Response>>) &&>;

  // Connects at once (the connector queues what is sent before the connection is up).
  BrokerConnection(runtime::ClientRuntime& runtime, runtime::Address address,
                   ConnectionOptions options = {});
  ~BrokerConnection();
  BrokerConnection(const BrokerConnection&) = delete;
  BrokerConnection& operator=(const BrokerConnection&) = delete;

  // Sends `request` at `version`; `done` runs once, later, with the reply or the failure. A
  // request that does not encode at `version` fails at once (kInvalidArgument, posted).
  template <typename Request, typename Response>
  void Call(const Request& request, int16_t version, Done<Response> done);
  // Sends a request the broker does not answer (Produce with acks=0). Errors: the request's
  // encoding errors; kUnavailable once closed.
  template <typename Request>
  absl::Status SendOneWay(const Request& request, int16_t version);

  // Fails every outstanding request (kUnavailable) and closes. Idempotent.
  void Close();

  bool open() const { return open_; }
  // Why it closed (OK while open).
  const absl::Status& close_reason() const { return close_reason_; }
  size_t outstanding() const { return pending_.size(); }
  const runtime::Address& address() const { return address_; }
  const ConnectionStats& stats() const { return stats_; }

 private:
  // Decodes a reply frame (after the correlation id check) for the request that waits on it, or
  // fails it with the given status; returns whether the frame decoded (OK for a failure).
  using Finish = absl::AnyInvocable<absl::Status(absl::StatusOr<std::vector<uint8_t>> frame) &&>;
  struct Pending {
    int32_t correlation_id = 0;
    runtime::TimerId timeout = runtime::kNoTimer;
    Finish finish;
  };

  template <typename Body>
  absl::StatusOr<std::vector<uint8_t>> Frame(const Body& body, int16_t version,
                                             int32_t correlation_id) const;
  // Sends `frame`, which expects a reply, and queues `finish` for it.
  void Enqueue(int32_t correlation_id, std::vector<uint8_t> frame, Finish finish);
  // Fails `finish` later (a request refused before it was sent).
  void FailLater(Finish finish, absl::Status why);
  void OnMessage(std::vector<uint8_t> frame);
  void OnTimeout(int32_t correlation_id);
  // Closes with `why`; the oldest request (if `oldest` is set) fails with it, the rest with
  // kUnavailable.
  void Shut(absl::Status why, std::optional<absl::Status> oldest);

  template <typename Response>
  static absl::StatusOr<Reply<Response>> Decode(std::vector<uint8_t> frame, int16_t version);

  runtime::ClientRuntime& runtime_;
  const runtime::Address address_;
  const ConnectionOptions options_;
  runtime::ConnectionId connection_ = 0;
  bool open_ = true;
  absl::Status close_reason_;
  int32_t next_correlation_id_ = 0;
  std::deque<Pending> pending_;
  ConnectionStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// ---- implementation ----

template <typename Body>
absl::StatusOr<std::vector<uint8_t>> BrokerConnection::Frame(const Body& body, int16_t version,
                                                             int32_t correlation_id) const {
  kafka::RequestHeader header;
  header.api_key = Body::kApiKey;
  header.api_version = version;
  header.correlation_id = correlation_id;
  header.client_id = options_.client_id;
  kafka::Writer writer;
  if (absl::Status s = kafka::EncodeRequestFrame(header, body, writer); !s.ok()) return s;
  const std::string flat = writer.Flatten();
  return std::vector<uint8_t>(flat.begin() + 4, flat.end());  // the transport frames it
}

template <typename Request, typename Response>
void BrokerConnection::Call(const Request& request, int16_t version, Done<Response> done) {
  static_assert(Request::kApiKey == Response::kApiKey, "a request and its own response");
  Finish finish = [done = std::move(done), version](
                      absl::StatusOr<std::vector<uint8_t>> frame) mutable {
    if (!frame.ok()) {
      std::move(done)(frame.status());
      return absl::OkStatus();
    }
    absl::StatusOr<Reply<Response>> reply = Decode<Response>(*std::move(frame), version);
    absl::Status decoded = reply.status();
    std::move(done)(std::move(reply));
    return decoded;
  };
  if (!open_) return FailLater(std::move(finish), close_reason_);
  const int32_t correlation_id = next_correlation_id_;
  absl::StatusOr<std::vector<uint8_t>> frame = Frame(request, version, correlation_id);
  if (!frame.ok()) return FailLater(std::move(finish), frame.status());
  next_correlation_id_ = next_correlation_id_ == INT32_MAX ? 0 : next_correlation_id_ + 1;
  Enqueue(correlation_id, *std::move(frame), std::move(finish));
}

template <typename Request>
absl::Status BrokerConnection::SendOneWay(const Request& request, int16_t version) {
  if (!open_) return close_reason_;
  absl::StatusOr<std::vector<uint8_t>> frame = Frame(request, version, next_correlation_id_);
  if (!frame.ok()) return frame.status();
  next_correlation_id_ = next_correlation_id_ == INT32_MAX ? 0 : next_correlation_id_ + 1;
  ++stats_.one_way_sent;
  runtime_.connector().Send(connection_, *std::move(frame));
  return absl::OkStatus();
}

template <typename Response>
absl::StatusOr<Reply<Response>> BrokerConnection::Decode(std::vector<uint8_t> frame,
                                                         int16_t version) {
  Reply<Response> reply;
  reply.frame = std::move(frame);
  kafka::Reader reader{std::span<const uint8_t>(reply.frame)};
  kafka::ResponseHeader header;
  const int16_t header_version =
      kafka::ResponseHeaderVersion(kafka::FindApi(Response::kApiKey), version);
  absl::Status s = kafka::DecodeResponseHeader(header_version, reader, &header);
  if (s.ok()) s = reply.response.Decode(version, reader);
  if (s.ok() && reader.remaining_bytes() != 0) {
    s = absl::InvalidArgumentError(absl::StrCat(reader.remaining_bytes(), " bytes after the body"));
  }
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat("malformed ", Response::kName, " v", version, ": ", s.message()));
  }
  return reply;
}

}  // namespace eddy::clients
