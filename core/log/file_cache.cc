#include "core/log/file_cache.h"

#include <algorithm>

#include "core/base/check.h"

namespace eddy::log {

FileCache::FileCache(size_t open_file_count_max) : open_file_count_max_(open_file_count_max) {
  EDDY_CHECK_GE(open_file_count_max, 1u);
}

FileCache::~FileCache() {
  // Segments hold the cache by shared_ptr, so none can still be registered.
  EDDY_CHECK(lru_.empty());
}

void FileCache::Register(CachedFile& file) {
  EDDY_CHECK(!file.registered_);
  lru_.push_front(&file);
  file.registered_ = true;
  file.lru_position_ = lru_.begin();
  ++stats_.registrations;
  stats_.open_file_count_peak = std::max<uint64_t>(stats_.open_file_count_peak, lru_.size());
  Trim();
}

void FileCache::Unregister(CachedFile& file) {
  if (!file.registered_) return;
  lru_.erase(file.lru_position_);
  file.registered_ = false;
}

void FileCache::Touch(CachedFile& file) {
  EDDY_CHECK(file.registered_);
  if (file.lru_position_ == lru_.begin()) return;
  lru_.splice(lru_.begin(), lru_, file.lru_position_);
  EDDY_CHECK(*lru_.begin() == &file);
}

void FileCache::Trim() {
  // Evict() closes synchronously (it submits the close and unregisters), but guard against a
  // file whose eviction triggers another Trim.
  if (trimming_) return;
  trimming_ = true;
  auto it = lru_.end();
  while (lru_.size() > open_file_count_max_ && it != lru_.begin()) {
    --it;
    CachedFile* file = *it;
    if (!file->Evictable()) continue;
    // Step off the entry before it is erased.
    auto next = std::next(it);
    const size_t before = lru_.size();
    file->Evict();
    EDDY_CHECK(!file->registered_);
    EDDY_CHECK_EQ(lru_.size(), before - 1);
    ++stats_.evictions;
    it = next;
  }
  if (lru_.size() > open_file_count_max_) {
    stats_.over_limit_count_max =
        std::max<uint64_t>(stats_.over_limit_count_max, lru_.size() - open_file_count_max_);
  }
  trimming_ = false;
  CheckInvariants();
}

void FileCache::CheckInvariants() const {
  EDDY_CHECK_LE(lru_.size(), stats_.open_file_count_peak);
}

}  // namespace eddy::log
