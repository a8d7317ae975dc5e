// SimDisk: an in-memory implementation of the disk seam that can crash.
//
// It keeps, for every file, the bytes as the running process sees them and the bytes that are
// durable (as of the file's last Sync()), and for the namespace, the entries as seen and the
// entries that are durable (as of each directory's last SyncDirectory()). Crash() throws away
// everything that was not durable, exactly as disk.h promises a crash may, optionally leaving a
// torn tail: a prefix of the unsynced appended bytes cut at a sector boundary, the last sector
// possibly garbage.
//
// Effects are applied when an operation is submitted; its completion is delivered later through
// the Clock, after `operation_latency`. Completions therefore arrive in submission order, which
// satisfies disk.h's per-file ordering. A Crash() drops every completion not yet delivered: the
// process that asked for them is gone.
//
// Simplification (documented so nobody relies on the opposite): directories themselves are
// durable as soon as CreateDirectories() completes.
//
// FAULTS (DiskFaultOptions, off by default, set per disk so a harness can keep chosen replicas
// clean): latency jitter and spikes; read corruption (a bit flipped in the returned bytes only);
// write corruption (a bit flipped in the stored bytes); misdirected writes (the bytes land at
// another sector-aligned position of the same file, the intended range keeps its old contents);
// latent sector errors (a sector goes bad at rest; reads covering it fail with kDataLoss until
// it is rewritten, as a drive remaps on write); injected ENOSPC; fsync failures (kUnavailable,
// nothing made durable — a later successful Sync() makes the writes durable: we model the
// optimistic half of fsyncgate, callers must still treat the failure as possible loss). Every
// fault is drawn from the disk's own generator (SimDiskOptions::fault_seed) and counted in
// SimDiskStats. Completions of operations on one file handle stay in submission order whatever
// the latency (so do namespace operations among themselves), exactly as disk.h promises; with
// jitter or spikes, operations on different files may complete out of order, as disk.h allows.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/runtime/clock.h"
#include "core/runtime/disk.h"
#include "sim/trace/trace_hash.h"

namespace eddy::sim {

struct SimDiskOptions {
  // Delay between submitting an operation and its completion.
  Duration operation_latency = Duration::Microseconds(50);
  // Total bytes of file content the disk holds; beyond it writes fail with kResourceExhausted.
  uint64_t capacity_bytes = uint64_t{1} << 40;
  // Seeds the generator that draws latency and storage faults.
  uint64_t fault_seed = 0;
};

// Rates are parts per million (sim/base/rate.h), per operation of the named kind.
struct DiskFaultOptions {
  // Added to every operation (a slow node).
  Duration extra_latency = Duration::Zero();
  // Uniform extra latency in [0, latency_jitter_max] on every operation.
  Duration latency_jitter_max = Duration::Zero();
  // An operation occasionally takes up to latency_spike_max longer (GC in the drive, a queue).
  uint32_t latency_spike_ppm = 0;
  Duration latency_spike_max = Duration::Milliseconds(200);
  uint32_t read_corruption_ppm = 0;      // Per ReadAt returning bytes.
  uint32_t write_corruption_ppm = 0;     // Per Append/WriteAt of non-empty data.
  uint32_t misdirected_write_ppm = 0;    // Per Append/WriteAt of non-empty data.
  uint32_t latent_sector_error_ppm = 0;  // Per ReadAt: a sector in the range goes bad.
  uint32_t no_space_ppm = 0;             // Per Append/WriteAt that grows the file.
  uint32_t sync_failure_ppm = 0;         // Per Sync.

  // True if any fault that changes or loses bytes is enabled (latency is not such a fault).
  bool DamagesData() const {
    return read_corruption_ppm != 0 || write_corruption_ppm != 0 || misdirected_write_ppm != 0 ||
           latent_sector_error_ppm != 0;
  }
};

struct CrashOptions {
  // Keep a random number of whole sectors of each file's unsynced appended bytes.
  bool keep_unsynced_prefix = false;
  // Additionally, with probability 1/2 per file, fill the sector after the kept prefix with
  // garbage (a write that was in flight when power failed).
  bool tear_last_sector = false;
};

struct SimDiskStats {
  uint64_t operations = 0;
  uint64_t bytes_written = 0;
  uint64_t bytes_read = 0;
  uint64_t syncs = 0;
  uint64_t crashes = 0;
  uint64_t torn_sectors = 0;
  // Fault coverage: how often each injected fault fired.
  uint64_t latency_spikes = 0;
  uint64_t read_corruptions = 0;
  uint64_t write_corruptions = 0;
  uint64_t misdirected_writes = 0;
  uint64_t latent_sector_errors = 0;         // Sectors that went bad.
  uint64_t latent_sector_read_failures = 0;  // Reads answered kDataLoss because of a bad sector.
  uint64_t injected_no_space = 0;
  uint64_t sync_failures = 0;
  uint64_t ignored_while_powered_off = 0;
};

class SimDisk final : public runtime::Disk {
 public:
  // Like a process's file descriptor limit: Open() beyond it fails with kResourceExhausted.
  static constexpr size_t kOpenFilesMax = 4096;
  // Order keys remembered before stale ones are forgotten.
  static constexpr size_t kOrderKeysMax = 2 * kOpenFilesMax;

