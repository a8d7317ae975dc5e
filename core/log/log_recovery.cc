#include "core/log/log_recovery.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/limits.h"
#include "core/log/segment_file_names.h"
#include "core/log/segment_scanner.h"
#include "core/log/serial_queue.h"
#include "core/log/whole_file.h"
#include "core/record/batch_header.h"

namespace eddy::log {
namespace {

using runtime::Disk;
using runtime::FileHandle;

// What the directory listing says about one base offset.
struct Listed {
  bool has_log = false;
  bool has_index = false;
  bool has_time_index = false;
};

// One segment file while it is being loaded.
struct Candidate {
  int64_t base_offset = 0;
  FileHandle file = runtime::kNoFile;
  uint64_t file_size_bytes = 0;
  bool has_index_files = false;
  bool sealed = false;            // loaded from intact, matching index files
  bool index_was_intact = false;  // index files decoded, whether or not they matched
  std::optional<OffsetIndex> offset_index;
  std::optional<TimeIndex> time_index;
  std::string defect;  // set if the scan stopped before the end of the file
};

class Recovery : public std::enable_shared_from_this<Recovery> {
 public:
  Recovery(runtime::Clock& clock, Disk& disk, std::string directory,
           HiddenBatchClassifier is_hidden, Disk::DoneWith<RecoveredLog> done,
           std::shared_ptr<FileCache> file_cache)
      : clock_(clock),
        disk_(disk),
        directory_(std::move(directory)),
        is_hidden_(is_hidden),
        done_(std::move(done)),
        file_cache_(file_cache != nullptr
                        ? std::move(file_cache)
                        : std::make_shared<FileCache>(FileCache::kPrivateOpenFileCountMax)) {}

  void Start() {
    auto self = shared_from_this();
    disk_.CreateDirectories(directory_, [self](absl::Status status) {
      if (!status.ok()) return self->Finish(status);
      self->disk_.List(self->directory_, [self](absl::StatusOr<std::vector<std::string>> names) {
        if (!names.ok()) return self->Finish(names.status());
        self->OnListed(*names);
      });
    });
  }

 private:
  std::string PathFor(int64_t base_offset, SegmentFileKind kind) const {
    return runtime::JoinPath(directory_, SegmentFileNameFor(base_offset, kind));
  }

  void OnListed(const std::vector<std::string>& names) {
    std::map<int64_t, Listed> listed;
    std::vector<int64_t> reset_markers;
    for (const std::string& name : names) {
      std::optional<SegmentFileName> parsed = ParseSegmentFileName(name);
      if (!parsed.has_value()) continue;
      if (parsed->kind == SegmentFileKind::kResetMarker) {
        reset_markers.push_back(parsed->base_offset);
        continue;
      }
      Listed& entry = listed[parsed->base_offset];
      switch (parsed->kind) {
        case SegmentFileKind::kResetMarker:
          break;
        case SegmentFileKind::kLog:
          entry.has_log = true;
          break;
        case SegmentFileKind::kIndex:
          entry.has_index = true;
          break;
        case SegmentFileKind::kTimeIndex:
          entry.has_time_index = true;
          break;
      }
    }
    if (reset_markers.size() > 1) {
      // Resets run one at a time, each removing its marker before the next writes one.
      return Finish(absl::DataLossError(
          absl::StrCat(reset_markers.size(), " reset markers in ", directory_)));
    }
    if (reset_markers.size() == 1) return CompleteReset(reset_markers.front(), listed);
    for (const auto& [base_offset, entry] : listed) {
      if (entry.has_log) {
        Candidate candidate;
        candidate.base_offset = base_offset;
        candidate.has_index_files = entry.has_index && entry.has_time_index;
        candidates_.push_back(std::move(candidate));
      } else {
        // Index files without their segment: left over from a removal a crash interrupted.
        if (entry.has_index) orphans_.push_back(PathFor(base_offset, SegmentFileKind::kIndex));
        if (entry.has_time_index) {
          orphans_.push_back(PathFor(base_offset, SegmentFileKind::kTimeIndex));
        }
      }
    }
    LoadNext(0);
  }

  // A durable "<next>.reset" marker: a ResetTo(next) was interrupted after its commit point.
  // Finish it: every segment goes, the log restarts empty at `next`, the marker goes last.
  void CompleteReset(int64_t next, const std::map<int64_t, Listed>& listed) {
    report_.reset_completed_to = next;
    report_.first_defect = absl::StrCat("interrupted reset to offset ", next, " completed");
    for (const auto& [base_offset, entry] : listed) {
      if (entry.has_log) {
        ++report_.segments_removed;
        RemoveFile(PathFor(base_offset, SegmentFileKind::kLog));
      }
      if (entry.has_index) RemoveFile(PathFor(base_offset, SegmentFileKind::kIndex));
      if (entry.has_time_index) RemoveFile(PathFor(base_offset, SegmentFileKind::kTimeIndex));
    }
    CreateEmptySegment(next);
    Repair(
        [this](SerialQueue::Next next) { disk_.SyncDirectory(directory_, Then(std::move(next))); });
    RemoveFile(PathFor(next, SegmentFileKind::kResetMarker));
    FinishRepairs();
  }

