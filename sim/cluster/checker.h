// Checker: the safety properties of a replicated-partition simulation, checked as facts arrive
// (DriverObserver callbacks from every replica, client acknowledgements, reads) and at the end.
//
// PROPERTIES (each violation names one):
//   acked-batch-lost-or-changed   an acknowledged batch is missing or different where it should be
//   one-value-per-offset          two replicas (or one, twice) applied different batches at an
//                                 offset: committed prefixes must be byte-identical
//   one-leader-per-term           two nodes were leader of one group in one term
//   commit-monotonic              a replica's durable commit offset went backwards (across
//                                 restarts too, unless it declared media damage)
//   term-monotonic                a replica's durable term went backwards, or its vote changed
//                                 within a term (Figure 2: currentTerm, votedFor are persistent)
//   durable-entries-kept          a replica whose disk suffered no data-damaging fault reopened
//                                 with less log than it had declared durable
//   apply-contiguous              a replica applied out of order or skipped an entry
//   read-uncommitted-or-corrupt   a read returned a batch that is not the committed one
//   retired-replica-active        a replica id retired by a wipe opened, persisted, led or
//                                 applied again (a wiped replica must rejoin under a NEW id:
//                                 raft/driver/driver_options.h, REPLICA IDENTITY)
//   snapshot-not-committed        a replica installed (or reopened at) a snapshot point that is
//                                 not the end of a batch some replica applied (committed)
//   aborted-never-committed       a proposal failed as definitely not committed (kAborted) and
//                                 yet a batch with its content was applied
//   kafka-offsets                 the Kafka offsets of a committed batch differ between replicas,
//                                 or are not dense (each batch's Kafka base is the previous
//                                 batch's Kafka end; Raft's own entries take none; from 0)
//   kafka-hwm-monotonic           a replica's Kafka high watermark went backwards (across
//                                 reopens too, unless its disk took data-damaging faults)
//   deleted-group-active          a replica of a deleted group opened, persisted, led, applied
//                                 or acknowledged after the delete (every host stops it; a host
//                                 that was down erases its files before its broker restarts)
// DELETED GROUPS: deleting a group (OnGroupDeleted) legitimately destroys its acknowledged
// data, so from then on its properties stop applying: the checker checks one last time that
// every batch acknowledged until the delete was the committed one (what CheckFinal checks at
// the end), then forgets the group. Every violation found before the delete still fails the
// run. Group ids are never reused (the harness, like a controller, hands out fresh ones).
// Facts are per replica id, so a wiped replica's new incarnation starts a fresh history (term,
// vote, commit, durable mark, apply position) while every group-wide property still binds it.
// Liveness is the harness's business (cluster.h).
//
// DETERMINISTIC: ordered maps only. Single-threaded, the world's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "raft/driver/driver_options.h"

namespace eddy::sim::cluster {

using raft::driver::GroupId;
using raft::NodeId;

struct Violation {
  std::string property;
  std::string detail;
};

class Checker {
 public:
  // `disk_damaged(node)`: has a data-damaging fault ever hit that node's disk?
  explicit Checker(std::function<bool(NodeId)> disk_damaged);

