#include "raft/driver/node_state_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::raft::driver {
namespace {

// Records are cut well below the frame limit; one group's state is far smaller.
constexpr uint64_t kRecordPayloadTarget = 48 * 1024;

}  // namespace

NodeStateStore::NodeStateStore(runtime::Clock& clock, runtime::Disk& disk, std::string directory,
                               NodeStateStoreOptions options)
    : clock_(clock), disk_(disk), directory_(std::move(directory)), options_(options) {
  files_[0].path = runtime::JoinPath(directory_, "state.a");
  files_[1].path = runtime::JoinPath(directory_, "state.b");
}

NodeStateStore::~NodeStateStore() {
  *alive_ = false;
  if (round_timer_ != runtime::kNoTimer) clock_.Cancel(round_timer_);
}

void NodeStateStore::Start() { Open(); }

// --- Opening ----------------------------------------------------------------------------------

void NodeStateStore::Open() {
  phase_ = Phase::kOpening;
  ++stats_.opens;
  const uint64_t generation = generation_;
  runtime::Disk& disk = disk_;
  auto open_file = [this, generation, &disk](size_t index, absl::AnyInvocable<void()> next) {
    disk.Open(files_[index].path, runtime::OpenMode::kCreateIfMissing,
              [this, generation, index, next = std::move(next)](
                  absl::StatusOr<runtime::FileHandle> handle) mutable {
                if (!Current(generation)) return;
                if (!handle.ok()) return Break(handle.status());
                files_[index].handle = *handle;
                next();
              });
  };
  auto load = [this, generation]() {
    if (rewrite_from_memory_) {
      // Reopening after a failed round: what the store holds in memory is every completed save
      // and the failed ones (never acknowledged; their groups stopped and reopen onto them, now
      // durable), and it is more trustworthy than the files — a write that did not read back
      // may have landed on older records of both. Rewrite both files from it.
      rewrite_from_memory_ = false;
      return Repair(generation, 0);
    }
    LoadFile(0, generation, [this, generation](auto a) {
      if (!a.ok()) return Break(a.status());
      LoadFile(1, generation, [this, generation, a = *std::move(a)](auto b) mutable {
        if (!b.ok()) return Break(b.status());
        OnLoaded(generation, {std::move(a.first), std::move(b->first)},
                 {std::move(a.second.unreadable_sectors), std::move(b->second.unreadable_sectors)});
      });
    });
  };
  disk.CreateDirectories(directory_, [this, generation, &disk, open_file,
                                      load](absl::Status s) mutable {
    if (!Current(generation)) return;
    if (!s.ok()) return Break(s);
    open_file(0, [this, generation, &disk, open_file, load]() mutable {
      open_file(1, [this, generation, &disk, load]() mutable {
        disk.SyncDirectory(directory_, [this, generation, load](absl::Status s) mutable {
          if (!Current(generation)) return;
          if (!s.ok()) return Break(s);
          load();
        });
      });
    });
  });
}

void NodeStateStore::LoadFile(
    size_t index, uint64_t generation,
    absl::AnyInvocable<void(absl::StatusOr<std::pair<NodeStateFileScan, FileImage>>) &&> done) {
  ReadAndScan(index, generation, kFileReadsMax, NodeStateFileScan{}, std::move(done));
}

void NodeStateStore::ReadAndScan(
    size_t index, uint64_t generation, int reads_left, NodeStateFileScan so_far,
    absl::AnyInvocable<void(absl::StatusOr<std::pair<NodeStateFileScan, FileImage>>) &&> done) {
  // A scan that met damage is repeated with a fresh read (a bit flipped on the way from the
  // disk is not on the disk), and every record any read found valid (CRC-checked) is kept.
  ReadFileImage(disk_, files_[index].handle, kFileSizeBytesMax, alive_,
                [this, index, generation, reads_left, so_far = std::move(so_far),
                 done = std::move(done)](absl::StatusOr<FileImage> image) mutable {
                  if (!Current(generation)) return;
                  if (!image.ok()) return std::move(done)(image.status());
                  NodeStateFileScan scan = ScanNodeStateFile(image->bytes);
                  for (auto& [sequence, record] : so_far.deltas) {
                    scan.deltas.emplace(sequence, std::move(record));
                  }
                  for (auto& [key, record] : so_far.checkpoint_parts) {
                    scan.checkpoint_parts.emplace(key, std::move(record));
                  }
                  scan.newest_end_bytes = std::max(scan.newest_end_bytes, so_far.newest_end_bytes);
                  const bool damaged = scan.damaged_records > 0 || !image->unreadable_sectors.empty();
                  if (!damaged || reads_left <= 1) {
                    return std::move(done)(std::make_pair(std::move(scan), *std::move(image)));
                  }
                  ReadAndScan(index, generation, reads_left - 1, std::move(scan), std::move(done));
                });
}

