#include "core/log/partition_log.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/limits.h"
#include "core/base/status_macros.h"
#include "core/log/retention_policy.h"
#include "core/log/segment_file_names.h"
#include "core/log/whole_file.h"

namespace eddy::log {

using runtime::FileHandle;

template <typename F>
auto PartitionLog::Guarded(F f) {
  return [alive = std::weak_ptr<bool>(alive_), f = std::move(f)](auto&&... args) mutable {
    if (alive.expired()) return;
    f(std::forward<decltype(args)>(args)...);
  };
}

void PartitionLog::Open(runtime::Clock& clock, runtime::Disk& disk, std::string directory,
                        LogOptions options, DoneWith<Opened> done) {
  EDDY_CHECK_GT(options.segment_size_bytes_max, 0u);
  EDDY_CHECK_LE(options.segment_size_bytes_max, limits::kSegmentSizeBytesMax);
  if (options.file_cache == nullptr) {
    options.file_cache = std::make_shared<FileCache>(FileCache::kPrivateOpenFileCountMax);
  }
  std::shared_ptr<FileCache> file_cache = options.file_cache;
  LogRecovery::Run(clock, disk, directory, options.is_hidden,
                   [&clock, &disk, directory, options,
                    done = std::move(done)](absl::StatusOr<RecoveredLog> recovered) mutable {
                     if (!recovered.ok()) return std::move(done)(recovered.status());
                     Opened opened;
                     opened.report = recovered->report;
                     opened.log.reset(new PartitionLog(clock, disk, std::move(directory), options,
                                                       *std::move(recovered)));
                     std::move(done)(std::move(opened));
                   },
                   std::move(file_cache));
}

PartitionLog::PartitionLog(runtime::Clock& clock, runtime::Disk& disk, std::string directory,
                           LogOptions options, RecoveredLog recovered)
    : clock_(clock), disk_(disk), directory_(std::move(directory)), options_(options) {
  EDDY_CHECK(!recovered.segments.empty());
  for (std::shared_ptr<Segment>& segment : recovered.segments) {
    // The running hidden count starts at 0 with the first segment (an origin of our own; the
    // owner's snapshot point says how many hidden batches lie below it).
    segment->set_hidden_count_before(segments_.empty() ? 0
                                                       : segments_.back()->hidden_count_through());
    segments_.push_back(std::move(segment));
  }
  // Recovery synced everything it kept.
  flushed_offset_ = last_offset();
  // Scanned segments before the active one lost (or never had) their index files: seal again.
  for (const std::shared_ptr<Segment>& segment : segments_) {
    if (segment.get() != &active() && segment->seal_state() == SealState::kActive) {
      StartSeal(segment);
    }
  }
  CheckInvariants();
}

PartitionLog::~PartitionLog() {
  // Operations still queued in segments are dropped (their completions would be ignored), which
  // also frees the segments they hold; files are closed.
  for (const std::shared_ptr<Segment>& segment : segments_) segment->Abandon();
  for (const std::weak_ptr<Segment>& retired : retired_) {
    if (std::shared_ptr<Segment> segment = retired.lock()) segment->Abandon();
  }
}

// --- Appending ------------------------------------------------------------------------------

absl::StatusOr<record::BatchHeader> PartitionLog::ValidateBatch(
    const std::vector<uint8_t>& batch) const {
  absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(batch);
  if (!header.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("bad batch: ", header.status().message()));
  }
  if (header->size_bytes() != batch.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch length says ", header->size_bytes(), " bytes, got ", batch.size()));
  }
  if (absl::Status crc = record::VerifyBatchCrc(batch); !crc.ok()) {
    return absl::InvalidArgumentError(crc.message());
  }
  // A hidden batch takes one Raft offset and no Kafka offset (FORMAT.md "Kafka offsets").
  if (IsHiddenBatch(options_, *header) && header->last_offset_delta != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a hidden batch must cover one offset, this one covers ", header->last_offset_delta + 1));
  }
  return header;
}

absl::StatusOr<AppendResult> PartitionLog::AppendAsLeader(std::vector<uint8_t> batch,
                                                          int64_t term) {
  EDDY_RETURN_IF_ERROR(failure_);
  EDDY_ASSIGN_OR_RETURN(record::BatchHeader header, ValidateBatch(batch));
  if (term < 0 || term > kTermMax) {
    return absl::InvalidArgumentError(absl::StrCat("term ", term, " out of range"));
  }
  if (term < last_term()) {
    return absl::FailedPreconditionError(
        absl::StrCat("term ", term, " is below the log's last term ", last_term()));
  }
  const int64_t base = next_offset();
  if (base > INT64_MAX - header.last_offset_delta) {
    return absl::InvalidArgumentError("offsets would overflow");
  }
  record::SetBaseOffset(batch, base);
  record::SetPartitionLeaderEpoch(batch, static_cast<int32_t>(term));
  header.base_offset = base;
  header.partition_leader_epoch = static_cast<int32_t>(term);
  return AppendValidated(std::move(batch), header);
}

absl::StatusOr<AppendResult> PartitionLog::AppendAsFollower(std::vector<uint8_t> batch) {
  EDDY_RETURN_IF_ERROR(failure_);
  EDDY_ASSIGN_OR_RETURN(record::BatchHeader header, ValidateBatch(batch));
  if (header.base_offset != next_offset()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "batch base offset ", header.base_offset, " but the log's next offset is ", next_offset()));
  }
  if (header.partition_leader_epoch < 0 || header.partition_leader_epoch < last_term()) {
    return absl::InvalidArgumentError(absl::StrCat("batch term ", header.partition_leader_epoch,
                                                   " is below the log's last term ", last_term()));
  }
  return AppendValidated(std::move(batch), header);
}

