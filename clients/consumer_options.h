// ConsumerOptions: the consumer's configuration, with Kafka's names (in comments) and the Java
// client's defaults, and the validation Consumer::Create applies.
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

// auto.offset.reset: where a partition without a position starts, and where one whose position
// fell outside the log (OFFSET_OUT_OF_RANGE) goes.
enum class OffsetResetPolicy { kLatest, kEarliest, kNone };

// isolation.level. kReadCommitted is accepted and, until Eddy has transactions, reads exactly
// what kReadUncommitted does (the broker's last stable offset is its high watermark).
enum class IsolationLevel : int8_t { kReadUncommitted = 0, kReadCommitted = 1 };

struct ConsumerOptions {
  // bootstrap.servers: where to ask for the first Metadata. REQUIRES: not empty.
  std::vector<runtime::Address> bootstrap;
  // client.id
  std::optional<std::string> client_id = "eddy-consumer";
  // fetch.min.bytes: a broker holds a Fetch until this many bytes are there (or the wait ends).
  int32_t fetch_min_bytes = 1;
  // fetch.max.bytes: the bytes of records one Fetch answer may carry (the broker may exceed it
  // by one batch larger than it, Kafka's rule, so a consumer never stalls on a big batch).
  int32_t fetch_max_bytes = 52428800;
  // max.partition.fetch.bytes: the same, per partition.
  int32_t max_partition_fetch_bytes = 1048576;
  // fetch.max.wait.ms: how long a broker holds a Fetch waiting for fetch.min.bytes.
  Duration fetch_max_wait = Duration::Milliseconds(500);
  // isolation.level
  IsolationLevel isolation_level = IsolationLevel::kReadUncommitted;
  // auto.offset.reset
  OffsetResetPolicy auto_offset_reset = OffsetResetPolicy::kLatest;
  // request.timeout.ms: how long a request waits for its reply. REQUIRES > fetch_max_wait (a
  // long poll must not time out while the broker legitimately holds it).
  Duration request_timeout = Duration::Seconds(30);
  // retry.backoff.ms: the wait after a failed fetch or lookup, and between metadata refreshes.
  Duration retry_backoff = Duration::Milliseconds(100);
  // default.api.timeout.ms: how long OffsetsForTimes keeps trying.
  Duration default_api_timeout = Duration::Seconds(60);
  // metadata.max.age.ms
  Duration metadata_max_age = Duration::Seconds(300);
  // check.crcs: accepted; batches are always verified (fetch_decoder.h).
  bool check_crcs = true;
  // ---- consumer groups (Subscribe, the commit APIs: consumer.h, group_membership.h) ----
  // group.id: needed by Subscribe and by the commit APIs (also with Assign: commits outside the
  // group protocol, generation -1).
  std::optional<std::string> group_id;
  // group.instance.id: a static member (KIP-345).
  std::optional<std::string> group_instance_id;
  // session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms (the rebalance timeout; a
  // member is not removed for polling slowly: the consumer polls for itself).
  Duration session_timeout = Duration::Seconds(45);
  Duration heartbeat_interval = Duration::Seconds(3);
  Duration max_poll_interval = Duration::Seconds(300);
  // partition.assignment.strategy (Java's default list; rebalances are eager).
  std::vector<std::string> partition_assignment_strategy = {"range", "cooperative-sticky"};
  // enable.auto.commit, auto.commit.interval.ms: positions are committed every interval, before
  // a rebalance gives the partitions up, and on Shutdown.
  bool enable_auto_commit = true;
  Duration auto_commit_interval = Duration::Seconds(5);
  // client.rack
  std::optional<std::string> client_rack;
  // Versions used (what Eddy's brokers serve: Fetch v12 is the last that names topics; the
  // broker serves ListOffsets up to v6).
  int16_t fetch_version = 12;
  int16_t list_offsets_version = 6;
  int16_t metadata_version = 12;
};

// OK, or kInvalidArgument naming the first option out of range.
absl::Status ValidateConsumerOptions(const ConsumerOptions& options);

}  // namespace eddy::clients
