#include "clients/subscription_state.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::clients {
namespace {

absl::Status NotAssigned(const TopicPartition& tp) {
  return absl::FailedPreconditionError(
      absl::StrCat("partition ", tp.topic, "-", tp.partition, " is not assigned"));
}

}  // namespace

void SubscriptionState::Assign(const std::vector<TopicPartition>& partitions) {
  const std::set<TopicPartition> wanted(partitions.begin(), partitions.end());
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    ClearBuffer(it->second);
    it = partitions_.erase(it);
  }
  for (const TopicPartition& tp : wanted) partitions_.try_emplace(tp);
  drain_cursor_.reset();
  CheckInvariants();
}

std::vector<TopicPartition> SubscriptionState::Assignment() const {
  std::vector<TopicPartition> out;
  out.reserve(partitions_.size());
  for (const auto& [tp, p] : partitions_) out.push_back(tp);
  return out;
}

const SubscriptionState::Partition* SubscriptionState::Find(const TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : &it->second;
}

SubscriptionState::Partition* SubscriptionState::Mutable(const TopicPartition& tp) {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : &it->second;
}

void SubscriptionState::ClearBuffer(Partition& p) {
  EDDY_CHECK_GE(buffered_bytes_, p.buffered_bytes);
  buffered_bytes_ -= p.buffered_bytes;
  p.buffered.clear();
  p.buffered_bytes = 0;
  p.buffered_next_offset = -1;
}

absl::Status SubscriptionState::Seek(const TopicPartition& tp, int64_t offset) {
  Partition* p = Mutable(tp);
  if (p == nullptr) return NotAssigned(tp);
  if (offset < 0) return absl::InvalidArgumentError(absl::StrCat("seek to offset ", offset));
  ClearBuffer(*p);
  p->position = offset;
  p->reset_timestamp.reset();
  p->error = absl::OkStatus();
  CheckInvariants();
  return absl::OkStatus();
}

absl::Status SubscriptionState::RequestReset(const TopicPartition& tp, int64_t timestamp) {
  Partition* p = Mutable(tp);
  if (p == nullptr) return NotAssigned(tp);
  EDDY_CHECK_GE(timestamp, kEarliestTimestamp);
  ClearBuffer(*p);
  p->position.reset();
  p->reset_timestamp = timestamp;
  p->error = absl::OkStatus();
  CheckInvariants();
  return absl::OkStatus();
}

absl::Status SubscriptionState::SetPaused(const TopicPartition& tp, bool paused) {
  Partition* p = Mutable(tp);
  if (p == nullptr) return NotAssigned(tp);
  p->paused = paused;
  return absl::OkStatus();
}

std::optional<int64_t> SubscriptionState::Position(const TopicPartition& tp) const {
  const Partition* p = Find(tp);
  return p == nullptr ? std::nullopt : p->position;
}

bool SubscriptionState::Fetchable(const TopicPartition& tp, Instant now) const {
  const Partition* p = Find(tp);
  return p != nullptr && p->position.has_value() && !p->reset_timestamp.has_value() &&
         !p->paused && !p->fetch_in_flight && p->buffered.empty() && p->error.ok() &&
         now >= p->backoff_until;
}

bool SubscriptionState::NeedsReset(const TopicPartition& tp, Instant now) const {
  const Partition* p = Find(tp);
  return p != nullptr && p->reset_timestamp.has_value() && !p->reset_in_flight &&
         now >= p->backoff_until;
}

void SubscriptionState::OnFetchSent(const TopicPartition& tp) {
  Partition* p = Mutable(tp);
  EDDY_CHECK(p != nullptr);
  EDDY_CHECK(!p->fetch_in_flight);
  p->fetch_in_flight = true;
}

bool SubscriptionState::OnFetched(const TopicPartition& tp, int64_t fetch_offset,
                                  DecodedFetch fetched, int64_t high_watermark) {
  Partition* p = Mutable(tp);
  if (p == nullptr) return false;  // unassigned meanwhile
  p->fetch_in_flight = false;
  if (p->reset_timestamp.has_value() || !p->buffered.empty() || p->position != fetch_offset) {
    return false;  // stale: THE RULE
  }
  EDDY_CHECK_GE(fetched.next_offset, fetch_offset);
  p->high_watermark = high_watermark;
  if (fetched.records.empty()) {
    p->position = fetched.next_offset;  // past control batches and gaps
    return true;
  }
  for (ConsumerRecord& r : fetched.records) {
    EDDY_CHECK(p->buffered.empty() ? r.offset >= fetch_offset
                                   : r.offset > p->buffered.back().offset);
    p->buffered_bytes += r.SizeBytes();
    p->buffered.push_back(std::move(r));
  }
  buffered_bytes_ += p->buffered_bytes;
  p->buffered_next_offset = fetched.next_offset;
  CheckInvariants();
  return true;
}