void NodeStateStore::OnLoaded(uint64_t generation, std::array<NodeStateFileScan, 2> scans,
                              std::array<std::vector<uint64_t>, 2> unreadable) {
  load_facts_ = CombineNodeState(scans, unreadable);
  sequence_ = std::max(sequence_, load_facts_.sequence);
  if (!load_facts_.certain) {
    // Not repaired: a rewrite would make the loss look certain. Every group halts, and what
    // was requested while the store opened is refused (it would wait for a round forever).
    phase_ = Phase::kUncertain;
    RefuseCollected();
    return ServeAttaches();
  }
  groups_ = std::move(load_facts_.groups);
  load_facts_.groups.clear();
  for (size_t i = 0; i < 2; ++i) {
    files_[i].damaged = scans[i].damaged_records > 0 || !unreadable[i].empty();
  }
  Repair(generation, 0);
}

void NodeStateStore::Repair(uint64_t generation, size_t next_file) {
  if (next_file == files_.size()) {
    rewrite_from_memory_ = false;
    phase_ = Phase::kOpen;
    ServeAttaches();
    ScheduleRound();
    return;
  }
  // One file at a time: while one is rewritten, the other still holds every record.
  auto bytes = std::make_shared<std::vector<uint8_t>>(EncodeNodeStateRecords(CheckpointRecords()));
  checkpoint_bytes_ = bytes->size();
  WriteFile(generation, next_file, /*replace=*/true, bytes,
            [this, generation, next_file](absl::Status s) {
              if (!Current(generation)) return;
              if (!s.ok()) return Break(s);
              ++stats_.compactions;
              Repair(generation, next_file + 1);
            });
}

// --- Attach, save, remove ---------------------------------------------------------------------

LoadedState NodeStateStore::StateOf(GroupId group) const {
  LoadedState loaded;
  if (auto it = groups_.find(group); it != groups_.end()) loaded.state = it->second;
  loaded.damaged_records = load_facts_.damaged_records;
  loaded.unreadable_sectors = load_facts_.unreadable_sectors;
  loaded.newest_certain = phase_ != Phase::kUncertain;
  loaded.uncertain_reason = load_facts_.uncertain_reason;
  return loaded;
}

void NodeStateStore::Attach(GroupId group, AttachDone done) {
  const uint64_t after = rounds_started_ + (collecting_.dones.empty() ? 0 : 1);
  attach_waiters_.push_back(AttachWaiter{after, group, std::move(done)});
  clock_.Post([this, alive = alive_] {
    if (*alive) ServeAttaches();
  });
}

