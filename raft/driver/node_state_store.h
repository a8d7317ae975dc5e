// NodeStateStore: the durable home of the Raft hard state (term, vote, commit offset and
// membership, durable mark, snapshot point, identity: PersistedState) of EVERY group replica of
// one node, in one pair of files on the node's disk.
//
// DURABILITY ROUNDS: Save() and Remove() requested while a round is collected go into it: one
// append of the changed groups' records to each of the two files, both synced at once (in
// parallel with the groups' own log fsyncs, which the groups issue themselves), then read back
// and compared. A round starts at the end of the loop event of an urgent request (a vote or a
// Ready waits for it), else round_interval after the previous one started, and only when the
// round in flight (rounds_in_flight_max) completed: group commit across the node's groups, so a
// node pays two parallel fsyncs per round for its hard state, however many groups changed.
// Rounds complete, and their callbacks run, in the order they started.
//
// FORMAT (FORMAT.md "State files"): files "state.a" and "state.b" under the store's directory,
// each a sequence of frames holding NodeStateRecord. Every round appends the same records (same
// sequence numbers) to both. When a file grows past compact_bytes (or took damage) it is
// compacted in a round of its own: the round's delta and a checkpoint of every group are written
// to "<file>.new", synced, verified and renamed over the file; the other file only gets the
// delta. So at every instant each file durably holds either all its old records or the new
// ones, and together they hold every acknowledged record. Loading (node_state_load.h) replays from the newest complete
// checkpoint; its CERTAINTY rules are there.
//
// READ BACK: a record that does not read back after its sync (misdirected, corrupted, a sector
// gone bad) is appended again, up to kWriteAttemptsMax times; the file is compacted soon.
//
// OPEN AND REPAIR: Start() reads both files (a file whose scan met damage is read again, up to
// kFileReadsMax times, keeping every valid record any read found), then compacts both, one
// after the other, so what groups act on is as durable as a completed round — also after a failed fsync in the same process (fsyncgate), when
// both files may read back records that were never made durable. An UNCERTAIN load is not
// repaired (that would hide it): every Attach reports it (the groups halt) and every Save fails.
//
// FAILURE: a failed round (a failed sync, no space, a write that never read back) leaves the
// files unknown: every pending callback fails, and the store reopens after a backoff
// (reopen_delay doubling to reopen_delay_max) by rewriting both files, one after the other, from
// what it holds in memory (every completed save, and the failed ones, which were never
// acknowledged: their groups reopen onto them once durable). Reading the files back instead
// could find less than was acknowledged: the write that failed to read back may have landed
// on older records of both. A store that failed while opening reads the files again. Attach
// calls wait for the reopen. The groups whose saves failed stop and
// reopen (GroupDriver FAILURES), so they continue from what is durable.
//
// LOOP AFFINITY: the runtime's loop. OWNERSHIP: the runtime outlives the store; destroying it
// drops pending callbacks uncalled (a crash).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/units.h"
#include "core/runtime/clock.h"
#include "core/runtime/disk.h"
#include "raft/driver/driver.pb.h"
#include "raft/driver/driver_options.h"
#include "raft/driver/node_state_load.h"
#include "raft/driver/state_file.h"

namespace eddy::raft::driver {

// One group's state as the store holds it.
struct LoadedState {
  std::optional<PersistedState> state;  // nullopt: nothing stored (a new replica)
  uint64_t damaged_records = 0;     // records of the node's files that failed their CRC
  uint64_t unreadable_sectors = 0;  // sectors of the node's files that failed to read
  // False if the newest state may have been lost (node_state_load.h): do not run Raft.
  bool newest_certain = true;
  std::string uncertain_reason;
};

struct NodeStateStoreOptions {
  // A file is compacted once it holds more than this many bytes and more than twice the
  // checkpoint of every group.
  uint64_t compact_bytes = 4 * kMiB;
  // Rounds in flight at once; saves requested meanwhile wait and share the next round (group
  // commit across the node's groups: under load one round covers many).
  size_t rounds_in_flight_max = 1;
  // A round that nothing urgent waits for starts at least this long after the previous one
  // started, so the saves of many groups' Readys (durable marks, commit offsets) share it.
  Duration round_interval = Duration::Milliseconds(2);
  Duration reopen_delay = Duration::Milliseconds(200);
  Duration reopen_delay_max = Duration::Seconds(5);
};

struct NodeStateStoreStats {
  uint64_t rounds = 0;          // completed rounds (compactions included)
  uint64_t records_written = 0;
  uint64_t bytes_written = 0;   // per file
  uint64_t compactions = 0;
  uint64_t rewrites = 0;        // appends repeated because they did not read back
  uint64_t failures = 0;
  uint64_t opens = 0;
};

class NodeStateStore {
 public:
  static constexpr int kWriteAttemptsMax = 4;
  // Reads of a file at open while its scan keeps meeting damage (the valid records of all kept).
  static constexpr int kFileReadsMax = 3;
  // A file larger than this is refused at open (it cannot be ours: compaction bounds them).
  static constexpr uint64_t kFileSizeBytesMax = 1 * kGiB;
  using Done = absl::AnyInvocable<void(absl::Status) &&>;
  using AttachDone = absl::AnyInvocable<void(absl::StatusOr<LoadedState>) &&>;

  NodeStateStore(runtime::Clock& clock, runtime::Disk& disk, std::string directory,
                 NodeStateStoreOptions options = {});
  ~NodeStateStore();
  NodeStateStore(const NodeStateStore&) = delete;
  NodeStateStore& operator=(const NodeStateStore&) = delete;

  // Opens the files (see OPEN AND REPAIR). Call once.
  void Start();

