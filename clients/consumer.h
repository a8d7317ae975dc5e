// Consumer: Eddy's Kafka consumer (Java's KafkaConsumer): manual assignment (Assign) or a
// consumer group (Subscribe: GroupMembership, eager rebalances, auto-commit), on the client
// seam — no thread, socket, clock or randomness of its own, so the same code runs in the
// simulator and on TCP.
//
// GROUPS. Subscribe joins the group (options.group_id); every assignment replaces the
// partitions, and a newly assigned partition starts at the group's committed offset (an
// OffsetFetch before it is fetched), or by auto.offset.reset when there is none. Before a
// rebalance takes the partitions away, positions are committed (enable.auto.commit) and the
// listener's on_revoked runs; a member that was dropped from its generation gets on_lost (no
// commit: the partitions may already be someone else's). Auto-commit also runs every
// auto.commit.interval and on Shutdown. A fatal group error (FENCED_INSTANCE_ID, ...) is
// reported by the next Poll.
//
// POSITIONS (subscription_state.h). A partition's position is the offset of the next record
// Poll hands out. A newly assigned partition has none: it is reset by auto.offset.reset with a
// ListOffsets to its leader (earliest -2, latest -1; kNone reports kFailedPrecondition from Poll
// until the application seeks). SeekToBeginning / SeekToEnd / SeekToTimestamp are lazy resets
// the same way (Java's are too): Position() is nullopt until the leader answers. A timestamp
// with no record at or after it resets to the end (what OffsetsForTimes' empty answer means).
//
// FETCHING. One Fetch (v12, sessionless: session 0, epoch -1) in flight per broker, carrying
// every fetchable partition it leads (assigned, positioned, not paused, nothing buffered, not
// backing off). The broker holds it up to fetch.max.wait for fetch.min.bytes: a long poll,
// pipelined with the application's Polls — the next fetch leaves as soon as a partition's
// records are handed out. Records come from whole RecordBatch v2 batches (fetch_decoder.h):
// control batches skipped, records below the position dropped, every batch's CRC checked.
//
// ERRORS. OFFSET_OUT_OF_RANGE resets by auto.offset.reset (kNone: kOutOfRange from Poll,
// position kept). NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH,
// UNKNOWN_LEADER_EPOCH, LEADER_NOT_AVAILABLE, KAFKA_STORAGE_ERROR, a lost connection or a
// timeout: the partition backs off retry.backoff, metadata is refreshed, the fetch is retried
// from the same position — so nothing is skipped or repeated across leader moves and crashes.
// A corrupt batch (kDataLoss) or another broker error is reported by the next Poll, and the
// partition is fetched again after the backoff.
//
// TRUNCATION DETECTION (OffsetForLeaderEpoch after a leader change) is not done: Eddy's
// partitions are Raft logs that never truncate committed entries, and Fetch only serves up to
// the high watermark, so a consumer's position never points into a discarded suffix.
//
// MEMORY. Records are buffered only for partitions whose previous records are all handed out,
// and one Fetch answer carries at most fetch.max.bytes of batches (plus, by Kafka's rule, one
// batch larger than that if it comes first); the decoded records (owned copies) are bounded by
// that answer's size plus per-record overhead. So what is buffered is at most
// (brokers leading an assigned partition) x fetch.max.bytes, plus one batch per broker.
//
// LOOP AFFINITY: the runtime's loop. Callbacks run on it, never inline from the call that
// took them. OWNERSHIP: the runtime outlives the consumer; destroying it runs no callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/broker_connection.h"
#include "clients/wake_timer.h"
#include "clients/connection_pool.h"
#include "clients/consumer_options.h"
#include "clients/consumer_record.h"
#include "clients/group_membership.h"
#include "clients/metadata_cache.h"
#include "clients/producer_batch.h"
#include "clients/subscription_state.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/list_offsets.h"
#include "core/kafka/generated/metadata.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

struct OffsetAndTimestamp {
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  int32_t leader_epoch = -1;
  friend bool operator==(const OffsetAndTimestamp&, const OffsetAndTimestamp&) = default;
};

struct ConsumerStats {
  uint64_t fetch_requests = 0;
  uint64_t fetch_failures = 0;        // partitions whose fetch failed (retried)
  uint64_t stale_fetches = 0;         // partition answers dropped (THE RULE)
  uint64_t list_offsets_requests = 0;
  uint64_t metadata_requests = 0;
  uint64_t records_returned = 0;
};

// Callbacks of a group's rebalances (Java's ConsumerRebalanceListener); unset ones are skipped
// (on_lost unset: on_revoked runs instead, as Java's default).
struct RebalanceListener {
  std::function<void(const std::vector<TopicPartition>&)> on_revoked;
  std::function<void(const std::vector<TopicPartition>&)> on_assigned;
  std::function<void(const std::vector<TopicPartition>&)> on_lost;
};

