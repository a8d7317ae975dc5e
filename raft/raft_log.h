// RaftLog: the core's view of its log = the driver's LogView (what has been appended) overlaid
// with the entries and snapshot the core has accepted but the driver has not yet confirmed
// through RawNode::Advance (the "unstable" part, as in etcd-io/raft).
//
// Overlay rule: offsets at or after the first unstable entry's base are answered from the
// unstable entries (the driver's log may still hold stale entries there, which the next Ready
// tells it to truncate); a pending snapshot hides the whole stable log.
//
// Owned by one RawNode; holds a non-owning pointer to the LogView, which must outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raft/log_view.h"
#include "raft/raft.pb.h"
#include "raft/types.h"

namespace eddy::raft {

class RaftLog {
 public:
  explicit RaftLog(const LogView* stable);

  // The (term, last offset) before the first entry, with its membership.
  SnapshotMeta SnapshotPoint() const;
  int64_t SnapshotOffset() const;
  int64_t FirstOffset() const { return SnapshotOffset() + 1; }
  int64_t LastOffset() const;
  Term LastTerm() const;

  // The entry containing `offset`, or nullopt outside [FirstOffset(), LastOffset()].
  std::optional<EntryMeta> EntryAt(int64_t offset) const;
  // Term of the entry containing `offset`; the snapshot term at the snapshot offset; nullopt
  // below the snapshot point (compacted) or beyond the last offset.
  std::optional<Term> TermAt(int64_t offset) const;
  // True iff an entry (or the snapshot point) ends exactly at `offset` with term `term`: the
  // Log Matching check of AppendEntries (§5.3) in offset terms.
  bool MatchesEntryEnd(int64_t offset, Term term) const;
  // The largest entry end <= offset. REQUIRES: SnapshotOffset() <= offset.
  int64_t EntryEndAtOrBefore(int64_t offset) const;
  // The last offset the driver has confirmed durable (Advance), or kNoOffset-1 semantics: -2
  // when a snapshot is pending (nothing of this log can be counted yet).
  int64_t PersistedLastOffset() const;

  // Appends one entry at LastOffset() + 1.
  void Append(const EntryMeta& meta, std::string data);
  // Drops every entry at or after `base_offset` (an entry boundary, > snapshot point) so that
  // the next Append starts there. The driver learns it from the next Ready's first entry.
  void TruncateFrom(int64_t base_offset);
  // Replaces the whole log with a snapshot point (follower install).
  void InstallSnapshot(const SnapshotMeta& meta);

  // --- Ready plumbing ---
  bool HasEntriesToHandOut() const;
  bool HasSnapshotToHandOut() const { return pending_snapshot_ && !snapshot_handed_out_; }
  // Moves the not-yet-handed-out entries (with their payloads) into `out`.
  void HandOutEntries(std::vector<Entry>* out);
  std::optional<SnapshotMeta> HandOutSnapshot();
  // The driver has made the handed-out entries with these (last offset, term) durable: drop
  // them from the overlay if they still stand.
  void StableTo(const std::vector<std::pair<int64_t, Term>>& handed_out);
  void SnapshotStable(const SnapshotMeta& meta);

  void CheckInvariants(Term current_term) const;
  size_t unstable_count() const { return unstable_.size(); }

 private:
  struct UnstableEntry {
    EntryMeta meta;
    std::string data;
  };
  // Index into unstable_ of the entry containing offset. REQUIRES: offset within unstable range.
  size_t UnstableIndex(int64_t offset) const;
  int64_t StableLastOffset() const;

  const LogView* stable_;
  std::optional<SnapshotMeta> pending_snapshot_;
  bool snapshot_handed_out_ = false;
  std::deque<UnstableEntry> unstable_;
  // When a truncation cut into the stable log: the stable entries after this offset are stale
  // and hidden until the driver has truncated them.
  std::optional<int64_t> stable_limit_;
  // Entries of unstable_ with last_offset <= this have been handed to a Ready.
  int64_t handed_out_last_offset_;
};

}  // namespace eddy::raft
