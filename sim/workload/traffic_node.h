// TrafficNode: a tiny stand-in broker that exercises every part of the seam with random work —
// timers, peer messages (with replies), client replies, file appends, syncs, reads — all drawn
// from its runtime's Random. It checks nothing about the cluster; it exists so the simulator's
// own determinism and fault machinery can be tested (and smoke-run) before real brokers exist:
// two runs with the same seed must make TrafficNodes do exactly the same things.
//
// It tolerates every fault the world injects: disk errors are counted and the file reopened,
// lost messages are simply lost. Completions that arrive after the node object is gone (e.g. at
// the end of a test) are ignored through a liveness token.
//
// LOOP: runs on its runtime's loop. Build it on a started (up) node; destroy it when the node
// crashes (the world's lifecycle handler) and build a new one after the restart.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/runtime/runtime.h"

namespace eddy::sim {

struct TrafficNodeOptions {
  // Gap between two actions, uniform in [1, tick_max] milliseconds of local time.
  int64_t tick_max_ms = 20;
  size_t message_size_bytes_max = 512;
  size_t append_size_bytes_max = 1024;
  // Stop appending once the file is this large (keeps runs small).
  uint64_t file_size_bytes_max = 64 * 1024;
};

struct TrafficNodeStats {
  uint64_t ticks = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t replies_received = 0;
  uint64_t client_requests = 0;
  uint64_t appends = 0;
  uint64_t syncs = 0;
  uint64_t reads = 0;
  uint64_t disk_errors = 0;
  uint64_t peer_state_changes = 0;
  uint64_t buggify_taken = 0;
};

class TrafficNode {
 public:
  static constexpr size_t kReadsInFlightMax = 4;

  TrafficNode(runtime::Runtime& runtime, std::vector<runtime::NodeId> peers,
              TrafficNodeOptions options = {});
  ~TrafficNode();
  TrafficNode(const TrafficNode&) = delete;
  TrafficNode& operator=(const TrafficNode&) = delete;

  const TrafficNodeStats& stats() const { return stats_; }

 private:
  void Tick();
  void OpenFile();
  void Append();
  void Sync();
  void Read();
  void OnPeerMessage(runtime::NodeId from, std::vector<uint8_t> message);
  std::vector<uint8_t> RandomBytes(size_t size_max);
  void DiskError();

  runtime::Runtime& runtime_;
  const std::vector<runtime::NodeId> peers_;
  const TrafficNodeOptions options_;
  std::shared_ptr<bool> alive_;
  runtime::TimerId tick_timer_ = runtime::kNoTimer;
  runtime::FileHandle file_ = runtime::kNoFile;
  bool opening_ = false;
  uint64_t file_size_bytes_ = 0;
  size_t reads_in_flight_ = 0;
  TrafficNodeStats stats_;
};

}  // namespace eddy::sim