  // `clock` delivers completions; it must outlive this disk.
  SimDisk(runtime::Clock& clock, SimDiskOptions options = {});
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

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

  // Power loss: every open handle becomes invalid, pending completions are dropped, and the
  // namespace and file contents fall back to what was durable (see CrashOptions).
  void Crash(const CrashOptions& options, Random& random);

  // Powered off (between a crash and the restart), the disk ignores every operation: no effect,
  // no completion. A crashed process's leftovers cannot touch the platter.
  void SetPoweredOn(bool on) { powered_on_ = on; }
  bool powered_on() const { return powered_on_; }

  // Replaces the fault options (DiskFaultOptions{} heals the disk; damage already done stays).
  void SetFaults(const DiskFaultOptions& faults) { faults_ = faults; }
  const DiskFaultOptions& faults() const { return faults_; }
  // Folds every submitted operation into `trace` as node `node`, stamped with `time_source`'s
  // Now() (the world's clock, so the trace reads in one timeline; the disk's own clock if null).
  // Both must outlive the disk.
  void SetTrace(TraceHash* trace, uint32_t node, const runtime::Clock* time_source = nullptr) {
    trace_ = trace;
    trace_node_ = node;
    trace_time_source_ = time_source;
  }

  // Test and checker access, bypassing the asynchronous interface.
  bool FileExists(const std::string& path) const { return files_.contains(path); }
  // Paths of the files whose path starts with `prefix`, as the process sees them, or (durable)
  // as a crash would leave them; ascending.
  std::vector<std::string> FilesWithPrefix(const std::string& prefix, bool durable) const;
  // Current (not necessarily durable) contents. REQUIRES: FileExists(path).
  const std::vector<uint8_t>& FileContents(const std::string& path) const;
  // Flips one bit of a file's current and durable contents (bit rot).
  void CorruptByte(const std::string& path, uint64_t position, uint8_t xor_mask);
  // Durable contents (what a crash without torn tails would leave). REQUIRES: FileExists(path).
  const std::vector<uint8_t>& DurableContents(const std::string& path) const;
  // Latent sector error on demand: reads covering `sector` fail with kDataLoss until a write
  // covers it. REQUIRES: FileExists(path).
  void MarkSectorBad(const std::string& path, uint64_t sector);
  bool SectorBad(const std::string& path, uint64_t sector) const;

  const SimDiskStats& stats() const { return stats_; }
  // Handles open now (a crash closes every one).
  size_t open_file_count() const { return open_files_.size(); }
  uint64_t used_bytes() const { return used_bytes_; }

 private:
  struct Inode {
    std::vector<uint8_t> data;
    std::vector<uint8_t> durable_data;
    // True while every change since the last Sync() was an append, so `durable_data` is a prefix
    // of `data` and a Sync() only needs to copy the new tail.
    bool appended_only_since_sync = true;
    // Latent sector errors: sector numbers (position / kSectorSizeBytes) that fail reads.
    std::set<uint64_t> bad_sectors;
    // The file holds space while it has a name (in files_) or an open handle (Release()).
    bool named = true;
    uint32_t handle_count = 0;
  };
  using InodePtr = std::shared_ptr<Inode>;

  // Schedules `completion` after the operation latency unless a crash intervenes, never before
  // an earlier completion with the same `order_key`.
  // `Completion` is a move-only callable `void() &&` (instantiated in sim_disk.cc only).
  template <typename Completion>
  void Complete(uint64_t order_key, Completion completion);
  // Looks up an open handle; nullptr if invalid.
  Inode* Find(runtime::FileHandle file) const;
  absl::Status CheckPath(const std::string& path) const;
  absl::Status ReserveBytes(uint64_t old_size, uint64_t new_size);
  // Frees the inode's bytes if it has neither a name nor an open handle left.
  void Release(Inode& inode);
  // The write path shared by Append and WriteAt, with its faults.
  absl::Status WriteBytes(Inode& inode, uint64_t position, const std::vector<uint8_t>& data);
  // The read path with its faults.
  absl::StatusOr<std::vector<uint8_t>> ReadBytes(Inode& inode, uint64_t position,
                                                 uint64_t length_bytes);
  Duration DrawLatency();
  void TraceOperation(uint32_t operation, uint64_t size, const std::string& path);
  Inode& InodeAt(const std::string& path) const;

  runtime::Clock& clock_;
  SimDiskOptions options_;
  DiskFaultOptions faults_;
  Random fault_random_;
  // Per order key (a file handle, or kNamespaceKey): completions are never due before this.
  std::map<uint64_t, Instant> last_due_by_key_;
  TraceHash* trace_ = nullptr;
  uint32_t trace_node_ = 0;
  const runtime::Clock* trace_time_source_ = nullptr;
  // True if powered off; counts the ignored operation.
  bool PoweredOff();

  bool powered_on_ = true;
  uint64_t generation_ = 0;  // Bumped by Crash(); completions of older generations are dropped.
  runtime::FileHandle next_handle_ = 1;
  uint64_t used_bytes_ = 0;
  std::set<std::string> directories_;
  std::map<std::string, InodePtr> files_;          // As the process sees them.
  std::map<std::string, InodePtr> durable_files_;  // As they would be after a crash.
  std::map<runtime::FileHandle, InodePtr> open_files_;
  SimDiskStats stats_;
};

}  // namespace eddy::sim
