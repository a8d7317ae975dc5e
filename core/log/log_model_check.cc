#include "core/log/log_model_check.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/check.h"
#include "core/log/partition_log.h"
#include "core/log/test_batches.h"
#include "core/record/batch_header.h"
#include "rapidcheck.h"
#include "sim/loop/await.h"

namespace eddy::log::testing {
namespace {

// A uniform draw from [low, high), whatever RapidCheck's current size (inRange alone scales the
// range down with the size, which would starve the rarer operations in early cases).
template <typename T>
T Uniform(T low, T high) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(low, high));
}

struct ModelBatch {
  int64_t base_offset;
  int64_t last_offset;
  int64_t term;
  std::vector<uint8_t> bytes;  // as stored: offsets and term filled in
  bool hidden = false;         // a Raft-internal batch (IsRaftInternalTestBatch)
};

class ModelCase {
 public:
  ModelCase(ModelCheckWorld& world, size_t open_file_count_max) : world_(world) {
    if (open_file_count_max > 0) {
      options_.file_cache = std::make_shared<FileCache>(open_file_count_max);
    }
  }

  void Run() {
    options_.segment_size_bytes_max = Uniform<uint64_t>(200, 3000);
    options_.is_hidden = IsRaftInternalTestBatch;
    Reopen();
    const int steps = *rc::gen::inRange(1, 80);  // grows with RapidCheck's size
    for (int step = 0; step < steps; ++step) {
      const int choice = Uniform<int>(0, 100);
      if (choice < 30) {
        LeaderAppend();
      } else if (choice < 40) {
        FollowerAppend();
      } else if (choice < 55) {
        Read();
      } else if (choice < 63) {
        TruncateSuffix();
      } else if (choice < 66) {
        TruncatePrefix();
      } else if (choice < 68) {
        ResetTo(/*await=*/Uniform<int>(0, 2) == 0);
      } else if (choice < 80) {
        Flush(/*await=*/true);
      } else if (choice < 86) {
        Flush(/*await=*/false);
      } else if (choice < 89) {
        CleanReopen();
      } else if (choice < 95 && world_.can_crash()) {
        CrashAndRecover();
      } else {
        world_.loop().RunFor(Duration::Microseconds(Uniform<int>(0, 200)));
      }
      CheckView();
    }
    RC_ASSERT(Await([&](auto done) { log_->Flush(log_->last_offset(), std::move(done)); }).ok());
    CheckContents();
    if (options_.file_cache != nullptr) {
      // Idle and synced: the budget holds exactly.
      world_.loop().RunUntilIdle();
      RC_ASSERT(options_.file_cache->open_file_count() <= options_.file_cache->open_file_count_max());
      RC_CLASSIFY(options_.file_cache->stats().evictions > 0, "segment files evicted");
    }
    // Shows in RapidCheck's summary that the interesting paths are taken.
    RC_CLASSIFY(crashes_ > 0, "crashed");
    RC_CLASSIFY(torn_recoveries_ > 0, "recovery truncated a tail");
    RC_CLASSIFY(lost_unflushed_ > 0, "crash lost unflushed batches");
    RC_CLASSIFY(resets_ > 0, "reset");
    RC_CLASSIFY(crash_kept_old_log_ > 0, "crash during a reset kept the old log");
    RC_CLASSIFY(crash_during_reset_ > crash_kept_old_log_, "crash during a reset kept the new log");
  }

 private:
  template <typename Submit>
  absl::Status Await(Submit submit) {
    return sim::AwaitStatus(world_.loop(), std::move(submit));
  }

  int64_t model_next() const {
    return model_.empty() ? first_offset_ : model_.back().last_offset + 1;
  }
  int64_t model_last_term() const { return model_.empty() ? 0 : model_.back().term; }

  // One in five is hidden (a Raft no-op: one record, control, producerEpoch 1).
  std::vector<uint8_t> NewBatch(int64_t base, int64_t term) {
    if (Uniform<int>(0, 5) == 0) return MakeHiddenTestBatch(base, term, ++fill_seed_);
    return MakeTestBatch({.base_offset = base,
                          .record_count = Uniform<int>(1, 6),
                          .term = term,
                          .payload_size_bytes = Uniform<uint32_t>(0, 400),
                          .max_timestamp_ms = Uniform<int64_t>(0, 1000),
                          .fill_seed = ++fill_seed_});
  }

  void Accept(std::vector<uint8_t> stored) {
    const auto header = record::ParseBatchHeader(stored);
    RC_ASSERT(header.ok());
    ModelBatch batch{header->base_offset, header->last_offset(), header->partition_leader_epoch,
                     std::move(stored), IsRaftInternalTestBatch(*header)};
    RC_ASSERT(batch.base_offset == model_next());
    history_[batch.base_offset].insert(batch.bytes);
    model_.push_back(std::move(batch));
  }