  // Queues the creation of the empty active segment at `base` (a repair).
  void CreateEmptySegment(int64_t base) {
    Repair([this, base](SerialQueue::Next next) {
      disk_.Open(PathFor(base, SegmentFileKind::kLog), runtime::OpenMode::kCreateNew,
                 [this, base, next = std::move(next)](absl::StatusOr<FileHandle> file) mutable {
                   if (!file.ok()) {
                     Fail(file.status());
                   } else {
                     Candidate candidate;
                     candidate.base_offset = base;
                     candidate.file = *file;
                     candidate.offset_index.emplace(base);
                     candidate.time_index.emplace(base);
                     candidates_.push_back(std::move(candidate));
                   }
                   std::move(next)();
                 });
    });
  }

  // The last repairs: sync the directory, then hand over the result.
  void FinishRepairs() {
    Repair(
        [this](SerialQueue::Next next) { disk_.SyncDirectory(directory_, Then(std::move(next))); });
    auto self = shared_from_this();
    repairs_.Enqueue([self](SerialQueue::Next next) {
      self->Finish(self->repair_status_);
      std::move(next)();
    });
  }

  // Loads candidates_[i], then the next one; after the last, decides where the log ends.
  void LoadNext(size_t i) {
    if (i == candidates_.size()) return Conclude();
    auto self = shared_from_this();
    disk_.Open(PathFor(candidates_[i].base_offset, SegmentFileKind::kLog),
               runtime::OpenMode::kExisting, [self, i](absl::StatusOr<FileHandle> file) {
                 if (!file.ok()) return self->Finish(file.status());
                 self->candidates_[i].file = *file;
                 self->disk_.Size(*file, [self, i](absl::StatusOr<uint64_t> size) {
                   if (!size.ok()) return self->Finish(size.status());
                   self->candidates_[i].file_size_bytes = *size;
                   if (self->candidates_[i].has_index_files) {
                     self->LoadIndexFiles(i);
                   } else {
                     self->StartScan(i);
                   }
                 });
               });
  }

  void LoadIndexFiles(size_t i) {
    auto self = shared_from_this();
    const int64_t base = candidates_[i].base_offset;
    ReadWholeFile(disk_, PathFor(base, SegmentFileKind::kIndex),
                  [self, i, base](absl::StatusOr<std::vector<uint8_t>> index_bytes) {
                    if (!index_bytes.ok() && !absl::IsDataLoss(index_bytes.status())) {
                      return self->Finish(index_bytes.status());
                    }
                    ReadWholeFile(
                        self->disk_, self->PathFor(base, SegmentFileKind::kTimeIndex),
                        [self, i, index_bytes = std::move(index_bytes)](
                            absl::StatusOr<std::vector<uint8_t>> time_bytes) mutable {
                          if (!time_bytes.ok() && !absl::IsDataLoss(time_bytes.status())) {
                            return self->Finish(time_bytes.status());
                          }
                          self->CheckIndexFiles(i, index_bytes, time_bytes);
                        });
                  });
  }

  void CheckIndexFiles(size_t i, const absl::StatusOr<std::vector<uint8_t>>& index_bytes,
                       const absl::StatusOr<std::vector<uint8_t>>& time_bytes) {
    Candidate& candidate = candidates_[i];
    if (!index_bytes.ok() || !time_bytes.ok()) return StartScan(i);
    absl::StatusOr<OffsetIndex::Decoded> decoded =
        OffsetIndex::Decode(candidate.base_offset, *index_bytes);
    absl::StatusOr<TimeIndex> time_index = TimeIndex::Decode(candidate.base_offset, *time_bytes);
    if (!decoded.ok() || !time_index.ok()) return StartScan(i);
    candidate.index_was_intact = true;
    const OffsetIndex& index = decoded->index;
    const std::optional<int64_t> last_time_entry = time_index->last_entry_offset();
    if (index.empty() || index.end_position() != candidate.file_size_bytes ||
        (last_time_entry.has_value() && *last_time_entry >= index.next_offset())) {
      return StartScan(i);
    }
    const BatchLocation last = index.At(index.batch_count() - 1);
    const uint32_t expected_crc = decoded->last_batch_crc;
    candidate.offset_index.emplace(std::move(decoded->index));
    candidate.time_index.emplace(*std::move(time_index));
    auto self = shared_from_this();
    // One small read proves the index still describes this file: the last batch's header.
    disk_.ReadAt(candidate.file, last.position, record::kBatchHeaderSizeBytes,
                 [self, i, last, expected_crc](absl::StatusOr<std::vector<uint8_t>> bytes) {
                   if (!bytes.ok()) return self->Finish(bytes.status());
                   absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(*bytes);
                   Candidate& candidate = self->candidates_[i];
                   if (header.ok() && header->base_offset == last.base_offset &&
                       header->last_offset() == last.last_offset &&
                       header->partition_leader_epoch == last.term &&
                       header->size_bytes() == last.size_bytes && header->crc == expected_crc &&
                       (self->is_hidden_ != nullptr && self->is_hidden_(*header)) == last.hidden) {
                     candidate.sealed = true;
                     ++self->report_.segments_loaded;
                     // Sealed bytes are durable and need no repair: the log opens the file
                     // again when it is read.
                     self->disk_.Close(std::exchange(candidate.file, runtime::kNoFile),
                                       [](absl::Status) {});
                     return self->LoadNext(i + 1);
                   }
                   candidate.offset_index.reset();
                   candidate.time_index.reset();
                   self->StartScan(i);
                 });
  }

