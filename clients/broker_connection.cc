#include "clients/broker_connection.h"

#include <utility>

#include "core/base/check.h"

namespace eddy::clients {
namespace {

// The correlation id: the first four bytes of every response header version.
std::optional<int32_t> CorrelationIdOf(const std::vector<uint8_t>& frame) {
  if (frame.size() < 4) return std::nullopt;
  return static_cast<int32_t>((uint32_t{frame[0]} << 24) | (uint32_t{frame[1]} << 16) |
                              (uint32_t{frame[2]} << 8) | uint32_t{frame[3]});
}

}  // namespace

BrokerConnection::BrokerConnection(runtime::ClientRuntime& runtime, runtime::Address address,
                                   ConnectionOptions options)
    : runtime_(runtime), address_(std::move(address)), options_(std::move(options)) {
  EDDY_CHECK_GT(options_.request_timeout.nanoseconds(), 0);
  runtime::Connector::Handlers handlers;
  handlers.on_message = [this, alive = std::weak_ptr<bool>(alive_)](std::vector<uint8_t> frame) {
    if (alive.expired()) return;
    OnMessage(std::move(frame));
  };
  handlers.on_closed = [this, alive = std::weak_ptr<bool>(alive_)](absl::Status why) {
    if (alive.expired() || !open_) return;
    Shut(std::move(why), std::nullopt);
  };
  connection_ = runtime_.connector().Connect(address_, std::move(handlers));
}

BrokerConnection::~BrokerConnection() {
  alive_.reset();
  for (Pending& p : pending_) runtime_.clock().Cancel(p.timeout);
  if (open_) runtime_.connector().Close(connection_);
}

void BrokerConnection::Close() {
  if (!open_) return;
  Shut(absl::UnavailableError(absl::StrCat("connection to ", address_.host, ":", address_.port,
                                           " closed by the client")),
       std::nullopt);
}

void BrokerConnection::Enqueue(int32_t correlation_id, std::vector<uint8_t> frame,
                               Finish finish) {
  const runtime::TimerId timeout = runtime_.clock().ScheduleAfter(
      options_.request_timeout, [this, alive = std::weak_ptr<bool>(alive_), correlation_id] {
        if (alive.expired()) return;
        OnTimeout(correlation_id);
      });
  pending_.push_back(Pending{correlation_id, timeout, std::move(finish)});
  ++stats_.requests_sent;
  runtime_.connector().Send(connection_, std::move(frame));
}

void BrokerConnection::FailLater(Finish finish, absl::Status why) {
  ++stats_.failed_requests;
  runtime_.clock().Post([finish = std::move(finish), why = std::move(why)]() mutable {
    static_cast<void>(std::move(finish)(std::move(why)));
  });
}

void BrokerConnection::OnMessage(std::vector<uint8_t> frame) {
  if (!open_) return;
  const std::optional<int32_t> correlation_id = CorrelationIdOf(frame);
  if (pending_.empty() || correlation_id != pending_.front().correlation_id) {
    ++stats_.malformed_replies;
    const absl::Status why = absl::DataLossError(absl::StrCat(
        "reply from ", address_.host, ":", address_.port, " with correlation id ",
        correlation_id.has_value() ? absl::StrCat(*correlation_id) : "(none)", ", expected ",
        pending_.empty() ? "no reply" : absl::StrCat(pending_.front().correlation_id)));
    return Shut(why, why);
  }
  Pending done = std::move(pending_.front());
  pending_.pop_front();
  runtime_.clock().Cancel(done.timeout);
  ++stats_.replies;
  std::weak_ptr<bool> alive = alive_;
  const absl::Status decoded = std::move(done.finish)(std::move(frame));
  if (alive.expired() || decoded.ok() || !open_) return;  // the callback may have closed us
  ++stats_.malformed_replies;
  Shut(decoded, std::nullopt);  // the stream cannot be trusted after an undecodable reply
}

void BrokerConnection::OnTimeout(int32_t correlation_id) {
  if (!open_ || pending_.empty()) return;
  // Only the oldest request's timer can fire first (all share one timeout, sent in order), but
  // be exact: the request named times out, the others are lost with the connection.
  ++stats_.timeouts;
  const absl::Status why = absl::DeadlineExceededError(
      absl::StrCat("request ", correlation_id, " to ", address_.host, ":", address_.port,
                   " had no reply within ", options_.request_timeout.milliseconds(), " ms"));
  Shut(why, why);
}

void BrokerConnection::Shut(absl::Status why, std::optional<absl::Status> oldest) {
  EDDY_CHECK(open_);
  open_ = false;
  close_reason_ = why;
  runtime_.connector().Close(connection_);
  std::deque<Pending> failed = std::move(pending_);
  pending_.clear();
  const absl::Status lost = absl::IsUnavailable(why)
                                ? why
                                : absl::UnavailableError(absl::StrCat(
                                      "connection to ", address_.host, ":", address_.port,
                                      " closed: ", why.message()));
  bool first = true;
  std::weak_ptr<bool> alive = alive_;
  for (Pending& p : failed) {
    runtime_.clock().Cancel(p.timeout);
    ++stats_.failed_requests;
    const absl::Status status = first && oldest.has_value() ? *oldest : lost;
    first = false;
    static_cast<void>(std::move(p.finish)(status));
    if (alive.expired()) return;  // a callback destroyed the connection
  }
}

}  // namespace eddy::clients