absl::StatusOr<AppendResult> PartitionLog::AppendValidated(std::vector<uint8_t> batch,
                                                           const record::BatchHeader& header) {
  EDDY_CHECK_EQ(header.base_offset, next_offset());
  EDDY_CHECK_EQ(header.size_bytes(), batch.size());
  MaybeRoll(batch.size(), header.last_offset());
  Segment& segment = active();
  segment.offset_index().Append(header.base_offset, header.last_offset(),
                                static_cast<uint32_t>(batch.size()), header.partition_leader_epoch,
                                IsHiddenBatch(options_, header));
  segment.time_index().Observe(header.base_offset, header.max_timestamp);
  segment.set_dirty(true);
  ++stats_.batches_appended;
  stats_.bytes_appended += batch.size();
  segment.Append(std::move(batch), Guarded([this](absl::Status status) {
                   if (!status.ok()) Fail(std::move(status));
                 }));
  EDDY_CHECK_EQ(next_offset(), header.last_offset() + 1);
  return AppendResult{header.base_offset, header.last_offset()};
}

void PartitionLog::MaybeRoll(uint64_t batch_size_bytes, int64_t batch_last_offset) {
  Segment& segment = active();
  if (segment.empty()) {
    // A batch (<= kBatchSizeBytesMax) always fits an empty segment.
    EDDY_CHECK(segment.offset_index().HasRoomFor(batch_last_offset, batch_size_bytes));
    return;
  }
  const bool full = segment.size_bytes() + batch_size_bytes > options_.segment_size_bytes_max ||
                    !segment.offset_index().HasRoomFor(batch_last_offset, batch_size_bytes);
  const bool old = clock_.Now() - segment.created_at() >= options_.segment_age_max;
  if (full || old) Roll();
}

void PartitionLog::Roll() {
  std::shared_ptr<Segment> previous = segments_.back();
  EDDY_CHECK(!previous->empty());
  const int64_t base = next_offset();
  auto segment = std::make_shared<Segment>(clock_, disk_, options_.file_cache, directory_,
                                           OffsetIndex(base), TimeIndex(base), clock_.Now());
  segment->set_hidden_count_before(previous->hidden_count_through());
  segments_.push_back(segment);
  directory_dirty_ = true;
  ++stats_.segments_rolled;
  directory_operations_.Enqueue([this, segment](SerialQueue::Next next) {
    disk_.Open(
        segment->log_path(), runtime::OpenMode::kCreateNew,
        Guarded([this, segment, next = std::move(next)](absl::StatusOr<FileHandle> file) mutable {
          if (file.ok()) {
            segment->Attach(*file);
          } else {
            Fail(file.status());
            segment->FailOpen(file.status());
          }
          std::move(next)();
        }));
  });
  StartSeal(std::move(previous));
}

// --- Sealing --------------------------------------------------------------------------------

void PartitionLog::StartSeal(std::shared_ptr<Segment> segment) {
  EDDY_CHECK(!segment->empty());
  EDDY_CHECK(segment->seal_state() == SealState::kActive);
  segment->set_seal_state(SealState::kSealing);
  // No more appends: pack the indexes' tails and give back their spare capacity.
  segment->offset_index().Compact();
  segment->time_index().Compact();
  const uint64_t generation = segment->generation();
  // The index may only appear on disk once the bytes it describes are durable.
  Flush(segment->next_offset() - 1, [this, segment, generation](absl::Status status) {
    if (!status.ok() || segment->removed() || segment->generation() != generation) return;
    directory_operations_.Enqueue([this, segment, generation](SerialQueue::Next next) {
      WriteIndexFiles(segment, generation, std::move(next));
    });
  });
}

void PartitionLog::WriteIndexFiles(std::shared_ptr<Segment> segment, uint64_t generation,
                                   SerialQueue::Next next) {
  auto stale = [segment, generation] {
    return segment->removed() || segment->generation() != generation;
  };
  if (stale() || !failure_.ok()) return std::move(next)();
  const BatchLocation last = segment->offset_index().At(segment->offset_index().batch_count() - 1);
  // The index records the last batch's CRC, read back from the file itself.
  segment->Read(
      last.position, record::kBatchHeaderSizeBytes,
      Guarded([this, segment, last, stale,
               next = std::move(next)](absl::StatusOr<std::vector<uint8_t>> bytes) mutable {
        if (!bytes.ok()) {
          Fail(bytes.status());
          return std::move(next)();
        }
        if (stale()) return std::move(next)();
        absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(*bytes);
        if (!header.ok() || header->base_offset != last.base_offset ||
            header->last_offset() != last.last_offset) {
          Fail(absl::DataLossError(absl::StrCat("last batch of segment ", segment->base_offset(),
                                                " does not match its index")));
          return std::move(next)();
        }
        std::vector<uint8_t> time_bytes = segment->time_index().Encode();
        WriteWholeFile(disk_, segment->index_path(), segment->offset_index().Encode(header->crc),
                       Guarded([this, segment, stale, time_bytes = std::move(time_bytes),
                                next = std::move(next)](absl::Status status) mutable {
                         if (!status.ok()) {
                           Fail(std::move(status));
                           return std::move(next)();
                         }
                         WriteWholeFile(
                             disk_, segment->time_index_path(), std::move(time_bytes),
                             Guarded([this, segment, stale,
                                      next = std::move(next)](absl::Status status) mutable {
                               if (!status.ok()) {
                                 Fail(std::move(status));
                                 return std::move(next)();
                               }
                               disk_.SyncDirectory(
                                   directory_,
                                   Guarded([this, segment, stale,
                                            next = std::move(next)](absl::Status status) mutable {
                                     if (!status.ok()) {
                                       Fail(std::move(status));
                                     } else if (!stale()) {
                                       segment->set_seal_state(SealState::kSealed);
                                     }
                                     std::move(next)();
                                   }));
                             }));
                       }));
      }));
}