void SubscriptionState::OnFetchFailed(const TopicPartition& tp, Instant retry_at,
                                      absl::Status error) {
  Partition* p = Mutable(tp);
  if (p == nullptr) return;
  p->fetch_in_flight = false;
  p->backoff_until = retry_at;
  if (!error.ok()) p->error = std::move(error);
}

void SubscriptionState::OnResetSent(const TopicPartition& tp) {
  Partition* p = Mutable(tp);
  EDDY_CHECK(p != nullptr);
  p->reset_in_flight = true;
}

void SubscriptionState::OnResetDone(const TopicPartition& tp, int64_t timestamp, int64_t offset) {
  Partition* p = Mutable(tp);
  if (p == nullptr) return;
  p->reset_in_flight = false;
  if (p->reset_timestamp != timestamp || offset < 0) return;  // superseded meanwhile
  EDDY_CHECK(p->buffered.empty());
  p->position = offset;
  p->reset_timestamp.reset();
  CheckInvariants();
}

void SubscriptionState::OnResetFailed(const TopicPartition& tp, Instant retry_at,
                                      absl::Status error) {
  Partition* p = Mutable(tp);
  if (p == nullptr) return;
  p->reset_in_flight = false;
  p->backoff_until = retry_at;
  if (!error.ok()) p->error = std::move(error);
}

void SubscriptionState::ReportError(const TopicPartition& tp, absl::Status error) {
  Partition* p = Mutable(tp);
  EDDY_CHECK(p != nullptr);
  p->error = std::move(error);
}

bool SubscriptionState::HasReturnable() const {
  for (const auto& [tp, p] : partitions_) {
    if (!p.error.ok() || (!p.paused && !p.buffered.empty())) return true;
  }
  return false;
}

absl::Status SubscriptionState::TakeError() {
  for (auto& [tp, p] : partitions_) {
    if (!p.error.ok()) return std::exchange(p.error, absl::OkStatus());
  }
  return absl::OkStatus();
}

std::vector<ConsumerRecord> SubscriptionState::Drain(size_t max_records) {
  std::vector<ConsumerRecord> out;
  if (partitions_.empty()) return out;
  auto start = drain_cursor_.has_value() ? partitions_.upper_bound(*drain_cursor_)
                                         : partitions_.begin();
  for (size_t visited = 0; visited < partitions_.size() && out.size() < max_records; ++visited) {
    if (start == partitions_.end()) start = partitions_.begin();
    auto& [tp, p] = *start;
    drain_cursor_ = tp;
    ++start;
    if (p.paused) continue;
    while (!p.buffered.empty() && out.size() < max_records) {
      ConsumerRecord& r = p.buffered.front();
      const size_t size = r.SizeBytes();
      p.position = r.offset + 1;
      p.buffered_bytes -= size;
      buffered_bytes_ -= size;
      out.push_back(std::move(r));
      p.buffered.pop_front();
    }
    if (p.buffered.empty() && p.buffered_next_offset >= 0) {
      p.position = p.buffered_next_offset;
      p.buffered_next_offset = -1;
    }
  }
  CheckInvariants();
  return out;
}

void SubscriptionState::CheckInvariants() const {
  size_t total = 0;
  for (const auto& [tp, p] : partitions_) {
    size_t bytes = 0;
    int64_t last = -1;
    for (const ConsumerRecord& r : p.buffered) {
      EDDY_CHECK_GT(r.offset, last);
      EDDY_CHECK_EQ(r.topic, tp.topic);
      last = r.offset;
      bytes += r.SizeBytes();
    }
    EDDY_CHECK_EQ(bytes, p.buffered_bytes);
    total += bytes;
    if (!p.buffered.empty()) {
      EDDY_CHECK(p.position.has_value());
      EDDY_CHECK_LE(*p.position, p.buffered.front().offset);
      EDDY_CHECK_GT(p.buffered_next_offset, last);
      EDDY_CHECK(!p.reset_timestamp.has_value());
    }
    EDDY_CHECK(!(p.position.has_value() && p.reset_timestamp.has_value()));
  }
  EDDY_CHECK_EQ(total, buffered_bytes_);
}

}  // namespace eddy::clients
