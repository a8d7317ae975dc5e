// The consumer's API, Poll and its loop. Fetching lives in consumer_fetcher.cc; Metadata,
// resets and OffsetsForTimes in consumer_offsets.cc.
//
// One wake-up timer drives everything (as the producer's sender): every event that may let
// something move (an API call, a reply, a backoff or a Poll deadline ending) asks for a run, and
// each run schedules the next one it knows of.
#include "clients/consumer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::clients {

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(runtime::ClientRuntime& runtime,
                                                           ConsumerOptions options) {
  if (absl::Status s = ValidateConsumerOptions(options); !s.ok()) return s;
  return std::unique_ptr<Consumer>(new Consumer(runtime, std::move(options)));
}

Consumer::Consumer(runtime::ClientRuntime& runtime, ConsumerOptions options)
    : runtime_(runtime),
      options_(std::move(options)),
      pool_(runtime, options_.bootstrap,
            ConnectionOptions{.client_id = options_.client_id,
                              .request_timeout = options_.request_timeout}) {}

Consumer::~Consumer() {
  alive_.reset();
}

absl::Status Consumer::Assign(const std::vector<TopicPartition>& partitions) {
  if (closed_) return absl::FailedPreconditionError("consumer closed");
  if (subscribed_) return absl::FailedPreconditionError("Assign after Subscribe: one or the other");
  for (const TopicPartition& tp : partitions) {
    if (tp.topic.empty() || tp.partition < 0) {
      return absl::InvalidArgumentError(absl::StrCat("partition '", tp.topic, "'-", tp.partition));
    }
  }
  const std::set<std::string> before = TopicsWanted();
  state_.Assign(partitions);
  for (const TopicPartition& tp : partitions) {
    const SubscriptionState::Partition* p = state_.Find(tp);
    if (options_.auto_offset_reset == OffsetResetPolicy::kNone) continue;  // ReportUnpositioned
    if (!p->position.has_value() && !p->reset_timestamp.has_value()) {
      EDDY_CHECK_OK(state_.RequestReset(tp, ResetTimestamp()));
    }
  }
  if (TopicsWanted() != before) metadata_wanted_ = true;
  manually_assigned_ = !partitions.empty();
  Wake(Duration::Zero());
  return absl::OkStatus();
}

void Consumer::ReportUnpositioned() {
  // Java's NoOffsetForPartitionException, at every Poll until the application seeks.
  if (options_.auto_offset_reset != OffsetResetPolicy::kNone) return;
  for (const TopicPartition& tp : state_.Assignment()) {
    const SubscriptionState::Partition* p = state_.Find(tp);
    if (p->position.has_value() || p->reset_timestamp.has_value() || !p->error.ok() ||
        awaiting_committed_.contains(tp)) {
      continue;
    }
    state_.ReportError(tp, absl::FailedPreconditionError(absl::StrCat(
                               "no position for ", tp.topic, "-", tp.partition,
                               " and auto.offset.reset is none: seek first")));
  }
}

int64_t Consumer::ResetTimestamp() const {
  // kNone never resets by itself: OFFSET_OUT_OF_RANGE is reported instead.
  return options_.auto_offset_reset == OffsetResetPolicy::kEarliest ? kEarliestTimestamp
                                                                    : kLatestTimestamp;
}

absl::Status Consumer::ForEachAssigned(
    const std::vector<TopicPartition>& partitions,
    const std::function<absl::Status(const TopicPartition&)>& each) {
  for (const TopicPartition& tp : partitions) {
    if (!state_.Assigned(tp)) {
      return absl::FailedPreconditionError(
          absl::StrCat("partition ", tp.topic, "-", tp.partition, " is not assigned"));
    }
  }
  for (const TopicPartition& tp : partitions) {
    if (absl::Status s = each(tp); !s.ok()) return s;
  }
  Wake(Duration::Zero());
  return absl::OkStatus();
}

absl::Status Consumer::Seek(const TopicPartition& tp, int64_t offset) {
  if (offset < 0) return absl::InvalidArgumentError(absl::StrCat("seek to offset ", offset));
  return ForEachAssigned({tp}, [&](const TopicPartition& t) { return state_.Seek(t, offset); });
}

absl::Status Consumer::SeekToBeginning(const std::vector<TopicPartition>& partitions) {
  return ForEachAssigned(partitions, [&](const TopicPartition& t) {
    return state_.RequestReset(t, kEarliestTimestamp);
  });
}

absl::Status Consumer::SeekToEnd(const std::vector<TopicPartition>& partitions) {
  return ForEachAssigned(partitions, [&](const TopicPartition& t) {
    return state_.RequestReset(t, kLatestTimestamp);
  });
}

absl::Status Consumer::SeekToTimestamp(const std::vector<TopicPartition>& partitions,
                                       int64_t timestamp_ms) {
  if (timestamp_ms < 0) return absl::InvalidArgumentError("negative timestamp");
  return ForEachAssigned(partitions, [&](const TopicPartition& t) {
    return state_.RequestReset(t, timestamp_ms);
  });
}

