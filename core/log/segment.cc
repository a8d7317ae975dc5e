#include "core/log/segment.h"

#include <utility>

#include "core/base/check.h"
#include "core/log/segment_file_names.h"

namespace eddy::log {

using runtime::FileHandle;

Segment::Segment(runtime::Clock& clock, runtime::Disk& disk,
                 std::shared_ptr<FileCache> file_cache, std::string directory,
                 OffsetIndex offset_index, TimeIndex time_index, Instant created_at,
                 bool file_exists)
    : clock_(clock),
      disk_(disk),
      file_cache_(std::move(file_cache)),
      log_path_(runtime::JoinPath(
          directory, SegmentFileNameFor(offset_index.base_offset(), SegmentFileKind::kLog))),
      index_path_(runtime::JoinPath(
          directory, SegmentFileNameFor(offset_index.base_offset(), SegmentFileKind::kIndex))),
      time_index_path_(runtime::JoinPath(
          directory, SegmentFileNameFor(offset_index.base_offset(), SegmentFileKind::kTimeIndex))),
      offset_index_(std::move(offset_index)),
      time_index_(std::move(time_index)),
      created_at_(created_at),
      file_exists_(file_exists) {
  EDDY_CHECK(file_cache_ != nullptr);
  EDDY_CHECK_EQ(offset_index_.base_offset(), time_index_.base_offset());
}

Segment::~Segment() {
  // A segment dropped with its log (or a crash) may still hold a handle; the cache must not.
  file_cache_->Unregister(*this);
}

void Segment::Attach(FileHandle file) {
  EDDY_CHECK_EQ(file_, runtime::kNoFile);
  EDDY_CHECK(open_status_.ok());
  EDDY_CHECK_NE(file, runtime::kNoFile);
  EDDY_CHECK(!reopening_);
  file_ = file;
  file_exists_ = true;
  file_cache_->Register(*this);
  Drain();
}

void Segment::FailOpen(absl::Status status) {
  EDDY_CHECK_EQ(file_, runtime::kNoFile);
  EDDY_CHECK(!status.ok());
  open_status_ = std::move(status);
  Drain();
}

void Segment::Block() { barriers_.push_back(next_sequence_); }

void Segment::Unblock() {
  EDDY_CHECK(!barriers_.empty());
  // Blocks end in the order they began (the log's directory queue runs them in order).
  barriers_.erase(barriers_.begin());
  Drain();
}

bool Segment::HeldByBlock(uint64_t sequence) const {
  return !barriers_.empty() && sequence >= barriers_.front();
}

bool Segment::Evictable() const {
  return file_ != runtime::kNoFile && !closed_ && in_flight_count_ == 0 && queued_.empty() &&
         write_count_ == synced_write_count_;
}

void Segment::Evict() {
  EDDY_CHECK(Evictable());
  const FileHandle file = std::exchange(file_, runtime::kNoFile);
  file_cache_->Unregister(*this);
  // Everything written was synced: closing loses nothing, and a failed close has nothing to
  // lose either (the handle is gone either way).
  disk_.Close(file, [](absl::Status) {});
}

void Segment::Submit(Kind kind, Operation operation) {
  EDDY_CHECK(!closed_);
  EDDY_CHECK_LT(queued_.size(), kQueuedOperationCountMax);
  queued_.push_back(Queued{kind, next_sequence_++, std::move(operation)});
  Drain();
}

void Segment::Drain() {
  while (!queued_.empty() && !HeldByBlock(queued_.front().sequence)) {
    if (open_status_.ok() && file_ == runtime::kNoFile) {
      // Closing a file the cache already closed needs no reopen. (One the log is still creating
      // must wait for its handle, to close it.)
      if (queued_.front().kind == Kind::kClose && file_exists_ && !reopening_) {
        Operation close = std::move(queued_.front().operation);
        queued_.pop_front();
        std::move(close)(absl::FailedPreconditionError("not open"));
        continue;
      }
      // Not created yet (the log's Open attaches it), or closed by the cache: reopen.
      if (file_exists_ && !reopening_) StartReopen();
      return;
    }
    Queued next = std::move(queued_.front());
    queued_.pop_front();
    Run(next.kind, std::move(next.operation));
  }
}

void Segment::Run(Kind kind, Operation operation) {
  if (!open_status_.ok()) return std::move(operation)(open_status_);
  if (kind != Kind::kClose) file_cache_->Touch(*this);
  std::move(operation)(file_);
}

void Segment::StartReopen() {
  EDDY_CHECK(!reopening_);
  EDDY_CHECK_EQ(file_, runtime::kNoFile);
  reopening_ = true;
  disk_.Open(log_path_, runtime::OpenMode::kExisting,
             [self = shared_from_this()](absl::StatusOr<FileHandle> file) {
               self->OnReopened(std::move(file));
             });
}

void Segment::OnReopened(absl::StatusOr<FileHandle> file) {
  EDDY_CHECK(reopening_);
  reopening_ = false;
  if (abandoned_) {
    if (file.ok()) disk_.Close(*file, [](absl::Status) {});
    return;
  }
  if (!file.ok()) {
    // The log fails on the first operation that reports it and reopens itself.
    open_status_ = file.status();
    return Drain();
  }
  ++reopen_count_;
  file_ = *file;
  file_cache_->Register(*this);  // not evictable: operations are queued
  Drain();
}

template <typename Result>
absl::AnyInvocable<void(Result) &&> Segment::Track(absl::AnyInvocable<void(Result) &&> done,
                                                  uint64_t synced_write_count) {
  ++in_flight_count_;
  return [self = shared_from_this(), done = std::move(done),
          synced_write_count](Result result) mutable {
    EDDY_CHECK_GT(self->in_flight_count_, 0u);
    --self->in_flight_count_;
    // A completed Sync covers every write submitted before it.
    if (result.ok() && synced_write_count > self->synced_write_count_) {
      self->synced_write_count_ = synced_write_count;
    }
    std::move(done)(std::move(result));
    self->OnIdleMaybe();
  };
}

void Segment::OnIdleMaybe() {
  if (Evictable() && FileCache::IsRegistered(*this)) file_cache_->Trim();
}

void Segment::Append(std::vector<uint8_t> bytes, runtime::Disk::Done done) {
  Submit(Kind::kWrite, [this, bytes = std::move(bytes),
                        done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    ++write_count_;
    disk_.Append(*file, std::move(bytes),
                 Track<absl::StatusOr<uint64_t>>(
                     [done = std::move(done)](absl::StatusOr<uint64_t> position) mutable {
                       std::move(done)(position.status());
                     },
                     0));
  });
}

void Segment::Read(uint64_t position, uint64_t length_bytes,
                   runtime::Disk::DoneWith<std::vector<uint8_t>> done) {
  Submit(Kind::kRead, [this, position, length_bytes,
                       done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    disk_.ReadAt(*file, position, length_bytes,
                 Track<absl::StatusOr<std::vector<uint8_t>>>(std::move(done), 0));
  });
}

void Segment::Truncate(uint64_t size_bytes, runtime::Disk::Done done) {
  Submit(Kind::kWrite, [this, size_bytes,
                        done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    ++write_count_;
    disk_.Truncate(*file, size_bytes, Track<absl::Status>(std::move(done), 0));
  });
}

void Segment::Sync(runtime::Disk::Done done) {
  Submit(Kind::kSync, [this, done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) return std::move(done)(file.status());
    disk_.Sync(*file, Track<absl::Status>(std::move(done), write_count_));
  });
}

