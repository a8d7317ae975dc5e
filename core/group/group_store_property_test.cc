// Proves GroupStore and GroupStateMachine keep exactly what FORMAT.md says the records of
// __consumer_offsets leave: the latest value per key (kind, group, and for offsets topic and
// partition), tombstones deleting, a group existing only while it holds metadata or offsets, and
// every malformed record (key or value that does not parse — truncated — an unknown kind, an
// oversized group id, a null key) refused with no effect; text that is not UTF-8 is kept (the
// fields are bytes: clients' strings are not checked).
// How: RapidCheck draws record sequences and runs them against a std::map model
// (key -> latest serialized value):
//   - GroupStore.Apply record by record, the whole content compared with the model after every
//     step, and ToState -> FromState giving an identical store at every step;
//   - a GroupStateMachine fed the same records as batches (EncodeGroupBatch, or a raw
//     RecordBatchBuilder for keys the codec cannot write) at increasing Raft offsets,
//     interleaved with no-op and membership entries (skipped whatever their payload), compared
//     after every batch, its counters checked, and Snapshot -> Restore into a fresh machine
//     giving the same store at every batch;
//   - hostile input: random bytes and byte-flipped valid snapshots given to Restore never crash
//     (kDataLoss with the old state kept, or a valid store), random bytes and byte-flipped
//     batches given to Apply never crash and only count batches_undecodable (or, for a flip in
//     a field the CRC does not cover, apply as the original would).
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/group/group_log_records.h"
#include "core/group/group_records.pb.h"
#include "core/group/group_state_machine.h"
#include "core/group/group_store.h"
#include "core/record/record_batch_builder.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::group {
namespace {

std::span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// (kind, group, topic, partition); a metadata key has topic "" and partition 0 whatever the
// record's key said (the store ignores those fields for GROUP_METADATA).
using ModelKey = std::tuple<int, std::string, std::string, int32_t>;
using Model = std::map<ModelKey, std::string>;  // the latest value, serialized; absent: none

// One record of a sequence, as bytes (what the log holds) and, when the coordinator's codec
// can write it, as a GroupLogRecord.
struct Step {
  std::optional<std::string> key;  // nullopt: a record with a null key (batches only)
  std::optional<std::string> value;
  std::optional<GroupLogRecord> record;
  bool must_refuse = false;  // built malformed on purpose
  std::string what;
};

// What FORMAT.md says a record does: the model key and value, or nullopt if it is refused.
struct Effect {
  ModelKey key;
  std::optional<std::string> value;  // nullopt: tombstone
};
std::optional<Effect> Oracle(const Step& step) {
  if (!step.key.has_value()) return std::nullopt;
  GroupRecordKey key;
  if (!key.ParseFromString(*step.key)) return std::nullopt;
  if (key.group_id().size() > GroupStore::kGroupIdSizeBytesMax) return std::nullopt;
  if (key.kind() != GROUP_METADATA && key.kind() != OFFSET) return std::nullopt;
  Effect effect;
  if (key.kind() == GROUP_METADATA) {
    effect.key = ModelKey{GROUP_METADATA, key.group_id(), "", 0};
  } else {
    effect.key = ModelKey{OFFSET, key.group_id(), key.topic(), key.partition()};
  }
  if (step.value.has_value()) {
    if (key.kind() == GROUP_METADATA) {
      GroupMetadataValue v;
      if (!v.ParseFromString(*step.value)) return std::nullopt;
      effect.value = v.SerializeAsString();
    } else {
      OffsetValue v;
      if (!v.ParseFromString(*step.value)) return std::nullopt;
      effect.value = v.SerializeAsString();
    }
  }
  return effect;
}

void ApplyToModel(const Effect& effect, Model* model) {
  if (effect.value.has_value()) {
    (*model)[effect.key] = *effect.value;
  } else {
    model->erase(effect.key);
  }
}

// group -> (metadata, offsets), every value serialized.
using View = std::map<std::string,
                      std::pair<std::optional<std::string>, std::map<TopicPartition, std::string>>>;

View ViewOf(const Model& model) {
  View view;
  for (const auto& [key, value] : model) {
    const auto& [kind, group, topic, partition] = key;
    if (kind == GROUP_METADATA) {
      view[group].first = value;
    } else {
      view[group].second[TopicPartition{topic, partition}] = value;
    }
  }
  return view;
}

View ViewOf(const GroupStore& store) {
  View view;
  for (const auto& [id, group] : store.groups()) {
    RC_ASSERT(!group.empty());
    RC_ASSERT(store.Find(id) == &group);
    auto& [metadata, offsets] = view[id];
    if (group.metadata.has_value()) metadata = group.metadata->SerializeAsString();
    for (const auto& [tp, value] : group.offsets) offsets[tp] = value.SerializeAsString();
  }
  return view;
}

// The invariants any store must keep, whatever built it.
void CheckValid(const GroupStore& store) {
  RC_ASSERT(store.groups().size() <= GroupStore::kGroupsMax);
  for (const auto& [id, group] : store.groups()) {
    RC_ASSERT(!group.empty());
    RC_ASSERT(id.size() <= GroupStore::kGroupIdSizeBytesMax);
    RC_ASSERT(group.offsets.size() <= GroupStore::kOffsetsPerGroupMax);
  }
  const absl::StatusOr<GroupStore> again = GroupStore::FromState(store.ToState());
  RC_ASSERT(again.ok());
  RC_ASSERT(ViewOf(*again) == ViewOf(store));
}

void CheckRoundTrip(const GroupStore& store) {
  const GroupStoreState state = store.ToState();
  const absl::StatusOr<GroupStore> again = GroupStore::FromState(state);
  RC_ASSERT(again.ok());
  RC_ASSERT(ViewOf(*again) == ViewOf(store));
  RC_ASSERT(again->ToState().SerializeAsString() == state.SerializeAsString());
}

// ---- Generators.

// Uniform in [low, high) whatever RapidCheck's current size (gen::inRange scales with it).
template <typename T>
T Draw(T low, T high) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(low, high));
}

