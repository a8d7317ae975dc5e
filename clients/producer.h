// Producer: Eddy's Kafka producer, on the client seam (core/runtime/connector.h) — no thread,
// socket, clock or randomness of its own, so the same code runs in the simulator and on TCP.
//
// A record goes Send() → partitioner (partitioner.h: murmur2 of the key, or sticky for a null
// key) → the partition's open batch (record_accumulator.h) → once ready (full, lingered, or
// flushing) one Produce request per leader carrying at most one batch per partition → the reply
// → every record's callback, with (partition, offset) or the final error.
//
// METADATA. The producer asks a bootstrap (or known) broker for the topics it uses (Metadata
// v12), again after NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, a lost connection or a
// leaderless partition (at most once per retry_backoff), and every metadata_max_age. Records for
// a topic not known yet wait for it (they count against buffer memory and time out like any
// other).
//
// IDEMPOTENCE (on by default). InitProducerId (no transactional id) once, before the first
// Produce; per-partition sequence numbers; at most 5 batches of a partition in flight; a retried
// batch keeps its sequence and is resent in order (REWIND); DUPLICATE_SEQUENCE_NUMBER counts as
// success; OUT_OF_ORDER_SEQUENCE_NUMBER / UNKNOWN_PRODUCER_ID after a batch that failed for good
// gives the partition a new producer id (RESET) — sequence_tracker.h; INVALID_PRODUCER_EPOCH
// fails the batch.
//
// OUTCOMES. Each accepted record's callback runs exactly once, on the loop, never inline from
// Send(): the offset once acknowledged (acks=0: offset -1 once sent), kDeadlineExceeded once
// delivery_timeout passes without acknowledgement (the record may or may not be in the log),
// the broker's error for a non-retriable one, kCancelled at Close(). Callbacks of one partition
// run in offset order except when a retry races a reply from another connection.
//
// LOOP AFFINITY: the runtime's loop. OWNERSHIP: the runtime outlives the producer; destroying it
// runs no callback (Close() first to fail what is outstanding).
#pragma once

#include <cstdint>
#include <deque>
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
#include "clients/metadata_cache.h"
#include "clients/partitioner.h"
#include "clients/producer_batch.h"
#include "clients/producer_options.h"
#include "clients/record_accumulator.h"
#include "clients/sequence_tracker.h"
#include "core/kafka/generated/init_producer_id.h"
#include "core/kafka/generated/metadata.h"
#include "core/kafka/generated/produce.h"
#include "core/record/record.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

struct ProducerRecord {
  std::string topic;
  std::optional<int32_t> partition;  // unset: the partitioner chooses
  std::optional<std::vector<uint8_t>> key;
  std::optional<std::vector<uint8_t>> value;
  std::vector<record::Header> headers;
  std::optional<int64_t> timestamp_ms;  // CreateTime; unset: the runtime's wall clock at Send()
};

struct ProducerStats {
  uint64_t records_sent = 0;     // accepted by Send()
  uint64_t records_acked = 0;
  uint64_t records_retried = 0;  // once per record per retry
  uint64_t records_failed = 0;
  uint64_t batches_sent = 0;     // including resends
  uint64_t produce_requests = 0;
  uint64_t metadata_requests = 0;  // refreshes asked for
  uint64_t init_producer_id_requests = 0;
  uint64_t producer_id_resets = 0;  // partitions given a new producer id (RESET)
};

