// Named limits shared across packages. Every queue, batch, buffer and retry loop in Eddy has a
// limit; the ones that cross package boundaries live here so both sides agree on them.
#pragma once

#include <cstdint>

#include "core/base/units.h"

namespace eddy::limits {

// Largest record batch accepted on the wire or on disk, header included (Kafka's default
// message.max.bytes is about 1 MiB; we allow larger batches for throughput).
inline constexpr uint64_t kBatchSizeBytesMax = 16 * kMiB;

// Most records in one batch; bounds decoder allocations driven by an untrusted count field.
inline constexpr uint32_t kBatchRecordCountMax = 1u << 20;

// Largest key, value or header field in one record.
inline constexpr uint64_t kRecordFieldSizeBytesMax = kBatchSizeBytesMax;

// Most headers on one record.
inline constexpr uint32_t kRecordHeaderCountMax = 1u << 16;

// Largest segment file; offsets inside a segment index are stored as uint32 relative positions.
inline constexpr uint64_t kSegmentSizeBytesMax = 1 * kGiB;

// Largest single read request to the disk seam.
inline constexpr uint64_t kDiskReadSizeBytesMax = 64 * kMiB;

// Longest file name handed to the disk seam.
inline constexpr uint32_t kFileNameLengthMax = 255;

static_assert(kBatchSizeBytesMax < kSegmentSizeBytesMax,
              "a batch must always fit into one segment");
static_assert(kBatchSizeBytesMax <= kDiskReadSizeBytesMax,
              "one read must be able to return a whole batch");
static_assert(kSegmentSizeBytesMax <= UINT32_MAX, "segment positions are stored as uint32");

}  // namespace eddy::limits