void PartitionLog::Unseal(Segment& segment) {
  segment.bump_generation();
  const SealState previous = segment.seal_state();
  segment.set_seal_state(SealState::kActive);
  if (previous == SealState::kActive) return;
  // The index files must be gone, durably, before the file changes: an intact index beside a
  // file it does not describe would read as corruption at the next open.
  segment.Block();
  std::shared_ptr<Segment> shared = segment.shared_from_this();
  directory_operations_.Enqueue([this, shared](SerialQueue::Next next) {
    auto remove_time_index = [this, shared, next = std::move(next)](absl::Status status) mutable {
      if (!status.ok() && !absl::IsNotFound(status)) Fail(status);
      disk_.Remove(shared->time_index_path(),
                   Guarded([this, shared, next = std::move(next)](absl::Status status) mutable {
                     if (!status.ok() && !absl::IsNotFound(status)) Fail(status);
                     disk_.SyncDirectory(directory_, Guarded([this, shared, next = std::move(next)](
                                                                 absl::Status status) mutable {
                                           if (!status.ok()) Fail(status);
                                           shared->Unblock();
                                           std::move(next)();
                                         }));
                   }));
    };
    disk_.Remove(shared->index_path(), Guarded(std::move(remove_time_index)));
  });
}

// --- Reading --------------------------------------------------------------------------------

namespace {

// Turns a read of whole batches (`hidden[i]` saying whether batch i is hidden, `kafka_base` the
// Kafka offset of the first, which is a data batch) into what a Kafka client may see: the hidden
// batches cut out and every data batch's baseOffset rewritten to its Kafka offset. baseOffset
// lies outside the CRC, so the batches stay valid; everything else is left byte for byte.
KafkaReadResult ToKafka(ReadResult read, const std::vector<bool>& hidden, int64_t kafka_base) {
  EDDY_CHECK_EQ(read.batch_count, hidden.size());
  std::vector<uint8_t>& bytes = read.bytes;
  size_t in = 0;
  size_t out = 0;
  int64_t kafka_next = kafka_base;
  size_t count = 0;
  for (size_t i = 0; i < hidden.size(); ++i) {
    const absl::StatusOr<record::BatchHeader> header =
        record::ParseBatchHeader(std::span<const uint8_t>(bytes).subspan(in));
    EDDY_CHECK_OK(header.status());  // the read checked every batch
    const size_t size = header->size_bytes();
    EDDY_CHECK_LE(in + size, bytes.size());
    if (hidden[i]) {
      EDDY_CHECK_EQ(header->last_offset_delta, 0);
    } else {
      if (out != in) std::memmove(bytes.data() + out, bytes.data() + in, size);
      record::SetBaseOffset(std::span<uint8_t>(bytes.data() + out, size), kafka_next);
      kafka_next += int64_t{header->last_offset_delta} + 1;
      out += size;
      ++count;
    }
    in += size;
  }
  EDDY_CHECK_EQ(in, bytes.size());
  EDDY_CHECK(hidden.empty() || !hidden.front());
  bytes.resize(out);
  return KafkaReadResult{std::move(bytes), kafka_next, count};
}

}  // namespace

template <typename T>
void PartitionLog::PostResult(DoneWith<T> done, absl::StatusOr<T> result) {
  clock_.Post(Guarded([done = std::move(done), result = std::move(result)]() mutable {
    std::move(done)(std::move(result));
  }));
}

void PartitionLog::Read(int64_t offset, uint64_t size_bytes_max, DoneWith<ReadResult> done) {
  if (!failure_.ok()) return PostResult<ReadResult>(std::move(done), failure_);
  if (offset == next_offset()) {
    return PostResult<ReadResult>(std::move(done), ReadResult{{}, offset, 0});
  }
  const std::optional<BatchLocation> first = FindBatch(offset);
  if (!first.has_value()) {
    return PostResult<ReadResult>(
        std::move(done), absl::OutOfRangeError(absl::StrCat("offset ", offset, " outside [",
                                                            first_offset(), ", ", next_offset(),
                                                            "]")));
  }
  ++stats_.reads;
  ExecuteRead(PlanRead(*first, size_bytes_max, next_offset()), std::move(done));
}

PartitionLog::ReadPlan PartitionLog::PlanRead(const BatchLocation& first, uint64_t size_bytes_max,
                                              int64_t offset_end) const {
  EDDY_CHECK_LT(first.base_offset, offset_end);
  ReadPlan plan;
  plan.segment = SharedSegmentFor(first.base_offset);
  EDDY_CHECK(plan.segment != nullptr);
  plan.base_offset = first.base_offset;
  plan.position = first.position;
  const OffsetIndex& index = plan.segment->offset_index();
  const uint64_t budget_bytes = std::min(size_bytes_max, limits::kDiskReadSizeBytesMax);
  // The terms and last offsets as of now: the term field is outside the CRC, so the read
  // cross-checks it; the last offset is checked too, because an old batch at the same position
  // (a conflicting one that a truncation replaced, left there by a lost or misdirected write)
  // can carry a valid CRC and the right base offset.
  plan.size_bytes = first.size_bytes;
  plan.terms = {first.term};
  plan.last_offsets = {first.last_offset};
  plan.hidden = {first.hidden};
  for (size_t i = first.index + 1; i < index.batch_count(); ++i) {
    const BatchLocation next = index.At(i);
    if (plan.size_bytes + next.size_bytes > budget_bytes || next.base_offset >= offset_end) break;
    plan.size_bytes += next.size_bytes;
    plan.terms.push_back(next.term);
    plan.last_offsets.push_back(next.last_offset);
    plan.hidden.push_back(next.hidden);
  }
  return plan;
}

