// SegmentScanner: validates a segment file's bytes batch by batch and rebuilds its indexes.
//
// The pure core of recovery: the loader reads the file in chunks and feeds them here; the scanner
// accepts a batch only if its header parses, its CRC matches, its base offset continues the
// previous batch (dense offsets, the first one equal to the segment's base offset), its term
// does not go down, and, if `is_hidden` classifies it hidden, it covers exactly one offset (the
// log never accepts another kind). The hidden bit goes into the rebuilt offset index. It stops at the first batch that fails, and from then on reports the defect:
// everything from defect_position() on is a torn or corrupt tail.
//
// Pure: no I/O, not tied to a loop.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/log/log_options.h"
#include "core/log/offset_index.h"
#include "core/log/time_index.h"

namespace eddy::log {

class SegmentScanner {
 public:
  enum class State {
    kNeedMore,  // every whole batch so far is valid; feed bytes from end_position()
    kClean,     // reached the end of the file exactly at a batch boundary
    kDefect,    // found a bad batch at end_position(); see defect()
  };

  // `is_hidden` may be nullptr (nothing hidden).
  SegmentScanner(int64_t base_offset, HiddenBatchClassifier is_hidden);

  // Consumes `bytes`, which start at file position end_position(); `at_end_of_file` says that
  // nothing follows them. Returns the number of bytes consumed (whole valid batches).
  // REQUIRES: state() == kNeedMore.
  uint64_t Feed(std::span<const uint8_t> bytes, bool at_end_of_file);

  State state() const { return state_; }
  // Bytes of valid batches seen so far (= where the next batch or the defect starts).
  uint64_t end_position() const { return offset_index_.end_position(); }
  const std::string& defect() const { return defect_; }
  // CRC field of the last valid batch (0 if none).
  uint32_t last_batch_crc() const { return last_batch_crc_; }

  const OffsetIndex& offset_index() const { return offset_index_; }
  const TimeIndex& time_index() const { return time_index_; }
  OffsetIndex TakeOffsetIndex() { return std::move(offset_index_); }
  TimeIndex TakeTimeIndex() { return std::move(time_index_); }

 private:
  void SetDefect(std::string defect);

  const HiddenBatchClassifier is_hidden_;
  State state_ = State::kNeedMore;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
  uint32_t last_batch_crc_ = 0;
  std::string defect_;
};

}  // namespace eddy::log
