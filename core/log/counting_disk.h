// Test-only: a Disk that forwards to another and counts the file handles open at any moment
// (successful Opens minus Closes), to check open-file budgets (FileCache).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/disk.h"

namespace eddy::log::testing {

// Forwards to a disk and counts the handles open at any moment.
class CountingDisk final : public runtime::Disk {
 public:
  // `open_files` is the counter (several disks may share one); it must outlive this disk.
  CountingDisk(runtime::Disk& disk, int64_t& open_files) : disk_(disk), open_files_(open_files) {}

  void Open(std::string path, runtime::OpenMode mode,
            DoneWith<runtime::FileHandle> done) override {
    disk_.Open(std::move(path), mode,
               [this, done = std::move(done)](absl::StatusOr<runtime::FileHandle> file) mutable {
                 if (file.ok()) ++open_files_;
                 std::move(done)(std::move(file));
               });
  }
  void Close(runtime::FileHandle file, Done done) override {
    --open_files_;
    disk_.Close(file, std::move(done));
  }
  void Size(runtime::FileHandle file, DoneWith<uint64_t> done) override {
    disk_.Size(file, std::move(done));
  }
  void Append(runtime::FileHandle file, std::vector<uint8_t> data,
              DoneWith<uint64_t> done) override {
    disk_.Append(file, std::move(data), std::move(done));
  }
  void WriteAt(runtime::FileHandle file, uint64_t position, std::vector<uint8_t> data,
               Done done) override {
    disk_.WriteAt(file, position, std::move(data), std::move(done));
  }
  void ReadAt(runtime::FileHandle file, uint64_t position, uint64_t length_bytes,
              DoneWith<std::vector<uint8_t>> done) override {
    disk_.ReadAt(file, position, length_bytes, std::move(done));
  }
  void Sync(runtime::FileHandle file, Done done) override { disk_.Sync(file, std::move(done)); }
  void Truncate(runtime::FileHandle file, uint64_t size_bytes, Done done) override {
    disk_.Truncate(file, size_bytes, std::move(done));
  }
  void Rename(std::string from, std::string to, Done done) override {
    disk_.Rename(std::move(from), std::move(to), std::move(done));
  }
  void Remove(std::string path, Done done) override { disk_.Remove(std::move(path), std::move(done)); }
  void CreateDirectories(std::string path, Done done) override {
    disk_.CreateDirectories(std::move(path), std::move(done));
  }
  void List(std::string path, DoneWith<std::vector<std::string>> done) override {
    disk_.List(std::move(path), std::move(done));
  }
  void SyncDirectory(std::string path, Done done) override {
    disk_.SyncDirectory(std::move(path), std::move(done));
  }

 private:
  runtime::Disk& disk_;
  int64_t& open_files_;
};

}  // namespace eddy::log::testing
