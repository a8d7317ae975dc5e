// FileCache: a node-wide budget of open segment files, shared by every PartitionLog of a node
// (LogOptions::file_cache), with least-recently-used eviction.
//
// A segment's file is opened on demand (the first operation after it was closed reopens it) and
// registered here while open; every operation touches it (most recently used). When more files
// are open than open_file_count_max(), the cache closes the least recently used IDLE ones: no
// operation queued or in flight, and no write since the last completed sync. So eviction never
// closes a file with operations in flight, and closing never loses data (runtime::Disk: closing
// does not make writes durable; only synced files are closed). Files that are busy or unsynced
// are never closed: while more than the limit are, the count stays above it (counted in
// stats().over_limit_count_max) and comes back down as they go idle — a soft limit for busy
// files, a hard one for idle ones. An idle log therefore holds no open file unless it is among
// the open_file_count_max() most recently used.
//
// OWNERSHIP: shared (std::shared_ptr) by its creator and every segment registered with it, so it
// lives as long as anything refers to it. LOOP AFFINITY: one loop (the node's); not thread-safe.
// Deterministic: eviction order depends only on the order of calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>

namespace eddy::log {

// What the cache can ask of an open file (implemented by Segment).
class CachedFile {
 public:
  // Whether the file may be closed now (open, idle, synced).
  virtual bool Evictable() const = 0;
  // Closes the file. REQUIRES: Evictable(). Calls FileCache::Unregister before returning.
  virtual void Evict() = 0;

 protected:
  ~CachedFile() = default;

 private:
  friend class FileCache;
  bool registered_ = false;
  std::list<CachedFile*>::iterator lru_position_;
};

struct FileCacheStats {
  uint64_t registrations = 0;       // files opened (first opens and reopens)
  uint64_t evictions = 0;           // files closed by the cache
  uint64_t open_file_count_peak = 0;
  // Largest excess over the limit while every open file was busy or unsynced.
  uint64_t over_limit_count_max = 0;
};

class FileCache {
 public:
  // The private budget of a log whose options name no cache.
  static constexpr size_t kPrivateOpenFileCountMax = 8;

  // REQUIRES: open_file_count_max >= 1.
  explicit FileCache(size_t open_file_count_max);
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;
  ~FileCache();

  size_t open_file_count_max() const { return open_file_count_max_; }
  size_t open_file_count() const { return lru_.size(); }
  const FileCacheStats& stats() const { return stats_; }

  // `file` was opened: counts it (most recently used), then evicts idle files over the limit.
  // REQUIRES: not registered.
  void Register(CachedFile& file);
  // `file` was closed by its owner (or is going away). No-op if not registered.
  void Unregister(CachedFile& file);
  // `file` is being used: most recently used. REQUIRES: registered.
  void Touch(CachedFile& file);
  // Evicts least recently used idle files while more than the limit are open (call when a file
  // may have become idle).
  void Trim();

  static bool IsRegistered(const CachedFile& file) { return file.registered_; }

 private:
  void CheckInvariants() const;

  const size_t open_file_count_max_;
  // Most recently used first.
  std::list<CachedFile*> lru_;
  FileCacheStats stats_;
  bool trimming_ = false;
};

}  // namespace eddy::log
