// TimeIndex: for one segment, the offsets at which the largest batch timestamp seen so far grew.
//
// An entry (timestamp, base offset) is added exactly when a batch's max timestamp exceeds every
// earlier one in the segment, so the first entry with timestamp >= T names the first batch that
// holds a record with timestamp >= T: lookups are exact at batch granularity (Kafka's
// ListOffsets answers at record granularity by scanning that batch; we return its base offset
// and let the consumer skip the earlier records). Kept in memory, packed (PackedPairs: a few
// bytes per entry); written to "<base>.timeindex"
// when the segment is sealed (FORMAT.md).
//
// Pure value type: no I/O, not tied to a loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/log/packed_pairs.h"

namespace eddy::log {

class TimeIndex {
 public:
  static constexpr size_t kEntrySizeBytes = 12;
  static constexpr size_t kHeaderSizeBytes = 20;
  static constexpr size_t kTrailerSizeBytes = 4;
  static constexpr uint32_t kMagic = 0x45445449;  // "EDTI"
  static constexpr uint32_t kVersion = 1;

  explicit TimeIndex(int64_t base_offset);

  int64_t base_offset() const { return base_offset_; }
  size_t entry_count() const { return entries_.size(); }
  // Packs what is still unpacked and releases spare capacity (a sealed or loaded segment).
  void Compact() { entries_.Compact(); }
  // Heap bytes held (PackedPairs: a few bytes per entry).
  size_t memory_bytes() const { return entries_.memory_bytes(); }
  // Largest timestamp of any batch in the segment; std::nullopt when no batch was observed.
  std::optional<int64_t> max_timestamp() const;

  // Base offset of the batch behind the last entry; std::nullopt when empty.
  std::optional<int64_t> last_entry_offset() const;

  // Records a batch. REQUIRES: batch_base_offset >= base_offset(), batch_base_offset -
  // base_offset() <= UINT32_MAX, and batch_base_offset greater than every earlier one.
  void Observe(int64_t batch_base_offset, int64_t batch_max_timestamp);

  // Base offset of the first batch whose max timestamp is >= `timestamp`; std::nullopt if none.
  std::optional<int64_t> Lookup(int64_t timestamp) const;

  // Forgets batches whose base offset is >= `offset` (suffix truncation).
  void TruncateFrom(int64_t offset);

  std::vector<uint8_t> Encode() const;
  // kDataLoss if damaged or not monotonic.
  static absl::StatusOr<TimeIndex> Decode(int64_t base_offset, std::span<const uint8_t> bytes);

 private:
  int64_t base_offset_;
  // a = timestamp, b = relative base offset; both strictly increase.
  PackedPairs entries_;
};

}  // namespace eddy::log
