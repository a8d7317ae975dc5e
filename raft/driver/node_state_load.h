// What the node's state files hold: the pure half of NodeStateStore's open (node_state_store.h).
//
// Each file is scanned for valid NodeStateRecord frames; the two scans are combined into the
// newest state of every group: the newest complete checkpoint, then the deltas after it in
// sequence order. Checkpoints are outside the chain of deltas (a checkpoint written to one file
// only may be lost to damage without losing anything: the deltas it restates are in the other).
//
// CERTAINTY (why a load may refuse to vouch for itself): a completed round is in both files (or,
// in a file compacted since, restated by its checkpoint), and appends only grow a file, so an
// acknowledged record newer than a file's newest valid one can only hide after it. Garbage there
// is an unacknowledged round (a crash tore it); an unreadable sector there may be anything.
// The load is certain when (1) at least one file vouches (nothing unreadable after its last
// valid record), (2) some complete checkpoint exists (every history starts with one), and (3) no
// delta between that checkpoint and the newest delta is missing from both files. Otherwise
// some group's term or vote may have gone back, and no group of the node may run Raft.
//
// Pure value code: no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "raft/driver/driver.pb.h"
#include "raft/driver/driver_options.h"

namespace eddy::raft::driver {

// One file's valid records.
struct NodeStateFileScan {
  std::map<uint64_t, NodeStateRecord> deltas;  // by sequence
  // Checkpoint parts by (sequence of the last delta included, part).
  std::map<std::pair<uint64_t, uint32_t>, NodeStateRecord> checkpoint_parts;
  uint64_t damaged_records = 0;
  uint64_t newest_end_bytes = 0;  // where the last valid frame ends (0: none)
  bool empty() const { return deltas.empty() && checkpoint_parts.empty(); }
};

NodeStateFileScan ScanNodeStateFile(std::span<const uint8_t> bytes);

struct NodeStateLoad {
  std::map<GroupId, PersistedState> groups;
  uint64_t sequence = 0;  // the highest delta sequence seen (the next delta takes sequence + 1)
  uint64_t damaged_records = 0;
  uint64_t unreadable_sectors = 0;
  bool certain = true;
  std::string uncertain_reason;  // why not, for the operator
};

// `unreadable_sectors[i]`: sorted sector numbers of file i that could not be read.
NodeStateLoad CombineNodeState(const std::array<NodeStateFileScan, 2>& scans,
                               const std::array<std::vector<uint64_t>, 2>& unreadable_sectors);

// Encodes records as the frames of one append (FORMAT.md).
std::vector<uint8_t> EncodeNodeStateRecords(const std::vector<NodeStateRecord>& records);

}  // namespace eddy::raft::driver