int64_t Consumer::HighWatermark(const TopicPartition& tp) const {
  const SubscriptionState::Partition* p = state_.Find(tp);
  return p == nullptr ? -1 : p->high_watermark;
}

absl::Status Consumer::Pause(const std::vector<TopicPartition>& partitions) {
  return ForEachAssigned(partitions,
                         [&](const TopicPartition& t) { return state_.SetPaused(t, true); });
}

absl::Status Consumer::Resume(const std::vector<TopicPartition>& partitions) {
  return ForEachAssigned(partitions,
                         [&](const TopicPartition& t) { return state_.SetPaused(t, false); });
}

std::set<TopicPartition> Consumer::Paused() const {
  std::set<TopicPartition> out;
  for (const TopicPartition& tp : state_.Assignment()) {
    if (state_.Find(tp)->paused) out.insert(tp);
  }
  return out;
}

void Consumer::Post(absl::AnyInvocable<void() &&> callback) {
  runtime_.clock().ScheduleAfter(Duration::Zero(),
                                 [alive = std::weak_ptr<bool>(alive_),
                                  callback = std::move(callback)]() mutable {
                                   if (alive.expired()) return;
                                   std::move(callback)();
                                 });
}

void Consumer::Poll(size_t max_records, Duration timeout, PollCallback done) {
  EDDY_CHECK_GT(max_records, 0u);
  if (closed_ || poll_.has_value()) {
    absl::Status why = closed_ ? absl::FailedPreconditionError("consumer closed")
                               : absl::FailedPreconditionError("a Poll is already pending");
    Post([done = std::move(done), why]() mutable { std::move(done)(why); });
    return;
  }
  const Instant deadline = runtime_.clock().Now() + std::max(timeout, Duration::Zero());
  poll_ = PendingPoll{max_records, deadline, std::move(done)};
  Wake(Duration::Zero());
}

void Consumer::MaybeCompletePoll(Instant now) {
  if (!poll_.has_value()) return;
  absl::StatusOr<std::vector<ConsumerRecord>> out = std::vector<ConsumerRecord>{};
  if (!group_error_.ok()) {
    out = std::exchange(group_error_, absl::OkStatus());
  } else if (absl::Status error = state_.TakeError(); !error.ok()) {
    out = error;
  } else if (state_.HasReturnable()) {
    out = state_.Drain(poll_->max_records);
    stats_.records_returned += out->size();
  } else if (now < poll_->deadline) {
    return;
  }
  PollCallback done = std::move(poll_->done);
  poll_.reset();
  // Positions moved: the drained partitions can be fetched again at once (pipelining).
  Wake(Duration::Zero());
  std::move(done)(std::move(out));
}

void Consumer::Close() {
  if (closed_) return;
  closed_ = true;
  wake_.Cancel();
  if (membership_) membership_->Close();
  std::map<uint64_t, Lookup> lookups = std::move(lookups_);
  lookups_.clear();
  fetches_.clear();
  fetching_brokers_.clear();
  pool_.CloseAll();
  for (auto& [id, lookup] : lookups) std::move(lookup.done)(absl::CancelledError("consumer closed"));
  if (poll_.has_value()) {
    PollCallback done = std::move(poll_->done);
    poll_.reset();
    std::move(done)(absl::CancelledError("consumer closed"));
  }
}

void Consumer::Wake(Duration delay) {
  if (!closed_) wake_.After(delay);
}

void Consumer::Run() {
  if (closed_) return;
  pool_.Sweep();  // safe: no connection callback is on the stack here
  const Instant now = runtime_.clock().Now();
  ExpireLookups(now);
  MaybeRefreshMetadata(now);
  SendResets(now);
  SendLookups(now);
  SendFetches(now);
  MaybeAutoCommit(now);
  ReportUnpositioned();
  std::weak_ptr<bool> alive = alive_;
  MaybeCompletePoll(now);
  if (alive.expired() || closed_) return;  // the Poll callback destroyed or closed us
  ScheduleNext(now);
}

void Consumer::ScheduleNext(Instant now) {
  std::optional<Instant> next;
  auto consider = [&](Instant t) {
    if (t > now && (!next.has_value() || t < *next)) next = t;
  };
  if (poll_.has_value()) consider(poll_->deadline);
  if (membership_ && options_.enable_auto_commit) consider(next_auto_commit_);
  for (const auto& [id, lookup] : lookups_) {
    consider(lookup.deadline);
    consider(lookup.retry_at);
  }
  for (const TopicPartition& tp : state_.Assignment()) {
    consider(state_.Find(tp)->backoff_until);
  }
  if (!metadata_in_flight_) {
    if (metadata_wanted_ && metadata_attempted_.has_value()) {
      consider(*metadata_attempted_ + options_.retry_backoff);
    }
    if (metadata_updated_.has_value()) consider(*metadata_updated_ + options_.metadata_max_age);
  }
  if (next.has_value()) Wake(*next - now);
}

}  // namespace eddy::clients