const std::string& LongGroupId(size_t size) {
  static const std::string max_id(GroupStore::kGroupIdSizeBytesMax, 'x');
  static const std::string too_long(GroupStore::kGroupIdSizeBytesMax + 1, 'x');
  return size == max_id.size() ? max_id : too_long;
}

std::string GenGroupId() {
  if (Draw<int>(0, 40) == 0) return LongGroupId(GroupStore::kGroupIdSizeBytesMax);
  return *rc::gen::element<std::string>("", "g0", "g1", "g2", "\xC3\xA9t\xC3\xA9");
}

TopicPartition GenTp() {
  return TopicPartition{*rc::gen::element<std::string>("t0", "t1", ""), Draw<int32_t>(-1, 3)};
}

std::string GenText() { return *rc::gen::element<std::string>("", "a", "range", "\xE2\x82\xAC"); }

GroupMetadataValue GenMetadata() {
  GroupMetadataValue v;
  v.set_protocol_type(*rc::gen::element<std::string>("consumer", ""));
  v.set_generation(Draw<int>(-1, 6));
  v.set_protocol(GenText());
  v.set_leader(GenText());
  v.set_state_timestamp_ms(Draw<int64_t>(0, 1000));
  const int members = Draw<int>(0, 3);
  for (int i = 0; i < members; ++i) {
    MemberValue* m = v.add_members();
    m->set_member_id("m" + std::to_string(i));
    m->set_client_id(GenText());
    m->set_session_timeout_ms(Draw<int>(0, 30000));
    m->set_subscription(*rc::gen::arbitrary<std::string>());  // bytes: anything goes
    m->set_assignment(*rc::gen::arbitrary<std::string>());
  }
  return v;
}

OffsetValue GenOffset() {
  OffsetValue v;
  v.set_offset(*rc::gen::arbitrary<int64_t>());
  v.set_leader_epoch(Draw<int>(-1, 5));
  v.set_metadata(GenText());
  v.set_metadata_null(*rc::gen::arbitrary<bool>());
  v.set_commit_timestamp_ms(Draw<int64_t>(0, 1'000'000));
  return v;
}

Step FromRecord(GroupLogRecord record, std::string what, bool must_refuse = false) {
  Step step;
  step.key = record.key.SerializeAsString();
  step.value = record.value;
  step.record = std::move(record);
  step.must_refuse = must_refuse;
  step.what = std::move(what);
  return step;
}