  void OnOpened(NodeId node, GroupId group, const raft::driver::OpenReport& report);
  void OnSoftState(NodeId node, GroupId group, const raft::SoftState& soft);
  void OnPersisted(NodeId node, GroupId group, const raft::HardState& hs, int64_t mark);
  // A legitimate conflict truncation: entries from `offset` on may be gone after a restart.
  void OnTruncated(NodeId node, GroupId group, int64_t offset);
  void OnApplied(NodeId node, GroupId group, const raft::EntryMeta& meta,
                 std::span<const uint8_t> batch);
  // A replica installed a snapshot ending at `last_offset`: it applies from last_offset + 1 on.
  void OnSnapshotInstalled(NodeId node, GroupId group, int64_t last_offset);
  // `node`'s state machine (a HashMachine) holds `digest` after applying up to `offset`, by
  // Apply or Restore: every replica's machine must hold the same state at the same offset
  // ("machine-states-agree").
  void OnMachineState(NodeId node, GroupId group, int64_t offset, uint64_t digest);
  // A client was told its batch (stored bytes digest `digest`) is committed at `meta`.
  void OnAcked(GroupId group, const raft::EntryMeta& meta, uint64_t digest);
  // A proposal failed as definitely not committed (kAborted): if a batch with the same content
  // is ever applied, the driver lied ("aborted-never-committed"). The harness never retries.
  void OnAborted(GroupId group, uint64_t content_digest);
  void OnKafkaApplied(NodeId node, GroupId group, int64_t raft_base_offset,
                      int64_t kafka_base_offset, int64_t kafka_next_offset,
                      int64_t kafka_high_watermark);
  // A digest of a batch's content: every byte but the base offset, length and term the log
  // stamps (those of a proposal and of its committed entry differ).
  static uint64_t ContentDigest(std::span<const uint8_t> batch);
  // A reader got `batch` from `node`.
  void OnRead(NodeId node, GroupId group, std::span<const uint8_t> batch);
  // The harness wiped `replica` of `group`: that id must never be heard of again.
  void OnReplicaRetired(NodeId replica, GroupId group);
  // The harness deleted `group` (see DELETED GROUPS). REQUIRES: not deleted before.
  void OnGroupDeleted(GroupId group);
  bool deleted(GroupId group) const { return deleted_.contains(group); }
  // End of run: every acknowledged batch is in the committed map with its digest.
  void CheckFinal();

  bool failed() const { return violation_.has_value(); }
  const std::optional<Violation>& violation() const { return violation_; }
  uint64_t acked_count() const { return acked_count_; }
  // Largest acknowledged last offset of `group`, or -1.
  int64_t max_acked_offset(GroupId group) const;
  uint64_t applied_count() const { return applied_count_; }
  // Records a violation found by the harness (liveness); only the first one is kept.
  void Fail(std::string property, std::string detail);

 private:
  struct Committed {
    int64_t last_offset;
    uint64_t digest;
    uint64_t content_digest = 0;  // ContentDigest (committed_ only)
  };
  struct Durable {
    uint64_t term = 0;
    uint64_t vote = 0;
    int64_t commit = -1;
    int64_t mark = -1;
    bool seen = false;
  };
  using Key = std::pair<NodeId, GroupId>;
  struct KafkaRange {
    int64_t base;
    int64_t next;
  };
  std::map<GroupId, std::map<int64_t, KafkaRange>> kafka_;  // by Raft base offset
  std::map<Key, int64_t> kafka_hwm_;  // last reported per replica id
  void CheckKafkaHighWatermark(NodeId node, GroupId group, int64_t hwm);
  // Fails retired-replica-active if (node, group) was retired, deleted-group-active if the
  // group was deleted; `what` names the fact. Returns false for a deleted group (the caller
  // then ignores the fact: its properties no longer apply).
  bool CheckActive(NodeId node, GroupId group, const char* what);
  // Checks every acknowledged batch of `group` against the committed map; false on a failure.
  bool CheckAcked(GroupId group);
  // Fails unless `last_offset` (>= 0) ends a committed batch of `group`.
  void CheckSnapshotPoint(NodeId node, GroupId group, int64_t last_offset);

  std::function<bool(NodeId)> disk_damaged_;
  std::optional<Violation> violation_;
  std::map<GroupId, std::map<int64_t, Committed>> committed_;  // by base offset
  std::map<GroupId, std::map<int64_t, Committed>> acked_;
  std::map<GroupId, std::set<uint64_t>> aborted_;  // content digests of kAborted proposals
  std::map<std::pair<GroupId, uint64_t>, NodeId> leaders_;  // (group, term) -> leader
  std::map<Key, Durable> durable_;
  std::map<Key, int64_t> applied_;  // last applied offset per replica incarnation
  std::set<Key> retired_;
  std::set<GroupId> deleted_;
  std::map<GroupId, std::map<int64_t, uint64_t>> machine_states_;  // by applied offset
  uint64_t acked_count_ = 0;
  uint64_t applied_count_ = 0;
};

}  // namespace eddy::sim::cluster
