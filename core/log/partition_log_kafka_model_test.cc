// PartitionLog's Kafka offsets against a model, as RapidCheck command sequences (rc::state) on a
// SimDisk that crashes with torn tails. The commands are what a Raft replica does to its log:
// data appends and a new leader's no-op (as leader or as follower), membership entries (and a refused hidden batch of two
// offsets), flushes, commits (of flushed batches), conflict truncations (of uncommitted batches),
// retention (a snapshot point at a committed batch, then TruncatePrefix), snapshot installs
// (ResetTo at or beyond the committed end, with the hidden count a leader would send), crashes
// with recovery, clean reopens, and Kafka fetches.
//
// The model is a std::vector of batches, each with the Kafka offset it was given WHEN APPENDED
// (never recomputed), plus the snapshot anchor (start offset, hidden count below it). After every
// command it checks, through HiddenBaseFor(anchor) only:
// * every surviving batch still has the Kafka range it was appended with (so the Kafka offsets of
//   surviving data records never change), and HiddenCountBefore agrees with the model;
// * every Kafka offset from the Kafka log start to the Kafka log end lies in exactly one data
//   batch, and FindKafkaBatch finds that batch (dense, one record per offset); nothing at the end;
// * the Kafka log start and the Kafka high watermark (Kafka offset of the committed end) never go
//   backwards, under any command; the Kafka log end never goes backwards except by a command that
//   removes uncommitted batches (conflict truncation, crash, install), and never below the
//   high watermark;
// * a crash keeps every flushed batch byte for byte;
// * ReadKafka returns a non-empty prefix of the model's data batches from the fetch offset below
//   the end asked for, each byte for byte as stored but for baseOffset = its Kafka offset.
// A second property runs the same with a FileCache of one or two files (evictions and on-demand
// reopens throughout). Budget: RapidCheck's default (100 sequences); for a big run:
//   RC_PARAMS="max_success=5000" bazel test //core/log:partition_log_kafka_model_test

#include <memory>
#include <optional>
#include <vector>

#include "core/base/random.h"
#include "core/log/partition_log.h"
#include "core/log/test_batches.h"
#include "core/record/batch_header.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "rapidcheck/state.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log {
namespace {

using testing::IsRaftInternalTestBatch;
using testing::MakeTestBatch;

struct ModelBatch {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  bool hidden = false;
  int64_t kafka_base_offset = 0;  // given at append, never recomputed
  std::vector<uint8_t> bytes;     // as stored: Raft offsets and term

  int64_t kafka_last_offset() const {
    return hidden ? kafka_base_offset - 1 : kafka_base_offset + (last_offset - base_offset);
  }
};

struct Model {
  uint64_t segment_size_bytes_max = 1000;
  // The snapshot anchor: the logical log starts at start_offset (snapshot point + 1), with
  // start_hidden hidden batches below it in the partition's history.
  int64_t start_offset = 0;
  int64_t start_hidden = 0;
  std::vector<ModelBatch> batches;  // from start_offset on
  size_t committed = 0;             // batches[0, committed) are committed (and flushed)
  size_t flushed = 0;               // batches[0, flushed) are known durable
  int64_t term = 1;
  uint64_t fill_seed = 0;

  int64_t next_offset() const {
    return batches.empty() ? start_offset : batches.back().last_offset + 1;
  }
  int64_t kafka_start() const { return start_offset - start_hidden; }
  int64_t kafka_next() const {
    return batches.empty() ? kafka_start() : batches.back().kafka_last_offset() + 1;
  }
  int64_t committed_end() const {
    return committed == 0 ? start_offset : batches[committed - 1].last_offset + 1;
  }
  int64_t kafka_high_watermark() const {
    return committed == 0 ? kafka_start() : batches[committed - 1].kafka_last_offset() + 1;
  }
  // Hidden batches below batches[count] (or below next_offset() for count == size).
  int64_t hidden_before(size_t count) const {
    int64_t hidden = start_hidden;
    for (size_t i = 0; i < count; ++i) hidden += batches[i].hidden ? 1 : 0;
    return hidden;
  }
  KafkaAnchor anchor() const { return {start_offset, start_hidden}; }