Step Raw(std::optional<std::string> key, std::optional<std::string> value, std::string what,
         bool must_refuse) {
  Step step;
  step.key = std::move(key);
  step.value = std::move(value);
  step.must_refuse = must_refuse;
  step.what = std::move(what);
  return step;
}

// A field 3 (a string or bytes field in every message here) of length 127 with no bytes after
// it: appended to a complete serialization, it makes a truncated message.
const std::string kTruncatedField = "\x1a\x7f";

Step GenStep(bool null_keys) {
  switch (Draw<int>(0, 16)) {
    case 0:
    case 1:
    case 2: {
      const std::string group = GenGroupId();
      return FromRecord(MetadataRecord(group, GenMetadata()), "metadata " + group.substr(0, 8),
                        group.size() > GroupStore::kGroupIdSizeBytesMax);
    }
    case 3: {
      // A metadata key carrying topic and partition: they do not make another key.
      GroupLogRecord r = MetadataRecord(GenGroupId(), GenMetadata());
      r.key.set_topic("t0");
      r.key.set_partition(Draw<int>(1, 3));
      return FromRecord(std::move(r), "metadata with a topic in its key");
    }
    case 4:
    case 5:
    case 6: {
      const std::string group = GenGroupId();
      return FromRecord(OffsetRecord(group, GenTp(), GenOffset()), "offset " + group.substr(0, 8),
                        group.size() > GroupStore::kGroupIdSizeBytesMax);
    }
    case 7:
      return FromRecord(MetadataTombstone(GenGroupId()), "metadata tombstone");
    case 8:
      return FromRecord(OffsetTombstone(GenGroupId(), GenTp()), "offset tombstone");
    case 9: {  // a key truncated inside its last field
      GroupLogRecord r = OffsetRecord(GenGroupId(), GenTp(), GenOffset());
      return Raw(r.key.SerializeAsString() + kTruncatedField, r.value, "truncated key", true);
    }
    case 10: {  // a value that does not parse, of either kind
      const bool metadata = *rc::gen::arbitrary<bool>();
      GroupLogRecord r = metadata ? MetadataRecord(GenGroupId(), GenMetadata())
                                  : OffsetRecord(GenGroupId(), GenTp(), GenOffset());
      r.value = *r.value + kTruncatedField;
      return FromRecord(std::move(r), "truncated value", true);
    }
    case 11: {  // bytes that are not UTF-8 in a text field (clients send such strings): kept
      if (*rc::gen::arbitrary<bool>()) {
        return FromRecord(OffsetRecord("g\xFF", GenTp(), GenOffset()), "non-UTF-8 group id");
      }
      OffsetValue v = GenOffset();
      v.set_metadata("\xC3(");
      return FromRecord(OffsetRecord("g0", GenTp(), v), "non-UTF-8 offset metadata");
    }
    case 12: {  // a kind this version does not know
      GroupLogRecord r = MetadataRecord(GenGroupId(), GenMetadata());
      r.key.set_kind(static_cast<RecordKind>(*rc::gen::element(0, 3, 99, -7)));
      if (*rc::gen::arbitrary<bool>()) r.value.reset();
      return FromRecord(std::move(r), "unknown kind", true);
    }
    case 13:  // a group id one byte too long
      return FromRecord(OffsetRecord(LongGroupId(0), GenTp(), GenOffset()), "oversized group id",
                        true);
    case 14: {  // an empty key (kind 0) or, in a batch, a null key
      if (null_keys && *rc::gen::arbitrary<bool>()) {
        return Raw(std::nullopt, GenOffset().SerializeAsString(), "null key", true);
      }
      return Raw(std::string(), GenOffset().SerializeAsString(), "empty key", true);
    }
    default: {  // random bytes: whatever protobuf makes of them decides
      std::optional<std::string> value;
      if (*rc::gen::arbitrary<bool>()) value = *rc::gen::arbitrary<std::string>();
      return Raw(*rc::gen::arbitrary<std::string>(), value, "random bytes", false);
    }
  }
}

std::vector<Step> GenSteps(bool null_keys) {
  const int count = *rc::gen::inRange(1, 61);  // sized: short sequences first
  std::vector<Step> steps;
  for (int i = 0; i < count; ++i) steps.push_back(GenStep(null_keys));
  return steps;
}