void PartitionLog::ExecuteRead(ReadPlan plan, DoneWith<ReadResult> done) {
  std::shared_ptr<Segment> segment = plan.segment;
  const uint32_t position = plan.position;
  const uint64_t size_bytes = plan.size_bytes;
  segment->Read(
      position, size_bytes,
      Guarded([this, plan = std::move(plan),
               done = std::move(done)](absl::StatusOr<std::vector<uint8_t>> bytes) mutable {
        if (!bytes.ok()) {
          if (absl::IsDataLoss(bytes.status())) ++stats_.corrupt_reads;
          return std::move(done)(bytes.status());
        }
        // Never serve a batch we cannot vouch for: re-walk and re-check every one.
        const absl::StatusOr<int64_t> next = VerifyReadBytes(plan, *bytes);
        if (!next.ok()) {
          ++stats_.corrupt_reads;
          return std::move(done)(absl::DataLossError(next.status().message()));
        }
        std::move(done)(ReadResult{*std::move(bytes), *next, plan.terms.size()});
      }));
}

absl::StatusOr<int64_t> PartitionLog::VerifyReadBytes(const ReadPlan& plan,
                                                      std::span<const uint8_t> bytes) {
  if (bytes.size() != plan.size_bytes) {
    return absl::DataLossError("segment file shorter than its index");
  }
  int64_t expected_base = plan.base_offset;
  std::span<const uint8_t> rest = bytes;
  for (size_t i = 0; i < plan.terms.size(); ++i) {
    absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(rest);
    if (!header.ok() || header->size_bytes() > rest.size() ||
        header->base_offset != expected_base) {
      return absl::DataLossError(absl::StrCat("bad batch header at offset ", expected_base));
    }
    if (header->last_offset() != plan.last_offsets[i]) {
      return absl::DataLossError(absl::StrCat("batch at offset ", expected_base, " ends at ",
                                              header->last_offset(), ", index says ",
                                              plan.last_offsets[i]));
    }
    if (header->partition_leader_epoch != plan.terms[i]) {
      return absl::DataLossError(absl::StrCat("batch at offset ", expected_base, " has term ",
                                              header->partition_leader_epoch, ", index says ",
                                              plan.terms[i]));
    }
    EDDY_RETURN_IF_ERROR(record::VerifyBatchCrc(rest.first(header->size_bytes())));
    expected_base = header->last_offset() + 1;
    rest = rest.subspan(header->size_bytes());
  }
  EDDY_CHECK(rest.empty());
  return expected_base;
}

void PartitionLog::ReadKafka(int64_t kafka_offset, int64_t kafka_end_offset,
                             uint64_t size_bytes_max, int64_t hidden_base,
                             DoneWith<KafkaReadResult> done) {
  CheckHiddenBase(hidden_base);
  if (!failure_.ok()) return PostResult<KafkaReadResult>(std::move(done), failure_);
  const int64_t kafka_first = *KafkaOffsetFor(first_offset(), hidden_base);
  const int64_t kafka_next = *KafkaOffsetFor(next_offset(), hidden_base);
  if (kafka_offset < kafka_first || kafka_offset > kafka_next) {
    return PostResult<KafkaReadResult>(
        std::move(done),
        absl::OutOfRangeError(absl::StrCat("Kafka offset ", kafka_offset, " outside [",
                                           kafka_first, ", ", kafka_next, "]")));
  }
  const int64_t end = std::min(kafka_end_offset, kafka_next);
  const std::optional<KafkaBatch> first = FindKafkaBatch(kafka_offset, hidden_base);
  if (!first.has_value() || first->kafka_last_offset >= end) {
    return PostResult<KafkaReadResult>(std::move(done), KafkaReadResult{{}, kafka_offset, 0});
  }
  // Only whole batches below `end`: stop before the first data batch that reaches it.
  const std::optional<KafkaBatch> bound = FindKafkaBatch(end, hidden_base);
  const int64_t offset_end = bound.has_value() ? bound->location.base_offset : next_offset();
  ++stats_.reads;
  ReadPlan plan = PlanRead(first->location, size_bytes_max, offset_end);
  std::vector<bool> hidden = plan.hidden;
  ExecuteRead(std::move(plan),
              [kafka_base = first->kafka_base_offset, hidden = std::move(hidden),
               done = std::move(done)](absl::StatusOr<ReadResult> read) mutable {
                if (!read.ok()) return std::move(done)(read.status());
                std::move(done)(ToKafka(*std::move(read), hidden, kafka_base));
              });
}

// --- Truncation -----------------------------------------------------------------------------

absl::StatusOr<int64_t> PartitionLog::TruncateSuffix(int64_t offset) {
  EDDY_RETURN_IF_ERROR(failure_);
  if (offset == next_offset()) return offset;
  const std::optional<BatchLocation> location = FindBatch(offset);
  if (!location.has_value()) {
    return absl::OutOfRangeError(
        absl::StrCat("offset ", offset, " outside [", first_offset(), ", ", next_offset(), "]"));
  }
  std::shared_ptr<Segment> segment = SharedSegmentFor(offset);
  while (segments_.back()->base_offset() > segment->base_offset()) {
    std::shared_ptr<Segment> victim = segments_.back();
    segments_.pop_back();
    DeleteSegment(std::move(victim), /*sync_directory_after=*/false);
  }
  Unseal(*segment);
  segment->offset_index().Truncate(location->index);
  segment->time_index().TruncateFrom(location->base_offset);
  segment->Truncate(location->position, Guarded([this](absl::Status status) {
                      if (!status.ok()) Fail(std::move(status));
                    }));
  segment->set_dirty(true);
  RekeyFlushWaiters(location->base_offset - 1);
  CheckInvariants();
  return location->base_offset;
}