  void LeaderAppend() {
    if (Uniform<int>(0, 10) == 0) ++term_;
    if (model_last_term() > 0 && Uniform<int>(0, 20) == 0) {
      // A stale leader is refused and changes nothing.
      if (model_last_term() > 1) {
        RC_ASSERT(log_->AppendAsLeader(NewBatch(0, 1), model_last_term() - 1).status().code() ==
                  absl::StatusCode::kFailedPrecondition);
      }
      return;
    }
    std::vector<uint8_t> batch = NewBatch(/*base=*/987654, /*term=*/0);  // the log rewrites both
    auto result = log_->AppendAsLeader(batch, term_);
    RC_ASSERT(result.ok());
    RC_LOG() << "leader append [" << result->base_offset << "," << result->last_offset << "] term "
             << term_ << " size " << batch.size() << "\n";
    RC_ASSERT(result->base_offset == model_next());
    record::SetBaseOffset(batch, result->base_offset);
    record::SetPartitionLeaderEpoch(batch, static_cast<int32_t>(term_));
    Accept(std::move(batch));
  }

  void FollowerAppend() {
    if (Uniform<int>(0, 10) == 0) ++term_;
    if (Uniform<int>(0, 8) == 0) {
      const int64_t wrong = model_next() + *rc::gen::element<int64_t>(-1, 1, 5);
      if (wrong >= 0) {
        RC_ASSERT(log_->AppendAsFollower(NewBatch(wrong, term_)).status().code() ==
                  absl::StatusCode::kFailedPrecondition);
      }
      return;
    }
    std::vector<uint8_t> batch = NewBatch(model_next(), term_);
    RC_ASSERT(log_->AppendAsFollower(batch).ok());
    RC_LOG() << "follower append at " << model_next() << " term " << term_ << " size "
             << batch.size() << "\n";
    Accept(std::move(batch));
  }

  // Index in model_ of the batch containing `offset`.
  std::optional<size_t> ModelFind(int64_t offset) const {
    for (size_t i = 0; i < model_.size(); ++i) {
      if (model_[i].base_offset <= offset && offset <= model_[i].last_offset) return i;
    }
    return std::nullopt;
  }

  void Read() {
    const int64_t offset = Uniform<int64_t>(first_offset_ - 1, model_next() + 2);
    const uint64_t budget = Uniform<uint64_t>(0, 2000);
    auto read = sim::AwaitValue<ReadResult>(
        world_.loop(), [&](auto done) { log_->Read(offset, budget, std::move(done)); });
    if (offset == model_next()) {
      RC_ASSERT(read.ok());
      RC_ASSERT(read->bytes.empty());
      return;
    }
    const std::optional<size_t> start = ModelFind(offset);
    if (!start.has_value()) {
      RC_ASSERT(read.status().code() == absl::StatusCode::kOutOfRange);
      return;
    }
    RC_ASSERT(read.ok());
    RC_ASSERT(read->batch_count >= 1u);
    std::vector<uint8_t> expected;
    for (size_t i = *start; i < *start + read->batch_count; ++i) {
      RC_ASSERT(i < model_.size());
      expected.insert(expected.end(), model_[i].bytes.begin(), model_[i].bytes.end());
    }
    RC_ASSERT(read->bytes == expected);
    RC_ASSERT(read->next_offset == model_[*start + read->batch_count - 1].last_offset + 1);
    if (read->batch_count > 1) RC_ASSERT(read->bytes.size() <= budget);
  }

  void TruncateSuffix() {
    const int64_t offset = Uniform<int64_t>(first_offset_, model_next() + 1);
    auto result = log_->TruncateSuffix(offset);
    RC_ASSERT(result.ok());
    RC_LOG() << "truncate suffix " << offset << " -> next " << *result << "\n";
    const std::optional<size_t> index = ModelFind(offset);
    if (index.has_value()) model_.resize(*index);
    RC_ASSERT(*result == model_next());
  }

  void TruncatePrefix() {
    const int64_t offset = Uniform<int64_t>(first_offset_, model_next() + 1);
    RC_ASSERT(Await([&](auto done) { log_->TruncatePrefix(offset, std::move(done)); }).ok());
    pending_outcomes_.clear();  // ordered after every earlier reset's directory steps
    const int64_t first = log_->first_offset();
    RC_LOG() << "truncate prefix " << offset << " -> first " << first << "\n";
    // Whole segments only: the new start is a batch boundary at or below `offset`.
    RC_ASSERT(first >= first_offset_);
    RC_ASSERT(first <= offset);
    if (offset == model_next()) RC_ASSERT(first == offset);
    while (!model_.empty() && model_.front().base_offset < first) {
      model_.erase(model_.begin());
    }
    RC_ASSERT((model_.empty() || model_.front().base_offset == first));
    first_offset_ = first;
  }