void Segment::Close(runtime::Disk::Done done) {
  Submit(Kind::kClose, [this, done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
    if (!file.ok()) {
      // Never opened (or the open failed): nothing to close.
      clock_.Post([self = shared_from_this(), done = std::move(done)]() mutable {
        self->FinishClose(absl::OkStatus());
        std::move(done)(absl::OkStatus());
      });
      return;
    }
    file_ = runtime::kNoFile;
    file_cache_->Unregister(*this);
    disk_.Close(*file, [self = shared_from_this(), done = std::move(done)](absl::Status status) mutable {
      self->FinishClose(status);
      std::move(done)(std::move(status));
    });
  });
  closed_ = true;
}

void Segment::Abandon() {
  if (abandoned_) return;
  abandoned_ = true;
  closed_ = true;
  std::vector<Queued> dropped;
  for (Queued& queued : queued_) dropped.push_back(std::move(queued));
  queued_.clear();
  barriers_.clear();
  if (file_ != runtime::kNoFile) {
    file_cache_->Unregister(*this);
    disk_.Close(std::exchange(file_, runtime::kNoFile), [](absl::Status) {});
  }
  closed_waiters_.clear();
  // `dropped` (and whatever its operations held, this segment included) goes here; the caller
  // holds this segment.
}

void Segment::FinishClose(absl::Status) {
  close_done_ = true;
  std::vector<absl::AnyInvocable<void() &&>> waiters = std::exchange(closed_waiters_, {});
  for (auto& waiter : waiters) std::move(waiter)();
}

void Segment::WhenClosed(absl::AnyInvocable<void() &&> then) {
  EDDY_CHECK(closed_);
  if (close_done_) {
    clock_.Post(std::move(then));
    return;
  }
  closed_waiters_.push_back(std::move(then));
}

}  // namespace eddy::log
