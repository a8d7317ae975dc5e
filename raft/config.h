// Config: the parameters of one RawNode, each a named limit or switch.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/units.h"
#include "raft/types.h"

namespace eddy::raft {

// Classic Raft bugs that tests can switch on to prove the property test catches them. Never set
// outside tests; kNone is the only production value.
enum class PlantedBug {
  kNone,
  // A candidate counts vote grants that were sent for an earlier term (§5.2 violated).
  kCountStaleVotes,
  // A leader commits an entry of a previous term once it is on a majority (§5.4.2 violated:
  // the Figure 8 anomaly).
  kCommitPreviousTerm,
  // A voter grants its vote without the up-to-date check of §5.4.1, so a leader can lack
  // committed entries (Leader Completeness violated).
  kGrantVoteWithoutLogCheck,
  // A node reports its vote as not needing persistence, so a crash forgets it (§5.1/Figure 2:
  // votedFor is persistent state) and it can vote twice in one term.
  kForgetPersistVote,
};

struct Config {
  NodeId id = kNoNode;

  // A follower that hears no leader for a random number of ticks in
  // [election_timeout_ticks, 2 * election_timeout_ticks) starts an election (§5.2).
  int election_timeout_ticks = 10;
  // A leader sends heartbeats every heartbeat_interval_ticks.
  int heartbeat_interval_ticks = 1;

  // §9.6 (dissertation): a would-be candidate first asks whether it could win, without
  // incrementing its term, so a partitioned node cannot disrupt a live group on rejoining.
  bool pre_vote = true;
  // §6.2 (dissertation): a leader that has not heard from a quorum within an election timeout
  // steps down; followers that hear a leader ignore vote requests (leader lease on votes).
  bool check_quorum = true;

  // Pipelining: AppendEntries messages in flight per follower in the replicate state.
  int inflight_messages_max = 8;
  // Batching: entries and payload bytes carried by one AppendEntries.
  int append_entries_count_max = 64;
  uint64_t append_size_bytes_max = 1 * kMiB;
  // InstallSnapshot chunk size.
  uint64_t snapshot_chunk_size_bytes_max = 64 * kKiB;
  // Proposals accepted but not yet committed, in payload bytes; beyond it Propose returns
  // kResourceExhausted (back-pressure instead of unbounded memory).
  uint64_t uncommitted_size_bytes_max = 64 * kMiB;
  // Read-index requests waiting for their heartbeat quorum.
  int read_requests_max = 1024;
  // Outgoing messages queued for the next Ready. Beyond it new messages are dropped (and
  // counted): losing a message is always safe in Raft, unbounded memory is not.
  int outgoing_messages_max = 16384;

  // Quiescence (README.md, "Quiescence"): the leader of an idle group whose followers all hold
  // and have committed its whole log tells them so and stops heartbeating; they stop their
  // election timers. Only timers are suppressed, never a Raft rule. REQUIRES a driver that keeps
  // liveness another way: it must call RawNode::Unquiesce on a quiesced replica when a peer it
  // depends on (a follower's leader, a leader's followers) may be down (raft/driver's node-level
  // heartbeats do). Off by default: the core alone cannot tell.
  bool quiesce = false;

  PlantedBug planted_bug = PlantedBug::kNone;

  absl::Status Validate() const {
    if (id == kNoNode) return absl::InvalidArgumentError("node id must be >= 1");
    if (heartbeat_interval_ticks < 1 || election_timeout_ticks <= heartbeat_interval_ticks) {
      return absl::InvalidArgumentError(absl::StrCat(
          "need 1 <= heartbeat_interval_ticks < election_timeout_ticks, got ",
          heartbeat_interval_ticks, " and ", election_timeout_ticks));
    }
    if (inflight_messages_max < 1 || append_entries_count_max < 1 || read_requests_max < 1 ||
        outgoing_messages_max < 1 ||
        append_size_bytes_max < 1 || snapshot_chunk_size_bytes_max < 1) {
      return absl::InvalidArgumentError("limits must be >= 1");
    }
    return absl::OkStatus();
  }
};

}  // namespace eddy::raft