  // The group's state as durable once every round already requested has completed: `done` runs
  // then (after the store opened). Errors: none but the store's own open failing for good
  // (never: it retries), so the status is OK unless the store is destroyed (then never called).
  void Attach(GroupId group, AttachDone done);

  // Saves `state` as the group's state in the next round; `done` once durable (both files
  // synced and read back) or failed. A later Save of the same group supersedes it. An `urgent`
  // save (something waits for it: a vote, a Ready's messages) starts its round at the end of
  // this loop event; others may wait up to round_interval for company.
  void Save(GroupId group, PersistedState state, bool urgent, Done done);
  // Forgets the group in the next round, started at once (durable when `done` runs OK).
  void Remove(GroupId group, Done done);

  bool open() const { return phase_ == Phase::kOpen; }
  // The load found the newest state may be lost: read-only until an operator rebuilds the node.
  bool uncertain() const { return phase_ == Phase::kUncertain; }
  // Whether the store holds (or is saving) a state of `group`.
  bool holds(GroupId group) const { return groups_.contains(group); }
  const NodeStateStoreStats& stats() const { return stats_; }

 private:
  enum class Phase { kOpening, kOpen, kUncertain, kBroken };
  // Uncertain at open: fails the saves requested while the store opened.
  void RefuseCollected();
  struct File {
    std::string path;
    runtime::FileHandle handle = runtime::kNoFile;
    uint64_t size_bytes = 0;  // appended since its last compaction (an estimate)
    bool damaged = false;     // rewrite it whole at the next compaction
  };
  // The updates of the round being collected in this loop event.
  struct Collecting {
    std::map<GroupId, GroupStateUpdate> updates;
    std::vector<Done> dones;
    bool urgent = false;
  };
  struct Round {
    int files_left = 2;
    absl::Status status;
    std::vector<Done> dones;
    bool exclusive = false;  // a compaction: nothing else in flight
  };
  struct AttachWaiter {
    uint64_t after_round;  // served once rounds_completed_ reaches it
    GroupId group;
    AttachDone done;
  };

  void Open();
  void OnLoaded(uint64_t generation, std::array<NodeStateFileScan, 2> scans,
                std::array<std::vector<uint64_t>, 2> unreadable);
  void LoadFile(size_t index, uint64_t generation,
                absl::AnyInvocable<void(absl::StatusOr<std::pair<NodeStateFileScan, FileImage>>) &&>
                    done);
  void ReadAndScan(
      size_t index, uint64_t generation, int reads_left, NodeStateFileScan so_far,
      absl::AnyInvocable<void(absl::StatusOr<std::pair<NodeStateFileScan, FileImage>>) &&> done);
  // Compacts both files, one after the other (OPEN AND REPAIR), then opens for business.
  void Repair(uint64_t generation, size_t next_file);

  void Enqueue(GroupStateUpdate update, bool urgent, Done done);
  // Arranges for StartRound: at the end of this loop event if urgent or due, else at
  // next_round_at_.
  void ScheduleRound();
  // Starts the collected round, unless one is in flight (rounds_in_flight_max) or, with nothing
  // urgent, round_interval has not passed.
  void StartRound();
  // Which file a round should compact now, if any.
  std::optional<size_t> CompactionDue() const;
  std::vector<NodeStateRecord> DeltaRecords(std::map<GroupId, GroupStateUpdate> updates);
  // Makes the encoded delta `records` the held state of their groups (moving the states out).
  void AdoptUpdates(std::vector<NodeStateRecord>& records);
  std::vector<NodeStateRecord> CheckpointRecords();
  // Appends `bytes` to file `index`, syncs and reads back; if `replace`, they become the file's
  // whole contents instead (written beside it, then renamed over it: see WriteFile).
  void WriteFile(uint64_t generation, size_t index, bool replace,
                 std::shared_ptr<std::vector<uint8_t>> bytes, Done done);
  void AppendVerified(uint64_t generation, runtime::FileHandle handle, size_t index,
                      std::shared_ptr<std::vector<uint8_t>> bytes, int attempts_left,
                      std::shared_ptr<Done> done);
  // Runs the callbacks of rounds completed in order; serves attach waiters; maybe starts more.
  void CompleteRounds();
  void ServeAttaches();
  void Break(absl::Status status);
  LoadedState StateOf(GroupId group) const;
  bool Current(uint64_t generation) const { return generation == generation_ && *alive_; }

  runtime::Clock& clock_;
  runtime::Disk& disk_;
  const std::string directory_;
  const NodeStateStoreOptions options_;
  Phase phase_ = Phase::kOpening;
  uint64_t generation_ = 0;  // bumped by every Break: stale completions compare and return
  std::array<File, 2> files_;
  // Every group's newest state as requested (durable once the rounds in flight complete).
  std::map<GroupId, PersistedState> groups_;
  uint64_t sequence_ = 0;  // the last sequence used
  // The next Open rewrites the files from groups_ instead of reading them (see Break).
  bool rewrite_from_memory_ = false;
  NodeStateLoad load_facts_;  // damage counts and certainty of the last open
  uint64_t checkpoint_bytes_ = 0;  // size of the last checkpoint written
  size_t next_compaction_ = 0;     // alternate the files
  Collecting collecting_;
  bool round_posted_ = false;
  runtime::TimerId round_timer_ = runtime::kNoTimer;
  Instant next_round_at_;
  std::deque<std::shared_ptr<Round>> rounds_;  // in flight, in start order
  uint64_t rounds_started_ = 0;
  uint64_t rounds_completed_ = 0;
  std::vector<AttachWaiter> attach_waiters_;
  Duration next_reopen_delay_ = Duration::Zero();
  Instant last_break_at_;
  NodeStateStoreStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::raft::driver
