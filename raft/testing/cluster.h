// Cluster: an in-memory Raft group for tests — RawNodes, their drivers (MemoryLog storage with
// a durable copy that survives crashes), a message network that can hold, drop, duplicate,
// reorder and partition, and a safety checker run after every step.
//
// The driver here follows ready.h to the letter: snapshot, entries, hard state are written to
// the visible state; a sync copies the visible state into the durable state; messages go out
// only after that. A crash throws the visible state away and keeps the durable one, so a write
// that was not synced is lost, exactly like a file without fsync. Ready processing can be split
// in two halves (Write, then SyncAndSend) so a crash can fall between them.
//
// Deterministic: no clocks, no hash-map iteration; randomness from the seed in Options.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/base/random.h"
#include "raft/config.h"
#include "raft/memory_log.h"
#include "raft/raw_node.h"

namespace eddy::raft::testing {

class Cluster {
 public:
  struct Options {
    Config config;            // template: id is filled per node
    uint64_t seed = 1;
    // Size of the state that goes with a compacted prefix (0: a partition log; > 0: exercise
    // chunked InstallSnapshot).
    uint64_t snapshot_state_size_bytes = 0;
  };

  struct Node {
    NodeId id = kNoNode;
    bool up = false;
    std::unique_ptr<MemoryLog> log;       // visible (written, maybe not synced)
    HardState hard_state;                 // visible
    std::unique_ptr<MemoryLog> durable_log;
    HardState durable_hard_state;
    std::unique_ptr<RawNode> raft;
    std::optional<Ready> written;         // written but not yet synced and sent
    std::string snapshot_bytes;           // chunks received (kept iff Step returned OK)
    int64_t checked_commit = kNoOffset;   // committed prefix already checked, this incarnation
    int incarnation = 0;
    uint64_t step_errors = 0;
    std::vector<ReadState> read_states;   // released reads, for the harness to inspect
  };

  explicit Cluster(Options options);

  // A node whose log starts empty with `voters` as its bootstrap membership (empty: a joiner
  // that will be added as a learner).
  void AddNode(NodeId id, const std::vector<NodeId>& voters);
  Node& node(NodeId id);
  const std::map<NodeId, Node>& nodes() const { return nodes_; }
  RawNode& raft(NodeId id) { return *node(id).raft; }

  // --- driver ---
  // Takes a Ready (if any) and writes it to the visible state. Returns whether one was taken.
  bool Write(NodeId id);
  // Syncs (if the written Ready asks for it), sends its messages, applies, Advances.
  void SyncAndSend(NodeId id);
  // Write + SyncAndSend. Returns whether a Ready was processed.
  bool ProcessReady(NodeId id);
  void Tick(NodeId id);
  void Crash(NodeId id);
  void Restart(NodeId id);
  // Retention: drop node `id`'s log prefix up to the entry ending at or before `offset`
  // (clamped to its applied offset).
  void Compact(NodeId id, int64_t offset);

  // --- network ---
  const std::vector<Message>& in_flight() const { return in_flight_; }
  // Delivers in_flight()[index] (removing it). Returns the Step status (OK if dropped by a cut).
  absl::Status Deliver(size_t index);
  void Drop(size_t index);
  void Duplicate(size_t index);
  // Cuts every link between `group` and the rest.
  void Isolate(const std::set<NodeId>& group);
  void Cut(NodeId a, NodeId b);
  void Heal();
  bool Connected(NodeId a, NodeId b) const;

  // Processes Readies and delivers messages until nothing moves (or `rounds_max` rounds).
  // Calls `on_message` for each delivered message, if set.
  void Stabilize(int rounds_max = 1000,
                 const std::function<void(const Message&, const absl::Status&)>& on_message = {});

  // --- checks ---
  // Safety after a step: one leader per term; committed entries never change (all nodes agree
  // on every committed offset); applied entries agree; no node votes twice in a term. Returns
  // the first violation.
  absl::Status CheckSafety();
  const std::vector<std::string>& violations() const { return violations_; }

  // The leader among up nodes with the highest term, or kNoNode.
  NodeId Leader() const;

  // Human-readable descriptions for transcripts and failure messages.
  static std::string Describe(const Message& m);
  std::string DescribeNode(NodeId id) const;
  std::string DescribeLog(NodeId id) const;

  uint64_t delivered_messages() const { return delivered_messages_; }

 private:
  bool AttachPayload(Message* m, const Node& from) const;
  void Apply(Node& n, const CommittedRange& range);
  void Violation(std::string what);

  Options options_;
  Random random_;
  std::map<NodeId, Node> nodes_;
  std::vector<Message> in_flight_;
  std::set<std::pair<NodeId, NodeId>> cut_;  // (min, max)

  // Checker state.
  std::map<Term, NodeId> leaders_;                     // term -> the leader seen in it
  std::map<int64_t, EntryMeta> committed_;             // by last offset: the committed entries
  std::map<int64_t, Term> committed_in_term_;          // term of the node that first committed it
  std::map<std::pair<NodeId, Term>, NodeId> granted_;  // (voter, term) -> candidate
  std::vector<std::string> violations_;
  uint64_t delivered_messages_ = 0;
};

}  // namespace eddy::raft::testing
