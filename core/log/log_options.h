// Tuning knobs of one partition log. Every one is a limit with a unit in its name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "core/base/limits.h"
#include "core/base/units.h"
#include "core/log/file_cache.h"
#include "core/record/batch_header.h"

namespace eddy::log {

// Says, from a batch's 61-byte header alone, whether the batch is HIDDEN: an entry of the log's
// owner (Raft's no-op and membership entries) that Kafka clients never see and that takes no
// Kafka offset (FORMAT.md "Kafka offsets"). It must be a pure function of the header's
// CRC-covered fields, and the same function on every replica and in every version that opens
// the log: the hidden bits are recorded in sealed segments' index files and define the Kafka
// offsets clients have seen, so the classifier is part of the partition's format.
using HiddenBatchClassifier = bool (*)(const record::BatchHeader& header);

struct LogOptions {
  // Roll to a new segment when appending a batch would make the active one larger than this.
  uint64_t segment_size_bytes_max = 256 * kMiB;
  // Roll when the active segment (non-empty) has been open this long on the log's Clock.
  Duration segment_age_max = Duration::Seconds(7 * 24 * 3600);
  // Retention (EnforceRetention): delete the oldest segments while the log stays at least this
  // big without them. Unlimited when empty.
  std::optional<uint64_t> retention_size_bytes;
  // Retention: delete segments whose newest record timestamp is older than this many
  // milliseconds before the "now" passed to EnforceRetention. Unlimited when empty.
  std::optional<int64_t> retention_age_ms;
  // Flush rounds wait at most this many flush requests; more fail with kResourceExhausted.
  uint64_t flush_waiter_count_max = 1 << 20;
  // Which batches are hidden from Kafka clients; nullptr: none (every offset is a Kafka offset).
  HiddenBatchClassifier is_hidden = nullptr;
  // The node-wide budget of open segment files shared by every log of the node (FileCache:
  // idle files beyond it are closed, least recently used first, and reopened on demand).
  // nullptr: the log makes a private one of FileCache::kPrivateOpenFileCountMax files.
  std::shared_ptr<FileCache> file_cache;
};

// Whether `options` classify the batch with `header` as hidden.
inline bool IsHiddenBatch(const LogOptions& options, const record::BatchHeader& header) {
  return options.is_hidden != nullptr && options.is_hidden(header);
}

}  // namespace eddy::log
