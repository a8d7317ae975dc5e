// StreamConnection: one open TCP socket, cut into frames by a FrameFormat, with a bounded queue
// of outgoing frames. The building block of TcpTransport (peer and client connections) and
// TcpConnector.
//
// READING: frames are read one after another; each whole, verified payload goes to on_frame (the
// header stripped). A frame the format rejects, a stream that ends inside a frame, or a socket
// error closes the connection: on_closed then runs once, with the reason, and nothing more is
// delivered. Memory for a payload grows with the bytes actually received (kReadChunkBytesMax at
// a time), so a header announcing a large frame costs nothing until the bytes arrive.
//
// WRITING: Send() queues header + payload; frames go out in order, several per write. A Send
// that would take the queue past its limits closes the connection (kWriteQueueFull): a reader
// that does not keep up must not grow our memory without bound.
//
// CLOSING: Abort() closes at once. CloseAfterWrites() is TCP's orderly close: nothing more is
// delivered, queued frames are written, the send side is shut down, and the socket is closed
// when the other side closes too (or after kLingerMax, so a silent peer cannot pin it). Neither
// runs a callback, ever again.
//
// CALLBACKS run on the io_context's thread, never inline from a method of this class (on_closed
// is posted). The owner must tolerate on_closed arriving after it lost interest (guard it).
//
// OWNERSHIP: always held by shared_ptr (Create). Pending asynchronous operations hold a
// reference, so a connection that is draining outlives its owner until it is done. The
// io_context and the FrameFormat outlive it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "core/base/units.h"
#include "net/transport/frame_format.h"

namespace eddy::net {

struct StreamConnectionLimits {
  // Bytes (headers included) waiting to be written; beyond, the connection closes.
  uint64_t write_queue_bytes_max = 64 * kMiB;
  // Frames waiting to be written; beyond, the connection closes.
  uint64_t write_queue_frames_max = 1u << 16;
};

class StreamConnection : public std::enable_shared_from_this<StreamConnection> {
 public:
  enum class CloseReason {
    kEndOfStream,     // The other side closed between frames.
    kTruncated,       // The other side closed inside a frame.
    kBadHeader,       // The format rejected a header (bad magic, negative or oversized length).
    kBadPayload,      // The payload failed the format's checksum.
    kWriteQueueFull,  // Send() beyond the limits.
    kError,           // Reset, or any other socket error.
  };
  struct Callbacks {
    absl::AnyInvocable<void(std::vector<uint8_t> payload)> on_frame = nullptr;
    absl::AnyInvocable<void(CloseReason reason, absl::Status why)> on_closed = nullptr;
  };

  // Largest read handed to the socket at once while filling a payload.
  static constexpr uint64_t kReadChunkBytesMax = 256 * kKiB;
  // Most frames gathered into one write.
  static constexpr uint64_t kWriteBatchFramesMax = 64;
  // Longest a CloseAfterWrites() waits for the queue to drain and the other side to close.
  static constexpr Duration kLingerMax = Duration::Seconds(10);

  // REQUIRES: `socket` is open and connected.
  static std::shared_ptr<StreamConnection> Create(boost::asio::ip::tcp::socket socket,
                                                  const FrameFormat& format,
                                                  StreamConnectionLimits limits,
                                                  Callbacks callbacks);
  ~StreamConnection();
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // Starts reading. Called once, after Create (reads need shared_from_this).
  void Start();
  // Queues one frame. False if the connection is closing or closed (the frame is dropped), or
  // if this frame overflowed the queue (the connection is now closed, on_closed posted).
  bool Send(std::vector<uint8_t> header, std::vector<uint8_t> payload);
  void CloseAfterWrites();
  void Abort();

  bool open() const { return state_ == State::kOpen; }
  uint64_t queued_bytes() const { return queued_bytes_; }

 private:
  enum class State { kOpen, kDraining, kClosed };
  struct OutgoingFrame {
    std::vector<uint8_t> header;
    std::vector<uint8_t> payload;
  };

  StreamConnection(boost::asio::ip::tcp::socket socket, const FrameFormat& format,
                   StreamConnectionLimits limits, Callbacks callbacks);

  void ReadHeader();
  void OnHeader(const boost::system::error_code& error, size_t bytes_read);
  void ReadPayloadChunk();
  void OnPayloadChunk(const boost::system::error_code& error);
  void OnPayloadComplete();
  void ReadAndDiscard();
  void OnDiscarded(const boost::system::error_code& error);
  void WriteQueued();
  void OnWritten(const boost::system::error_code& error, uint64_t frame_count);
  // Closes and posts on_closed(reason).
  void Fail(CloseReason reason, absl::Status why);
  // Closes without telling anyone.
  void CloseSocket();
  void ReleaseQueue();
  void CheckInvariants() const;

  boost::asio::ip::tcp::socket socket_;
  const FrameFormat& format_;
  const StreamConnectionLimits limits_;
  Callbacks callbacks_;
  State state_ = State::kOpen;

  std::array<uint8_t, FrameFormat::kHeaderSizeBytesMax> header_{};
  uint64_t payload_size_bytes_ = 0;
  std::vector<uint8_t> payload_;
  bool read_in_flight_ = false;
  bool end_of_stream_seen_ = false;  // While draining: the other side has closed.

  std::deque<OutgoingFrame> queue_;
  uint64_t queued_bytes_ = 0;
  bool write_in_flight_ = false;
  boost::asio::steady_timer linger_timer_;
};

}  // namespace eddy::net