  void StartScan(size_t i) {
    ++report_.segments_scanned;
    if (candidates_[i].index_was_intact) ++report_.indexes_rebuilt;
    ScanFrom(i, std::make_shared<SegmentScanner>(candidates_[i].base_offset, is_hidden_), {});
  }

  // Reads the next chunk after the scanner's position (plus `carry`, the unconsumed partial batch
  // of the previous chunk) and feeds it.
  void ScanFrom(size_t i, std::shared_ptr<SegmentScanner> scanner, std::vector<uint8_t> carry) {
    Candidate& candidate = candidates_[i];
    const uint64_t position = scanner->end_position() + carry.size();
    const uint64_t length =
        std::min(candidate.file_size_bytes - position, LogRecovery::kScanChunkSizeBytes);
    auto self = shared_from_this();
    disk_.ReadAt(
        candidate.file, position, length,
        [self, i, scanner, position,
         carry = std::move(carry)](absl::StatusOr<std::vector<uint8_t>> chunk) mutable {
          if (!chunk.ok()) return self->Finish(chunk.status());
          Candidate& candidate = self->candidates_[i];
          carry.insert(carry.end(), chunk->begin(), chunk->end());
          const bool at_end = position + chunk->size() >= candidate.file_size_bytes;
          const uint64_t consumed = scanner->Feed(carry, at_end);
          if (scanner->state() == SegmentScanner::State::kNeedMore) {
            EDDY_CHECK(!at_end);
            carry.erase(carry.begin(), carry.begin() + static_cast<ptrdiff_t>(consumed));
            EDDY_CHECK_LE(carry.size(), limits::kBatchSizeBytesMax);
            return self->ScanFrom(i, std::move(scanner), std::move(carry));
          }
          if (scanner->state() == SegmentScanner::State::kDefect) {
            candidate.defect = absl::StrCat("segment ", candidate.base_offset, " at byte ",
                                            scanner->end_position(), ": ", scanner->defect());
            if (candidate.index_was_intact) {
              return self->Finish(
                  absl::DataLossError(absl::StrCat("corruption inside sealed ", candidate.defect)));
            }
          }
          candidate.offset_index.emplace(scanner->TakeOffsetIndex());
          candidate.time_index.emplace(scanner->TakeTimeIndex());
          self->LoadNext(i + 1);
        });
  }

  // Every candidate is loaded: find where the log ends and queue the repairs.
  void Conclude() {
    size_t keep_count = 0;
    int64_t expected_base = candidates_.empty() ? 0 : candidates_.front().base_offset;
    for (const Candidate& candidate : candidates_) {
      if (candidate.base_offset != expected_base) {
        if (report_.first_defect.empty()) {
          report_.first_defect = absl::StrCat("segment ", candidate.base_offset,
                                              " does not follow offset ", expected_base - 1);
        }
        break;
      }
      ++keep_count;
      expected_base = candidate.offset_index->next_offset();
      if (!candidate.defect.empty()) {
        report_.first_defect = candidate.defect;
        break;
      }
    }
    for (size_t i = 0; i < candidates_.size(); ++i) {
      Candidate& candidate = candidates_[i];
      if (i >= keep_count) {
        RemoveCandidate(candidate);
        continue;
      }
      const uint64_t valid_size = candidate.offset_index->end_position();
      if (valid_size < candidate.file_size_bytes) {
        report_.bytes_truncated += candidate.file_size_bytes - valid_size;
        Repair([this, file = candidate.file, valid_size](SerialQueue::Next next) {
          disk_.Truncate(file, valid_size, Then(std::move(next)));
        });
      }
      if (!candidate.sealed) {
        // Scanned bytes may have survived a crash without ever being synced: sync them, since
        // the log will call them flushed. Stale index files go; the log seals the segment anew.
        Repair([this, file = candidate.file](SerialQueue::Next next) {
          disk_.Sync(file, Then(std::move(next)));
        });
        if (candidate.has_index_files) {
          RemoveFile(PathFor(candidate.base_offset, SegmentFileKind::kIndex));
          RemoveFile(PathFor(candidate.base_offset, SegmentFileKind::kTimeIndex));
        }
      }
    }
    candidates_.resize(keep_count);
    for (const std::string& orphan : orphans_) RemoveFile(orphan);
    const bool need_new_segment = candidates_.empty() || candidates_.back().sealed;
    if (need_new_segment) {
      CreateEmptySegment(candidates_.empty() ? 0
                                             : candidates_.back().offset_index->next_offset());
    }
    FinishRepairs();
  }

