#include "core/log/segment_scanner.h"

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/record/batch_header.h"

namespace eddy::log {

SegmentScanner::SegmentScanner(int64_t base_offset, HiddenBatchClassifier is_hidden)
    : is_hidden_(is_hidden), offset_index_(base_offset), time_index_(base_offset) {}

uint64_t SegmentScanner::Feed(std::span<const uint8_t> bytes, bool at_end_of_file) {
  EDDY_CHECK(state_ == State::kNeedMore);
  uint64_t consumed = 0;
  while (true) {
    const std::span<const uint8_t> rest = bytes.subspan(consumed);
    if (rest.empty() && at_end_of_file) {
      state_ = State::kClean;
      return consumed;
    }
    absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(rest);
    if (header.status().code() == absl::StatusCode::kOutOfRange ||
        (header.ok() && header->size_bytes() > rest.size())) {
      // A partial batch: more bytes may follow, unless this is the end of the file.
      if (at_end_of_file) SetDefect(absl::StrCat("partial batch of ", rest.size(), " bytes"));
      return consumed;
    }
    if (!header.ok()) {
      SetDefect(absl::StrCat("bad batch header: ", header.status().message()));
      return consumed;
    }
    const std::span<const uint8_t> batch = rest.first(header->size_bytes());
    if (absl::Status crc = record::VerifyBatchCrc(batch); !crc.ok()) {
      SetDefect(absl::StrCat("batch at offset ", header->base_offset, ": ", crc.message()));
      return consumed;
    }
    if (header->base_offset != offset_index_.next_offset()) {
      SetDefect(absl::StrCat("batch base offset ", header->base_offset, " where ",
                             offset_index_.next_offset(), " was expected"));
      return consumed;
    }
    if (header->partition_leader_epoch < 0 ||
        (!offset_index_.empty() && header->partition_leader_epoch < offset_index_.last_term())) {
      SetDefect(absl::StrCat("batch term ", header->partition_leader_epoch, " goes backwards"));
      return consumed;
    }
    if (!offset_index_.HasRoomFor(header->last_offset(), header->size_bytes())) {
      SetDefect("batch overflows the segment's 32-bit relative fields");
      return consumed;
    }
    const bool hidden = is_hidden_ != nullptr && is_hidden_(*header);
    if (hidden && header->last_offset_delta != 0) {
      SetDefect(absl::StrCat("hidden batch at offset ", header->base_offset, " covers ",
                             int64_t{header->last_offset_delta} + 1, " offsets"));
      return consumed;
    }
    offset_index_.Append(header->base_offset, header->last_offset(),
                         static_cast<uint32_t>(header->size_bytes()),
                         header->partition_leader_epoch, hidden);
    time_index_.Observe(header->base_offset, header->max_timestamp);
    last_batch_crc_ = header->crc;
    consumed += header->size_bytes();
  }
}

void SegmentScanner::SetDefect(std::string defect) {
  EDDY_CHECK(state_ == State::kNeedMore);
  state_ = State::kDefect;
  defect_ = std::move(defect);
}

}  // namespace eddy::log
