// SubscriptionState: the consumer's per-partition state under manual assignment — the position
// (the offset of the next record the application will be given), a pending reset (a ListOffsets
// target: earliest, latest or a timestamp), pause, the fetch in flight, the records fetched but
// not yet handed out, and an error to report at the next Poll.
//
// THE RULE THAT KEEPS RECORDS EXACTLY ONCE. A Fetch answer is accepted for a partition only if
// the partition is still assigned, no reset is pending, nothing is buffered, and its position
// still equals the offset the fetch was sent from. Anything else (a Seek, a reset, a drained
// earlier answer, a duplicate fetch after a leader move) makes the answer stale, and it is
// dropped. Records are buffered with offsets >= position, strictly increasing; handing them out
// moves the position one past each; once the buffer is empty the position jumps to the answer's
// next offset (past control batches and compacted gaps: fetch_decoder.h).
//
// Pure: time arrives as arguments; ordered containers only. LOOP AFFINITY: the consumer's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "clients/consumer_record.h"
#include "clients/fetch_decoder.h"
#include "clients/producer_batch.h"
#include "core/base/units.h"

namespace eddy::clients {

// ListOffsets' special timestamps (Kafka's ListOffsetsRequest.EARLIEST/LATEST_TIMESTAMP).
inline constexpr int64_t kEarliestTimestamp = -2;
inline constexpr int64_t kLatestTimestamp = -1;

class SubscriptionState {
 public:
  struct Partition {
    std::optional<int64_t> position;
    std::optional<int64_t> reset_timestamp;  // a reset wanted, to this ListOffsets target
    bool reset_in_flight = false;
    bool paused = false;
    bool fetch_in_flight = false;
    Instant backoff_until;  // no fetch or reset before then (after an error)
    std::deque<ConsumerRecord> buffered;
    int64_t buffered_next_offset = -1;  // the position once `buffered` is handed out
    size_t buffered_bytes = 0;
    absl::Status error;  // reported by the next Poll, then cleared
    int64_t high_watermark = -1;
  };

  // Replaces the assignment. Partitions kept keep their state (Java's assign() does too); new
  // ones start without a position (the consumer resets them by auto.offset.reset).
  void Assign(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> Assignment() const;
  bool Assigned(const TopicPartition& tp) const { return partitions_.contains(tp); }
  const Partition* Find(const TopicPartition& tp) const;

  // Errors (all three): kFailedPrecondition for a partition not assigned.
  // Seek: kInvalidArgument for a negative offset. Drops what is buffered and any reset.
  absl::Status Seek(const TopicPartition& tp, int64_t offset);
  // Forgets the position until a ListOffsets for `timestamp` answers (OnResetDone).
  absl::Status RequestReset(const TopicPartition& tp, int64_t timestamp);
  absl::Status SetPaused(const TopicPartition& tp, bool paused);

  std::optional<int64_t> Position(const TopicPartition& tp) const;

  // ---- the fetcher's side ----
  bool Fetchable(const TopicPartition& tp, Instant now) const;
  bool NeedsReset(const TopicPartition& tp, Instant now) const;
  void OnFetchSent(const TopicPartition& tp);
  // Applies a Fetch answer sent from `fetch_offset` (THE RULE above); returns whether it was
  // accepted.
  bool OnFetched(const TopicPartition& tp, int64_t fetch_offset, DecodedFetch fetched,
                 int64_t high_watermark);
  // The fetch failed; the partition waits until `retry_at`. `error`, if not OK, is reported.
  void OnFetchFailed(const TopicPartition& tp, Instant retry_at, absl::Status error);
  void OnResetSent(const TopicPartition& tp);
  // A ListOffsets for `timestamp` answered `offset`: the position, if that reset is still wanted.
  void OnResetDone(const TopicPartition& tp, int64_t timestamp, int64_t offset);
  void OnResetFailed(const TopicPartition& tp, Instant retry_at, absl::Status error);
  // Reports `error` at the next Poll. REQUIRES: assigned.
  void ReportError(const TopicPartition& tp, absl::Status error);

  // ---- Poll's side ----
  // Whether Poll has something to return now (records of a partition not paused, or an error).
  bool HasReturnable() const;
  // The first pending error (partition order), cleared; OK if none.
  absl::Status TakeError();
  // Up to `max_records` buffered records of partitions not paused, moving positions. Partitions
  // are visited round-robin from where the last call stopped, so none starves.
  std::vector<ConsumerRecord> Drain(size_t max_records);
  size_t buffered_bytes() const { return buffered_bytes_; }

  // Crashes unless every partition satisfies the rules above. O(buffered records).
  void CheckInvariants() const;

 private:
  Partition* Mutable(const TopicPartition& tp);
  void ClearBuffer(Partition& p);

  std::map<TopicPartition, Partition> partitions_;
  size_t buffered_bytes_ = 0;
  std::optional<TopicPartition> drain_cursor_;  // Drain starts after it
};

}  // namespace eddy::clients
