// PosixDisk: the disk seam on real POSIX files under one root directory.
//
// Each operation runs its blocking system calls at submission (pread/pwrite/fdatasync/...) and
// posts its completion to the loop through the Clock, so callers see the same asynchronous
// contract as in the simulator (completions later, in order, exactly once). Moving the blocking
// calls off the loop onto a worker is a later step inside this class only; the interface and
// callers do not change.
//
// errno is translated to absl::Status in exactly one place (ErrnoToStatus).
//
// OWNERSHIP: owns its file descriptors; closes any still open on destruction. The Clock must
// outlive it. Single loop; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/runtime/clock.h"
#include "core/runtime/disk.h"

namespace eddy::net {

// Maps an errno value from `operation` on `path` to a Status with the code disk.h promises.
absl::Status ErrnoToStatus(int error_number, absl::string_view operation, absl::string_view path);

class PosixDisk final : public runtime::Disk {
 public:
  // Most files open at once: bounds descriptor use.
  static constexpr size_t kOpenFilesMax = 4096;

  // `root_directory` must exist; all paths are relative to it.
  PosixDisk(runtime::Clock& clock, std::string root_directory);
  ~PosixDisk() override;
  PosixDisk(const PosixDisk&) = delete;
  PosixDisk& operator=(const PosixDisk&) = delete;

  void Open(std::string path, runtime::OpenMode mode, DoneWith<runtime::FileHandle> done) override;
  void Close(runtime::FileHandle file, Done done) override;
  void Size(runtime::FileHandle file, DoneWith<uint64_t> done) override;
  void Append(runtime::FileHandle file, std::vector<uint8_t> data,
              DoneWith<uint64_t> done) override;
  void WriteAt(runtime::FileHandle file, uint64_t position, std::vector<uint8_t> data,
               Done done) override;
  void ReadAt(runtime::FileHandle file, uint64_t position, uint64_t length_bytes,
              DoneWith<std::vector<uint8_t>> done) override;
  void Sync(runtime::FileHandle file, Done done) override;
  void Truncate(runtime::FileHandle file, uint64_t size_bytes, Done done) override;
  void Rename(std::string from, std::string to, Done done) override;
  void Remove(std::string path, Done done) override;
  void CreateDirectories(std::string path, Done done) override;
  void List(std::string path, DoneWith<std::vector<std::string>> done) override;
  void SyncDirectory(std::string path, Done done) override;

  const std::string& root_directory() const { return root_; }

 private:
  struct OpenFile {
    int fd = -1;
    std::string path;         // For error messages.
    uint64_t size_bytes = 0;  // Tracked so Append needs no fstat per call.
  };

  absl::StatusOr<OpenFile*> Find(runtime::FileHandle file);
  absl::StatusOr<std::string> Resolve(const std::string& path) const;
  absl::StatusOr<uint64_t> DoAppend(runtime::FileHandle file, const std::vector<uint8_t>& data);
  absl::Status DoWriteAt(runtime::FileHandle file, uint64_t position,
                         const std::vector<uint8_t>& data);
  absl::StatusOr<std::vector<uint8_t>> DoReadAt(runtime::FileHandle file, uint64_t position,
                                                uint64_t length_bytes);
  absl::Status DoSyncDirectory(const std::string& path);

  template <typename Result, typename Callback>
  void Complete(Callback done, Result result) {
    clock_.Post([done = std::move(done), result = std::move(result)]() mutable {
      std::move(done)(std::move(result));
    });
  }

  runtime::Clock& clock_;
  std::string root_;
  runtime::FileHandle next_handle_ = 1;
  std::map<runtime::FileHandle, OpenFile> open_files_;
};

}  // namespace eddy::net
