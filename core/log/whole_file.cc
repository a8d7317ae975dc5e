#include "core/log/whole_file.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/limits.h"

namespace eddy::log {
namespace {

using runtime::Disk;
using runtime::FileHandle;

struct ReadState {
  Disk& disk;
  FileHandle file = runtime::kNoFile;
  uint64_t size_bytes = 0;
  std::vector<uint8_t> contents;
  Disk::DoneWith<std::vector<uint8_t>> done;
};

// Closes the file, then reports `result` (the close's own error only if the read succeeded).
void FinishRead(std::shared_ptr<ReadState> state, absl::Status status) {
  Disk& disk = state->disk;
  const FileHandle file = state->file;
  disk.Close(file, [state = std::move(state), status](absl::Status closed) mutable {
    if (status.ok()) status = closed;
    if (!status.ok()) {
      std::move(state->done)(status);
    } else {
      std::move(state->done)(std::move(state->contents));
    }
  });
}

void ReadChunk(std::shared_ptr<ReadState> state) {
  if (state->contents.size() == state->size_bytes) {
    FinishRead(std::move(state), absl::OkStatus());
    return;
  }
  const uint64_t position = state->contents.size();
  const uint64_t length = std::min(state->size_bytes - position, limits::kDiskReadSizeBytesMax);
  Disk& disk = state->disk;
  const FileHandle file = state->file;
  disk.ReadAt(
      file, position, length,
      [state = std::move(state), length](absl::StatusOr<std::vector<uint8_t>> chunk) mutable {
        if (!chunk.ok()) return FinishRead(std::move(state), chunk.status());
        if (chunk->size() != length) {
          return FinishRead(std::move(state), absl::DataLossError("file shrank while being read"));
        }
        state->contents.insert(state->contents.end(), chunk->begin(), chunk->end());
        ReadChunk(std::move(state));
      });
}

}  // namespace

void ReadWholeFile(Disk& disk, std::string path, Disk::DoneWith<std::vector<uint8_t>> done) {
  auto state =
      std::make_shared<ReadState>(ReadState{disk, runtime::kNoFile, 0, {}, std::move(done)});
  disk.Open(std::move(path), runtime::OpenMode::kExisting,
            [state = std::move(state)](absl::StatusOr<FileHandle> file) mutable {
              if (!file.ok()) return std::move(state->done)(file.status());
              state->file = *file;
              Disk& disk = state->disk;
              disk.Size(*file, [state = std::move(state)](absl::StatusOr<uint64_t> size) mutable {
                if (!size.ok()) return FinishRead(std::move(state), size.status());
                if (*size > kWholeFileSizeBytesMax) {
                  return FinishRead(std::move(state),
                                    absl::DataLossError(absl::StrCat("file too large: ", *size)));
                }
                state->size_bytes = *size;
                state->contents.reserve(*size);
                ReadChunk(std::move(state));
              });
            });
}

void WriteWholeFile(Disk& disk, std::string path, std::vector<uint8_t> contents, Disk::Done done) {
  disk.Open(
      std::move(path), runtime::OpenMode::kCreateIfMissing,
      [&disk, contents = std::move(contents),
       done = std::move(done)](absl::StatusOr<FileHandle> file) mutable {
        if (!file.ok()) return std::move(done)(file.status());
        // Same file, so FIFO: truncate, append, sync, close; the first error wins.
        auto first_error = std::make_shared<absl::Status>();
        auto note = [first_error](absl::Status status) {
          if (first_error->ok()) *first_error = std::move(status);
        };
        disk.Truncate(*file, 0, note);
        disk.Append(*file, std::move(contents),
                    [note](absl::StatusOr<uint64_t> position) mutable { note(position.status()); });
        disk.Sync(*file, note);
        disk.Close(*file, [first_error, note, done = std::move(done)](absl::Status closed) mutable {
          note(std::move(closed));
          std::move(done)(*first_error);
        });
      });
}

}  // namespace eddy::log