// ---- GroupStore, record by record.

RC_GTEST_PROP(GroupStoreProperty, MatchesTheLatestValuePerKeyModel, ()) {
  GroupStore store;
  Model model;
  for (const Step& step : GenSteps(/*null_keys=*/false)) {
    const std::optional<Effect> effect = Oracle(step);
    if (step.must_refuse) RC_ASSERT(!effect.has_value());
    std::optional<std::span<const uint8_t>> value;
    if (step.value.has_value()) value = Span(*step.value);
    const View before = ViewOf(store);
    const absl::Status s = store.Apply(Span(*step.key), value);
    if (effect.has_value()) {
      RC_ASSERT(s.ok());
      ApplyToModel(*effect, &model);
    } else {
      RC_ASSERT(s.code() == absl::StatusCode::kInvalidArgument);
      RC_ASSERT(ViewOf(store) == before);
    }
    RC_ASSERT(ViewOf(store) == ViewOf(model));
    CheckRoundTrip(store);
  }
  RC_CLASSIFY(!store.groups().empty(), "non-empty at the end");
}

TEST(GroupStoreTest, AGroupGoesWhenItsLastStateIsTombstoned) {
  GroupStore store;
  const auto apply = [&](const GroupLogRecord& r) {
    const std::string key = r.key.SerializeAsString();
    std::optional<std::span<const uint8_t>> value;
    if (r.value.has_value()) value = Span(*r.value);
    return store.Apply(Span(key), value);
  };
  OffsetValue offset;
  offset.set_offset(5);
  ASSERT_TRUE(apply(OffsetRecord("g", {"t", 0}, offset)).ok());
  ASSERT_TRUE(apply(MetadataRecord("g", GroupMetadataValue())).ok());
  ASSERT_TRUE(apply(MetadataTombstone("g")).ok());
  ASSERT_NE(store.Find("g"), nullptr) << "its offset keeps it";
  EXPECT_FALSE(store.Find("g")->metadata.has_value());
  ASSERT_TRUE(apply(OffsetTombstone("g", {"t", 0})).ok());
  EXPECT_EQ(store.Find("g"), nullptr);
  EXPECT_TRUE(apply(OffsetTombstone("nobody", {"t", 0})).ok()) << "a tombstone of nothing";
  EXPECT_TRUE(store.groups().empty());
}

// ---- GroupStateMachine, batch by batch.

raft::EntryMeta Meta(int64_t base, int64_t count, raft::EntryType type = raft::ENTRY_NORMAL) {
  raft::EntryMeta meta;
  meta.term = 1;
  meta.base_offset = base;
  meta.last_offset = base + count - 1;
  meta.type = type;
  return meta;
}

raft::SnapshotMeta SnapshotAt(int64_t last_offset) {
  raft::SnapshotMeta meta;
  meta.set_last_offset(last_offset);
  return meta;
}

std::vector<uint8_t> EncodeSteps(std::span<const Step* const> steps, int64_t timestamp_ms) {
  bool all_records = true;
  for (const Step* s : steps) all_records = all_records && s->record.has_value();
  if (all_records && *rc::gen::arbitrary<bool>()) {
    std::vector<GroupLogRecord> records;
    for (const Step* s : steps) records.push_back(*s->record);
    absl::StatusOr<std::vector<uint8_t>> batch = EncodeGroupBatch(records, timestamp_ms);
    RC_ASSERT(batch.ok());
    return *std::move(batch);
  }
  record::BatchHeader fields;
  fields.magic = 2;
  fields.producer_id = -1;
  fields.producer_epoch = -1;
  fields.base_sequence = -1;
  record::RecordBatchBuilder builder(fields);
  for (const Step* s : steps) {
    std::optional<std::span<const uint8_t>> key, value;
    if (s->key.has_value()) key = Span(*s->key);
    if (s->value.has_value()) value = Span(*s->value);
    RC_ASSERT(builder.Append(timestamp_ms, key, value).ok());
  }
  return builder.Finish();
}

std::vector<uint8_t> GenBytes() { return *rc::gen::arbitrary<std::vector<uint8_t>>(); }

