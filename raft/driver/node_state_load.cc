#include "raft/driver/node_state_load.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "raft/driver/state_file.h"

namespace eddy::raft::driver {

namespace {
// Parts a checkpoint may claim: far more than kGroupsMax groups need (a part holds ~48 KiB), and
// small enough that a record claiming more (damage that kept its CRC) cannot make the load
// allocate without bound.
constexpr uint32_t kCheckpointRecordsMax = 1u << 16;
}  // namespace

NodeStateFileScan ScanNodeStateFile(std::span<const uint8_t> bytes) {
  NodeStateFileScan scan;
  // Each record is parsed once, by the acceptance check: the scan keeps exactly the frames it
  // accepted, in order, so the accepted records line up with its frames. (Parsing them again
  // after the scan cost a tenth of a restart-heavy simulation.)
  std::vector<NodeStateRecord> accepted;
  NodeStateRecord parsed;
  const StateFrameScan frames =
      ScanStateFrames(bytes, [&parsed, &accepted](std::span<const uint8_t> payload) {
        parsed.Clear();
        const bool valid =
            parsed.ParseFromArray(payload.data(), static_cast<int>(payload.size())) &&
            (parsed.checkpoint_records() == 0
                 ? parsed.sequence() > 0
                 : parsed.checkpoint_part() < parsed.checkpoint_records() &&
                       parsed.checkpoint_records() <= kCheckpointRecordsMax);
        if (valid) accepted.push_back(std::move(parsed));
        return valid;
      });
  EDDY_CHECK_EQ(accepted.size(), frames.frames.size());
  scan.damaged_records = frames.damaged_runs;
  for (size_t i = 0; i < accepted.size(); ++i) {
    NodeStateRecord& record = accepted[i];
    scan.newest_end_bytes = frames.frames[i].end_bytes;
    // A record appended again (it did not read back) is the same record.
    if (record.checkpoint_records() == 0) {
      scan.deltas.emplace(record.sequence(), std::move(record));
    } else {
      const std::pair<uint64_t, uint32_t> key{record.sequence(), record.checkpoint_part()};
      scan.checkpoint_parts.emplace(key, std::move(record));
    }
  }
  return scan;
}

namespace {

// The parts of the newest checkpoint that has all of them; nullptr entries never (empty: none).
std::vector<const NodeStateRecord*> NewestCompleteCheckpoint(
    const std::map<std::pair<uint64_t, uint32_t>, NodeStateRecord>& parts) {
  std::vector<const NodeStateRecord*> best;
  for (auto it = parts.begin(); it != parts.end();) {
    const uint64_t through = it->first.first;
    const uint32_t count = it->second.checkpoint_records();
    std::vector<const NodeStateRecord*> found(count, nullptr);
    uint32_t seen = 0;
    for (; it != parts.end() && it->first.first == through; ++it) {
      const uint32_t part = it->first.second;
      if (it->second.checkpoint_records() == count && found[part] == nullptr) {
        found[part] = &it->second;
        ++seen;
      }
    }
    if (seen == count) best = std::move(found);  // ascending: the last complete one is newest
  }
  return best;
}

void Apply(const NodeStateRecord& record, std::map<GroupId, PersistedState>& groups) {
  for (const GroupStateUpdate& update : record.updates()) {
    if (update.removed()) {
      groups.erase(update.group_id());
    } else {
      groups[update.group_id()] = update.state();
    }
  }
}

}  // namespace

NodeStateLoad CombineNodeState(const std::array<NodeStateFileScan, 2>& scans,
                               const std::array<std::vector<uint64_t>, 2>& unreadable_sectors) {
  NodeStateLoad load;
  std::map<uint64_t, NodeStateRecord> deltas;
  std::map<std::pair<uint64_t, uint32_t>, NodeStateRecord> parts;
  bool any_witness = false;
  bool any_trace = false;  // anything at all on either file, readable or not
  for (size_t i = 0; i < 2; ++i) {
    const NodeStateFileScan& scan = scans[i];
    const std::vector<uint64_t>& bad = unreadable_sectors[i];
    load.damaged_records += scan.damaged_records;
    load.unreadable_sectors += bad.size();
    if (!scan.empty() || !bad.empty()) any_trace = true;
    for (const auto& [sequence, record] : scan.deltas) deltas.emplace(sequence, record);
    for (const auto& [key, record] : scan.checkpoint_parts) parts.emplace(key, record);
    if (scan.empty()) continue;
    const bool unreadable_after =
        !bad.empty() && (bad.back() + 1) * runtime::kSectorSizeBytes > scan.newest_end_bytes;
    if (!unreadable_after) any_witness = true;
  }
  if (!deltas.empty()) load.sequence = deltas.rbegin()->first;
  if (!parts.empty()) load.sequence = std::max(load.sequence, parts.rbegin()->first.first);
  if (!any_trace) return load;  // a new node (or one whose first write never completed)
  if (!any_witness) {
    load.certain = false;
    load.uncertain_reason = "both copies unreadable after their last record";
    return load;
  }
  const std::vector<const NodeStateRecord*> checkpoint = NewestCompleteCheckpoint(parts);
  if (checkpoint.empty()) {
    load.certain = false;
    load.uncertain_reason = "no complete checkpoint in either copy";
    return load;
  }
  for (const NodeStateRecord* part : checkpoint) Apply(*part, load.groups);
  const uint64_t base = checkpoint.front()->sequence();
  for (uint64_t expected = base + 1; const auto& [sequence, record] : deltas) {
    if (sequence <= base) continue;
    if (sequence != expected) {
      load.certain = false;
      load.uncertain_reason = absl::StrCat("delta ", expected, " lost in both copies");
      load.groups.clear();
      return load;
    }
    ++expected;
    Apply(record, load.groups);
  }
  return load;
}

std::vector<uint8_t> EncodeNodeStateRecords(const std::vector<NodeStateRecord>& records) {
  std::vector<uint8_t> out;
  std::string payload;
  for (const NodeStateRecord& record : records) {
    payload.clear();
    EDDY_CHECK(record.SerializeToString(&payload));
    AppendStateFrame(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()),
                                              payload.size()),
                     out);
  }
  return out;
}

}  // namespace eddy::raft::driver