void NodeStateStore::ServeAttaches() {
  if (phase_ != Phase::kOpen && phase_ != Phase::kUncertain) return;
  std::vector<AttachWaiter> ready;
  for (auto it = attach_waiters_.begin(); it != attach_waiters_.end();) {
    if (it->after_round <= rounds_completed_) {
      ready.push_back(std::move(*it));
      it = attach_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (AttachWaiter& waiter : ready) std::move(waiter.done)(StateOf(waiter.group));
}

void NodeStateStore::RefuseCollected() {
  if (collecting_.dones.empty()) return;
  ++rounds_started_;  // counted as a round, refused: attaches waiting for it are served
  ++rounds_completed_;
  const absl::Status refused = absl::FailedPreconditionError(absl::StrCat(
      "node state store uncertain (", load_facts_.uncertain_reason, "): read only"));
  for (Done& done : collecting_.dones) {
    clock_.Post([done = std::move(done), refused]() mutable { std::move(done)(refused); });
  }
  collecting_ = Collecting{};
}

void NodeStateStore::Save(GroupId group, PersistedState state, bool urgent, Done done) {
  GroupStateUpdate update;
  update.set_group_id(group);
  *update.mutable_state() = std::move(state);
  Enqueue(std::move(update), urgent, std::move(done));
}

void NodeStateStore::Remove(GroupId group, Done done) {
  GroupStateUpdate update;
  update.set_group_id(group);
  update.set_removed(true);
  Enqueue(std::move(update), /*urgent=*/true, std::move(done));
}

void NodeStateStore::Enqueue(GroupStateUpdate update, bool urgent, Done done) {
  if (phase_ == Phase::kUncertain || phase_ == Phase::kBroken) {
    absl::Status refused =
        phase_ == Phase::kUncertain
            ? absl::FailedPreconditionError(absl::StrCat(
                  "node state store uncertain (", load_facts_.uncertain_reason, "): read only"))
            : absl::UnavailableError("node state store failed; reopening");
    return clock_.Post([done = std::move(done), refused]() mutable {
      std::move(done)(refused);
    });
  }
  const GroupId group = update.group_id();
  collecting_.updates[group] = std::move(update);
  collecting_.dones.push_back(std::move(done));
  collecting_.urgent = collecting_.urgent || urgent;
  ScheduleRound();
}

void NodeStateStore::ScheduleRound() {
  if (collecting_.dones.empty() || round_posted_) return;
  const Instant now = clock_.Now();
  if (collecting_.urgent || now >= next_round_at_) {
    // At the end of this loop event: everything requested in it shares the round.
    if (round_timer_ != runtime::kNoTimer) clock_.Cancel(round_timer_);
    round_timer_ = runtime::kNoTimer;
    round_posted_ = true;
    clock_.Post([this, alive = alive_] {
      if (!*alive) return;
      round_posted_ = false;
      StartRound();
    });
    return;
  }
  if (round_timer_ != runtime::kNoTimer) return;
  round_timer_ = clock_.ScheduleAfter(next_round_at_ - now, [this, alive = alive_] {
    if (!*alive) return;
    round_timer_ = runtime::kNoTimer;
    StartRound();
  });
}

// --- Rounds -----------------------------------------------------------------------------------

std::optional<size_t> NodeStateStore::CompactionDue() const {
  for (size_t i : {next_compaction_, 1 - next_compaction_}) {
    const File& file = files_[i];
    if (file.damaged ||
        (file.size_bytes > options_.compact_bytes && file.size_bytes > 2 * checkpoint_bytes_)) {
      return i;
    }
  }
  return std::nullopt;
}

void NodeStateStore::StartRound() {
  if (phase_ != Phase::kOpen || collecting_.dones.empty()) return;
  if (!collecting_.urgent && clock_.Now() < next_round_at_) return ScheduleRound();
  // Restarted when a round in flight completes (CompleteRounds).
  if (rounds_.size() >= options_.rounds_in_flight_max) return;
  if (!rounds_.empty() && rounds_.back()->exclusive) return;
  const std::optional<size_t> compact = CompactionDue();
  if (compact.has_value() && !rounds_.empty()) return;  // a compaction waits for the others
  Collecting collected = std::move(collecting_);
  collecting_ = Collecting{};
  next_round_at_ = clock_.Now() + options_.round_interval;
  std::vector<NodeStateRecord> records = DeltaRecords(std::move(collected.updates));
  auto delta = std::make_shared<std::vector<uint8_t>>(EncodeNodeStateRecords(records));
  AdoptUpdates(records);
  auto round = std::make_shared<Round>();
  round->dones = std::move(collected.dones);
  round->exclusive = compact.has_value();
  rounds_.push_back(round);
  ++rounds_started_;
  const uint64_t generation = generation_;
  auto file_done = [this, generation, round](absl::Status s) {
    if (!Current(generation)) return;
    if (round->status.ok() && !s.ok()) round->status = s;
    --round->files_left;
    CompleteRounds();
  };
  for (size_t i = 0; i < files_.size(); ++i) {
    if (compact == i) {
      // The delta first, then the checkpoint that includes it: a crash that tears the
      // checkpoint leaves the delta in both files, so no sequence goes missing.
      auto bytes = std::make_shared<std::vector<uint8_t>>(*delta);
      const std::vector<uint8_t> checkpoint = EncodeNodeStateRecords(CheckpointRecords());
      checkpoint_bytes_ = checkpoint.size();
      bytes->insert(bytes->end(), checkpoint.begin(), checkpoint.end());
      next_compaction_ = 1 - i;
      ++stats_.compactions;
      WriteFile(generation, i, /*replace=*/true, bytes, file_done);
    } else {
      WriteFile(generation, i, /*replace=*/false, delta, file_done);
    }
  }
}

std::vector<NodeStateRecord> NodeStateStore::DeltaRecords(
    std::map<GroupId, GroupStateUpdate> updates) {
  std::vector<NodeStateRecord> records;
  uint64_t bytes = kRecordPayloadTarget;  // start a record with the first update
  for (auto& [group, update] : updates) {
    const uint64_t size = update.ByteSizeLong() + 8;
    if (bytes + size > kRecordPayloadTarget) {
      records.emplace_back().set_sequence(++sequence_);
      bytes = 0;
    }
    bytes += size;
    *records.back().add_updates() = std::move(update);
  }
  stats_.records_written += records.size();
  return records;
}

void NodeStateStore::AdoptUpdates(std::vector<NodeStateRecord>& records) {
  // Moved, not copied, once encoded: a copy of every saved state per round was a few percent
  // of the simulator's instructions.
  for (NodeStateRecord& record : records) {
    for (GroupStateUpdate& update : *record.mutable_updates()) {
      if (update.removed()) {
        groups_.erase(update.group_id());
      } else {
        EDDY_CHECK(update.has_state());
        groups_[update.group_id()] = std::move(*update.mutable_state());
      }
    }
  }
}

std::vector<NodeStateRecord> NodeStateStore::CheckpointRecords() {
  // As of the last delta: two checkpoints as of the same delta hold the same state.
  std::vector<NodeStateRecord> records;
  records.emplace_back();
  uint64_t bytes = 0;
  for (const auto& [group, state] : groups_) {
    GroupStateUpdate update;
    update.set_group_id(group);
    *update.mutable_state() = state;
    const uint64_t size = update.ByteSizeLong() + 8;
    if (bytes + size > kRecordPayloadTarget) {
      records.emplace_back();
      bytes = 0;
    }
    bytes += size;
    *records.back().add_updates() = std::move(update);
  }
  for (uint32_t part = 0; part < records.size(); ++part) {
    records[part].set_sequence(sequence_);
    records[part].set_checkpoint_part(part);
    records[part].set_checkpoint_records(static_cast<uint32_t>(records.size()));
  }
  stats_.records_written += records.size();
  return records;
}

void NodeStateStore::WriteFile(uint64_t generation, size_t index, bool replace,
                               std::shared_ptr<std::vector<uint8_t>> bytes, Done done) {
  auto shared_done = std::make_shared<Done>(std::move(done));
  if (!replace) {
    files_[index].size_bytes += bytes->size();
    return AppendVerified(generation, files_[index].handle, index, std::move(bytes),
                          kWriteAttemptsMax, shared_done);
  }
  // Compaction writes the new contents beside the file, syncs and verifies them, and only then
  // renames them over it: truncated in place, the file would lose its records before the new
  // ones are durable, and a failure in between (a full disk) would leave only the other copy —
  // damaged, maybe, which is why this file was the one to keep.
  const std::string fresh = files_[index].path + ".new";
  disk_.Open(fresh, runtime::OpenMode::kCreateIfMissing, [this, generation, index, fresh, bytes,
                                                          shared_done](
                                                             absl::StatusOr<runtime::FileHandle>
                                                                 handle) {
    if (!Current(generation)) return;
    if (!handle.ok()) return std::move(*shared_done)(handle.status());
    const runtime::FileHandle h = *handle;
    auto renamed = std::make_shared<Done>([this, generation, index, fresh, h, bytes,
                                           shared_done](absl::Status s) mutable {
      if (!Current(generation)) return;
      if (!s.ok()) return std::move(*shared_done)(s);
      disk_.Rename(fresh, files_[index].path, [](absl::Status) {});
      // Namespace operations complete in order: the sync reports after the rename.
      disk_.SyncDirectory(directory_, [this, generation, index, h, bytes,
                                       shared_done](absl::Status s) {
        if (!Current(generation)) return;
        if (!s.ok()) return std::move(*shared_done)(s);
        disk_.Close(files_[index].handle, [](absl::Status) {});
        files_[index].handle = h;
        files_[index].size_bytes = bytes->size();
        files_[index].damaged = false;
        std::move(*shared_done)(absl::OkStatus());
      });
    });
    // A leftover of an earlier attempt is cut first.
    disk_.Truncate(h, 0, [this, generation, index, h, bytes, renamed](absl::Status s) {
      if (!Current(generation)) return;
      if (!s.ok()) return std::move(*renamed)(s);
      AppendVerified(generation, h, index, bytes, kWriteAttemptsMax, renamed);
    });
  });
}

void NodeStateStore::AppendVerified(uint64_t generation, runtime::FileHandle handle,
                                    size_t index, std::shared_ptr<std::vector<uint8_t>> bytes,
                                    int attempts_left, std::shared_ptr<Done> done) {
  // Append, sync, and read the bytes back where the append put them (the same file's operations
  // complete in order, so the read completes after the sync). A write that does not read back
  // is appended again: the newest records must exist somewhere readable.
  struct Attempt {
    absl::Status error;
    bool appended = false;
  };
  auto attempt = std::make_shared<Attempt>();
  runtime::Disk& disk = disk_;
  stats_.bytes_written += bytes->size();
  disk.Append(handle, *bytes, [this, generation, &disk, handle, index, bytes, attempts_left,
                               done, attempt](absl::StatusOr<uint64_t> at) {
    if (!Current(generation)) return;
    if (!at.ok()) {
      attempt->error = at.status();
      return;  // the sync's completion reports it
    }
    attempt->appended = true;
    disk.ReadAt(handle, *at, bytes->size(),
                [this, generation, handle, index, bytes, attempts_left, done,
                 attempt](absl::StatusOr<std::vector<uint8_t>> read) {
                  if (!Current(generation)) return;
                  if (!attempt->error.ok()) return std::move(*done)(attempt->error);
                  if (read.ok() && *read == *bytes) return std::move(*done)(absl::OkStatus());
                  // Garbage or a bad sector now sits in this file: rewrite it soon.
                  files_[index].damaged = true;
                  ++stats_.rewrites;
                  if (attempts_left <= 1) {
                    return std::move(*done)(
                        absl::DataLossError("node state record did not read back"));
                  }
                  AppendVerified(generation, handle, index, bytes, attempts_left - 1, done);
                });
  });
  disk.Sync(handle, [this, generation, done, attempt](absl::Status s) {
    if (!Current(generation)) return;
    if (attempt->error.ok() && !s.ok()) attempt->error = s;
    if (!attempt->appended) std::move(*done)(attempt->error);  // no read-back was issued
  });
}

void NodeStateStore::CompleteRounds() {
  while (!rounds_.empty() && rounds_.front()->files_left == 0) {
    std::shared_ptr<Round> round = std::move(rounds_.front());
    rounds_.pop_front();
    if (!round->status.ok()) {
      rounds_.push_front(std::move(round));  // failed with the rest by Break
      return Break(rounds_.front()->status);
    }
    ++rounds_completed_;
    ++stats_.rounds;
    for (Done& done : round->dones) std::move(done)(absl::OkStatus());
  }
  ServeAttaches();
  if (!collecting_.dones.empty()) StartRound();
}

// --- Failure ----------------------------------------------------------------------------------

void NodeStateStore::Break(absl::Status status) {
  EDDY_CHECK(!status.ok());
  ++stats_.failures;
  ++generation_;
  const bool was_open = phase_ == Phase::kOpen;
  phase_ = Phase::kBroken;
  const absl::Status failed =
      absl::UnavailableError(absl::StrCat("node state store failed: ", status.message()));
  std::vector<Done> dones;
  for (std::shared_ptr<Round>& round : rounds_) {
    for (Done& done : round->dones) dones.push_back(std::move(done));
  }
  if (!collecting_.dones.empty()) ++rounds_started_;  // counted as a round, failed
  for (Done& done : collecting_.dones) dones.push_back(std::move(done));
  rounds_.clear();
  collecting_ = Collecting{};
  if (round_timer_ != runtime::kNoTimer) clock_.Cancel(round_timer_);
  round_timer_ = runtime::kNoTimer;
  rounds_completed_ = rounds_started_;
  // A store that was open rewrites its files from memory when it reopens (Open); one that failed
  // while opening reads them again.
  rewrite_from_memory_ = was_open || rewrite_from_memory_;
  if (!rewrite_from_memory_) groups_.clear();
  for (File& file : files_) {
    if (file.handle != runtime::kNoFile) disk_.Close(file.handle, [](absl::Status) {});
    file.handle = runtime::kNoFile;
  }
  // Exponential backoff while failures follow each other, as GroupDriver's reopen.
  const Instant now = clock_.Now();
  const bool soon_again = next_reopen_delay_ != Duration::Zero() &&
                          now - last_break_at_ <= next_reopen_delay_ + options_.reopen_delay_max;
  next_reopen_delay_ = soon_again ? std::min(next_reopen_delay_ * 2, options_.reopen_delay_max)
                                  : options_.reopen_delay;
  last_break_at_ = now;
  clock_.ScheduleAfter(next_reopen_delay_, [this, alive = alive_] {
    if (*alive) Open();
  });
  for (Done& done : dones) std::move(done)(failed);
}

}  // namespace eddy::raft::driver