// Raft's own entries: a term's no-op, a membership change; whatever payload they carry.
void ApplyRaftEntry(GroupStateMachine& m, int64_t* next) {
  const raft::EntryType type = *rc::gen::element(raft::ENTRY_NOOP, raft::ENTRY_CONF_CHANGE);
  const std::vector<uint8_t> payload =
      *rc::gen::arbitrary<bool>() ? std::vector<uint8_t>{} : GenBytes();
  RC_ASSERT(m.Apply(Meta(*next, 1, type), payload).ok());
  *next += 1;
}

RC_GTEST_PROP(GroupStateMachineProperty, BatchesMatchTheModelAndSnapshotsRestoreIt, ()) {
  GroupStateStats stats;
  GroupStateMachine machine(&stats);
  RC_ASSERT(machine.Restore(SnapshotAt(raft::kNoOffset), {}).ok());
  Model model;
  uint64_t applied = 0, refused = 0;
  int64_t next = 0;
  const std::vector<Step> steps = GenSteps(/*null_keys=*/true);
  std::vector<const Step*> batch;
  for (size_t i = 0; i < steps.size(); ++i) {
    batch.push_back(&steps[i]);
    if (i + 1 < steps.size() && Draw<int>(0, 3) != 0) continue;
    if (Draw<int>(0, 3) == 0) ApplyRaftEntry(machine, &next);
    const std::vector<uint8_t> bytes = EncodeSteps(batch, 1000 + static_cast<int64_t>(i));
    const int64_t count = static_cast<int64_t>(batch.size());
    RC_ASSERT(machine.Apply(Meta(next, count), bytes).ok());
    next += count;
    for (const Step* s : batch) {
      const std::optional<Effect> effect = Oracle(*s);
      if (s->must_refuse) RC_ASSERT(!effect.has_value());
      if (effect.has_value()) {
        ApplyToModel(*effect, &model);
        ++applied;
      } else {
        ++refused;
      }
    }
    batch.clear();
    RC_ASSERT(machine.applied_offset() == next - 1);
    RC_ASSERT(ViewOf(machine.store()) == ViewOf(model));
    RC_ASSERT(stats.records_applied == applied);
    RC_ASSERT(stats.records_refused == refused);
    RC_ASSERT(stats.batches_undecodable == 0u);

    if (Draw<int>(0, 4) == 0) ApplyRaftEntry(machine, &next);
    const absl::StatusOr<std::vector<uint8_t>> snapshot = machine.Snapshot();
    RC_ASSERT(snapshot.ok());
    GroupStateMachine fresh(nullptr);
    RC_ASSERT(fresh.Restore(SnapshotAt(next - 1), *snapshot).ok());
    RC_ASSERT(fresh.applied_offset() == next - 1);
    RC_ASSERT(ViewOf(fresh.store()) == ViewOf(model));
    RC_ASSERT(*fresh.Snapshot() == *snapshot);
  }
  RC_ASSERT(stats.snapshots_restored == 1u);
  RC_CLASSIFY(refused > 0, "some refused");
}

// A machine holding what a few well-formed records leave.
void Populate(GroupStateMachine& m, int64_t* next) {
  RC_ASSERT(m.Restore(SnapshotAt(raft::kNoOffset), {}).ok());
  std::vector<Step> steps;
  const int count = Draw<int>(0, 8);
  for (int i = 0; i < count; ++i) {
    const std::string group = *rc::gen::element<std::string>("g0", "g1", "g2");
    steps.push_back(*rc::gen::arbitrary<bool>()
                        ? FromRecord(MetadataRecord(group, GenMetadata()), "metadata")
                        : FromRecord(OffsetRecord(group, GenTp(), GenOffset()), "offset"));
  }
  for (const Step& s : steps) {
    const Step* one[] = {&s};
    RC_ASSERT(m.Apply(Meta(*next, 1), EncodeSteps(one, 5)).ok());
    *next += 1;
  }
}

