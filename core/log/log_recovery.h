// LogRecovery: brings a partition's directory back to a consistent log when it is opened.
//
// For every segment file, in offset order: if its index files are present, intact and describe
// the file exactly (size, last batch's offsets, term and CRC), the segment is SEALED and loaded
// without reading its batches. Otherwise the file is scanned batch by batch (SegmentScanner:
// header, CRC, dense offsets, non-decreasing terms) and its indexes are rebuilt in memory.
//
// Then the segments are walked in order. The log ends at the first defect: a torn or corrupt
// batch in a scanned segment (the file is truncated there) or a gap between one segment's end
// and the next segment's base offset (a crash after a suffix truncation). Everything after it is
// removed and counted in the report. Survivors that were scanned are synced, and the directory is
// synced, so that what the log now holds is durable: the log starts with flushed == last offset.
//
// A "<offset>.reset" marker (PartitionLog::ResetTo's commit point, FORMAT.md) overrides all of
// that: every segment file is removed, an empty segment at that offset is created, and the
// marker goes last (directory synced in between): the interrupted reset is completed.
//
// Hidden batches (LogOptions::is_hidden): a sealed segment's index files carry each batch's
// hidden bit (the last batch's is checked against `is_hidden` with the header read anyway); a
// scanned segment classifies every batch with `is_hidden`.
//
// A segment whose index files are intact (it was sealed: its bytes were durable before the index
// was written) but which does not scan clean holds corruption in the middle of sealed data; that
// is never truncated away silently: recovery fails with kDataLoss.
//
// LOOP AFFINITY: the disk's loop; `done` runs there, later. Clock and disk must outlive the run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/log/log_options.h"
#include "core/log/segment.h"
#include "core/runtime/clock.h"
#include "core/runtime/disk.h"

namespace eddy::log {

struct RecoveryReport {
  uint64_t segments_loaded = 0;   // trusted from their index files
  uint64_t segments_scanned = 0;  // read and checked batch by batch
  uint64_t indexes_rebuilt = 0;   // scanned segments that had index files which did not match
  uint64_t segments_removed = 0;  // whole segment files dropped after the end of the log
  uint64_t bytes_truncated = 0;   // bytes dropped: torn tails plus removed segments
  std::string first_defect;       // what ended the log early; empty if nothing did
  // A ResetTo(offset) interrupted by a crash after its marker was durable was completed: the
  // log is empty at this offset. -1 if none.
  int64_t reset_completed_to = -1;
};

struct RecoveredLog {
  // Ascending, contiguous (each base == previous next); files of sealed segments closed (opened
  // on demand), the others attached. The last one is active
  // (kActive); earlier ones are kSealed, or kActive when scanned (the log seals them again).
  std::vector<std::shared_ptr<Segment>> segments;
  RecoveryReport report;
};

class LogRecovery {
 public:
  // Size of the chunks in which a segment is scanned; at least one whole largest batch.
  static constexpr uint64_t kScanChunkSizeBytes = 16 * 1024 * 1024;

  // Recovers the log in `directory` (created if missing; an empty directory yields one empty
  // segment at offset 0). `is_hidden` may be nullptr (nothing hidden). Errors: kDataLoss for
  // corruption inside sealed data; disk errors as the disk reports them.
  // Sealed segments' files are closed once checked (the log reopens them on demand); the
  // others are handed over open and registered in `file_cache` (nullptr: a private one).
  static void Run(runtime::Clock& clock, runtime::Disk& disk, std::string directory,
                  HiddenBatchClassifier is_hidden, runtime::Disk::DoneWith<RecoveredLog> done,
                  std::shared_ptr<FileCache> file_cache = nullptr);
};

}  // namespace eddy::log
