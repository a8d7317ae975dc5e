// File names of a partition's segments and their index files (see FORMAT.md).
//
// A segment is named by its base offset, zero-padded to 20 decimal digits so that bytewise order
// (the order Disk::List returns) is offset order: "00000000000000000042.log" with its indexes
// "….index" and "….timeindex".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace eddy::log {

enum class SegmentFileKind {
  kLog,        // the record batches
  kIndex,      // the offset index (one entry per batch)
  kTimeIndex,  // the time index
  // Empty marker "<offset>.reset": a ResetTo(offset) is in progress (FORMAT.md). Its name is
  // its only content.
  kResetMarker,
};

struct SegmentFileName {
  int64_t base_offset = 0;
  SegmentFileKind kind = SegmentFileKind::kLog;
};

// "<20 digits><suffix>". REQUIRES: base_offset >= 0.
std::string SegmentFileNameFor(int64_t base_offset, SegmentFileKind kind);

// Parses a name produced by SegmentFileNameFor; std::nullopt for anything else (other files in
// the directory are not ours and are ignored).
std::optional<SegmentFileName> ParseSegmentFileName(const std::string& name);

}  // namespace eddy::log