  // Appends a batch as the log stores it after a leader append in the current term.
  void Append(int32_t record_count, uint32_t payload_size_bytes, bool control,
              int16_t producer_epoch) {
    ModelBatch batch;
    batch.base_offset = next_offset();
    batch.last_offset = batch.base_offset + record_count - 1;
    batch.kafka_base_offset = kafka_next();
    batch.bytes = MakeTestBatch({.base_offset = batch.base_offset,
                                 .record_count = record_count,
                                 .term = term,
                                 .payload_size_bytes = payload_size_bytes,
                                 .max_timestamp_ms = batch.base_offset,
                                 .fill_seed = ++fill_seed,
                                 .control = control,
                                 .producer_epoch = producer_epoch});
    auto header = record::ParseBatchHeader(batch.bytes);
    EDDY_CHECK_OK(header.status());
    batch.hidden = IsRaftInternalTestBatch(*header);
    batches.push_back(std::move(batch));
  }
};

// The log under test, its world, and the Kafka positions seen so far.
struct Sut {
  // open_file_count_max > 0: a FileCache of that many files, shared across reopens.
  explicit Sut(uint64_t segment_size_bytes_max, size_t open_file_count_max = 0) {
    options.segment_size_bytes_max = segment_size_bytes_max;
    options.is_hidden = IsRaftInternalTestBatch;
    if (open_file_count_max > 0) {
      options.file_cache = std::make_shared<FileCache>(open_file_count_max);
    }
    Reopen();
  }

  void Reopen() {
    log.reset();
    auto opened = sim::AwaitValue<PartitionLog::Opened>(loop, [&](auto done) {
      PartitionLog::Open(loop, disk, "p", options, std::move(done));
    });
    RC_ASSERT(opened.ok());
    log = std::move(opened->log);
    if (opened->report.segments_loaded > 0) ++sealed_loads;
  }

  int64_t HiddenBase(const Model& model) const {
    const std::optional<int64_t> hidden_base = log->HiddenBaseFor(model.anchor());
    RC_ASSERT(hidden_base.has_value());
    return *hidden_base;
  }

