// Checker properties fed by hand: a proposal failed as definitely not committed (kAborted) must
// never be applied, whichever comes first (the failure or the apply); a batch with other content
// at the same offsets is fine, and so is the same content at another offset proposed again.
// A deleted group: what was acknowledged until the delete must have been committed; after it,
// its data may vanish, and any replica still running it is a violation.
#include "sim/cluster/checker.h"

#include <vector>

#include "core/base/check.h"
#include "core/record/record_batch_builder.h"
#include "gtest/gtest.h"
#include "raft/driver/entry_batch.h"

namespace eddy::sim::cluster {
namespace {

std::vector<uint8_t> Batch(int64_t base_offset, uint8_t value) {
  record::BatchHeader fields;
  fields.base_offset = base_offset;
  fields.partition_leader_epoch = 1;
  record::RecordBatchBuilder builder(fields);
  const uint8_t bytes[] = {value};
  EDDY_CHECK_OK(builder.Append(0, std::span<const uint8_t>(bytes), std::nullopt));
  return builder.Finish();
}

// A replica of group 1 on `node`, opened empty (it applies from offset 0 on).
void Open(Checker& checker, NodeId node) {
  raft::driver::OpenReport report;
  report.snapshot_last_offset = raft::kNoOffset;
  checker.OnOpened(node, 1, report);
}

void Apply(Checker& checker, NodeId node, const std::vector<uint8_t>& batch) {
  const absl::StatusOr<raft::EntryMeta> meta = raft::driver::DecodeEntryMeta(batch);
  ASSERT_TRUE(meta.ok());
  checker.OnApplied(node, 1, *meta, batch);
}

TEST(CheckerTest, AbortedProposalAppliedLaterIsAViolation) {
  Checker checker([](NodeId) { return false; });
  Open(checker, 1);
  checker.OnAborted(1, Checker::ContentDigest(Batch(0, 7)));
  Apply(checker, 1, Batch(0, 8));  // other content at its offsets: fine
  EXPECT_FALSE(checker.failed());
  Apply(checker, 1, Batch(1, 7));  // its content, stamped at another offset
  ASSERT_TRUE(checker.failed());
  EXPECT_EQ(checker.violation()->property, "aborted-never-committed");
}

TEST(CheckerTest, ProposalAbortedAfterItWasAppliedIsAViolation) {
  Checker checker([](NodeId) { return false; });
  Open(checker, 1);
  Apply(checker, 1, Batch(0, 7));
  EXPECT_FALSE(checker.failed());
  checker.OnAborted(1, Checker::ContentDigest(Batch(5, 7)));
  ASSERT_TRUE(checker.failed());
  EXPECT_EQ(checker.violation()->property, "aborted-never-committed");
}

TEST(CheckerTest, DeletedGroupStopsBindingButFactsAfterTheDeleteFail) {
  Checker checker([](NodeId) { return false; });
  Open(checker, 1);
  const std::vector<uint8_t> batch = Batch(0, 7);
  Apply(checker, 1, batch);
  const absl::StatusOr<raft::EntryMeta> meta = raft::driver::DecodeEntryMeta(batch);
  ASSERT_TRUE(meta.ok());
  checker.OnAcked(1, *meta, raft::driver::BatchDigest(batch));
  checker.OnGroupDeleted(1);
  EXPECT_TRUE(checker.deleted(1));
  checker.CheckFinal();  // its acknowledged batch is legitimately gone
  EXPECT_FALSE(checker.failed());
  EXPECT_EQ(checker.max_acked_offset(1), raft::kNoOffset);
  Apply(checker, 2, Batch(1, 8));
  ASSERT_TRUE(checker.failed());
  EXPECT_EQ(checker.violation()->property, "deleted-group-active");
}

TEST(CheckerTest, ViolationFoundBeforeTheDeleteStands) {
  Checker checker([](NodeId) { return false; });
  Open(checker, 1);
  const std::vector<uint8_t> batch = Batch(0, 7);
  const absl::StatusOr<raft::EntryMeta> meta = raft::driver::DecodeEntryMeta(batch);
  ASSERT_TRUE(meta.ok());
  // Acknowledged but never applied by any replica: lost, and the delete does not excuse it.
  checker.OnAcked(1, *meta, raft::driver::BatchDigest(batch));
  ASSERT_TRUE(checker.failed());
  checker.OnGroupDeleted(1);
  ASSERT_TRUE(checker.failed());
  EXPECT_EQ(checker.violation()->property, "acked-batch-lost-or-changed");
}

}  // namespace
}  // namespace eddy::sim::cluster