void PartitionLog::TruncatePrefix(int64_t offset, Done done) {
  if (!failure_.ok()) return PostDone(std::move(done), failure_);
  if (offset > next_offset()) {
    return PostDone(std::move(done), absl::OutOfRangeError(absl::StrCat(
                                         "offset ", offset, " beyond ", next_offset())));
  }
  if (offset == next_offset() && !active().empty()) Roll();
  // Oldest first, each removal durable before the next: a crash leaves a suffix of segments,
  // never a hole (recovery would end the log at a hole).
  while (segments_.size() > 1 && segments_.front()->next_offset() <= offset) {
    std::shared_ptr<Segment> victim = segments_.front();
    segments_.pop_front();
    DeleteSegment(std::move(victim), /*sync_directory_after=*/true);
  }
  directory_operations_.Enqueue([this, done = std::move(done)](SerialQueue::Next next) mutable {
    PostDone(std::move(done), failure_);
    std::move(next)();
  });
  CheckInvariants();
}

void PartitionLog::RekeyFlushWaiters(int64_t new_last) {
  flushed_offset_ = std::min(flushed_offset_, new_last);
  flush_round_target_ = std::min(flush_round_target_, new_last);
  ++truncation_epoch_;
  // Flushes waiting for removed offsets now wait for the truncation itself to be durable.
  std::vector<FlushWaiter> rekeyed;
  while (!flush_waiters_.empty() && flush_waiters_.rbegin()->first > new_last) {
    auto last = std::prev(flush_waiters_.end());
    rekeyed.push_back(std::move(last->second));
    flush_waiters_.erase(last);
  }
  for (FlushWaiter& waiter : rekeyed) {
    waiter.truncation_epoch = truncation_epoch_;
    flush_waiters_.emplace(new_last, std::move(waiter));
  }
}

void PartitionLog::ResetTo(int64_t next_offset, Done done) {
  if (!failure_.ok()) return PostDone(std::move(done), failure_);
  if (next_offset < 0) {
    return PostDone(std::move(done), absl::InvalidArgumentError(absl::StrCat(
                                         "cannot reset to negative offset ", next_offset)));
  }
  ++stats_.resets;
  // The new state holds at once.
  std::vector<std::shared_ptr<Segment>> old_segments;
  for (const std::shared_ptr<Segment>& segment : segments_) {
    RetireSegment(*segment);
    old_segments.push_back(segment);
  }
  segments_.clear();
  auto fresh = std::make_shared<Segment>(clock_, disk_, options_.file_cache, directory_,
                                         OffsetIndex(next_offset), TimeIndex(next_offset),
                                         clock_.Now());
  segments_.push_back(fresh);  // its running hidden count restarts at 0
  // Every pending flush, and every later one, completes only after a sync round whose directory
  // part runs after the reset's steps on directory_operations_ (so after it is durable).
  for (auto& [offset, waiter] : flush_waiters_) waiter.truncation_epoch = truncation_epoch_ + 1;
  RekeyFlushWaiters(next_offset - 1);
  directory_dirty_ = true;
  directory_operations_.Enqueue(
      [this, next_offset, old_segments = std::move(old_segments), fresh,
       done = std::move(done)](SerialQueue::Next next) mutable {
        // The old files are removed only once closed (no on-demand reopen may be in flight).
        // (What waits must not hold the old segments: a segment would hold itself.)
        std::vector<std::string> paths;
        for (const std::shared_ptr<Segment>& segment : old_segments) {
          paths.push_back(segment->time_index_path());
          paths.push_back(segment->index_path());
          paths.push_back(segment->log_path());
        }
        WhenAllClosed(std::move(old_segments),
                      Guarded([this, next_offset, paths = std::move(paths), fresh,
                               done = std::move(done), next = std::move(next)]() mutable {
                        RunReset(next_offset, std::move(paths), std::move(fresh),
                                 std::move(done), std::move(next));
                      }));
      });
  CheckInvariants();
}

// The reset's directory steps, in this order (FORMAT.md, "Reset"):
//   1. create the empty marker "<next>.reset" and sync the directory  — the commit point;
//   2. remove every old segment's files;
//   3. create the new empty segment "<next>.log" and sync the directory;
//   4. remove the marker and sync the directory; then `done`.
// Any failure stops the sequence (the log is failed); recovery then finds either no marker
// (old log untouched) or the marker (and completes the reset).
void PartitionLog::RunReset(int64_t next_offset, std::vector<std::string> paths,
                            std::shared_ptr<Segment> fresh, Done done, SerialQueue::Next next) {
  struct Steps {
    Done done;
    SerialQueue::Next next;
  };
  auto steps = std::make_shared<Steps>(Steps{std::move(done), std::move(next)});
  // Ends the sequence: reports the log's status (a failure stops the steps where it happened).
  auto finish = [this, steps](absl::Status status) {
    if (!status.ok()) Fail(std::move(status));
    PostDone(std::move(steps->done), failure_);
    std::move(steps->next)();
  };
  if (!failure_.ok()) return finish(absl::OkStatus());
  const std::string marker =
      runtime::JoinPath(directory_, SegmentFileNameFor(next_offset, SegmentFileKind::kResetMarker));
  // 4. Remove the marker, sync: the reset is complete.
  auto remove_marker = [this, marker, finish]() mutable {
    disk_.Remove(marker, Guarded([this, finish](absl::Status status) mutable {
                   if (!status.ok()) return finish(std::move(status));
                   disk_.SyncDirectory(directory_, Guarded(std::move(finish)));
                 }));
  };
  // 3. Create the new segment's file, sync the directory.
  auto create_segment = [this, fresh, finish, remove_marker]() mutable {
    if (!failure_.ok()) return finish(absl::OkStatus());
    disk_.Open(fresh->log_path(), runtime::OpenMode::kCreateNew,
               Guarded([this, fresh, finish, remove_marker](
                           absl::StatusOr<FileHandle> file) mutable {
                 if (!file.ok()) {
                   fresh->FailOpen(file.status());
                   return finish(file.status());
                 }
                 fresh->Attach(*file);
                 disk_.SyncDirectory(directory_, Guarded([finish, remove_marker](
                                                             absl::Status status) mutable {
                                       if (!status.ok()) return finish(std::move(status));
                                       remove_marker();
                                     }));
               }));
  };
  // 2. Remove every old segment's files (popped from the back: log, index, time index each).
  // 1. The marker, durably: the commit point.
  disk_.Open(
      marker, runtime::OpenMode::kCreateIfMissing,
      Guarded([this, finish, create_segment, paths = std::move(paths)](
                  absl::StatusOr<FileHandle> file) mutable {
        if (!file.ok()) return finish(file.status());
        disk_.Close(*file, Guarded([](absl::Status) {}));
        disk_.SyncDirectory(
            directory_, Guarded([this, finish, create_segment,
                                 paths = std::move(paths)](absl::Status status) mutable {
              if (!status.ok()) return finish(std::move(status));
              RemoveFilesThen(std::move(paths), std::move(create_segment));
            }));
      }));
}