RC_GTEST_PROP(GroupStateMachineProperty, RestoreOfHostileBytesNeverCrashes, ()) {
  GroupStateMachine source(nullptr);
  int64_t next = 0;
  Populate(source, &next);
  std::vector<uint8_t> bytes;
  if (Draw<int>(0, 3) == 0) {
    bytes = GenBytes();
  } else {
    bytes = *source.Snapshot();
    if (!bytes.empty()) {
      const int flips = Draw<int>(1, 4);
      for (int i = 0; i < flips; ++i) {
        bytes[Draw<size_t>(0, bytes.size())] ^= Draw<uint8_t>(1, 255);
      }
    }
    if (Draw<int>(0, 4) == 0) bytes.resize(Draw<size_t>(0, bytes.size() + 1));
  }
  GroupStateStats stats;
  GroupStateMachine target(&stats);
  int64_t target_next = 0;
  Populate(target, &target_next);
  const View before = ViewOf(target.store());
  const int64_t applied_before = target.applied_offset();
  const uint64_t restored_before = stats.snapshots_restored;
  const absl::Status s = target.Restore(SnapshotAt(77), bytes);
  if (s.ok()) {
    CheckValid(target.store());
    RC_ASSERT(target.applied_offset() == 77);
    RC_ASSERT(stats.snapshots_restored == restored_before + 1);
  } else {
    RC_ASSERT(s.code() == absl::StatusCode::kDataLoss);
    RC_ASSERT(ViewOf(target.store()) == before);
    RC_ASSERT(target.applied_offset() == applied_before);
    RC_ASSERT(stats.snapshots_restored == restored_before);
  }
  RC_CLASSIFY(s.ok(), "restored");
}

RC_GTEST_PROP(GroupStateMachineProperty, ApplyOfHostileBytesOnlyCountsUndecodable, ()) {
  GroupStateStats stats;
  GroupStateMachine machine(&stats);
  int64_t next = 0;
  Populate(machine, &next);
  const View before = ViewOf(machine.store());
  const GroupStateStats stats_before = stats;
  RC_ASSERT(machine.Apply(Meta(next, 3), GenBytes()).ok());
  RC_ASSERT(machine.applied_offset() == next + 2);
  RC_ASSERT(ViewOf(machine.store()) == before);
  RC_ASSERT(stats.batches_undecodable == stats_before.batches_undecodable + 1);
  RC_ASSERT(stats.records_applied == stats_before.records_applied);
  RC_ASSERT(stats.records_refused == stats_before.records_refused);
}

RC_GTEST_PROP(GroupStateMachineProperty, AFlippedBatchIsUndecodableOrTheSameBatch, ()) {
  GroupStateStats stats;
  GroupStateMachine flipped(&stats);
  GroupStateMachine original(nullptr);
  int64_t next = 0, next_original = 0;
  Populate(flipped, &next);
  Populate(original, &next_original);
  // The two machines hold different random states; give both the other's start.
  RC_ASSERT(original.Restore(SnapshotAt(next - 1), *flipped.Snapshot()).ok());
  std::vector<Step> steps;
  const int count = Draw<int>(1, 5);
  for (int i = 0; i < count; ++i) steps.push_back(GenStep(/*null_keys=*/true));
  std::vector<const Step*> pointers;
  for (const Step& s : steps) pointers.push_back(&s);
  const std::vector<uint8_t> batch = EncodeSteps(pointers, 9);
  std::vector<uint8_t> bytes = batch;
  const int flips = Draw<int>(1, 4);
  // A third of the time only in the 17 bytes before the CRC's range.
  const size_t range = Draw<int>(0, 3) == 0 ? 17 : bytes.size();
  for (int i = 0; i < flips; ++i) bytes[Draw<size_t>(0, range)] ^= Draw<uint8_t>(1, 255);
  const View before = ViewOf(flipped.store());
  const uint64_t undecodable_before = stats.batches_undecodable;
  RC_ASSERT(flipped.Apply(Meta(next, count), bytes).ok());
  RC_ASSERT(original.Apply(Meta(next, count), batch).ok());
  if (stats.batches_undecodable == undecodable_before + 1) {
    RC_ASSERT(ViewOf(flipped.store()) == before);
  } else {
    // Only the fields before the CRC's range (base offset, length, leader epoch, magic) can
    // change and leave a valid batch; the records are the same.
    RC_ASSERT(stats.batches_undecodable == undecodable_before);
    RC_ASSERT(ViewOf(flipped.store()) == ViewOf(original.store()));
  }
  RC_CLASSIFY(stats.batches_undecodable == undecodable_before, "still decodable");
}

}  // namespace
}  // namespace eddy::group