class Producer {
 public:
  // Errors: kInvalidArgument for options ValidateProducerOptions refuses.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(runtime::ClientRuntime& runtime,
                                                          ProducerOptions options);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues a record; `callback` runs once with its outcome (OUTCOMES) iff this returns OK.
  // Errors, at once: kFailedPrecondition after Close(); kInvalidArgument for an empty topic, a
  // negative partition, one beyond the topic's count, or a record that can never fit a batch;
  // kResourceExhausted when buffer_memory is full (Java would block; we cannot).
  absl::Status Send(ProducerRecord record, SendCallback callback);
  // Runs `done` (later, on the loop) once every record accepted before this call has its
  // outcome; batches are sent without waiting for linger meanwhile.
  void Flush(absl::AnyInvocable<void() &&> done);
  // Fails every outstanding record with kCancelled (callbacks run before it returns), runs the
  // pending Flush callbacks, closes every connection. Idempotent; Send fails afterwards.
  void Close();

  const ProducerStats& stats() const { return stats_; }
  // The producer id InitProducerId gave (invalid until then, and when not idempotent).
  ProducerIdAndEpoch producer_id() const { return sequences_.producer_id(); }
  bool closed() const { return closed_; }

 private:
  // A record waiting for its topic's metadata.
  struct Waiting {
    ProducerRecord record;
    SendCallback callback;
    uint64_t index = 0;
    Instant deadline;
    size_t reserved_bytes = 0;
  };
  // One Produce request awaiting its reply.
  struct InFlight {
    int32_t broker = -1;
    std::vector<std::unique_ptr<ProducerBatch>> batches;
  };
  struct FlushWaiter {
    uint64_t record_index_end = 0;  // records [0, end) must have their outcome
    absl::AnyInvocable<void() &&> done;
  };

  Producer(runtime::ClientRuntime& runtime, ProducerOptions options);

  // ---- producer.cc: the API, partitioning, outcomes ----
  absl::Status Append(ProducerRecord& record, int32_t partition, uint64_t index,
                      SendCallback& callback);
  absl::StatusOr<int32_t> ChoosePartition(const ProducerRecord& record, int32_t count);
  void AppendWaiting();
  bool TopicWaiting(const std::string& topic) const;
  void ExpireWaiting(Instant now);
  void Complete(std::unique_ptr<ProducerBatch> batch, const absl::StatusOr<int64_t>& offset);
  void CheckFlushes();
  uint64_t MinUnresolvedRecordIndex() const;

  // ---- producer_sender.cc: draining, Produce, replies, retries ----
  void Wake(Duration delay);
  void RunSender();
  void ScheduleNext();
  void Drain(Instant now);
  void SendProduce(int32_t broker, std::vector<std::unique_ptr<ProducerBatch>> batches);
  void OnProduceReply(uint64_t request_id,
                      absl::StatusOr<Reply<kafka::ProduceResponse>> reply);
  void HandlePartitionReply(std::unique_ptr<ProducerBatch> batch,
                            const kafka::ProduceResponse::TopicProduceResponse::
                                PartitionProduceResponse& partition);
  void RetryOrFail(std::unique_ptr<ProducerBatch> batch, absl::Status why);
  void StampForSend(ProducerBatch& batch);
  BrokerConnection* ConnectionTo(int32_t broker);

  // ---- producer_metadata.cc: Metadata, InitProducerId, producer id resets ----
  void RequestMetadata() { metadata_wanted_ = true; }
  void MaybeRefreshMetadata(Instant now);
  void OnMetadataReply(absl::StatusOr<Reply<kafka::MetadataResponse>> reply);
  BrokerConnection& AnyBrokerConnection();
  void RetireAnyBrokerConnection();
  void MaybeInitProducerId(Instant now);
  void OnInitProducerIdReply(absl::StatusOr<Reply<kafka::InitProducerIdResponse>> reply);
  void ApplyProducerId(ProducerIdAndEpoch id);
  bool NeedProducerId() const;

  runtime::ClientRuntime& runtime_;
  const ProducerOptions options_;
  const bool idempotent_;
  RecordAccumulator accumulator_;
  SequenceTracker sequences_;
  MetadataCache metadata_;
  StickyPartitioner sticky_;
  ProducerStats stats_;

  std::set<std::string> topics_;  // every topic Send() was given, for Metadata
  std::deque<Waiting> waiting_;
  std::map<uint64_t, InFlight> in_flight_;
  uint64_t next_request_id_ = 0;
  std::map<int32_t, int32_t> requests_in_flight_;  // per broker
  std::map<int32_t, std::unique_ptr<BrokerConnection>> connections_;
  // Closed connections, destroyed on the sender's next run (not inside their own callbacks).
  std::vector<std::unique_ptr<BrokerConnection>> retired_;
  std::deque<FlushWaiter> flushes_;
  uint64_t next_record_index_ = 0;

  // Metadata and InitProducerId go to "any broker": bootstrap and known brokers in turn.
  std::unique_ptr<BrokerConnection> any_broker_;
  size_t any_broker_turn_ = 0;
  bool metadata_wanted_ = true;
  bool metadata_in_flight_ = false;
  std::optional<Instant> metadata_attempted_;
  std::optional<Instant> metadata_updated_;
  bool init_in_flight_ = false;
  std::optional<Instant> init_attempted_;

  WakeTimer wake_{runtime_.clock(), [this] { RunSender(); }};
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::clients
