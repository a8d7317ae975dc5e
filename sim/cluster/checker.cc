#include "sim/cluster/checker.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "raft/driver/entry_batch.h"

namespace eddy::sim::cluster {

Checker::Checker(std::function<bool(NodeId)> disk_damaged)
    : disk_damaged_(std::move(disk_damaged)) {}

void Checker::Fail(std::string property, std::string detail) {
  if (violation_.has_value()) return;  // the first one is the one to replay
  violation_ = Violation{std::move(property), std::move(detail)};
}

void Checker::OnReplicaRetired(NodeId replica, GroupId group) { retired_.insert({replica, group}); }

bool Checker::CheckActive(NodeId node, GroupId group, const char* what) {
  if (deleted_.contains(group)) {
    Fail("deleted-group-active", absl::StrCat("replica ", node, " of group ", group,
                                              " still ran after the group was deleted: it ", what));
    return false;
  }
  if (!retired_.contains({node, group})) return true;
  Fail("retired-replica-active", absl::StrCat("replica ", node, " of group ", group,
                                              " was wiped and retired, yet it ", what));
  return true;
}

void Checker::OnGroupDeleted(GroupId group) {
  EDDY_CHECK(!deleted_.contains(group));
  // Until the delete the group's acknowledged data had to hold; after it, it is gone for good.
  CheckAcked(group);
  deleted_.insert(group);
  committed_.erase(group);
  acked_.erase(group);
  aborted_.erase(group);
  kafka_.erase(group);
  std::erase_if(leaders_, [group](const auto& e) { return e.first.first == group; });
  const auto of_group = [group](const auto& e) { return e.first.second == group; };
  std::erase_if(durable_, of_group);
  std::erase_if(applied_, of_group);
  std::erase_if(kafka_hwm_, of_group);
}

void Checker::OnOpened(NodeId node, GroupId group, const raft::driver::OpenReport& report) {
  if (!CheckActive(node, group, "opened")) return;
  const Key key{node, group};
  // The replica applies from after its snapshot point (or its state machine's durable offset
  // beyond it) on: nothing before it, this incarnation.
  applied_[key] = report.apply_resume_offset;
  CheckSnapshotPoint(node, group, report.snapshot_last_offset);
  Durable& d = durable_[key];
  // After the term checks: a replica id reused on an empty directory shows there first.
  absl::Cleanup check_hwm = [&] {
    if (!report.data_loss && report.damaged_state_records == 0) {
      CheckKafkaHighWatermark(node, group, report.kafka_high_watermark);
    }
  };
  if (!d.seen) return;
  const std::string who = absl::StrCat("node ", node, " group ", group);
  if (report.hard_state.term() < d.term) {
    Fail("term-monotonic", absl::StrCat(who, " reopened at term ", report.hard_state.term(),
                                        " after persisting term ", d.term));
  } else if (report.hard_state.term() == d.term && d.vote != raft::kNoNode &&
             report.hard_state.vote() != d.vote) {
    Fail("term-monotonic", absl::StrCat(who, " reopened in term ", d.term, " with vote ",
                                        report.hard_state.vote(), " after voting ", d.vote));
  }
  // The commit offset is volatile state in the Raft paper (only term and vote must persist);
  // a replica whose hard-state files took damage may fall back to an older record's commit.
  if (!report.data_loss && report.damaged_state_records == 0 &&
      report.hard_state.commit_offset() < d.commit) {
    Fail("commit-monotonic", absl::StrCat(who, " reopened with commit offset ",
                                          report.hard_state.commit_offset(),
                                          " after persisting ", d.commit));
  }
  if (report.log_last_offset < d.mark && !disk_damaged_(node)) {
    Fail("durable-entries-kept",
         absl::StrCat(who, " reopened with log ending at ", report.log_last_offset,
                      " but had declared offsets up to ", d.mark,
                      " durable, and its disk took no data-damaging fault"));
  }
  if (report.data_loss && !disk_damaged_(node)) {
    // A fence only a log holding the lost entries can lift; on an undamaged disk it is false
    // (e.g. a legitimate conflict truncation that outran the lowering of the durable mark) and
    // can leave a group without any electable replica.
    Fail("fence-only-after-media-damage",
         absl::StrCat(who, " fenced itself on open (log ends at ", report.log_last_offset,
                      ", durable mark ", report.durable_mark,
                      ") although its disk took no data-damaging fault"));
  }
  if (report.data_loss || report.damaged_state_records > 0) {
    // Declared media damage: the replica is fenced (or fell back to an older hard-state record);
    // its commit history restarts here.
    d.commit = report.hard_state.commit_offset();
  }
}

void Checker::OnSoftState(NodeId node, GroupId group, const raft::SoftState& soft) {
  if (!CheckActive(node, group, "changed role")) return;
  if (soft.role != raft::Role::kLeader) return;
  auto [it, inserted] = leaders_.emplace(std::make_pair(group, soft.term), node);
  if (!inserted && it->second != node) {
    Fail("one-leader-per-term", absl::StrCat("group ", group, " term ", soft.term,
                                             ": nodes ", it->second, " and ", node,
                                             " were both leader"));
  }
}

void Checker::OnPersisted(NodeId node, GroupId group, const raft::HardState& hs, int64_t mark) {
  if (!CheckActive(node, group, "persisted a hard state")) return;
  Durable& d = durable_[{node, group}];
  const std::string who = absl::StrCat("node ", node, " group ", group);
  if (d.seen && hs.term() < d.term) {
    Fail("term-monotonic", absl::StrCat(who, " persisted term ", hs.term(), " after ", d.term));
  }
  if (d.seen && hs.commit_offset() < d.commit) {
    Fail("commit-monotonic", absl::StrCat(who, " persisted commit ", hs.commit_offset(),
                                          " after ", d.commit));
  }
  d.seen = true;
  d.term = hs.term();
  d.vote = hs.vote();
  d.commit = hs.commit_offset();
  d.mark = mark;
}

void Checker::OnTruncated(NodeId node, GroupId group, int64_t offset) {
  if (!CheckActive(node, group, "truncated its log")) return;
  Durable& d = durable_[{node, group}];
  d.mark = std::min(d.mark, offset - 1);
}

void Checker::OnApplied(NodeId node, GroupId group, const raft::EntryMeta& meta,
                        std::span<const uint8_t> batch) {
  ++applied_count_;
  if (!CheckActive(node, group, "applied an entry")) return;
  const uint64_t digest = raft::driver::BatchDigest(batch);
  // Built only for a failure: this runs for every applied batch on every replica.
  const auto at = [&] {
    return absl::StrCat("group ", group, " offsets [", meta.base_offset, ", ", meta.last_offset,
                        "]");
  };
  int64_t& applied = applied_[{node, group}];
  if (meta.base_offset != applied + 1) {
    Fail("apply-contiguous", absl::StrCat("node ", node, " applied ", at(), " after ", applied));
  }
  applied = meta.last_offset;
  auto [it, inserted] =
      committed_[group].emplace(meta.base_offset, Committed{meta.last_offset, digest});
  if (!inserted && (it->second.digest != digest || it->second.last_offset != meta.last_offset)) {
    Fail("one-value-per-offset", absl::StrCat("node ", node, " applied a different batch at ", at(),
                                              " (term ", meta.term, ") than was applied before"));
  }
  if (inserted && meta.type == raft::ENTRY_NORMAL) {
    it->second.content_digest = ContentDigest(batch);
    auto aborted = aborted_.find(group);
    if (aborted != aborted_.end() && aborted->second.count(it->second.content_digest) != 0) {
      Fail("aborted-never-committed",
           absl::StrCat("node ", node, " applied at ", at(),
                        " a batch whose proposal failed as definitely not committed"));
    }
  }
  auto acked = acked_[group].find(meta.base_offset);
  if (acked != acked_[group].end() && acked->second.digest != digest) {
    Fail("acked-batch-lost-or-changed",
         absl::StrCat("node ", node, " applied a different batch at acknowledged ", at()));
  }
}

void Checker::OnKafkaApplied(NodeId node, GroupId group, int64_t raft_base_offset,
                             int64_t kafka_base_offset, int64_t kafka_next_offset,
                             int64_t kafka_high_watermark) {
  if (!CheckActive(node, group, "applied Kafka offsets")) return;
  const auto at = [&] {
    return absl::StrCat("node ", node, " group ", group, " Raft offset ", raft_base_offset,
                        ": Kafka [", kafka_base_offset, ", ", kafka_next_offset, ")");
  };
  std::map<int64_t, KafkaRange>& ranges = kafka_[group];
  auto [it, inserted] =
      ranges.emplace(raft_base_offset, KafkaRange{kafka_base_offset, kafka_next_offset});
  if (!inserted && (it->second.base != kafka_base_offset || it->second.next != kafka_next_offset)) {
    Fail("kafka-offsets", absl::StrCat(at(), ", another replica had [", it->second.base, ", ",
                                       it->second.next, ")"));
  }
  if (raft_base_offset == 0 && kafka_base_offset != 0) {
    Fail("kafka-offsets", absl::StrCat(at(), ": the first batch must start at Kafka offset 0"));
  }
  // Dense: the batch before it (committed, ending right before it) ends where it starts.
  const auto& committed = committed_[group];
  auto here = committed.find(raft_base_offset);
  if (here != committed.end() && here != committed.begin()) {
    auto before = std::prev(here);
    auto before_range = ranges.find(before->first);
    if (before->second.last_offset + 1 == raft_base_offset && before_range != ranges.end() &&
        before_range->second.next != kafka_base_offset) {
      Fail("kafka-offsets", absl::StrCat(at(), ", the batch before ends at Kafka offset ",
                                         before_range->second.next));
    }
  }
  CheckKafkaHighWatermark(node, group, kafka_high_watermark);
}

void Checker::CheckKafkaHighWatermark(NodeId node, GroupId group, int64_t hwm) {
  auto [it, inserted] = kafka_hwm_.emplace(Key{node, group}, hwm);
  if (inserted) return;
  if (hwm < it->second && !disk_damaged_(node)) {
    Fail("kafka-hwm-monotonic", absl::StrCat("node ", node, " group ", group,
                                             " reported Kafka high watermark ", hwm, " after ",
                                             it->second));
  }
  it->second = std::max(it->second, hwm);
}

void Checker::OnAborted(GroupId group, uint64_t content_digest) {
  if (deleted_.contains(group)) return;  // the delete failed it: nothing can commit it now
  // Already applied somewhere? Then it was committed: the driver lied.
  aborted_[group].insert(content_digest);
  for (const auto& [offset, committed] : committed_[group]) {
    if (committed.content_digest == content_digest) {
      Fail("aborted-never-committed",
           absl::StrCat("group ", group, " batch at offset ", offset,
                        " was committed before its proposal failed as definitely not committed"));
    }
  }
}

uint64_t Checker::ContentDigest(std::span<const uint8_t> batch) {
  // baseOffset (8), batchLength (4) and partitionLeaderEpoch (4) come first (core/record).
  constexpr size_t kStampedBytes = 16;
  if (batch.size() <= kStampedBytes) return raft::driver::BatchDigest(batch);
  return raft::driver::BatchDigest(batch.subspan(kStampedBytes));
}

void Checker::OnMachineState(NodeId node, GroupId group, int64_t offset, uint64_t digest) {
  CheckActive(node, group, "changed its state machine");
  auto [it, inserted] = machine_states_[group].emplace(offset, digest);
  if (!inserted && it->second != digest) {
    Fail("machine-states-agree",
         absl::StrCat("node ", node, " group ", group, " has state machine digest ", digest,
                      " at offset ", offset, "; another replica had ", it->second));
  }
}

void Checker::OnSnapshotInstalled(NodeId node, GroupId group, int64_t last_offset) {
  if (!CheckActive(node, group, "installed a snapshot")) return;
  CheckSnapshotPoint(node, group, last_offset);
  applied_[{node, group}] = last_offset;
}

void Checker::CheckSnapshotPoint(NodeId node, GroupId group, int64_t last_offset) {
  if (last_offset < 0) return;
  // Snapshot points are taken at or below an applied offset, so some replica applied the batch
  // ending there before anyone could install it.
  const std::map<int64_t, Committed>& committed = committed_[group];
  auto it = committed.upper_bound(last_offset);
  if (it == committed.begin() || std::prev(it)->second.last_offset != last_offset) {
    Fail("snapshot-not-committed",
         absl::StrCat("node ", node, " group ", group, " has a snapshot point at offset ",
                      last_offset, ", which does not end a committed batch"));
  }
}

void Checker::OnAcked(GroupId group, const raft::EntryMeta& meta, uint64_t digest) {
  ++acked_count_;
  if (!CheckActive(raft::kNoNode, group, "acknowledged a batch")) return;
  acked_[group][meta.base_offset] = Committed{meta.last_offset, digest};
  auto it = committed_[group].find(meta.base_offset);
  if (it == committed_[group].end() || it->second.digest != digest) {
    Fail("acked-batch-lost-or-changed",
         absl::StrCat("group ", group, " batch acknowledged at [", meta.base_offset, ", ",
                      meta.last_offset, "] is not the committed batch there"));
  }
}

void Checker::OnRead(NodeId node, GroupId group, std::span<const uint8_t> batch) {
  // `node` is the serving node (not a replica id): only the group's deletion applies here.
  if (deleted_.contains(group)) {
    return Fail("deleted-group-active", absl::StrCat("node ", node, " served a read of group ",
                                                     group, " after the group was deleted"));
  }
  absl::StatusOr<raft::EntryMeta> meta = raft::driver::DecodeEntryMeta(batch);
  const uint64_t digest = raft::driver::BatchDigest(batch);
  auto it = meta.ok() ? committed_[group].find(meta->base_offset) : committed_[group].end();
  if (it == committed_[group].end() || it->second.digest != digest) {
    Fail("read-uncommitted-or-corrupt",
         absl::StrCat("node ", node, " group ", group, " served a batch at offset ",
                      meta.ok() ? meta->base_offset : -1,
                      " that is not the committed batch there"));
  }
}

void Checker::CheckFinal() {
  for (const auto& [group, batches] : acked_) {
    if (!CheckAcked(group)) return;
  }
}

bool Checker::CheckAcked(GroupId group) {
  auto batches = acked_.find(group);
  if (batches == acked_.end()) return true;
  for (const auto& [base, acked] : batches->second) {
    auto it = committed_[group].find(base);
    if (it == committed_[group].end() || it->second.digest != acked.digest) {
      Fail("acked-batch-lost-or-changed",
           absl::StrCat("group ", group, " acknowledged batch at ", base, " lost"));
      return false;
    }
  }
  return true;
}

int64_t Checker::max_acked_offset(GroupId group) const {
  auto it = acked_.find(group);
  if (it == acked_.end() || it->second.empty()) return raft::kNoOffset;
  return it->second.rbegin()->second.last_offset;
}

}  // namespace eddy::sim::cluster
