// Core vocabulary of the Raft package: node ids, terms, and entry metadata as a plain struct.
//
// Offsets follow DESIGN.md decision 4: an entry covers record offsets [base_offset, last_offset]
// and is identified by (term, last_offset). The "no entry" position is offset -1, term 0.
#pragma once

#include <cstdint>
#include <ostream>

#include "raft/raft.pb.h"

namespace eddy::raft {

using NodeId = uint64_t;
using Term = uint64_t;

// Node id 0 means "nobody" (no vote, no known leader); real nodes have ids >= 1.
inline constexpr NodeId kNoNode = 0;

// The position before the first offset of an empty log that starts at offset 0.
inline constexpr int64_t kNoOffset = -1;

// Largest term: a batch header's partitionLeaderEpoch is an int32. A message naming a larger term
// is refused (adopting it would make every later entry unwritable), and a node at kTermMax does
// not campaign.
inline constexpr Term kTermMax = INT32_MAX;

// Largest offset any message may name: far beyond any real log (2^62 records), and far enough
// below INT64_MAX that offset + record count, + 1 or + a batch never overflows.
inline constexpr int64_t kOffsetMax = int64_t{1} << 62;

// Metadata of one entry; what the core reads from the log. Copyable without allocation.
struct EntryMeta {
  Term term = 0;
  int64_t base_offset = 0;
  int64_t last_offset = kNoOffset;
  EntryType type = ENTRY_NORMAL;
  ConfChangeType conf_change_type = CONF_ADD_LEARNER;  // meaningful iff ENTRY_CONF_CHANGE
  NodeId conf_change_node = kNoNode;                   // meaningful iff ENTRY_CONF_CHANGE
  uint64_t size_bytes = 0;

  int64_t record_count() const { return last_offset - base_offset + 1; }

  static EntryMeta FromProto(const Entry& entry) {
    EntryMeta meta;
    meta.term = entry.term();
    meta.base_offset = entry.base_offset();
    meta.last_offset = entry.last_offset();
    meta.type = entry.type();
    if (entry.has_conf_change()) {
      meta.conf_change_type = entry.conf_change().type();
      meta.conf_change_node = entry.conf_change().node_id();
    }
    meta.size_bytes = entry.size_bytes();
    return meta;
  }

  // Fills `entry`'s metadata fields; leaves `data` untouched.
  void ToProto(Entry* entry) const {
    entry->set_term(term);
    entry->set_base_offset(base_offset);
    entry->set_last_offset(last_offset);
    entry->set_type(type);
    if (type == ENTRY_CONF_CHANGE) {
      entry->mutable_conf_change()->set_type(conf_change_type);
      entry->mutable_conf_change()->set_node_id(conf_change_node);
    }
    entry->set_size_bytes(size_bytes);
  }

  friend bool operator==(const EntryMeta&, const EntryMeta&) = default;
};

inline std::ostream& operator<<(std::ostream& out, const EntryMeta& e) {
  return out << "[" << e.base_offset << ".." << e.last_offset << "]@t" << e.term;
}

}  // namespace eddy::raft
