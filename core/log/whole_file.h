// Whole-file helpers on the disk seam, for the small index files: read a file completely, or
// replace a file's contents and make them durable.
//
// LOOP AFFINITY: the disk's loop; completions run there, later. The disk must outlive every
// pending call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/runtime/disk.h"

namespace eddy::log {

// Largest file ReadWholeFile accepts: an offset index for a full 1 GiB segment of the smallest
// possible batches is ~211 MB; anything bigger is not one of ours.
inline constexpr uint64_t kWholeFileSizeBytesMax = 256 * 1024 * 1024;

// Opens `path`, reads all of it (in chunks of at most kDiskReadSizeBytesMax) and closes it.
// kNotFound if missing; kDataLoss if larger than kWholeFileSizeBytesMax.
void ReadWholeFile(runtime::Disk& disk, std::string path,
                   runtime::Disk::DoneWith<std::vector<uint8_t>> done);

// Creates or truncates `path`, writes `contents`, syncs and closes it. The directory entry is
// NOT synced: the caller does that (it usually writes several files first).
void WriteWholeFile(runtime::Disk& disk, std::string path, std::vector<uint8_t> contents,
                    runtime::Disk::Done done);

}  // namespace eddy::log