void PartitionLog::EnforceRetention(int64_t now_timestamp_ms, Done done) {
  std::vector<SegmentSummary> summaries;
  for (const std::shared_ptr<Segment>& segment : segments_) {
    summaries.push_back(SegmentSummary{segment->base_offset(), segment->size_bytes(),
                                       segment->time_index().max_timestamp()});
  }
  const size_t count = RetentionPolicy(options_).SegmentsToDelete(summaries, now_timestamp_ms);
  const int64_t keep_from = count == 0 ? first_offset() : summaries[count].base_offset;
  TruncatePrefix(keep_from, std::move(done));
}

void PartitionLog::RetireSegment(Segment& segment) {
  // Remembered until gone, to be abandoned with the log (bounded: expired ones are pruned).
  if (retired_.size() >= kRetiredSegmentCountMax) {
    std::erase_if(retired_, [](const std::weak_ptr<Segment>& s) { return s.expired(); });
  }
  retired_.push_back(segment.weak_from_this());
  segment.set_removed();
  segment.bump_generation();
  ++stats_.segments_deleted;
  segment.Close(Guarded([this](absl::Status status) {
    if (!status.ok()) Fail(std::move(status));
  }));
}

void PartitionLog::DeleteSegment(std::shared_ptr<Segment> segment, bool sync_directory_after) {
  RetireSegment(*segment);
  directory_dirty_ = true;
  directory_operations_.Enqueue([this, segment, sync_directory_after](SerialQueue::Next next) {
    // Only once its file is closed: an on-demand reopen in flight must not find it gone.
    // Popped from the back: log file, then index, then time index; missing index files are
    // expected (only sealed segments have them). The waiter holds the paths, not the segment
    // (which would then hold itself).
    std::vector<std::string> paths{segment->time_index_path(), segment->index_path(),
                                   segment->log_path()};
    segment->WhenClosed(Guarded([this, paths = std::move(paths), sync_directory_after,
                                 next = std::move(next)]() mutable {
      RemoveFilesThen(std::move(paths), [this, sync_directory_after,
                                         next = std::move(next)]() mutable {
        if (!sync_directory_after) return std::move(next)();
        disk_.SyncDirectory(directory_,
                            Guarded([this, next = std::move(next)](absl::Status status) mutable {
                              if (!status.ok()) Fail(std::move(status));
                              std::move(next)();
                            }));
      });
    }));
  });
}

void PartitionLog::WhenAllClosed(std::vector<std::shared_ptr<Segment>> segments,
                                 absl::AnyInvocable<void() &&> then) {
  if (segments.empty()) return std::move(then)();
  // The waiters share a count and `then`, and hold no segment.
  struct Pending {
    size_t count;
    absl::AnyInvocable<void() &&> then;
  };
  auto pending = std::make_shared<Pending>(Pending{segments.size(), std::move(then)});
  for (const std::shared_ptr<Segment>& segment : segments) {
    segment->WhenClosed([pending]() mutable {
      EDDY_CHECK_GT(pending->count, 0u);
      if (--pending->count == 0) std::move(pending->then)();
    });
  }
}

void PartitionLog::RemoveFilesThen(std::vector<std::string> paths, SerialQueue::Next then) {
  if (paths.empty()) return std::move(then)();
  std::string path = std::move(paths.back());
  paths.pop_back();
  // Each completion owns the rest of the work; nothing refers to itself, so a completion dropped
  // by the log's destruction (or a crash) frees everything it held.
  disk_.Remove(std::move(path), Guarded([this, paths = std::move(paths),
                                         then = std::move(then)](absl::Status status) mutable {
                 if (!status.ok() && !absl::IsNotFound(status)) Fail(std::move(status));
                 RemoveFilesThen(std::move(paths), std::move(then));
               }));
}

// --- Flushing -------------------------------------------------------------------------------

void PartitionLog::Flush(int64_t offset, Done done) {
  if (!failure_.ok()) return PostDone(std::move(done), failure_);
  const int64_t target = std::min(offset, last_offset());
  // A truncation not yet synced must become durable too, even below the flushed offset (a
  // sealed segment's index must never describe a cut its file may not have kept).
  if (target <= flushed_offset_ && truncation_epoch_ == durable_truncation_epoch_) {
    return PostDone(std::move(done), absl::OkStatus());
  }
  if (flush_waiters_.size() >= options_.flush_waiter_count_max) {
    return PostDone(std::move(done), absl::ResourceExhaustedError("too many pending flushes"));
  }
  flush_waiters_.emplace(target, FlushWaiter{truncation_epoch_, std::move(done)});
  if (!flush_round_running_) StartFlushRound();
}

