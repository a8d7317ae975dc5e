#include "core/log/segment.h"

#include <utility>

#include "core/base/check.h"
#include "core/log/segment_file_names.h"

namespace eddy::log {

using runtime::FileHandle;

Segment::Segment(runtime::Disk& disk, std::string directory, OffsetIndex offset_index,
                 TimeIndex time_index, Instant created_at)
    : disk_(disk),
      log_path_(runtime::JoinPath(
          directory, SegmentFileNameFor(offset_index.base_offset(), SegmentFileKind::kLog))),
      index_path_(runtime::JoinPath(
          directory, SegmentFileNameFor(offset_index.base_offset(), SegmentFileKind::kIndex))),
      time_index_path_(runtime::JoinPath(
          directory, SegmentFileNameFor(offset_index.base_offset(), SegmentFileKind::kTimeIndex))),
      offset_index_(std::move(offset_index)),
      time_index_(std::move(time_index)),
      created_at_(created_at) {
  EDDY_CHECK_EQ(offset_index_.base_offset(), time_index_.base_offset());
}

void Segment::Attach(FileHandle file) {
  EDDY_CHECK_EQ(file_, runtime::kNoFile);
  EDDY_CHECK(open_status_.ok());
  EDDY_CHECK_NE(file, runtime::kNoFile);
  file_ = file;
  Drain();
}

void Segment::FailOpen(absl::Status status) {
  EDDY_CHECK_EQ(file_, runtime::kNoFile);
  EDDY_CHECK(!status.ok());
  open_status_ = std::move(status);
  Drain();
}

void Segment::Block() { ++blocked_count_; }

void Segment::Unblock() {
  EDDY_CHECK_GT(blocked_count_, 0);
  --blocked_count_;
  Drain();
}

void Segment::Submit(Operation operation) {
  EDDY_CHECK(!closed_);
  const bool ready =
      blocked_count_ == 0 && queued_.empty() && (file_ != runtime::kNoFile || !open_status_.ok());
  if (!ready) {
    EDDY_CHECK_LT(queued_.size(), kQueuedOperationCountMax);
    queued_.push_back(std::move(operation));
    return;
  }
  if (!open_status_.ok()) {
    std::move(operation)(open_status_);
  } else {
    std::move(operation)(file_);
  }
}

void Segment::Drain() {
  if (file_ == runtime::kNoFile && open_status_.ok()) return;
  while (blocked_count_ == 0 && !queued_.empty()) {
    Operation operation = std::move(queued_.front());
    queued_.pop_front();
    if (!open_status_.ok()) {
      std::move(operation)(open_status_);
    } else {
      std::move(operation)(file_);
    }
  }
}

void Segment::Append(std::vector<uint8_t> bytes, runtime::Disk::Done done) {
  Submit([this, bytes = std::move(bytes),
          done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    disk_.Append(*file, std::move(bytes),
                 [done = std::move(done)](absl::StatusOr<uint64_t> position) mutable {
                   std::move(done)(position.status());
                 });
  });
}

void Segment::Read(uint64_t position, uint64_t length_bytes,
                   runtime::Disk::DoneWith<std::vector<uint8_t>> done) {
  Submit([this, position, length_bytes,
          done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    disk_.ReadAt(*file, position, length_bytes, std::move(done));
  });
}

void Segment::Truncate(uint64_t size_bytes, runtime::Disk::Done done) {
  Submit([this, size_bytes, done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    disk_.Truncate(*file, size_bytes, std::move(done));
  });
}

void Segment::Sync(runtime::Disk::Done done) {
  Submit([this, done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    disk_.Sync(*file, std::move(done));
  });
}

void Segment::Close(runtime::Disk::Done done) {
  Submit([this, done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    disk_.Close(*file, std::move(done));
  });
  closed_ = true;
}

}  // namespace eddy::log