  // A log state a crash may still come back to: a reset (or several) was submitted after it
  // and is not known durable yet.
  struct Outcome {
    std::vector<ModelBatch> model;
    int64_t first_offset;
    int64_t flushed_offset;
  };

  void ResetTo(bool await) {
    const int64_t next = Uniform<int64_t>(0, model_next() + 50);
    RC_LOG() << "reset to " << next << (await ? " awaited" : " in flight") << "\n";
    if (await) {
      RC_ASSERT(Await([&](auto done) { log_->ResetTo(next, std::move(done)); }).ok());
      pending_outcomes_.clear();
    } else {
      pending_outcomes_.push_back(Outcome{model_, first_offset_, log_->flushed_offset()});
      log_->ResetTo(next, [](absl::Status) {});
    }
    ++resets_;
    model_.clear();
    first_offset_ = next;
    RC_ASSERT(log_->first_offset() == next);
    RC_ASSERT(log_->next_offset() == next);
  }

  // Whether `recovered` (starting at `first`) may be what a crash left of `outcome`: the same
  // start, every batch the outcome had flushed kept byte for byte, nothing invented.
  bool Matches(const std::vector<ModelBatch>& recovered, int64_t first,
               const Outcome& outcome) {
    if (first != outcome.first_offset) return false;
    for (size_t i = 0; i < outcome.model.size(); ++i) {
      if (outcome.model[i].last_offset > outcome.flushed_offset) break;
      if (i >= recovered.size() || recovered[i].bytes != outcome.model[i].bytes) return false;
    }
    for (const ModelBatch& batch : recovered) {
      if (history_[batch.base_offset].count(batch.bytes) != 1u) return false;
    }
    return true;
  }

  void Flush(bool await) {
    const int64_t offset = Uniform<int64_t>(first_offset_ - 1, model_next() + 1);
    RC_LOG() << "flush " << offset << (await ? " awaited" : " in flight") << "\n";
    if (!await) {
      log_->Flush(offset, [](absl::Status) {});
      return;
    }
    RC_ASSERT(Await([&](auto done) { log_->Flush(offset, std::move(done)); }).ok());
    RC_ASSERT(log_->flushed_offset() >= std::min(offset, model_next() - 1));
    pending_outcomes_.clear();  // a flush covers every reset submitted before it
  }

  void CleanReopen() {
    RC_LOG() << "clean reopen\n";
    world_.loop().RunUntilIdle();  // every write lands; nothing is lost without a crash
    pending_outcomes_.clear();
    Reopen();
    RC_ASSERT(report_.bytes_truncated == 0u);
    CheckContents();
  }

  void CrashAndRecover() {
    const int64_t flushed = log_->flushed_offset();
    Random random(*rc::gen::arbitrary<uint64_t>());
    sim::CrashOptions crash;
    crash.keep_unsynced_prefix = *rc::gen::arbitrary<bool>();
    crash.tear_last_sector = *rc::gen::arbitrary<bool>();
    RC_LOG() << "crash (flushed " << flushed << ", keep " << crash.keep_unsynced_prefix << ", tear "
             << crash.tear_last_sector << ")\n";
    world_.Crash(crash, random);
    log_.reset();
    Reopen();
    RC_LOG() << "  recovered next " << log_->next_offset() << " truncated "
             << report_.bytes_truncated << " " << report_.first_defect << "\n";
    ++crashes_;
    if (report_.bytes_truncated > 0) ++torn_recoveries_;
    std::vector<ModelBatch> recovered = ReadEverything();
    const int64_t first = log_->first_offset();
    // The current state, or one that a reset still in flight at the crash would leave.
    const Outcome current{model_, first_offset_, flushed};
    if (!pending_outcomes_.empty()) ++crash_during_reset_;
    if (!Matches(recovered, first, current)) {
      // The log start never moves back otherwise: every prefix truncation was awaited, so it
      // is durable.
      bool matched = false;
      for (const Outcome& outcome : pending_outcomes_) {
        if (Matches(recovered, first, outcome)) {
          matched = true;
          ++crash_kept_old_log_;
          break;
        }
      }
      RC_LOG() << "  recovered first " << first << " matches an earlier state: " << matched
               << "\n";
      RC_ASSERT(matched);
      model_.clear();  // only for the lost_unflushed_ count below
    }
    pending_outcomes_.clear();
    first_offset_ = first;
    if (recovered.size() < model_.size()) ++lost_unflushed_;
    model_ = std::move(recovered);
  }