void PartitionLog::StartFlushRound() {
  EDDY_CHECK(!flush_round_running_);
  flush_round_running_ = true;
  flush_round_target_ = last_offset();
  flush_round_truncation_epoch_ = truncation_epoch_;
  ++stats_.flush_rounds;
  // Parts of the round still running; the round itself holds one until everything is issued.
  auto pending = std::make_shared<int>(1);
  auto part_done = [this, pending](absl::Status status) {
    if (!status.ok()) Fail(std::move(status));
    EDDY_CHECK_GT(*pending, 0);
    if (--*pending == 0) FinishFlushRound();
  };
  for (const std::shared_ptr<Segment>& segment : segments_) {
    if (!segment->dirty()) continue;
    segment->set_dirty(false);
    ++*pending;
    ++stats_.syncs;
    segment->Sync(Guarded(part_done));
  }
  if (directory_dirty_) {
    directory_dirty_ = false;
    ++*pending;
    directory_operations_.Enqueue([this, part_done](SerialQueue::Next next) mutable {
      disk_.SyncDirectory(directory_,
                          Guarded([part_done, next = std::move(next)](absl::Status status) mutable {
                            part_done(std::move(status));
                            std::move(next)();
                          }));
    });
  }
  // Released through the loop so that a round with nothing to sync still completes later.
  clock_.Post(Guarded([part_done]() mutable { part_done(absl::OkStatus()); }));
}

void PartitionLog::FinishFlushRound() {
  EDDY_CHECK(flush_round_running_);
  flush_round_running_ = false;
  if (!failure_.ok()) return;  // Fail() answered the waiters
  flushed_offset_ = std::max(flushed_offset_, flush_round_target_);
  durable_truncation_epoch_ = std::max(durable_truncation_epoch_, flush_round_truncation_epoch_);
  std::vector<Done> ready;
  for (auto it = flush_waiters_.begin();
       it != flush_waiters_.end() && it->first <= flushed_offset_;) {
    if (it->second.truncation_epoch > durable_truncation_epoch_) {
      ++it;  // a truncation after this round started: the next round covers it
      continue;
    }
    ready.push_back(std::move(it->second.done));
    it = flush_waiters_.erase(it);
  }
  if (!flush_waiters_.empty()) StartFlushRound();
  for (Done& waiter : ready) std::move(waiter)(absl::OkStatus());
}

// --- Failure --------------------------------------------------------------------------------

void PartitionLog::Fail(absl::Status status) {
  EDDY_CHECK(!status.ok());
  if (!failure_.ok()) return;
  failure_ = std::move(status);
  std::multimap<int64_t, FlushWaiter> waiters = std::exchange(flush_waiters_, {});
  for (auto& [offset, waiter] : waiters) PostDone(std::move(waiter.done), failure_);
}

void PartitionLog::PostDone(Done done, absl::Status status) {
  clock_.Post(Guarded([done = std::move(done), status = std::move(status)]() mutable {
    std::move(done)(std::move(status));
  }));
}

// --- Raft's view ----------------------------------------------------------------------------

int64_t PartitionLog::first_offset() const { return segments_.front()->base_offset(); }

int64_t PartitionLog::next_offset() const { return active().next_offset(); }

int64_t PartitionLog::last_term() const {
  // Only the active segment can be empty, so at most two steps.
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (!(*it)->empty()) return (*it)->offset_index().last_term();
  }
  return 0;
}

namespace {

// The segment holding `offset` (the last one whose base is at or below it), or nullptr.
const std::shared_ptr<Segment>* SegmentHolding(
    const std::deque<std::shared_ptr<Segment>>& segments, int64_t offset) {
  auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                             [](int64_t value, const std::shared_ptr<Segment>& segment) {
                               return value < segment->base_offset();
                             });
  if (it == segments.begin()) return nullptr;
  return &*std::prev(it);
}

}  // namespace

std::shared_ptr<Segment> PartitionLog::SharedSegmentFor(int64_t offset) const {
  const std::shared_ptr<Segment>* found = SegmentHolding(segments_, offset);
  return found == nullptr ? nullptr : *found;
}

const Segment* PartitionLog::SegmentFor(int64_t offset) const {
  const std::shared_ptr<Segment>* found = SegmentHolding(segments_, offset);
  return found == nullptr ? nullptr : found->get();
}

std::optional<BatchLocation> PartitionLog::FindBatch(int64_t offset) const {
  const Segment* segment = SegmentFor(offset);
  if (segment == nullptr) return std::nullopt;
  return segment->offset_index().Find(offset);
}

std::optional<int64_t> PartitionLog::SegmentBaseFor(int64_t offset) const {
  if (!FindBatch(offset).has_value()) return std::nullopt;
  return SegmentFor(offset)->base_offset();
}

std::optional<int64_t> PartitionLog::TermAt(int64_t offset) const {
  if (offset == -1) return 0;
  const std::optional<BatchLocation> location = FindBatch(offset);
  if (!location.has_value()) return std::nullopt;
  return location->term;
}

std::optional<int64_t> PartitionLog::LastOffsetBefore(int64_t offset) const {
  if (offset == next_offset()) return last_offset();
  const std::optional<BatchLocation> location = FindBatch(offset);
  if (!location.has_value()) return std::nullopt;
  return location->base_offset - 1;
}

// --- Kafka offsets --------------------------------------------------------------------------

