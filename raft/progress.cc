#include "raft/progress.h"

#include <algorithm>

#include "core/base/check.h"

namespace eddy::raft {

void Progress::BecomeProbe(int64_t next) {
  state = State::kProbe;
  next_offset = std::max(next, match_offset + 1);
  probe_sent = false;
  inflight_last_offsets.clear();
  snapshot_sent_bytes = 0;
}

void Progress::BecomeReplicate() {
  state = State::kReplicate;
  next_offset = match_offset + 1;
  probe_sent = false;
  inflight_last_offsets.clear();
  match_at_last_heartbeat = match_offset;
}

void Progress::BecomeSnapshot(const SnapshotMeta& meta) {
  state = State::kSnapshot;
  snapshot = meta;
  snapshot_sent_bytes = 0;
  probe_sent = false;
  inflight_last_offsets.clear();
}

bool Progress::MaybeUpdate(int64_t acked_offset) {
  bool updated = false;
  if (acked_offset > match_offset) {
    match_offset = acked_offset;
    updated = true;
    probe_sent = false;
  }
  next_offset = std::max(next_offset, acked_offset + 1);
  while (!inflight_last_offsets.empty() && inflight_last_offsets.front() <= acked_offset) {
    inflight_last_offsets.pop_front();
  }
  return updated;
}

bool Progress::IsStaleRejection(int64_t rejected_offset) const {
  switch (state) {
    case State::kReplicate:
      return rejected_offset <= match_offset;
    case State::kProbe:
      return rejected_offset != next_offset - 1;
    case State::kSnapshot:
      return true;
  }
  EDDY_UNREACHABLE();
}

bool Progress::IsPaused(int inflight_messages_max) const {
  switch (state) {
    case State::kProbe:
      return probe_sent;
    case State::kReplicate:
      return static_cast<int>(inflight_last_offsets.size()) >= inflight_messages_max;
    case State::kSnapshot:
      return true;
  }
  EDDY_UNREACHABLE();
}

void Progress::CheckInvariants(int inflight_messages_max) const {
  EDDY_CHECK_LT(match_offset, next_offset);
  EDDY_CHECK_LE(static_cast<int>(inflight_last_offsets.size()), inflight_messages_max);
  for (size_t i = 1; i < inflight_last_offsets.size(); ++i) {
    EDDY_CHECK_LT(inflight_last_offsets[i - 1], inflight_last_offsets[i]);
  }
  if (state != State::kReplicate) EDDY_CHECK(inflight_last_offsets.empty());
  if (state == State::kSnapshot) EDDY_CHECK_LE(snapshot_sent_bytes, snapshot.size_bytes());
}

const char* ProgressStateName(Progress::State state) {
  switch (state) {
    case Progress::State::kProbe:
      return "probe";
    case Progress::State::kReplicate:
      return "replicate";
    case Progress::State::kSnapshot:
      return "snapshot";
  }
  return "?";
}

}  // namespace eddy::raft