  void Reopen() {
    log_.reset();
    auto opened = sim::AwaitValue<PartitionLog::Opened>(world_.loop(), [&](auto done) {
      PartitionLog::Open(world_.loop(), world_.disk(), "log", options_, std::move(done));
    });
    RC_ASSERT(opened.ok());
    log_ = std::move(opened->log);
    report_ = opened->report;
  }

  // Every batch in the log, walking reads from first to next offset: dense by construction,
  // since each read must start exactly where the previous one ended.
  std::vector<ModelBatch> ReadEverything() {
    std::vector<ModelBatch> batches;
    int64_t offset = log_->first_offset();
    while (offset < log_->next_offset()) {
      auto read = sim::AwaitValue<ReadResult>(
          world_.loop(), [&](auto done) { log_->Read(offset, 1 << 20, std::move(done)); });
      RC_ASSERT(read.ok());
      std::span<const uint8_t> rest(read->bytes);
      while (!rest.empty()) {
        const auto header = record::ParseBatchHeader(rest);
        RC_ASSERT(header.ok());
        RC_ASSERT(header->base_offset == offset);
        RC_ASSERT(record::VerifyBatchCrc(rest.first(header->size_bytes())).ok());
        const auto bytes = rest.first(header->size_bytes());
        batches.push_back({header->base_offset,
                           header->last_offset(),
                           header->partition_leader_epoch,
                           {bytes.begin(), bytes.end()},
                           IsRaftInternalTestBatch(*header)});
        offset = header->last_offset() + 1;
        rest = rest.subspan(header->size_bytes());
      }
      RC_ASSERT(read->next_offset == offset);
    }
    RC_ASSERT(offset == log_->next_offset());
    return batches;
  }

  void CheckContents() {
    std::vector<ModelBatch> actual = ReadEverything();
    RC_ASSERT(actual.size() == model_.size());
    for (size_t i = 0; i < actual.size(); ++i) RC_ASSERT(actual[i].bytes == model_[i].bytes);
  }

  void CheckView() {
    RC_ASSERT(log_->first_offset() == first_offset_);
    RC_ASSERT(log_->next_offset() == model_next());
    RC_ASSERT(log_->last_term() == model_last_term());
    RC_ASSERT(log_->flushed_offset() <= log_->last_offset());
    for (int probe = 0; probe < 3; ++probe) {
      const int64_t offset = Uniform<int64_t>(first_offset_ - 1, model_next() + 2);
      const std::optional<size_t> index = ModelFind(offset);
      if (index.has_value()) {
        RC_ASSERT(log_->TermAt(offset) == std::optional<int64_t>(model_[*index].term));
        RC_ASSERT(log_->LastOffsetBefore(offset) ==
                  std::optional<int64_t>(model_[*index].base_offset - 1));
      } else if (offset == -1) {
        RC_ASSERT(log_->TermAt(offset) == std::optional<int64_t>(0));
      } else {
        RC_ASSERT(!log_->TermAt(offset).has_value());
      }
      if (offset == model_next()) {
        RC_ASSERT(log_->LastOffsetBefore(offset) == std::optional<int64_t>(model_next() - 1));
      }
      // Hidden batches counted from the log start (the log may hold none of the model's).
      if (offset >= first_offset_ && offset <= model_next()) {
        int64_t hidden = 0;
        for (const ModelBatch& batch : model_) {
          if (batch.base_offset < offset && batch.hidden) ++hidden;
        }
        RC_ASSERT(log_->HiddenCountBefore(offset) == std::optional<int64_t>(hidden));
      } else {
        RC_ASSERT(!log_->HiddenCountBefore(offset).has_value());
      }
    }
  }

  ModelCheckWorld& world_;
  LogOptions options_;
  std::unique_ptr<PartitionLog> log_;
  RecoveryReport report_;
  std::vector<ModelBatch> model_;
  std::map<int64_t, std::set<std::vector<uint8_t>>> history_;
  int64_t first_offset_ = 0;
  int64_t term_ = 1;
  uint64_t fill_seed_ = 0;
  int crashes_ = 0;
  int torn_recoveries_ = 0;
  int lost_unflushed_ = 0;
  int resets_ = 0;
  int crash_during_reset_ = 0;
  int crash_kept_old_log_ = 0;
  std::vector<Outcome> pending_outcomes_;
};

}  // namespace

void RunLogModelCase(const std::function<std::unique_ptr<ModelCheckWorld>()>& make_world,
                     size_t open_file_count_max) {
  std::unique_ptr<ModelCheckWorld> world = make_world();
  ModelCase(*world, open_file_count_max).Run();
}

}  // namespace eddy::log::testing
