// LogView: the small synchronous window through which the Raft core reads its log.
//
// The core never owns the log and never writes it: the driver appends what Ready::entries says
// and truncates/installs what Ready says, then calls RawNode::Advance. The partition log
// (core/log) implements this view from its in-memory batch index; MemoryLog implements it for
// tests and benchmarks. Payload bytes never pass through this view.
//
// What an implementation must provide (also in README.md):
//  - a snapshot point: the (term, last offset) of the entry that ended just before the first
//    entry still held, the membership at that point, and the byte size of any state that goes
//    with it (0 for a partition log). An empty log starting at offset 0 has the snapshot point
//    {last_offset: -1, term: 0, conf_state: the bootstrap membership}.
//  - FirstOffset() == Snapshot().last_offset + 1, and LastOffset() == last offset of the last
//    entry, or FirstOffset() - 1 if there is none.
//  - EntryContaining(offset): the metadata of the entry whose [base, last] contains `offset`,
//    for every offset in [FirstOffset(), LastOffset()]; entries are contiguous (each base is
//    the previous last + 1). Outside that range it returns kOutOfRange.
//  - Every call is cheap (an index lookup) and never blocks: it reflects what the driver has
//    appended so far (durable or not). The core only calls it from its own methods.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "raft/raft.pb.h"
#include "raft/types.h"

namespace eddy::raft {

class LogView {
 public:
  virtual ~LogView() = default;

  // By reference: it is asked on every applied batch and every Kafka offset lookup, and a copy
  // (a message with a repeated ConfState) cost more than the lookup. Valid until the view's
  // snapshot point changes: copy it to keep it across that.
  virtual const SnapshotMeta& Snapshot() const = 0;
  virtual int64_t FirstOffset() const = 0;
  virtual int64_t LastOffset() const = 0;
  virtual absl::StatusOr<EntryMeta> EntryContaining(int64_t offset) const = 0;
};

}  // namespace eddy::raft