class Consumer {
 public:
  using CommitCallback = absl::AnyInvocable<void(absl::Status) &&>;
  using CommittedCallback =
      absl::AnyInvocable<void(absl::StatusOr<std::map<TopicPartition, CommittedOffset>>) &&>;
  using PollCallback =
      absl::AnyInvocable<void(absl::StatusOr<std::vector<ConsumerRecord>>) &&>;
  // An entry per partition asked about: nullopt when no record has a timestamp at or after the
  // one given (Java's null).
  using OffsetsForTimesResult = std::map<TopicPartition, std::optional<OffsetAndTimestamp>>;
  using OffsetsForTimesCallback = absl::AnyInvocable<void(absl::StatusOr<OffsetsForTimesResult>) &&>;

  // Errors: kInvalidArgument for options ValidateConsumerOptions refuses.
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(runtime::ClientRuntime& runtime,
                                                          ConsumerOptions options);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Replaces the assignment; partitions kept keep their positions. Errors: kInvalidArgument
  // for an empty topic or a negative partition; kFailedPrecondition after Close().
  absl::Status Assign(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> Assignment() const { return state_.Assignment(); }

  // Joins options.group_id with this subscription (replacing any). Errors: kFailedPrecondition
  // without a group id, after Assign, or after Close; kInvalidArgument for an empty topic name
  // or an unknown assignor.
  absl::Status Subscribe(std::set<std::string> topics, RebalanceListener listener = {});
  // Leaves the group (its partitions are revoked first); the consumer then holds nothing.
  void Unsubscribe();
  // Commits `offsets` (the next record to read, per partition) for the group; done(OK) once
  // the coordinator has them, kAborted if the group rebalanced (Java's CommitFailedException),
  // kFailedPrecondition without a group id.
  void Commit(std::map<TopicPartition, int64_t> offsets, CommitCallback done);
  // Commits every assigned partition's position (Java's commitSync()).
  void CommitPositions(CommitCallback done);
  // The group's committed offsets (offset -1: none).
  void Committed(std::vector<TopicPartition> partitions, CommittedCallback done);
  // Java's close(): commits positions (enable.auto.commit), leaves the group (a static member
  // does not), then Close(); done runs after, within about `timeout`.
  void Shutdown(Duration timeout, absl::AnyInvocable<void() &&> done);
  // The group membership (nullptr before Subscribe or a commit call).
  const GroupMembership* membership() const { return membership_.get(); }

  // Errors (the seeks, Pause, Resume): kFailedPrecondition for a partition not assigned (the
  // whole call then changes nothing); Seek: kInvalidArgument for a negative offset.
  absl::Status Seek(const TopicPartition& tp, int64_t offset);
  absl::Status SeekToBeginning(const std::vector<TopicPartition>& partitions);
  absl::Status SeekToEnd(const std::vector<TopicPartition>& partitions);
  // To the first record whose timestamp is >= `timestamp_ms`, or the end if there is none.
  absl::Status SeekToTimestamp(const std::vector<TopicPartition>& partitions,
                               int64_t timestamp_ms);
  // nullopt for a partition not assigned or whose reset has not been answered yet.
  std::optional<int64_t> Position(const TopicPartition& tp) const { return state_.Position(tp); }
  // The high watermark the last accepted fetch reported (-1 before one).
  int64_t HighWatermark(const TopicPartition& tp) const;

  // A paused partition is not fetched and Poll returns none of its records (those already
  // buffered are kept for Resume). Java's pause/resume.
  absl::Status Pause(const std::vector<TopicPartition>& partitions);
  absl::Status Resume(const std::vector<TopicPartition>& partitions);
  std::set<TopicPartition> Paused() const;

  // ListOffsets by timestamp, for any partitions (assigned or not); `done` runs once. Retries
  // leader moves until default_api_timeout (then kDeadlineExceeded).
  void OffsetsForTimes(std::map<TopicPartition, int64_t> timestamps,
                       OffsetsForTimesCallback done);

  // Runs `done` once with up to `max_records` records (in offset order per partition) as soon
  // as any is there, with an empty vector once `timeout` passes without any, or with the first
  // pending error (ERRORS). One Poll at a time: a second one fails (kFailedPrecondition), as
  // does any Poll after Close(). REQUIRES: max_records > 0.
  void Poll(size_t max_records, Duration timeout, PollCallback done);

  // Fails a pending Poll and OffsetsForTimes with kCancelled (before returning), closes every
  // connection. Idempotent.
  void Close();

  const ConsumerStats& stats() const { return stats_; }
  size_t buffered_bytes() const { return state_.buffered_bytes(); }

 private:
  struct PendingPoll {
    size_t max_records = 0;
    Instant deadline;
    PollCallback done;
  };
  struct InFlightFetch {
    int32_t broker = -1;
    std::vector<std::pair<TopicPartition, int64_t>> partitions;  // and their fetch offsets
  };
  // One OffsetsForTimes call (or, with `done` unset, the resets' lookups are not tracked here).
  struct Lookup {
    std::map<TopicPartition, int64_t> timestamps;
    std::set<TopicPartition> unsent;
    std::set<TopicPartition> in_flight;
    OffsetsForTimesResult result;
    Instant deadline;
    Instant retry_at;  // after a retriable failure, nothing is sent before then
    OffsetsForTimesCallback done;
  };
  using PartitionOffsets =
      kafka::ListOffsetsResponse::ListOffsetsTopicResponse::ListOffsetsPartitionResponse;
  using PartitionData = kafka::FetchResponse::FetchableTopicResponse::PartitionData;

  Consumer(runtime::ClientRuntime& runtime, ConsumerOptions options);

  // ---- consumer.cc: the API, Poll, the loop ----
  absl::Status ForEachAssigned(const std::vector<TopicPartition>& partitions,
                               const std::function<absl::Status(const TopicPartition&)>& each);
  void Wake(Duration delay);
  void Run();
  void MaybeCompletePoll(Instant now);
  void ReportUnpositioned();
  void ScheduleNext(Instant now);
  void Post(absl::AnyInvocable<void() &&> callback);

  // ---- consumer_group.cc: Subscribe, commits, the membership's Host ----
  absl::Status EnsureMembership();
  GroupMembership::Host MembershipHost();
  void OnRevoke(std::vector<TopicPartition> partitions, absl::AnyInvocable<void() &&> done);
  void OnAssigned(std::vector<TopicPartition> partitions);
  void OnLost(std::vector<TopicPartition> partitions);
  void FetchCommittedPositions(uint64_t epoch);
  void OnCommittedPositions(uint64_t epoch,
                            absl::StatusOr<std::map<TopicPartition, CommittedOffset>> result);
  std::map<TopicPartition, int64_t> Positions(const std::vector<TopicPartition>& partitions) const;
  void MaybeAutoCommit(Instant now);

  // ---- consumer_fetcher.cc: Fetch requests and answers ----
  void SendFetches(Instant now);
  void SendFetch(int32_t broker, std::vector<TopicPartition> partitions);
  void OnFetchReply(uint64_t id, absl::StatusOr<Reply<kafka::FetchResponse>> reply);
  void HandlePartition(const TopicPartition& tp, int64_t fetch_offset, const PartitionData& data);
  void HandleOutOfRange(const TopicPartition& tp, int64_t fetch_offset);
  void FailFetch(const TopicPartition& tp, absl::Status why, bool refresh);

  // ---- consumer_offsets.cc: Metadata, resets and OffsetsForTimes (ListOffsets) ----
  void MaybeRefreshMetadata(Instant now);
  void OnMetadataReply(absl::StatusOr<Reply<kafka::MetadataResponse>> reply);
  std::set<std::string> TopicsWanted() const;
  void SendResets(Instant now);
  void OnResetReply(std::vector<std::pair<TopicPartition, int64_t>> asked,
                    absl::StatusOr<Reply<kafka::ListOffsetsResponse>> reply);
  void SendLookups(Instant now);
  void OnLookupReply(uint64_t id, std::vector<TopicPartition> asked,
                     absl::StatusOr<Reply<kafka::ListOffsetsResponse>> reply);
  void ExpireLookups(Instant now);
  // One ListOffsets to `broker` for `asked` (partition, target timestamp).
  void SendListOffsets(int32_t broker, const std::vector<std::pair<TopicPartition, int64_t>>& asked,
                       BrokerConnection::Done<kafka::ListOffsetsResponse> done);
  // Groups `partitions` by leader; those without one ask for metadata.
  std::map<int32_t, std::vector<TopicPartition>> ByLeader(
      const std::vector<TopicPartition>& partitions);
  int64_t ResetTimestamp() const;

  runtime::ClientRuntime& runtime_;
  const ConsumerOptions options_;
  SubscriptionState state_;
  MetadataCache metadata_;
  ConnectionPool pool_;
  ConsumerStats stats_;

  std::optional<PendingPoll> poll_;
  std::map<uint64_t, InFlightFetch> fetches_;  // by request id
  std::set<int32_t> fetching_brokers_;         // one fetch in flight per broker
  uint64_t next_request_id_ = 0;
  std::map<uint64_t, Lookup> lookups_;

  bool metadata_wanted_ = true;
  bool metadata_in_flight_ = false;
  std::optional<Instant> metadata_attempted_;
  std::optional<Instant> metadata_updated_;

  // Groups: the membership, its listener, the partitions waiting for their committed offsets
  // (not fetched or reset until then), and the assignment they belong to.
  std::unique_ptr<GroupMembership> membership_;
  RebalanceListener listener_;
  bool subscribed_ = false;
  bool manually_assigned_ = false;
  std::set<std::string> group_topics_;  // what the group's leader needs metadata for
  std::set<TopicPartition> awaiting_committed_;
  uint64_t assignment_epoch_ = 0;
  Instant next_auto_commit_;
  absl::Status group_error_;

  WakeTimer wake_{runtime_.clock(), [this] { Run(); }};
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::clients
