// Progress: what a leader knows about one follower's log, and how it sends to it.
//
// States (as in etcd-io/raft):
//  - kProbe: the leader does not know where the follower's log matches. It sends one
//    AppendEntries at a time and waits for the answer (or a heartbeat response) before the next.
//  - kReplicate: the logs match up to match_offset; the leader streams entries optimistically,
//    with up to Config::inflight_messages_max AppendEntries in flight (pipelining).
//  - kSnapshot: the follower needs entries the leader no longer has; the leader sends its
//    snapshot point, one chunk at a time, and resumes probing after it is installed.
#pragma once

#include <cstdint>
#include <deque>

#include "raft/raft.pb.h"
#include "raft/types.h"

namespace eddy::raft {

struct Progress {
  enum class State { kProbe, kReplicate, kSnapshot };

  State state = State::kProbe;
  int64_t match_offset = kNoOffset;  // highest offset known to match the leader's log
  int64_t next_offset = 0;           // first offset to send next
  bool probe_sent = false;           // kProbe: an AppendEntries is outstanding
  // kReplicate: last offsets of the AppendEntries in flight, ascending.
  std::deque<int64_t> inflight_last_offsets;
  // kReplicate: match_offset at the previous heartbeat response, to detect a stalled pipeline
  // (all in-flight messages lost) and fall back to probing.
  int64_t match_at_last_heartbeat = kNoOffset;
  // Set by any message from the follower; cleared each election timeout (check-quorum).
  bool recent_active = false;
  // kSnapshot: the snapshot being sent and the byte position of the next chunk.
  SnapshotMeta snapshot;
  uint64_t snapshot_sent_bytes = 0;

  void BecomeProbe(int64_t next);
  void BecomeReplicate();
  void BecomeSnapshot(const SnapshotMeta& meta);
  // Records an acknowledgement; returns whether match_offset advanced.
  bool MaybeUpdate(int64_t acked_offset);
  // Whether the leader may send another AppendEntries now.
  bool IsPaused(int inflight_messages_max) const;
  // Whether a rejection of the append after `rejected_offset` is stale (a late or duplicated
  // answer to an append this progress has moved past) and must be ignored: in replicate state
  // one at or below the match offset, in probe state one that is not about the last probe, and
  // any during a snapshot. Drivers that act on rejections use the same rule.
  bool IsStaleRejection(int64_t rejected_offset) const;
  void CheckInvariants(int inflight_messages_max) const;
};

const char* ProgressStateName(Progress::State state);

}  // namespace eddy::raft
