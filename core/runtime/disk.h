// The disk part of the runtime seam: files and directories, asynchronous, completions on the loop.
//
// LOOP AFFINITY: every method is called on the owning loop; every completion runs on that loop,
// later (never inline from the call that submitted it), exactly once, even on error.
//
// ORDERING: operations on the same file complete in the order they were submitted, and each sees
// the effects of every operation on that file submitted before it (a read after an append returns
// the appended bytes, whether or not they were synced). There is no ordering across files: an
// implementation may complete a later operation on file B before an earlier one on file A.
//
// DURABILITY — what survives a crash (power loss, kernel panic, process kill with page cache
// loss; the simulator models all of these the same way):
//   * File contents survive only up to the last completed Sync() of that file. Bytes written
//     after it may be lost entirely, survive entirely, or survive partially; a partial survivor
//     is a prefix of the unsynced writes cut at a sector boundary (kSectorSizeBytes), possibly
//     with the last sector torn (garbage).
//   * Directory entries (a file's creation, a Rename(), a Remove()) survive only after a
//     completed SyncDirectory() of the directory containing them. A file created and synced but
//     whose directory was not synced may be gone after a crash.
//   * Rename() is atomic: after a crash the destination name refers to the old or the new file,
//     never to a mixture.
//
// ERRORS (codes): kNotFound missing file/dir; kAlreadyExists exclusive create of an existing file;
// kResourceExhausted no space; kDataLoss the medium reported corrupt data (EIO, failed checksum
// of a sector); kInvalidArgument bad handle, path or range; kUnavailable transient failure —
// including a failed Sync(), after which the file's unsynced state is unknown and the caller must
// treat every write since the last successful Sync() as possibly lost (fsyncgate).
//
// Paths are '/'-separated, relative to the disk's root, without "." or ".." components.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy::runtime {

// Granularity at which unsynced writes may be torn by a crash.
inline constexpr uint64_t kSectorSizeBytes = 512;

// Handle to an open file; valid from Open()'s completion until Close() is submitted.
// 0 is never a valid handle.
using FileHandle = uint64_t;
inline constexpr FileHandle kNoFile = 0;

enum class OpenMode {
  kExisting,         // kNotFound if missing.
  kCreateIfMissing,  // Opens, creating an empty file if missing.
  kCreateNew,        // kAlreadyExists if present.
};

class Disk {
 public:
  using Done = absl::AnyInvocable<void(absl::Status) &&>;
  template <typename T>
  using DoneWith = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

  virtual ~Disk() = default;

  // Opens (and maybe creates) the file at `path`. A created file's directory entry is durable
  // only after SyncDirectory() of its parent.
  virtual void Open(std::string path, OpenMode mode, DoneWith<FileHandle> done) = 0;

  // Releases the handle. Unsynced writes are NOT made durable by closing.
  virtual void Close(FileHandle file, Done done) = 0;

  // Current size in bytes, including unsynced writes.
  virtual void Size(FileHandle file, DoneWith<uint64_t> done) = 0;

  // Appends `data` at the end of the file; completes with the position it was written at.
  virtual void Append(FileHandle file, std::vector<uint8_t> data, DoneWith<uint64_t> done) = 0;

  // Writes `data` at `position` (extending the file, zero-filled, if `position` is past its end).
  virtual void WriteAt(FileHandle file, uint64_t position, std::vector<uint8_t> data,
                       Done done) = 0;

  // Reads up to `length_bytes` at `position`; returns fewer bytes only at end of file (an empty
  // result means `position` >= size). REQUIRES: length_bytes <= limits::kDiskReadSizeBytesMax.
  virtual void ReadAt(FileHandle file, uint64_t position, uint64_t length_bytes,
                      DoneWith<std::vector<uint8_t>> done) = 0;

  // Makes every write to this file submitted before it durable (fdatasync).
  virtual void Sync(FileHandle file, Done done) = 0;

  // Sets the file's size, dropping bytes past it or zero-extending. Durable after Sync().
  virtual void Truncate(FileHandle file, uint64_t size_bytes, Done done) = 0;

  // Atomically replaces `to` (if present) by `from`. Durable after SyncDirectory() of both parents.
  virtual void Rename(std::string from, std::string to, Done done) = 0;

  // Removes the file at `path` (open handles stay usable until closed). Durable after
  // SyncDirectory() of its parent.
  virtual void Remove(std::string path, Done done) = 0;

  // Creates the directory `path` and any missing parents; OK if it already exists. The new
  // directories are durable when this completes.
  virtual void CreateDirectories(std::string path, Done done) = 0;

  // Names (not paths) of the regular files directly inside directory `path`, sorted bytewise.
  virtual void List(std::string path, DoneWith<std::vector<std::string>> done) = 0;

  // Makes creations, renames and removals of entries in directory `path` durable.
  virtual void SyncDirectory(std::string path, Done done) = 0;
};

// "dir/name" with exactly one separator; `directory` may be empty (the root).
std::string JoinPath(absl::string_view directory, absl::string_view name);

// The directory part of `path` ("" for a name in the root).
absl::string_view ParentDirectory(absl::string_view path);

}  // namespace eddy::runtime
