// PartitionLogView with a snapshot point, over a real PartitionLog on a SimDisk: the view starts
// Raft's log right after the point (FirstOffset == point + 1, as LogView requires) even when
// whole-segment prefix truncation left older batches in the log, hides them (EntryContaining is
// kOutOfRange there), reports the point's term and membership, forgets control entries at or
// below it, and after a ResetTo past the log presents an empty log starting after the point.
#include "raft/driver/partition_log_view.h"

#include "core/base/status_matchers.h"
#include "core/log/log_test_fixture.h"
#include "gtest/gtest.h"
#include "raft/driver/entry_batch.h"
#include "sim/loop/await.h"

namespace eddy::raft::driver {
namespace {

using ::eddy::testing::StatusIs;
using log::testing::LogFixture;

ConfState Voters(std::initializer_list<NodeId> ids) {
  ConfState c;
  for (NodeId id : ids) c.add_voters(id);
  return c;
}

TEST(PartitionLogViewTest, SnapshotPointHidesOlderBatchesAndCarriesTermAndMembership) {
  LogFixture f;
  log::LogOptions options;
  options.segment_size_bytes_max = 400;
  EDDY_ASSERT_OK(f.Open(options));
  // Batches of 2 offsets: [0,1] [2,3] ... [18,19], terms 1 then 2 from offset 10; a no-op
  // control entry at [10,10] is remembered by the view.
  PartitionLogView view(&f.log(), Voters({1, 2, 3}));
  for (int i = 0; i < 10; ++i) EDDY_ASSERT_OK(f.Append(i < 5 ? 1 : 2, 2).status());
  EntryMeta noop;
  noop.type = ENTRY_NOOP;
  noop.term = 2;
  noop.base_offset = 20;
  noop.last_offset = 20;
  std::vector<uint8_t> control = EncodeControlEntry(noop);
  record::SetBaseOffset(control, 20);
  record::SetPartitionLeaderEpoch(control, 2);
  EDDY_ASSERT_OK(f.log().AppendAsFollower(control).status());
  view.NoteEntry(noop);
  EDDY_ASSERT_OK(f.Flush(20));
  EXPECT_EQ(view.FirstOffset(), 0);
  EXPECT_EQ(view.Snapshot().last_offset(), -1);

  SnapshotMeta point;
  point.set_last_offset(13);
  point.set_term(2);
  *point.mutable_conf_state() = Voters({1, 2});
  view.SetSnapshot(point);
  EDDY_ASSERT_OK(f.TruncatePrefix(14));
  // Whole segments only: the log may still hold batches below 14; the view does not.
  EXPECT_LE(f.log().first_offset(), 14);
  EXPECT_EQ(view.FirstOffset(), 14);
  EXPECT_EQ(view.LastOffset(), 20);
  EXPECT_EQ(view.Snapshot().term(), 2u);
  EXPECT_EQ(view.Snapshot().conf_state().voters_size(), 2);
  EXPECT_THAT(view.EntryContaining(13).status(), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(view.EntryContaining(2).status(), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(view.EntryContaining(15)->base_offset, 14);
  EXPECT_EQ(view.EntryContaining(20)->type, ENTRY_NOOP);
  EXPECT_EQ(view.ControlEntries(14, 20).size(), 1u);

  // Past the no-op: it is forgotten with the prefix.
  point.set_last_offset(20);
  view.SetSnapshot(point);
  EXPECT_TRUE(view.ControlEntries(0, 100).empty());
  EXPECT_EQ(view.FirstOffset(), 21);
  EXPECT_EQ(view.LastOffset(), 20);  // empty: FirstOffset() - 1
}

TEST(PartitionLogViewTest, AfterAResetTheLogStartsRightAfterThePoint) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  PartitionLogView view(&f.log(), Voters({1, 2, 3}));
  for (int i = 0; i < 3; ++i) EDDY_ASSERT_OK(f.Append(1).status());
  EDDY_ASSERT_OK(sim::AwaitStatus(f.loop(), [&](auto done) { f.log().ResetTo(501, std::move(done)); }));
  SnapshotMeta point;
  point.set_last_offset(500);
  point.set_term(7);
  *point.mutable_conf_state() = Voters({1, 2, 3});
  view.ForgetFrom(0);
  view.SetSnapshot(point);
  view.SetVisibleLast(500);
  EXPECT_EQ(view.FirstOffset(), 501);
  EXPECT_EQ(view.LastOffset(), 500);
  EXPECT_THAT(view.EntryContaining(501).status(), StatusIs(absl::StatusCode::kOutOfRange));
  EDDY_ASSERT_OK(f.Append(8).status());
  view.SetVisibleLast(f.log().last_offset());
  EXPECT_EQ(view.LastOffset(), 501);
  EXPECT_EQ(view.EntryContaining(501)->term, 8u);
}

}  // namespace
}  // namespace eddy::raft::driver
