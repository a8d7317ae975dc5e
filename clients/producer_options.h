// ProducerOptions: the producer's configuration, with Kafka's names (in comments) and defaults,
// and the validation Producer::Create applies.
//
// DEFAULTS follow Kafka 3.x's Java client, except:
//   linger = 5 ms: librdkafka's default (linger.ms=5), and the Java client's since Kafka 4.0
//     (KIP-1030). On one loop, a zero linger would send one request per Send() burst, so a short
//     wait buys much larger batches for little latency.
//   buffer_memory overflow fails Send() at once (kResourceExhausted) where Java blocks up to
//     max.block.ms: a client on one event loop cannot block.
//   metadata for an unknown topic: Send() queues the record until the topic appears (or its
//     delivery timeout passes) instead of blocking up to max.block.ms, for the same reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/base/units.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

struct ProducerOptions {
  // bootstrap.servers: where to ask for the first Metadata. REQUIRES: not empty.
  std::vector<runtime::Address> bootstrap;
  // client.id
  std::optional<std::string> client_id = "eddy-producer";
  // acks: -1 (all in-sync replicas), 1 (the leader), 0 (no reply at all).
  int16_t acks = -1;
  // enable.idempotence: a producer id, per-partition sequence numbers, retries without
  // duplicates. REQUIRES acks == -1 and max_in_flight_requests_per_connection <= 5.
  bool enable_idempotence = true;
  // batch.size: a batch stops growing once the next record would take it beyond this (a lone
  // record larger than it still travels, in a batch of its own).
  size_t batch_size_bytes = 16384;
  // linger.ms: how long a partial batch waits for more records (see DEFAULTS).
  Duration linger = Duration::Milliseconds(5);
  // buffer.memory: bytes of records held (queued, in flight or awaiting retry) at most.
  size_t buffer_memory_bytes = 32 * kMiB;
  // request.timeout.ms: how long a request waits for its reply (also Produce's TimeoutMs).
  Duration request_timeout = Duration::Seconds(30);
  // delivery.timeout.ms: from Send() to the record's outcome, retries included. A record not
  // acknowledged by then fails with kDeadlineExceeded. REQUIRES >= linger + request_timeout.
  Duration delivery_timeout = Duration::Seconds(120);
  // retries: how many times a batch is resent after a retriable error (delivery_timeout bounds
  // it in time as well).
  int32_t retries = INT32_MAX;
  // retry.backoff.ms: the wait before a batch is resent, and between metadata refreshes.
  Duration retry_backoff = Duration::Milliseconds(100);
  // max.in.flight.requests.per.connection: Produce requests awaiting their reply per broker.
  int32_t max_in_flight_requests_per_connection = 5;
  // Metadata's AllowAutoTopicCreation: the Java producer always asks the broker to create a
  // topic it does not know (the broker's auto.create.topics.enable decides).
  bool allow_auto_topic_creation = true;
  // metadata.max.age.ms: metadata is refreshed at least this often.
  Duration metadata_max_age = Duration::Seconds(300);
  // Produce, Metadata and InitProducerId versions used (what Eddy's and Kafka 3.x's brokers
  // serve; no ApiVersions negotiation yet).
  int16_t produce_version = 9;
  int16_t metadata_version = 12;
  int16_t init_producer_id_version = 4;
};

// Kafka's bound for idempotent producers: a broker remembers the last 5 batches per producer
// and partition, so no more than 5 may be unacknowledged at once.
inline constexpr int32_t kIdempotentInFlightMax = 5;

// OK, or kInvalidArgument naming the first option that is out of range or inconsistent.
absl::Status ValidateProducerOptions(const ProducerOptions& options);

}  // namespace eddy::clients
