#include "net/transport/stream_connection.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/error.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "core/base/check.h"
#include "net/transport/asio_status.h"

namespace eddy::net {

namespace asio = boost::asio;
using boost::system::error_code;

std::shared_ptr<StreamConnection> StreamConnection::Create(asio::ip::tcp::socket socket,
                                                           const FrameFormat& format,
                                                           StreamConnectionLimits limits,
                                                           Callbacks callbacks) {
  EDDY_CHECK(socket.is_open());
  EDDY_CHECK_LE(format.header_size_bytes(), FrameFormat::kHeaderSizeBytesMax);
  return std::shared_ptr<StreamConnection>(
      new StreamConnection(std::move(socket), format, limits, std::move(callbacks)));
}

StreamConnection::StreamConnection(asio::ip::tcp::socket socket, const FrameFormat& format,
                                   StreamConnectionLimits limits, Callbacks callbacks)
    : socket_(std::move(socket)),
      format_(format),
      limits_(limits),
      callbacks_(std::move(callbacks)),
      linger_timer_(socket_.get_executor()) {
  error_code ignored;
  // Small request/response frames must not wait for Nagle's algorithm.
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
}

StreamConnection::~StreamConnection() { CloseSocket(); }

void StreamConnection::Start() {
  EDDY_CHECK(state_ == State::kOpen);
  EDDY_CHECK(!read_in_flight_);
  ReadHeader();
}

void StreamConnection::ReadHeader() {
  EDDY_CHECK(!read_in_flight_);
  read_in_flight_ = true;
  asio::async_read(socket_, asio::buffer(header_.data(), format_.header_size_bytes()),
                   [self = shared_from_this()](const error_code& error, size_t bytes_read) {
                     self->read_in_flight_ = false;
                     self->OnHeader(error, bytes_read);
                   });
}

void StreamConnection::OnHeader(const error_code& error, size_t bytes_read) {
  if (state_ == State::kDraining) return OnDiscarded(error);
  if (state_ != State::kOpen) return;
  if (error) {
    // A clean close lands between frames; anything else is a cut-off frame or a broken socket.
    if (error == asio::error::eof && bytes_read == 0) {
      return Fail(CloseReason::kEndOfStream, AsioErrorToStatus(error, "read"));
    }
    if (error == asio::error::eof) {
      return Fail(CloseReason::kTruncated, absl::UnavailableError("stream ended inside a header"));
    }
    return Fail(CloseReason::kError, AsioErrorToStatus(error, "read"));
  }
  const std::span<const uint8_t> header(header_.data(), format_.header_size_bytes());
  absl::StatusOr<uint64_t> size = format_.PayloadSize(header);
  if (!size.ok()) return Fail(CloseReason::kBadHeader, size.status());
  payload_size_bytes_ = *size;
  payload_.clear();
  ReadPayloadChunk();
}

void StreamConnection::ReadPayloadChunk() {
  EDDY_CHECK_LE(payload_.size(), payload_size_bytes_);
  if (payload_.size() == payload_size_bytes_) return OnPayloadComplete();
  const uint64_t start = payload_.size();
  const uint64_t chunk = std::min(kReadChunkBytesMax, payload_size_bytes_ - start);
  payload_.resize(start + chunk);
  read_in_flight_ = true;
  asio::async_read(socket_, asio::buffer(payload_.data() + start, chunk),
                   [self = shared_from_this()](const error_code& error, size_t) {
                     self->read_in_flight_ = false;
                     self->OnPayloadChunk(error);
                   });
}

void StreamConnection::OnPayloadChunk(const error_code& error) {
  if (state_ == State::kDraining) return OnDiscarded(error);
  if (state_ != State::kOpen) {
    payload_ = {};
    return;
  }
  if (error == asio::error::eof) {
    return Fail(CloseReason::kTruncated, absl::UnavailableError("stream ended inside a frame"));
  }
  if (error) return Fail(CloseReason::kError, AsioErrorToStatus(error, "read"));
  ReadPayloadChunk();
}

void StreamConnection::OnPayloadComplete() {
  const std::span<const uint8_t> header(header_.data(), format_.header_size_bytes());
  const absl::Status verified = format_.Verify(header, payload_);
  if (!verified.ok()) return Fail(CloseReason::kBadPayload, verified);
  std::vector<uint8_t> payload = std::exchange(payload_, {});
  // The handler may Abort() or CloseAfterWrites() this connection, which drops the callbacks:
  // hold the running one locally so it is not destroyed while it runs.
  auto on_frame = std::move(callbacks_.on_frame);
  if (on_frame) on_frame(std::move(payload));
  if (state_ == State::kOpen) {
    callbacks_.on_frame = std::move(on_frame);
    ReadHeader();
  } else if (state_ == State::kDraining) {
    ReadAndDiscard();
  }
}

// While draining, incoming bytes are read only to see the other side's close; nothing in them
// is delivered ("nothing it sends afterwards arrives").
void StreamConnection::ReadAndDiscard() {
  EDDY_CHECK(!read_in_flight_);
  EDDY_CHECK(state_ == State::kDraining);
  read_in_flight_ = true;
  socket_.async_read_some(asio::buffer(header_.data(), header_.size()),
                          [self = shared_from_this()](const error_code& error, size_t) {
                            self->read_in_flight_ = false;
                            if (self->state_ == State::kDraining) self->OnDiscarded(error);
                          });
}

void StreamConnection::OnDiscarded(const error_code& error) {
  EDDY_CHECK(state_ == State::kDraining);
  payload_ = {};
  if (!error) return ReadAndDiscard();
  end_of_stream_seen_ = true;
  // A reset (not a clean end) means our queued bytes can no longer arrive either.
  if (error != asio::error::eof || !write_in_flight_) CloseSocket();
}

bool StreamConnection::Send(std::vector<uint8_t> header, std::vector<uint8_t> payload) {
  if (state_ != State::kOpen) return false;
  const uint64_t size_bytes = header.size() + payload.size();
  if (queued_bytes_ + size_bytes > limits_.write_queue_bytes_max ||
      queue_.size() + 1 > limits_.write_queue_frames_max) {
    Fail(CloseReason::kWriteQueueFull,
         absl::ResourceExhaustedError(absl::StrCat("write queue full: ", queue_.size(), " frames, ",
                                                   queued_bytes_, " bytes")));
    return false;
  }
  queue_.push_back(OutgoingFrame{std::move(header), std::move(payload)});
  queued_bytes_ += size_bytes;
  if (!write_in_flight_) WriteQueued();
  CheckInvariants();
  return true;
}

void StreamConnection::WriteQueued() {
  EDDY_CHECK(!write_in_flight_);
  EDDY_CHECK(!queue_.empty());
  std::vector<asio::const_buffer> buffers;
  const uint64_t frame_count = std::min<uint64_t>(queue_.size(), kWriteBatchFramesMax);
  buffers.reserve(2 * frame_count);
  for (uint64_t i = 0; i < frame_count; ++i) {
    buffers.push_back(asio::buffer(queue_[i].header));
    buffers.push_back(asio::buffer(queue_[i].payload));
  }
  write_in_flight_ = true;
  // The deque's front elements are not touched until this write completes, so the buffers
  // stay valid.
  asio::async_write(socket_, buffers,
                    [self = shared_from_this(), frame_count](const error_code& error, size_t) {
                      self->write_in_flight_ = false;
                      self->OnWritten(error, frame_count);
                    });
}

void StreamConnection::OnWritten(const error_code& error, uint64_t frame_count) {
  if (state_ == State::kClosed) return ReleaseQueue();
  if (error) {
    if (state_ == State::kDraining) return CloseSocket();
    return Fail(CloseReason::kError, AsioErrorToStatus(error, "write"));
  }
  EDDY_CHECK_LE(frame_count, queue_.size());
  for (uint64_t i = 0; i < frame_count; ++i) {
    queued_bytes_ -= queue_.front().header.size() + queue_.front().payload.size();
    queue_.pop_front();
  }
  CheckInvariants();
  if (!queue_.empty()) return WriteQueued();
  if (state_ == State::kDraining) {
    // Everything is out: FIN after the last byte, then wait for the other side's close.
    error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    if (end_of_stream_seen_) CloseSocket();
  }
}

void StreamConnection::CloseAfterWrites() {
  if (state_ != State::kOpen) return;
  state_ = State::kDraining;
  callbacks_ = Callbacks{};
  linger_timer_.expires_after(std::chrono::nanoseconds(kLingerMax.nanoseconds()));
  linger_timer_.async_wait([self = shared_from_this()](const error_code& error) {
    if (!error) self->CloseSocket();
  });
  if (queue_.empty()) {
    error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }
  // A read in flight continues as a discarding one when it completes (OnHeader/OnPayloadChunk).
  // Without one, we are inside on_frame; OnPayloadComplete starts the discarding read.
}

void StreamConnection::Abort() {
  callbacks_ = Callbacks{};
  CloseSocket();
}

void StreamConnection::Fail(CloseReason reason, absl::Status why) {
  EDDY_CHECK(state_ == State::kOpen);
  EDDY_CHECK(!why.ok());
  auto on_closed = std::move(callbacks_.on_closed);
  callbacks_ = Callbacks{};
  CloseSocket();
  if (on_closed) {
    asio::post(socket_.get_executor(),
               [on_closed = std::move(on_closed), reason, why = std::move(why)]() mutable {
                 on_closed(reason, std::move(why));
               });
  }
}

void StreamConnection::CloseSocket() {
  state_ = State::kClosed;
  error_code ignored;
  linger_timer_.cancel();
  socket_.close(ignored);
  // Buffers an operation in flight points into are released when it completes (aborted).
  if (!write_in_flight_) ReleaseQueue();
  if (!read_in_flight_) payload_ = {};
}

void StreamConnection::ReleaseQueue() {
  queue_.clear();
  queued_bytes_ = 0;
}

void StreamConnection::CheckInvariants() const {
  EDDY_CHECK_LE(queue_.size(), limits_.write_queue_frames_max);
  EDDY_CHECK_LE(queued_bytes_, limits_.write_queue_bytes_max);
  EDDY_CHECK(!write_in_flight_ || !queue_.empty());
}

}  // namespace eddy::net