  void RemoveCandidate(Candidate& candidate) {
    ++report_.segments_removed;
    report_.bytes_truncated += candidate.file_size_bytes;
    if (candidate.file != runtime::kNoFile) {
      Repair([this, file = candidate.file](SerialQueue::Next next) {
        disk_.Close(file, Then(std::move(next)));
      });
    }
    RemoveFile(PathFor(candidate.base_offset, SegmentFileKind::kLog));
    if (candidate.has_index_files) {
      RemoveFile(PathFor(candidate.base_offset, SegmentFileKind::kIndex));
      RemoveFile(PathFor(candidate.base_offset, SegmentFileKind::kTimeIndex));
    }
  }

  void RemoveFile(std::string path) {
    Repair([this, path = std::move(path)](SerialQueue::Next next) {
      disk_.Remove(path, [this, next = std::move(next)](absl::Status status) mutable {
        if (!status.ok() && !absl::IsNotFound(status)) Fail(status);
        std::move(next)();
      });
    });
  }

  // Repairs run one at a time, in order; the recovery object outlives them (Finish runs last).
  template <typename Step>
  void Repair(Step step) {
    repairs_.Enqueue([self = shared_from_this(), step = std::move(step)](
                         SerialQueue::Next next) mutable { step(std::move(next)); });
  }

  // A completion that records a failure and moves on to the next repair.
  Disk::Done Then(SerialQueue::Next next) {
    return [this, next = std::move(next)](absl::Status status) mutable {
      if (!status.ok()) Fail(status);
      std::move(next)();
    };
  }

  void Fail(absl::Status status) {
    if (repair_status_.ok()) repair_status_ = std::move(status);
  }

  void Finish(absl::Status status) {
    EDDY_CHECK(done_ != nullptr);
    if (!status.ok()) {
      for (Candidate& candidate : candidates_) {
        if (candidate.file != runtime::kNoFile) disk_.Close(candidate.file, [](absl::Status) {});
      }
      return std::exchange(done_, nullptr)(status);
    }
    RecoveredLog recovered;
    recovered.report = report_;
    const Instant now = clock_.Now();
    for (size_t i = 0; i < candidates_.size(); ++i) {
      Candidate& candidate = candidates_[i];
      const bool open = candidate.file != runtime::kNoFile;
      auto segment = std::make_shared<Segment>(
          clock_, disk_, file_cache_, directory_, *std::move(candidate.offset_index),
          *std::move(candidate.time_index), now, /*file_exists=*/!open);
      if (open) segment->Attach(candidate.file);
      segment->set_seal_state(candidate.sealed ? SealState::kSealed : SealState::kActive);
      if (i > 0) EDDY_CHECK_EQ(segment->base_offset(), recovered.segments.back()->next_offset());
      recovered.segments.push_back(std::move(segment));
    }
    EDDY_CHECK(!recovered.segments.empty());
    EDDY_CHECK(recovered.segments.back()->seal_state() == SealState::kActive);
    std::exchange(done_, nullptr)(std::move(recovered));
  }

  runtime::Clock& clock_;
  Disk& disk_;
  const std::string directory_;
  const HiddenBatchClassifier is_hidden_;
  Disk::DoneWith<RecoveredLog> done_;
  const std::shared_ptr<FileCache> file_cache_;
  std::vector<Candidate> candidates_;
  std::vector<std::string> orphans_;
  RecoveryReport report_;
  SerialQueue repairs_;
  absl::Status repair_status_;
};

}  // namespace

void LogRecovery::Run(runtime::Clock& clock, runtime::Disk& disk, std::string directory,
                      HiddenBatchClassifier is_hidden,
                      runtime::Disk::DoneWith<RecoveredLog> done,
                      std::shared_ptr<FileCache> file_cache) {
  auto recovery = std::make_shared<Recovery>(clock, disk, std::move(directory), is_hidden,
                                             std::move(done), std::move(file_cache));
  recovery->Start();
}

}  // namespace eddy::log
