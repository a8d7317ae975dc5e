#include "clients/consumer_options.h"

#include "absl/strings/str_cat.h"

namespace eddy::clients {

absl::Status ValidateConsumerOptions(const ConsumerOptions& o) {
  auto bad = [](const char* what) { return absl::InvalidArgumentError(what); };
  if (o.bootstrap.empty()) return bad("bootstrap.servers is empty");
  if (o.fetch_min_bytes < 0) return bad("fetch.min.bytes < 0");
  if (o.fetch_max_bytes < 1) return bad("fetch.max.bytes < 1");
  if (o.max_partition_fetch_bytes < 1) return bad("max.partition.fetch.bytes < 1");
  if (o.fetch_max_wait < Duration::Zero()) return bad("fetch.max.wait.ms < 0");
  if (o.request_timeout <= o.fetch_max_wait) {
    return bad("request.timeout.ms must exceed fetch.max.wait.ms");
  }
  if (o.retry_backoff <= Duration::Zero()) return bad("retry.backoff.ms must be > 0");
  if (o.default_api_timeout <= Duration::Zero()) return bad("default.api.timeout.ms <= 0");
  if (o.fetch_version < 4 || o.fetch_version > 12) {
    return absl::InvalidArgumentError(absl::StrCat("fetch version ", o.fetch_version,
                                                   " (4..12: topics by name, RecordBatch v2)"));
  }
  if (o.group_id.has_value() && o.group_id->empty()) return bad("group.id is empty");
  if (o.heartbeat_interval <= Duration::Zero() || o.heartbeat_interval >= o.session_timeout) {
    return bad("heartbeat.interval.ms must be in (0, session.timeout.ms)");
  }
  if (o.max_poll_interval <= Duration::Zero()) return bad("max.poll.interval.ms <= 0");
  if (o.auto_commit_interval <= Duration::Zero()) return bad("auto.commit.interval.ms <= 0");
  if (o.list_offsets_version < 1 || o.list_offsets_version > 6) {
    return bad("list offsets version outside 1..6");
  }
  return absl::OkStatus();
}

}  // namespace eddy::clients
