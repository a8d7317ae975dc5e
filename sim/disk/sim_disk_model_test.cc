// Property test: SimDisk against a two-vector model of one file (what the process sees; what is
// durable). Random sequences of appends, overwrites, truncations, syncs, reads and crashes (with
// and without torn tails) must keep, after every step: reads equal to the visible model; after a
// crash without tearing, exactly the durable bytes; after a torn crash, the durable bytes intact
// as a prefix, anything beyond cut at a sector boundary, no longer than the sector-rounded visible
// size, and (except the possibly torn last sector) equal to bytes that were actually written.
// Budget: RC_PARAMS="max_success=10000" for a long run.
#include <cstdint>
#include <tuple>
#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::sim {
namespace {

using runtime::FileHandle;
using runtime::OpenMode;
constexpr uint64_t kSector = runtime::kSectorSizeBytes;

// (kind, a, b, fill)
using Op = std::tuple<uint8_t, uint16_t, uint16_t, uint8_t>;

struct Model {
  std::vector<uint8_t> visible;
  std::vector<uint8_t> durable;
};

uint64_t RoundUpToSector(uint64_t size) { return (size + kSector - 1) / kSector * kSector; }

RC_GTEST_PROP(SimDiskModel, MatchesTheDurabilityModel,
              (const std::vector<Op>& ops, uint64_t seed)) {
  SimLoop loop;
  SimDisk disk(loop);
  Random random(seed);
  Model model;
  auto open = [&] {
    return AwaitValue<FileHandle>(
               loop, [&](auto d) { disk.Open("f", OpenMode::kCreateIfMissing, std::move(d)); })
        .value();
  };
  FileHandle file = open();
  RC_ASSERT(AwaitStatus(loop, [&](auto d) { disk.SyncDirectory("", std::move(d)); }).ok());
  for (const auto& [kind, a, b, fill] : ops) {
    switch (kind % 7) {
      case 0:
      case 1: {  // Append.
        std::vector<uint8_t> data(1 + a % 1500, fill);
        auto at =
            AwaitValue<uint64_t>(loop, [&](auto d) { disk.Append(file, data, std::move(d)); });
        RC_ASSERT(at.ok());
        RC_ASSERT(*at == model.visible.size());
        model.visible.insert(model.visible.end(), data.begin(), data.end());
        break;
      }
      case 2: {  // Overwrite inside (or just past) the file.
        const uint64_t position = model.visible.empty() ? 0 : a % model.visible.size();
        std::vector<uint8_t> data(1 + b % 700, fill);
        RC_ASSERT(AwaitStatus(loop, [&](auto d) {
                    disk.WriteAt(file, position, data, std::move(d));
                  }).ok());
        if (model.visible.size() < position + data.size()) {
          model.visible.resize(position + data.size(), 0);
        }
        std::copy(data.begin(), data.end(), model.visible.begin() + position);
        break;
      }
      case 3: {  // Truncate to a smaller size.
        const uint64_t size = model.visible.empty() ? 0 : a % (model.visible.size() + 1);
        RC_ASSERT(AwaitStatus(loop, [&](auto d) { disk.Truncate(file, size, std::move(d)); }).ok());
        model.visible.resize(size);
        break;
      }
      case 4:  // Sync.
        RC_ASSERT(AwaitStatus(loop, [&](auto d) { disk.Sync(file, std::move(d)); }).ok());
        model.durable = model.visible;
        break;
      case 5: {  // Read a range.
        const uint64_t position = a % (model.visible.size() + 1);
        auto bytes = AwaitValue<std::vector<uint8_t>>(
            loop, [&](auto d) { disk.ReadAt(file, position, b, std::move(d)); });
        RC_ASSERT(bytes.ok());
        const uint64_t end = std::min<uint64_t>(model.visible.size(), position + b);
        RC_ASSERT(*bytes == std::vector<uint8_t>(model.visible.begin() + position,
                                                 model.visible.begin() + end));
        break;
      }
      case 6: {  // Crash, sometimes tearing.
        const bool torn = a % 2 == 0;
        disk.Crash(CrashOptions{.keep_unsynced_prefix = torn, .tear_last_sector = torn}, random);
        const std::vector<uint8_t> survivor = disk.FileContents("f");
        RC_ASSERT(survivor.size() >= model.durable.size());
        RC_ASSERT(std::equal(model.durable.begin(), model.durable.end(), survivor.begin()));
        if (!torn) RC_ASSERT(survivor == model.durable);
        if (survivor.size() > model.durable.size()) {
          RC_ASSERT(survivor.size() % kSector == 0);
          RC_ASSERT(survivor.size() <= RoundUpToSector(model.visible.size()));
          const uint64_t checked_end = survivor.size() - kSector;  // The last may be torn.
          for (uint64_t i = model.durable.size(); i < checked_end; ++i) {
            RC_ASSERT(survivor[i] == model.visible[i]);
          }
        }
        model.visible = survivor;
        model.durable = survivor;
        file = open();
        break;
      }
    }
    RC_ASSERT(disk.FileContents("f") == model.visible);
  }
}

}  // namespace
}  // namespace eddy::sim
