#include "sim/workload/traffic_node.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::sim {

using runtime::NodeId;

namespace {

// Message kinds, first byte of every message.
constexpr uint8_t kRequest = 1;
constexpr uint8_t kReply = 2;

}  // namespace

TrafficNode::TrafficNode(runtime::Runtime& runtime, std::vector<NodeId> peers,
                         TrafficNodeOptions options)
    : runtime_(runtime),
      peers_(std::move(peers)),
      options_(options),
      alive_(std::make_shared<bool>(true)) {
  EDDY_CHECK_GT(options_.tick_max_ms, 0);
  EDDY_CHECK_GT(options_.message_size_bytes_max, 0u);
  runtime::Transport& transport = runtime_.transport();
  transport.SetPeerHandler([this](NodeId from, std::vector<uint8_t> message) {
    OnPeerMessage(from, std::move(message));
  });
  transport.SetPeerStateHandler([this](NodeId, bool) { ++stats_.peer_state_changes; });
  transport.SetClientHandler(
      [this](runtime::ConnectionId connection, std::vector<uint8_t> message) {
        ++stats_.client_requests;
        message.push_back(static_cast<uint8_t>(runtime_.self()));
        runtime_.transport().SendToClient(connection, std::move(message));
      });
  transport.SetClientClosedHandler([](runtime::ConnectionId) {});
  OpenFile();
  tick_timer_ = runtime_.clock().ScheduleAfter(Duration::Milliseconds(1), [this] { Tick(); });
}

TrafficNode::~TrafficNode() {
  *alive_ = false;
  runtime_.clock().Cancel(tick_timer_);
  // Destroyed without a crash (end of a test), the node must not leave handlers pointing at it.
  runtime::Transport& transport = runtime_.transport();
  transport.SetPeerHandler(nullptr);
  transport.SetPeerStateHandler(nullptr);
  transport.SetClientHandler(nullptr);
  transport.SetClientClosedHandler(nullptr);
}

std::vector<uint8_t> TrafficNode::RandomBytes(size_t size_max) {
  Random& random = runtime_.random();
  std::vector<uint8_t> bytes(1 + random.Uniform(size_max));
  uint64_t word = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i % 8 == 0) word = random.Next();
    bytes[i] = static_cast<uint8_t>(word >> (8 * (i % 8)));
  }
  return bytes;
}

void TrafficNode::DiskError() {
  ++stats_.disk_errors;
  // Reopen: after a failed sync the file's unsynced state is unknown, start from what is there.
  file_ = runtime::kNoFile;
}

void TrafficNode::OpenFile() {
  if (opening_) return;
  opening_ = true;
  const std::string path = absl::StrCat("traffic/node-", runtime_.self());
  runtime_.disk().CreateDirectories("traffic", [this, alive = alive_, path](absl::Status status) {
    if (!*alive) return;
    if (!status.ok()) {
      opening_ = false;
      return DiskError();
    }
    runtime_.disk().Open(path, runtime::OpenMode::kCreateIfMissing,
                         [this, alive](absl::StatusOr<runtime::FileHandle> file) {
                           if (!*alive) return;
                           opening_ = false;
                           if (!file.ok()) return DiskError();
                           file_ = *file;
                           runtime_.disk().Size(file_,
                                                [this, alive](absl::StatusOr<uint64_t> size) {
                                                  if (!*alive) return;
                                                  if (size.ok()) file_size_bytes_ = *size;
                                                });
                         });
  });
}

void TrafficNode::Tick() {
  ++stats_.ticks;
  Random& random = runtime_.random();
  switch (random.Uniform(6)) {
    case 0:
    case 1:
    case 2: {
      if (peers_.empty()) break;
      const NodeId to = peers_[random.Uniform(peers_.size())];
      std::vector<uint8_t> message = RandomBytes(options_.message_size_bytes_max);
      message[0] = kRequest;
      ++stats_.messages_sent;
      runtime_.transport().SendToPeer(to, std::move(message));
      break;
    }
    case 3:
      Append();
      break;
    case 4:
      Sync();
      break;
    case 5:
      Read();
      break;
  }
  Duration next =
      Duration::Milliseconds(1 + static_cast<int64_t>(random.Uniform(options_.tick_max_ms)));
  if (EDDY_BUGGIFY(runtime_)) {
    ++stats_.buggify_taken;
    next = next * 10;  // A legal but unusual pause in this node's activity.
  }
  tick_timer_ = runtime_.clock().ScheduleAfter(next, [this] { Tick(); });
}

void TrafficNode::Append() {
  if (file_ == runtime::kNoFile) return OpenFile();
  if (file_size_bytes_ >= options_.file_size_bytes_max) return;
  std::vector<uint8_t> bytes = RandomBytes(options_.append_size_bytes_max);
  file_size_bytes_ += bytes.size();
  ++stats_.appends;
  runtime_.disk().Append(file_, std::move(bytes),
                         [this, alive = alive_](absl::StatusOr<uint64_t> at) {
                           if (*alive && !at.ok()) DiskError();
                         });
}

void TrafficNode::Sync() {
  if (file_ == runtime::kNoFile) return OpenFile();
  ++stats_.syncs;
  runtime_.disk().Sync(file_, [this, alive = alive_](absl::Status status) {
    if (*alive && !status.ok()) DiskError();
  });
  runtime_.disk().SyncDirectory("traffic", [](absl::Status) {});
}

void TrafficNode::Read() {
  if (file_ == runtime::kNoFile || file_size_bytes_ == 0) return;
  if (reads_in_flight_ >= kReadsInFlightMax) return;
  ++reads_in_flight_;
  ++stats_.reads;
  const uint64_t position = runtime_.random().Uniform(file_size_bytes_);
  runtime_.disk().ReadAt(file_, position, 1024,
                         [this, alive = alive_](absl::StatusOr<std::vector<uint8_t>> bytes) {
                           if (!*alive) return;
                           --reads_in_flight_;
                           if (!bytes.ok()) ++stats_.disk_errors;
                         });
}

void TrafficNode::OnPeerMessage(NodeId from, std::vector<uint8_t> message) {
  if (message.empty()) return;
  if (message[0] == kReply) {
    ++stats_.replies_received;
    return;
  }
  ++stats_.messages_received;
  if (runtime_.random().OneIn(4)) {
    message[0] = kReply;
    message.resize(1 + message.size() / 4);
    runtime_.transport().SendToPeer(from, std::move(message));
  }
}

}  // namespace eddy::sim
