// Record framing and salvaging reads for the node's state files (node_state_store.h).
//
// A state file is a sequence of frames [magic][length][crc32c][payload] (FORMAT.md, "State
// files"). A scan resynchronises after damage on the next magic, so one damaged frame costs that
// frame only; a frame counts only if its CRC matches, so a false magic inside a payload is
// harmless. Reads go through ReadFileImage: a chunk that fails is read again sector by sector,
// so one bad sector costs the bytes on it, not the chunk.
//
// LOOP AFFINITY: the disk's loop. Pure functions except ReadFileImage.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "core/runtime/disk.h"

namespace eddy::raft::driver {

inline constexpr uint32_t kStateFrameMagic = 0x45485332;  // "EHS2"
inline constexpr size_t kStateFrameHeaderSizeBytes = 12;
inline constexpr uint32_t kStateFramePayloadSizeBytesMax = 64 * 1024;

// Appends one frame holding `payload` to `out`. REQUIRES: payload.size() <= the maximum.
void AppendStateFrame(std::span<const uint8_t> payload, std::vector<uint8_t>& out);

// One frame found by a scan.
struct StateFrame {
  std::span<const uint8_t> payload;  // into the scanned bytes
  uint64_t end_bytes = 0;            // where the frame ends in the file
};

struct StateFrameScan {
  std::vector<StateFrame> frames;  // valid frames, in file order
  uint64_t damaged_runs = 0;       // runs of bytes that were not a valid frame (a torn tail too)
};

// Scans `bytes` for valid frames. `accept` may reject a frame whose CRC matched (a payload that
// does not parse): it then counts as damage. `accept` is called only for frames whose CRC
// matched, and every frame it accepts is in `frames`, in the order accepted (so a caller may keep
// what it parsed there instead of parsing again).
StateFrameScan ScanStateFrames(std::span<const uint8_t> bytes,
                               absl::FunctionRef<bool(std::span<const uint8_t>)> accept);

// A whole file as read: unreadable sectors read as zeros and are listed (sorted).
struct FileImage {
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> unreadable_sectors;
};

// Reads all of `file`; kDataLoss if it is larger than `size_bytes_max`. `alive` guards the
// completions: once false, `done` is never called.
void ReadFileImage(runtime::Disk& disk, runtime::FileHandle file, uint64_t size_bytes_max,
                   std::shared_ptr<bool> alive,
                   absl::AnyInvocable<void(absl::StatusOr<FileImage>) &&> done);

}  // namespace eddy::raft::driver
