// GroupDriver: the Kafka offsets clients see. Raft's own entries are hidden batches of the
// partition log (IsRaftInternalBatch); the mapping is derived from the log's index and one
// number kept with the snapshot point (SnapshotMeta.hidden_count), so it cannot drift through
// truncation, snapshots, retention or restarts (core/log FORMAT.md, "Kafka offsets").
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "raft/driver/group_driver.h"

namespace eddy::raft::driver {
namespace {

// The Kafka high watermark given the replica's hidden base (GroupDriver::HiddenBase): its
// durable commit offset, never below the snapshot point (committed by definition) and never
// beyond the log (it is clamped on open), as a Kafka offset; the Kafka log start if the log
// cannot map it. Apart from kafka_high_watermark() so a caller holding the base asks once.
int64_t HighWatermarkFor(const log::PartitionLog& log, int64_t saved_commit_offset,
                         int64_t snapshot_last_offset, int64_t hidden_base,
                         int64_t kafka_log_start_offset) {
  const int64_t commit =
      std::clamp(saved_commit_offset, snapshot_last_offset, log.last_offset());
  const std::optional<int64_t> hwm = log.KafkaOffsetFor(commit + 1, hidden_base);
  return hwm.value_or(kafka_log_start_offset);
}

}  // namespace

log::KafkaAnchor GroupDriver::Anchor() const {
  const SnapshotMeta& point = view_->Snapshot();
  return log::KafkaAnchor{point.last_offset() + 1, point.hidden_count()};
}

std::optional<int64_t> GroupDriver::HiddenBase() const {
  if (!running() || log_ == nullptr || view_ == nullptr) return std::nullopt;
  return log_->HiddenBaseFor(Anchor());
}

int64_t GroupDriver::kafka_log_start_offset() const {
  if (!running()) return -1;
  const log::KafkaAnchor anchor = Anchor();
  return anchor.offset - anchor.hidden_count;
}

int64_t GroupDriver::kafka_high_watermark() const {
  const std::optional<int64_t> base = HiddenBase();
  if (!base.has_value()) return -1;
  return HighWatermarkFor(*log_, saved_hard_state_.commit_offset(),
                          view_->Snapshot().last_offset(), *base, kafka_log_start_offset());
}

std::optional<int64_t> GroupDriver::KafkaOffsetOf(int64_t raft_offset) const {
  const std::optional<int64_t> base = HiddenBase();
  if (!base.has_value()) return std::nullopt;
  return log_->KafkaOffsetFor(raft_offset, *base);
}

std::optional<int64_t> GroupDriver::KafkaOffsetForTimestamp(int64_t timestamp_ms) const {
  const std::optional<int64_t> base = HiddenBase();
  if (!base.has_value()) return std::nullopt;
  const std::optional<int64_t> raft_offset = log_->OffsetForTimestamp(timestamp_ms);
  if (!raft_offset.has_value()) return std::nullopt;
  const std::optional<int64_t> kafka = log_->KafkaOffsetFor(*raft_offset, *base);
  if (!kafka.has_value()) return std::nullopt;
  // A batch below the log start (a hidden prefix) stands for the log start itself.
  const int64_t offset = std::max(*kafka, kafka_log_start_offset());
  if (offset >= kafka_high_watermark()) return std::nullopt;
  return offset;
}

std::optional<GroupDriver::TermEnd> GroupDriver::KafkaEndOfTerm(Term term) const {
  if (!running()) return std::nullopt;
  const int64_t first = log_start_offset();
  const int64_t last = std::min(node_->commit_offset(), log_last_offset());
  if (first > last) return std::nullopt;
  const std::optional<int64_t> first_term = TermAt(first);
  if (!first_term.has_value() || static_cast<Term>(*first_term) > term) return std::nullopt;
  // Terms never decrease along the log: find the first committed offset of a later term.
  int64_t low = first;        // TermAt(low) <= term
  int64_t high = last + 1;    // one past the search range, or an offset whose term > term
  while (high - low > 1) {
    const int64_t mid = low + (high - low) / 2;
    const std::optional<int64_t> t = TermAt(mid);
    EDDY_CHECK(t.has_value());
    if (static_cast<Term>(*t) <= term) {
      low = mid;
    } else {
      high = mid;
    }
  }
  TermEnd end;
  end.term = static_cast<Term>(*TermAt(low));
  if (high > last) {
    end.kafka_end_offset = kafka_high_watermark();
  } else {
    end.kafka_end_offset = KafkaOffsetOf(high).value_or(-1);
  }
  return end;
}

void GroupDriver::ReadKafka(int64_t kafka_offset, uint64_t size_bytes_max, KafkaReadFn done) {
  const std::optional<int64_t> base = HiddenBase();
  if (!base.has_value()) {
    return runtime_.clock().Post([done = std::move(done)]() mutable {
      std::move(done)(absl::UnavailableError("replica not running"));
    });
  }
  const int64_t start = kafka_log_start_offset();
  const int64_t hwm = kafka_high_watermark();
  if (kafka_offset < start || kafka_offset > hwm) {
    return runtime_.clock().Post([done = std::move(done), kafka_offset, start, hwm]() mutable {
      std::move(done)(absl::OutOfRangeError(absl::StrCat(
          "offset ", kafka_offset, " outside [", start, ", ", hwm, "] (log start, high watermark)")));
    });
  }
  log_->ReadKafka(kafka_offset, hwm, size_bytes_max, *base,
                  [this, alive = alive_, generation = generation_,
                   done = std::move(done)](absl::StatusOr<log::KafkaReadResult> read) mutable {
                    if (!*alive) return;
                    if (!read.ok() && absl::IsDataLoss(read.status()) && Current(generation)) {
                      ++stats_.corrupt_reads;
                    }
                    std::move(done)(std::move(read));
                  });
}

bool GroupDriver::ReportKafkaApplied(const EntryMeta& meta) {
  // The anchor and the log come from disk and a leader's snapshot point: a mismatch stops the
  // replica (it reopens and the open-time check decides), never the broker.
  const std::optional<int64_t> base = HiddenBase();
  const std::optional<log::KafkaBatch> batch =
      base.has_value() ? log_->KafkaBatchAt(meta.base_offset, *base) : std::nullopt;
  if (!batch.has_value()) {
    Fail(absl::DataLossError(absl::StrCat("Kafka anchor ", Anchor().offset, "/",
                                          Anchor().hidden_count, " does not describe the batch at ",
                                          meta.base_offset)));
    return false;
  }
  // The base found above serves the high watermark too (kafka_high_watermark() would find it
  // again: this runs for every applied batch).
  const int64_t hwm = HighWatermarkFor(*log_, saved_hard_state_.commit_offset(),
                                       view_->Snapshot().last_offset(), *base,
                                       kafka_log_start_offset());
  EDDY_CHECK(running());  // HiddenBase() had a value, as kafka_high_watermark() requires
  observer_->OnKafkaApplied(self_, options_.group_id, meta.base_offset, batch->kafka_base_offset,
                            batch->kafka_last_offset + 1, hwm);
  return true;
}

}  // namespace eddy::raft::driver
