#include "clients/producer_options.h"

#include "absl/strings/str_cat.h"
#include "core/base/limits.h"
#include "core/record/batch_header.h"

namespace eddy::clients {

absl::Status ValidateProducerOptions(const ProducerOptions& o) {
  auto bad = [](auto... what) { return absl::InvalidArgumentError(absl::StrCat(what...)); };
  if (o.bootstrap.empty()) return bad("bootstrap: no address");
  if (o.acks != -1 && o.acks != 0 && o.acks != 1) return bad("acks: ", o.acks);
  if (o.enable_idempotence && o.acks != -1) {
    return bad("enable_idempotence requires acks=-1 (all), not ", o.acks);
  }
  if (o.enable_idempotence && o.max_in_flight_requests_per_connection > kIdempotentInFlightMax) {
    return bad("enable_idempotence requires max_in_flight_requests_per_connection <= ",
               kIdempotentInFlightMax);
  }
  if (o.max_in_flight_requests_per_connection < 1) return bad("max_in_flight: below 1");
  if (o.batch_size_bytes < record::kBatchHeaderSizeBytes ||
      o.batch_size_bytes > limits::kBatchSizeBytesMax) {
    return bad("batch_size_bytes: ", o.batch_size_bytes);
  }
  if (o.buffer_memory_bytes < o.batch_size_bytes) return bad("buffer_memory below batch_size");
  if (o.linger < Duration::Zero()) return bad("linger: negative");
  if (o.request_timeout <= Duration::Zero()) return bad("request_timeout: not positive");
  if (o.delivery_timeout < o.linger + o.request_timeout) {
    return bad("delivery_timeout below linger + request_timeout (Kafka's rule)");
  }
  if (o.retries < 0) return bad("retries: negative");
  if (o.retry_backoff < Duration::Zero()) return bad("retry_backoff: negative");
  if (o.metadata_max_age <= Duration::Zero()) return bad("metadata_max_age: not positive");
  if (o.produce_version < 3) return bad("produce_version: below 3 (RecordBatch v2 needs v3+)");
  return absl::OkStatus();
}

}  // namespace eddy::clients