  sim::SimLoop loop;
  sim::SimDisk disk{loop};
  LogOptions options;
  std::unique_ptr<PartitionLog> log;
  int64_t kafka_start_seen = 0;
  int64_t kafka_high_watermark_seen = 0;
  int64_t kafka_end_seen = 0;
  // Coverage, shown in RapidCheck's summary.
  int sealed_loads = 0;
  int crashes_that_cut = 0;
  size_t segment_count_max = 0;
};

// The checks listed at the top. `removes_uncommitted`: the command may have removed batches
// after the committed end, so the Kafka log end may go back (never below the high watermark).
void CheckKafka(const Model& model, Sut& sut, bool removes_uncommitted) {
  const PartitionLog& log = *sut.log;
  RC_ASSERT(log.first_offset() <= model.start_offset);
  RC_ASSERT(log.next_offset() == model.next_offset());
  const int64_t hidden_base = sut.HiddenBase(model);
  RC_ASSERT(log.KafkaOffsetFor(model.start_offset, hidden_base) == model.kafka_start());
  RC_ASSERT(log.KafkaOffsetFor(model.next_offset(), hidden_base) == model.kafka_next());
  RC_ASSERT(log.KafkaOffsetFor(model.committed_end(), hidden_base) ==
            model.kafka_high_watermark());
  for (size_t i = 0; i < model.batches.size(); ++i) {
    const ModelBatch& expected = model.batches[i];
    const std::optional<KafkaBatch> batch = log.KafkaBatchAt(expected.base_offset, hidden_base);
    RC_ASSERT(batch.has_value());
    RC_ASSERT(batch->location.base_offset == expected.base_offset);
    RC_ASSERT(batch->location.last_offset == expected.last_offset);
    RC_ASSERT(batch->location.hidden == expected.hidden);
    RC_ASSERT(batch->kafka_base_offset == expected.kafka_base_offset);
    RC_ASSERT(batch->kafka_last_offset == expected.kafka_last_offset());
    RC_ASSERT(hidden_base + *log.HiddenCountBefore(expected.base_offset) ==
              model.hidden_before(i));
  }
  // Each Kafka offset: exactly one data batch of the model holds it, and the log finds it.
  for (int64_t kafka = model.kafka_start(); kafka < model.kafka_next(); ++kafka) {
    const ModelBatch* owner = nullptr;
    for (const ModelBatch& batch : model.batches) {
      if (batch.hidden || batch.kafka_base_offset > kafka || batch.kafka_last_offset() < kafka) {
        continue;
      }
      RC_ASSERT(owner == nullptr);
      owner = &batch;
    }
    RC_ASSERT(owner != nullptr);
    const std::optional<KafkaBatch> found = log.FindKafkaBatch(kafka, hidden_base);
    RC_ASSERT(found.has_value());
    RC_ASSERT(found->location.base_offset == owner->base_offset);
  }
  RC_ASSERT(!log.FindKafkaBatch(model.kafka_next(), hidden_base).has_value());
  RC_ASSERT(model.kafka_start() >= sut.kafka_start_seen);
  RC_ASSERT(model.kafka_high_watermark() >= sut.kafka_high_watermark_seen);
  RC_ASSERT(model.kafka_next() >= model.kafka_high_watermark());
  if (!removes_uncommitted) RC_ASSERT(model.kafka_next() >= sut.kafka_end_seen);
  sut.kafka_start_seen = model.kafka_start();
  sut.kafka_high_watermark_seen = model.kafka_high_watermark();
  sut.kafka_end_seen = model.kafka_next();
  sut.segment_count_max = std::max(sut.segment_count_max, log.segment_count());
}

using Command = rc::state::Command<Model, Sut>;

// Appends the model's new last batch as a leader (which assigns the offset) or as a follower
// (which receives it with its offsets and term).
void AppendAsModel(const Model& after, bool as_follower, Sut& sut) {
  const ModelBatch& expected = after.batches.back();
  std::vector<uint8_t> batch = expected.bytes;
  absl::StatusOr<AppendResult> appended;
  if (as_follower) {
    appended = sut.log->AppendAsFollower(std::move(batch));
  } else {
    record::SetBaseOffset(batch, 424242);  // the leader append assigns it
    appended = sut.log->AppendAsLeader(std::move(batch), after.term);
  }
  RC_ASSERT(appended.ok());
  RC_ASSERT(appended->base_offset == expected.base_offset);
}

struct AppendData : Command {
  int32_t record_count = *rc::gen::inRange(1, 6);
  uint32_t payload_size_bytes = *rc::gen::inRange<uint32_t>(0, 300);
  bool as_follower = *rc::gen::arbitrary<bool>();
  void apply(Model& model) const override {
    model.Append(record_count, payload_size_bytes, /*control=*/false, -1);
  }
  void run(const Model& model, Sut& sut) const override {
    const Model after = nextState(model);
    AppendAsModel(after, as_follower, sut);
    CheckKafka(after, sut, false);
  }
  void show(std::ostream& os) const override {
    os << "AppendData(" << record_count << " records" << (as_follower ? ", follower" : "")
       << ")";
  }
};

// A new leader: the term goes up and its first entry is a no-op (hidden).
struct NewLeader : Command {
  bool as_follower = *rc::gen::arbitrary<bool>();
  void apply(Model& model) const override {
    ++model.term;
    model.Append(1, 16, /*control=*/true, /*producer_epoch=*/1);
  }
  void run(const Model& model, Sut& sut) const override {
    const Model after = nextState(model);
    AppendAsModel(after, as_follower, sut);
    CheckKafka(after, sut, false);
  }
  void show(std::ostream& os) const override {
    os << "NewLeader" << (as_follower ? "(follower)" : "");
  }
};

// A membership entry (hidden), or a malformed one covering two offsets that the log refuses.
struct AppendConfChange : Command {
  bool malformed = *rc::gen::inRange(0, 5) == 0;
  void apply(Model& model) const override {
    if (!malformed) model.Append(1, 24, /*control=*/true, /*producer_epoch=*/2);
  }
  void run(const Model& model, Sut& sut) const override {
    const Model after = nextState(model);
    if (malformed) {
      const auto wide = MakeTestBatch(
          {.record_count = 2, .term = model.term, .control = true, .producer_epoch = 2});
      RC_ASSERT(sut.log->AppendAsLeader(wide, model.term).status().code() ==
                absl::StatusCode::kInvalidArgument);
    } else {
      AppendAsModel(after, /*as_follower=*/false, sut);
    }
    CheckKafka(after, sut, false);
  }
  void show(std::ostream& os) const override {
    os << "AppendConfChange" << (malformed ? "(malformed)" : "");
  }
};

struct Flush : Command {
  void apply(Model& model) const override { model.flushed = model.batches.size(); }
  void run(const Model& model, Sut& sut) const override {
    RC_ASSERT(sim::AwaitStatus(sut.loop, [&](auto done) {
                sut.log->Flush(sut.log->last_offset(), std::move(done));
              }).ok());
    CheckKafka(nextState(model), sut, false);
  }
  void show(std::ostream& os) const override { os << "Flush"; }
};

// Raft commits flushed batches (a replica acknowledges only what it made durable).
struct Commit : Command {
  size_t count;
  explicit Commit(const Model& model) {
    RC_PRE(model.flushed > model.committed);
    count = *rc::gen::inRange<size_t>(1, model.flushed - model.committed + 1);
  }
  void checkPreconditions(const Model& model) const override {
    RC_PRE(model.committed + count <= model.flushed);
  }
  void apply(Model& model) const override { model.committed += count; }
  void run(const Model& model, Sut& sut) const override {
    CheckKafka(nextState(model), sut, false);
  }
  void show(std::ostream& os) const override { os << "Commit(" << count << " batches)"; }
};

// A Raft conflict: the batch holding `offset` (uncommitted) and everything after it go.
struct TruncateSuffix : Command {
  int64_t offset;
  explicit TruncateSuffix(const Model& model) {
    RC_PRE(model.committed_end() < model.next_offset());
    offset = *rc::gen::inRange<int64_t>(model.committed_end(), model.next_offset());
  }
  void checkPreconditions(const Model& model) const override {
    RC_PRE(offset >= model.committed_end() && offset < model.next_offset());
  }
  void apply(Model& model) const override {
    size_t keep = 0;
    while (model.batches[keep].last_offset < offset) ++keep;
    model.batches.resize(keep);
    model.flushed = std::min(model.flushed, keep);
  }
  void run(const Model& model, Sut& sut) const override {
    const Model after = nextState(model);
    auto cut = sut.log->TruncateSuffix(offset);
    RC_ASSERT(cut.ok());
    RC_ASSERT(*cut == after.next_offset());
    CheckKafka(after, sut, true);
  }
  void show(std::ostream& os) const override { os << "TruncateSuffix(" << offset << ")"; }
};

// Retention: a snapshot point at committed batch `point` (its last offset), then the prefix goes.
struct Retain : Command {
  int64_t point;
  explicit Retain(const Model& model) {
    RC_PRE(model.committed > 0);
    point = model.batches[*rc::gen::inRange<size_t>(0, model.committed)].last_offset;
  }
  size_t Through(const Model& model) const {
    for (size_t i = 0; i < model.committed; ++i) {
      if (model.batches[i].last_offset == point) return i + 1;
    }
    return 0;
  }
  void checkPreconditions(const Model& model) const override { RC_PRE(Through(model) > 0u); }
  void apply(Model& model) const override {
    const size_t through = Through(model);
    model.start_hidden = model.hidden_before(through);
    model.start_offset = point + 1;
    model.batches.erase(model.batches.begin(),
                        model.batches.begin() + static_cast<ptrdiff_t>(through));
    model.committed -= through;
    model.flushed -= through;
  }
  void run(const Model& model, Sut& sut) const override {
    const Model after = nextState(model);
    // The driver computes the point's hidden count from the log before truncating.
    const int64_t hidden_base = sut.HiddenBase(model);
    RC_ASSERT(hidden_base + *sut.log->HiddenCountBefore(point + 1) == after.start_hidden);
    RC_ASSERT(sim::AwaitStatus(sut.loop, [&](auto done) {
                sut.log->TruncatePrefix(point + 1, std::move(done));
              }).ok());
    CheckKafka(after, sut, false);
  }
  void show(std::ostream& os) const override { os << "Retain(point " << point << ")"; }
};

// A snapshot install: a leader's point `gap` offsets past this replica's committed end, with
// `gap_hidden` hidden batches among them; the log restarts empty after it.
struct Install : Command {
  int64_t gap = *rc::gen::inRange<int64_t>(0, 30);
  int64_t gap_hidden = *rc::gen::inRange<int64_t>(0, gap + 1);
  void apply(Model& model) const override {
    const int64_t start = model.committed_end() + gap;
    model.start_hidden = model.hidden_before(model.committed) + gap_hidden;
    model.start_offset = start;
    model.batches.clear();
    model.committed = 0;
    model.flushed = 0;
  }
  void run(const Model& model, Sut& sut) const override {
    const Model after = nextState(model);
    RC_ASSERT(sim::AwaitStatus(sut.loop, [&](auto done) {
                sut.log->ResetTo(after.start_offset, std::move(done));
              }).ok());
    CheckKafka(after, sut, true);
  }
  void show(std::ostream& os) const override {
    os << "Install(gap " << gap << ", hidden " << gap_hidden << ")";
  }
};

// Power loss and recovery; unflushed batches may or may not survive (and are then cut, as Raft
// would overwrite them).
struct Crash : Command {
  bool keep_unsynced_prefix = *rc::gen::arbitrary<bool>();
  bool tear_last_sector = *rc::gen::arbitrary<bool>();
  uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  void apply(Model& model) const override { model.batches.resize(model.flushed); }
  void run(const Model& model, Sut& sut) const override {
    const Model after = nextState(model);
    Random random(seed);
    sut.log.reset();  // its pending completions die with the crash
    sut.disk.Crash({.keep_unsynced_prefix = keep_unsynced_prefix,
                    .tear_last_sector = tear_last_sector},
                   random);
    sut.Reopen();
    RC_ASSERT(sut.log->next_offset() >= after.next_offset());
    for (const ModelBatch& batch : after.batches) {
      auto read = sim::AwaitValue<ReadResult>(
          sut.loop, [&](auto done) { sut.log->Read(batch.base_offset, 1, std::move(done)); });
      RC_ASSERT(read.ok());
      RC_ASSERT(read->bytes == batch.bytes);
    }
    if (sut.log->next_offset() > after.next_offset()) {
      ++sut.crashes_that_cut;
      RC_ASSERT(sut.log->TruncateSuffix(after.next_offset()).ok());
    }
    CheckKafka(after, sut, true);
  }
  void show(std::ostream& os) const override {
    os << "Crash(keep " << keep_unsynced_prefix << ", tear " << tear_last_sector << ")";
  }
};

// Everything lands, then the log is reopened (sealed indexes loaded, the rest scanned).
struct Reopen : Command {
  void apply(Model& model) const override { model.flushed = model.batches.size(); }
  void run(const Model& model, Sut& sut) const override {
    sut.loop.RunUntilIdle();
    sut.Reopen();
    CheckKafka(nextState(model), sut, false);
  }
  void show(std::ostream& os) const override { os << "Reopen"; }
};

struct ReadKafka : Command {
  int64_t kafka_offset;
  int64_t kafka_end_offset;
  uint64_t size_bytes_max = *rc::gen::element<uint64_t>(1, 200, 1000, 1 << 20);
  explicit ReadKafka(const Model& model) {
    kafka_offset = *rc::gen::inRange<int64_t>(model.kafka_start(), model.kafka_next() + 2);
    kafka_end_offset = *rc::gen::inRange<int64_t>(model.kafka_start(), model.kafka_next() + 2);
  }
  void checkPreconditions(const Model& model) const override {
    RC_PRE(kafka_offset >= model.kafka_start());
  }
  void run(const Model& model, Sut& sut) const override {
    const int64_t hidden_base = sut.HiddenBase(model);
    auto read = sim::AwaitValue<KafkaReadResult>(sut.loop, [&](auto done) {
      sut.log->ReadKafka(kafka_offset, kafka_end_offset, size_bytes_max, hidden_base,
                         std::move(done));
    });
    if (kafka_offset > model.kafka_next()) {
      RC_ASSERT(read.status().code() == absl::StatusCode::kOutOfRange);
      return;
    }
    RC_ASSERT(read.ok());
    std::vector<const ModelBatch*> expected;
    for (const ModelBatch& batch : model.batches) {
      if (!batch.hidden && batch.kafka_last_offset() >= kafka_offset &&
          batch.kafka_last_offset() < kafka_end_offset) {
        expected.push_back(&batch);
      }
    }
    RC_ASSERT(read->batch_count <= expected.size());
    RC_ASSERT(read->batch_count >= std::min<size_t>(1, expected.size()));
    std::span<const uint8_t> rest(read->bytes);
    for (size_t i = 0; i < read->batch_count; ++i) {
      std::vector<uint8_t> served(expected[i]->bytes);
      record::SetBaseOffset(served, expected[i]->kafka_base_offset);
      RC_ASSERT(rest.size() >= served.size());
      RC_ASSERT(std::equal(served.begin(), served.end(), rest.begin()));
      RC_ASSERT(record::VerifyBatchCrc(rest.first(served.size())).ok());
      rest = rest.subspan(served.size());
    }
    RC_ASSERT(rest.empty());
    RC_ASSERT(read->next_kafka_offset ==
              (read->batch_count == 0 ? kafka_offset
                                      : expected[read->batch_count - 1]->kafka_last_offset() + 1));
    if (read->batch_count > 1) RC_ASSERT(read->bytes.size() <= size_bytes_max);
    CheckKafka(model, sut, false);
  }
  void show(std::ostream& os) const override {
    os << "ReadKafka(" << kafka_offset << ", end " << kafka_end_offset << ", " << size_bytes_max
       << " bytes)";
  }
};

void RunKafkaModel(size_t open_file_count_max) {
  Model initial;
  initial.segment_size_bytes_max = *rc::gen::inRange<uint64_t>(150, 1000);
  Sut sut(initial.segment_size_bytes_max, open_file_count_max);
  rc::state::check(
      initial, sut,
      rc::state::gen::execOneOfWithArgs<AppendData, AppendData, AppendData, NewLeader,
                                        AppendConfChange, Flush, Flush, Commit, Commit,
                                        TruncateSuffix, Retain, Install, Crash, Reopen, ReadKafka,
                                        ReadKafka>());
  RC_CLASSIFY(sut.log->first_offset() > 0, "log start moved");
  RC_CLASSIFY(sut.segment_count_max > 2, "several segments");
  RC_CLASSIFY(sut.sealed_loads > 0, "sealed indexes loaded");
  RC_CLASSIFY(sut.crashes_that_cut > 0, "unflushed batches survived a crash");
  if (sut.options.file_cache != nullptr) {
    RC_ASSERT(sim::AwaitStatus(sut.loop, [&](auto done) {
                sut.log->Flush(sut.log->last_offset(), std::move(done));
              }).ok());
    sut.loop.RunUntilIdle();
    RC_ASSERT(sut.options.file_cache->open_file_count() <=
              sut.options.file_cache->open_file_count_max());
    RC_CLASSIFY(sut.options.file_cache->stats().evictions > 0, "segment files evicted");
  }
}

RC_GTEST_PROP(PartitionLogKafkaModel, OffsetsStableAndDenseUnderRaftOperations, ()) {
  RunKafkaModel(0);
}

// The same with a budget of one or two open files: segment files are closed when idle and
// reopened on demand by reads, appends, truncations and seals, crashes included.
RC_GTEST_PROP(PartitionLogKafkaModel, OffsetsStableUnderTinyFileBudget, ()) {
  RunKafkaModel(*rc::gen::inRange<size_t>(1, 3));
}

}  // namespace
}  // namespace eddy::log
