// FileCache: proves the LRU bookkeeping on fake files: registering beyond the limit evicts the
// least recently used evictable files (touching one protects it), busy files are never evicted
// and the excess is counted, and a Trim() after files go idle brings the count back to the limit.

#include "core/log/file_cache.h"

#include <vector>

#include "gtest/gtest.h"

namespace eddy::log {
namespace {

class FakeFile final : public CachedFile {
 public:
  FakeFile(FileCache& cache, int id, std::vector<int>& evicted)
      : cache_(cache), id_(id), evicted_(evicted) {}
  ~FakeFile() { cache_.Unregister(*this); }
  bool Evictable() const override { return !busy; }
  void Evict() override {
    evicted_.push_back(id_);
    cache_.Unregister(*this);
  }
  bool busy = false;

 private:
  FileCache& cache_;
  int id_;
  std::vector<int>& evicted_;
};

TEST(FileCacheTest, EvictsLeastRecentlyUsedIdleFiles) {
  FileCache cache(2);
  std::vector<int> evicted;
  FakeFile f0(cache, 0, evicted), f1(cache, 1, evicted), f2(cache, 2, evicted),
      f3(cache, 3, evicted);
  cache.Register(f0);
  cache.Register(f1);
  EXPECT_TRUE(evicted.empty());
  cache.Touch(f0);  // f1 is now the least recently used
  cache.Register(f2);
  EXPECT_EQ(evicted, (std::vector<int>{1}));
  EXPECT_FALSE(FileCache::IsRegistered(f1));
  cache.Register(f3);
  EXPECT_EQ(evicted, (std::vector<int>{1, 0}));
  EXPECT_EQ(cache.open_file_count(), 2u);
  EXPECT_EQ(cache.stats().evictions, 2u);
  EXPECT_EQ(cache.stats().open_file_count_peak, 3u);
}

TEST(FileCacheTest, BusyFilesStayAndTheExcessIsCounted) {
  FileCache cache(1);
  std::vector<int> evicted;
  FakeFile f0(cache, 0, evicted), f1(cache, 1, evicted), f2(cache, 2, evicted);
  f0.busy = f1.busy = true;
  cache.Register(f0);
  cache.Register(f1);
  f2.busy = true;
  cache.Register(f2);
  EXPECT_TRUE(evicted.empty());
  EXPECT_EQ(cache.open_file_count(), 3u);
  EXPECT_EQ(cache.stats().over_limit_count_max, 2u);
  f1.busy = false;
  cache.Trim();
  EXPECT_EQ(evicted, (std::vector<int>{1}));
  f0.busy = f2.busy = false;
  cache.Trim();
  EXPECT_EQ(evicted, (std::vector<int>{1, 0}));  // f0 was used least recently
  EXPECT_EQ(cache.open_file_count(), 1u);
  EXPECT_TRUE(FileCache::IsRegistered(f2));
}

TEST(FileCacheTest, UnregisterForgetsAFile) {
  FileCache cache(1);
  std::vector<int> evicted;
  FakeFile f0(cache, 0, evicted), f1(cache, 1, evicted);
  cache.Register(f0);
  cache.Unregister(f0);
  cache.Unregister(f0);  // no-op
  cache.Register(f1);
  EXPECT_TRUE(evicted.empty());
  EXPECT_EQ(cache.open_file_count(), 1u);
}

}  // namespace
}  // namespace eddy::log
