// HashMachine (hash_machine.h). State bytes, big-endian: applied offset, digest, count, history
// length, then the history's digests.
#include "sim/cluster/hash_machine.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "raft/driver/entry_batch.h"

namespace eddy::sim::cluster {
namespace {

void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (56 - 8 * i)));
}
uint64_t GetU64(std::span<const uint8_t> in, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[at + i];
  return v;
}
uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

}  // namespace

HashMachine::HashMachine(HashMachineSlot* slot, int64_t persist_every, ReportFn report)
    : slot_(slot), persist_every_(persist_every), report_(std::move(report)) {
  EDDY_CHECK(slot_ != nullptr);
  if (slot_->offset != raft::kNoOffset) {
    EDDY_CHECK_OK(Load(slot_->state));
    EDDY_CHECK_EQ(applied_, slot_->offset);
  }
}

absl::Status HashMachine::Apply(const raft::EntryMeta& meta, std::span<const uint8_t> batch) {
  if (meta.base_offset != applied_ + 1) {
    return absl::InternalError(absl::StrCat("hash machine at offset ", applied_,
                                            " was given the entry at ", meta.base_offset));
  }
  const uint64_t entry = Mix(static_cast<uint64_t>(meta.last_offset), raft::driver::BatchDigest(batch));
  digest_ = Mix(digest_, entry);
  ++count_;
  history_.push_back(entry);
  if (history_.size() > kHistoryMax) history_.pop_front();
  applied_ = meta.last_offset;
  if (report_) report_(applied_, digest_);
  if (persist_every_ > 0 && ++since_persist_ >= persist_every_) {
    since_persist_ = 0;
    absl::StatusOr<std::vector<uint8_t>> state = Snapshot();
    EDDY_CHECK_OK(state.status());
    slot_->state = *std::move(state);
    slot_->offset = applied_;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> HashMachine::Snapshot() {
  std::vector<uint8_t> out;
  PutU64(out, static_cast<uint64_t>(applied_));
  PutU64(out, digest_);
  PutU64(out, count_);
  PutU64(out, history_.size());
  for (uint64_t h : history_) PutU64(out, h);
  return out;
}

absl::Status HashMachine::Load(std::span<const uint8_t> state) {
  if (state.size() < 32) return absl::InvalidArgumentError("hash machine state too short");
  const uint64_t n = GetU64(state, 24);
  if (n > kHistoryMax || state.size() != 32 + 8 * n) {
    return absl::InvalidArgumentError("hash machine state has a bad length");
  }
  applied_ = static_cast<int64_t>(GetU64(state, 0));
  digest_ = GetU64(state, 8);
  count_ = GetU64(state, 16);
  history_.clear();
  for (uint64_t i = 0; i < n; ++i) history_.push_back(GetU64(state, 32 + 8 * i));
  return absl::OkStatus();
}

absl::Status HashMachine::Restore(const raft::SnapshotMeta& meta, std::span<const uint8_t> state) {
  since_persist_ = 0;
  if (state.empty()) {
    if (meta.last_offset() != raft::kNoOffset) {
      return absl::InvalidArgumentError("empty hash machine state beyond the bootstrap point");
    }
    applied_ = raft::kNoOffset;
    digest_ = 0;
    count_ = 0;
    history_.clear();
  } else {
    if (absl::Status s = Load(state); !s.ok()) return s;
    if (applied_ != meta.last_offset()) {
      return absl::InvalidArgumentError(absl::StrCat("hash machine state of offset ", applied_,
                                                     " restored at ", meta.last_offset()));
    }
  }
  // What it persisted beyond the restored point no longer describes it.
  if (slot_->offset > applied_) *slot_ = HashMachineSlot{};
  if (report_) report_(applied_, digest_);
  return absl::OkStatus();
}

}  // namespace eddy::sim::cluster