std::optional<int64_t> PartitionLog::HiddenCountBefore(int64_t offset) const {
  const int64_t origin = segments_.front()->hidden_count_before();
  if (offset == next_offset()) return active().hidden_count_through() - origin;
  const Segment* segment = SegmentFor(offset);
  if (segment == nullptr) return std::nullopt;
  // Only the batch's number is needed, not its whole location.
  const std::optional<size_t> index = segment->offset_index().IndexOf(offset);
  if (!index.has_value()) return std::nullopt;
  const int64_t count =
      segment->hidden_count_before() - origin +
      static_cast<int64_t>(segment->offset_index().HiddenCountBefore(*index));
  EDDY_CHECK_GE(count, 0);
  EDDY_CHECK_LE(count, offset - first_offset());
  return count;
}

std::optional<int64_t> PartitionLog::HiddenBaseFor(const KafkaAnchor& anchor) const {
  const std::optional<int64_t> below = HiddenCountBefore(anchor.offset);
  if (!below.has_value()) return std::nullopt;
  const int64_t hidden_base = anchor.hidden_count - *below;
  // At most one hidden batch per offset below the log start.
  if (hidden_base < 0 || hidden_base > first_offset()) return std::nullopt;
  return hidden_base;
}

std::optional<int64_t> PartitionLog::KafkaOffsetFor(int64_t offset, int64_t hidden_base) const {
  CheckHiddenBase(hidden_base);
  const std::optional<int64_t> hidden = HiddenCountBefore(offset);
  if (!hidden.has_value()) return std::nullopt;
  return offset - hidden_base - *hidden;
}

void PartitionLog::CheckHiddenBase(int64_t hidden_base) const {
  EDDY_CHECK_GE(hidden_base, 0);
  EDDY_CHECK_LE(hidden_base, first_offset());
}

KafkaBatch PartitionLog::MakeKafkaBatch(const Segment& segment, const BatchLocation& location,
                                        int64_t hidden_base) const {
  const int64_t hidden_before =
      segment.hidden_count_before() - segments_.front()->hidden_count_before() +
      static_cast<int64_t>(segment.offset_index().HiddenCountBefore(location.index));
  KafkaBatch batch;
  batch.location = location;
  batch.kafka_base_offset = location.base_offset - hidden_base - hidden_before;
  batch.kafka_last_offset = location.hidden ? batch.kafka_base_offset - 1
                                            : batch.kafka_base_offset +
                                                  (location.last_offset - location.base_offset);
  EDDY_CHECK_GE(batch.kafka_base_offset, 0);
  return batch;
}

std::optional<KafkaBatch> PartitionLog::KafkaBatchAt(int64_t offset, int64_t hidden_base) const {
  CheckHiddenBase(hidden_base);
  const Segment* segment = SegmentFor(offset);
  if (segment == nullptr) return std::nullopt;
  const std::optional<BatchLocation> location = segment->offset_index().Find(offset);
  if (!location.has_value()) return std::nullopt;
  return MakeKafkaBatch(*segment, *location, hidden_base);
}

std::optional<KafkaBatch> PartitionLog::FindKafkaBatch(int64_t kafka_offset,
                                                       int64_t hidden_base) const {
  CheckHiddenBase(hidden_base);
  if (kafka_offset >= *KafkaOffsetFor(next_offset(), hidden_base)) return std::nullopt;
  const int64_t kafka = std::max(kafka_offset, *KafkaOffsetFor(first_offset(), hidden_base));
  // In running coordinates (hidden counts from the first segment's origin), the data offsets
  // before Raft offset r are D(r) = r - running hidden count before r, and the Kafka offset of
  // r is D(r) - shift. D of segment bases never decreases: the segment holding data offset d
  // is the last one whose base has D <= d (an all-hidden segment shares its D with the next).
  const int64_t shift = hidden_base - segments_.front()->hidden_count_before();
  const int64_t data_offset = kafka + shift;
  auto data_before = [](const Segment& segment) {
    return segment.base_offset() - segment.hidden_count_before();
  };
  auto after = std::partition_point(segments_.begin(), segments_.end(),
                                    [&](const std::shared_ptr<Segment>& segment) {
                                      return data_before(*segment) <= data_offset;
                                    });
  EDDY_CHECK(after != segments_.begin());
  const Segment& segment = **std::prev(after);
  const std::optional<BatchLocation> location = segment.offset_index().FindDataOffset(
      static_cast<uint64_t>(data_offset - data_before(segment)));
  EDDY_CHECK(location.has_value());  // below the Kafka log end, so some data batch holds it
  KafkaBatch batch = MakeKafkaBatch(segment, *location, hidden_base);
  EDDY_CHECK_GE(batch.kafka_last_offset, kafka);
  EDDY_CHECK(!batch.location.hidden);
  return batch;
}

std::optional<int64_t> PartitionLog::OffsetForTimestamp(int64_t timestamp_ms) const {
  for (const std::shared_ptr<Segment>& segment : segments_) {
    const std::optional<int64_t> max_timestamp = segment->time_index().max_timestamp();
    if (max_timestamp.has_value() && *max_timestamp >= timestamp_ms) {
      return segment->time_index().Lookup(timestamp_ms);
    }
  }
  return std::nullopt;
}

uint64_t PartitionLog::size_bytes() const {
  uint64_t total = 0;
  for (const std::shared_ptr<Segment>& segment : segments_) total += segment->size_bytes();
  return total;
}

void PartitionLog::CheckInvariants() const {
  EDDY_CHECK(!segments_.empty());
  const Segment* previous = nullptr;
  for (const std::shared_ptr<Segment>& segment : segments_) {
    EDDY_CHECK(!segment->removed());
    if (previous != nullptr) {
      EDDY_CHECK_EQ(segment->base_offset(), previous->next_offset());
      EDDY_CHECK(!previous->empty());
      EDDY_CHECK_EQ(segment->hidden_count_before(), previous->hidden_count_through());
    }
    previous = segment.get();
  }
  EDDY_CHECK_LE(flushed_offset_, last_offset());
}

}  // namespace eddy::log
