#include "raft/testing/cluster.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/check.h"

namespace eddy::raft::testing {
namespace {

const char* ShortType(MessageType type) {
  switch (type) {
    case MSG_VOTE: return "Vote";
    case MSG_VOTE_RESP: return "VoteResp";
    case MSG_PRE_VOTE: return "PreVote";
    case MSG_PRE_VOTE_RESP: return "PreVoteResp";
    case MSG_APPEND: return "App";
    case MSG_APPEND_RESP: return "AppResp";
    case MSG_HEARTBEAT: return "Heartbeat";
    case MSG_HEARTBEAT_RESP: return "HeartbeatResp";
    case MSG_SNAPSHOT: return "Snap";
    case MSG_SNAPSHOT_RESP: return "SnapResp";
    case MSG_TIMEOUT_NOW: return "TimeoutNow";
    default: return "?";
  }
}

std::string DescribeEntry(const EntryMeta& e) {
  std::string out = absl::StrCat(e.term, "/", e.base_offset);
  if (e.last_offset != e.base_offset) absl::StrAppend(&out, "-", e.last_offset);
  if (e.type == ENTRY_NOOP) absl::StrAppend(&out, ":noop");
  if (e.type == ENTRY_CONF_CHANGE) {
    const char* kind = e.conf_change_type == CONF_ADD_LEARNER      ? "add-learner"
                       : e.conf_change_type == CONF_PROMOTE_LEARNER ? "promote"
                                                                     : "remove";
    absl::StrAppend(&out, ":", kind, "(", e.conf_change_node, ")");
  }
  return out;
}

}  // namespace

Cluster::Cluster(Options options) : options_(std::move(options)), random_(options_.seed) {}

Cluster::Node& Cluster::node(NodeId id) {
  auto it = nodes_.find(id);
  EDDY_CHECK_MSG(it != nodes_.end(), "no node " << id);
  return it->second;
}

void Cluster::AddNode(NodeId id, const std::vector<NodeId>& voters) {
  EDDY_CHECK(nodes_.count(id) == 0);
  SnapshotMeta initial;
  initial.set_last_offset(kNoOffset);
  for (NodeId v : voters) initial.mutable_conf_state()->add_voters(v);
  Node& n = nodes_[id];
  n.id = id;
  n.durable_log = std::make_unique<MemoryLog>(initial);
  n.durable_hard_state = RawNode::InitialHardState();
  *n.durable_hard_state.mutable_conf_state() = initial.conf_state();
  Restart(id);
}

void Cluster::Restart(NodeId id) {
  Node& n = node(id);
  EDDY_CHECK(!n.up);
  n.log = std::make_unique<MemoryLog>(*n.durable_log);
  n.hard_state = n.durable_hard_state;
  n.written.reset();
  n.snapshot_bytes.clear();
  Config config = options_.config;
  config.id = id;
  n.raft = std::make_unique<RawNode>(config, n.log.get(), n.hard_state, random_.Fork());
  n.up = true;
  n.checked_commit = n.log->FirstOffset() - 1;
  ++n.incarnation;
}

void Cluster::Crash(NodeId id) {
  Node& n = node(id);
  if (!n.up) return;
  n.up = false;
  n.raft.reset();
  n.written.reset();
  n.log.reset();
  // Messages already handed to the network stay in flight; the node's own volatile state and
  // unsynced writes are gone.
}

bool Cluster::Write(NodeId id) {
  Node& n = node(id);
  if (!n.up || n.written || !n.raft->HasReady()) return false;
  Ready ready = n.raft->TakeReady();
  if (ready.snapshot) {
    // Ready order 1: the snapshot replaces the log. A state snapshot must have arrived whole.
    EDDY_CHECK_EQ(n.snapshot_bytes.size(), ready.snapshot->size_bytes());
    n.log->InstallSnapshot(*ready.snapshot);
    n.snapshot_bytes.clear();
  }
  // Ready order 2: truncate + append. Payloads move into the log; keep the metadata.
  std::vector<Entry> entries = ready.entries;
  n.log->Append(std::move(entries));
  // Ready order 3: hard state after the entries it may refer to.
  if (ready.hard_state) n.hard_state = *ready.hard_state;
  n.written = std::move(ready);
  return true;
}

void Cluster::SyncAndSend(NodeId id) {
  Node& n = node(id);
  if (!n.up || !n.written) return;
  Ready ready = std::move(*n.written);
  n.written.reset();
  // Ready order 4: sync. Group commit: everything written so far becomes durable.
  if (ready.must_sync) {
    n.durable_log = std::make_unique<MemoryLog>(*n.log);
    n.durable_hard_state = n.hard_state;
  }
  // Ready order 5: only now send.
  for (Message& m : ready.messages) {
    if (m.type() == MSG_VOTE_RESP && !m.reject()) {
      auto [it, inserted] = granted_.emplace(std::make_pair(id, m.term()), m.to());
      if (!inserted && it->second != m.to()) {
        Violation(absl::StrCat("node ", id, " voted twice in term ", m.term(), ": for ",
                               it->second, " and for ", m.to()));
      }
    }
    // A message whose entries retention removed meanwhile is dropped (the leader retries,
    // and will find it must send a snapshot).
    if (!AttachPayload(&m, n)) continue;
    if (Connected(m.from(), m.to())) in_flight_.push_back(std::move(m));
  }
  for (const ReadState& rs : ready.read_states) n.read_states.push_back(rs);
  // Ready order 6: apply.
  Apply(n, ready.committed);
  n.raft->Advance(ready);
}

bool Cluster::ProcessReady(NodeId id) {
  if (node(id).written) {
    SyncAndSend(id);
    return true;
  }
  if (!Write(id)) return false;
  SyncAndSend(id);
  return true;
}

void Cluster::Apply(Node& n, const CommittedRange& range) {
  if (range.empty()) return;
  EDDY_CHECK_GE(range.first_offset, n.log->FirstOffset());
  EDDY_CHECK_LE(range.last_offset, n.log->LastOffset());
  // State Machine Safety (§5.4.3): every node applies the same entry at an offset.
  for (int64_t o = range.first_offset; o <= range.last_offset;) {
    EntryMeta e = *n.log->EntryContaining(o);
    auto it = committed_.lower_bound(e.base_offset);
    if (it != committed_.end() && it->second.base_offset <= e.last_offset &&
        !(it->second == e)) {
      Violation(absl::StrCat("node ", n.id, " applies ", DescribeEntry(e), " where ",
                             DescribeEntry(it->second), " was committed"));
    }
    o = e.last_offset + 1;
  }
}

bool Cluster::AttachPayload(Message* m, const Node& from) const {
  if (m->type() == MSG_APPEND) {
    for (Entry& e : *m->mutable_entries()) {
      if (e.base_offset() < from.log->FirstOffset()) return false;
      const Entry& stored = from.log->EntryAt(e.base_offset());
      EDDY_CHECK_EQ(stored.term(), e.term());
      EDDY_CHECK_EQ(stored.last_offset(), e.last_offset());
      e.set_data(stored.data());
    }
  } else if (m->type() == MSG_SNAPSHOT) {
    // The snapshot state is synthetic: byte i of the state at snapshot point p is 'a' + (p+i)%26.
    std::string chunk(m->chunk_size_bytes(), 'a');
    for (uint64_t i = 0; i < chunk.size(); ++i) {
      chunk[i] = static_cast<char>(
          'a' + (m->snapshot().last_offset() + 1 + static_cast<int64_t>(
                                                      m->chunk_offset_bytes() + i)) % 26);
    }
    m->set_data(std::move(chunk));
  }
  return true;
}

void Cluster::Tick(NodeId id) {
  Node& n = node(id);
  if (n.up) n.raft->Tick();
}

void Cluster::Compact(NodeId id, int64_t offset) {
  Node& n = node(id);
  if (!n.up || n.written) return;
  offset = std::min(offset, n.raft->applied_offset());
  if (offset <= n.log->Snapshot().last_offset()) return;
  if (offset > n.log->LastOffset()) return;
  // Compact the durable and the visible log alike (retention deletes whole segments).
  EntryMeta e = *n.log->EntryContaining(offset);
  int64_t end = e.last_offset == offset ? offset : e.base_offset - 1;
  if (end <= n.log->Snapshot().last_offset()) return;
  if (end > n.durable_log->LastOffset()) return;
  n.log->CompactTo(end, options_.snapshot_state_size_bytes);
  n.durable_log->CompactTo(end, options_.snapshot_state_size_bytes);
}

absl::Status Cluster::Deliver(size_t index) {
  EDDY_CHECK_LT(index, in_flight_.size());
  Message m = std::move(in_flight_[index]);
  in_flight_.erase(in_flight_.begin() + static_cast<ptrdiff_t>(index));
  auto it = nodes_.find(m.to());
  if (it == nodes_.end() || !it->second.up || !Connected(m.from(), m.to())) {
    return absl::OkStatus();
  }
  ++delivered_messages_;
  Node& n = it->second;
  const bool snapshot = m.type() == MSG_SNAPSHOT;
  const std::string chunk = snapshot ? m.data() : std::string();
  const uint64_t chunk_offset = m.chunk_offset_bytes();
  absl::Status status = n.raft->Step(std::move(m));
  if (snapshot && status.ok()) {
    // The driver keeps a chunk's bytes iff Step accepted it; byte 0 starts a new snapshot.
    if (chunk_offset == 0) n.snapshot_bytes.clear();
    n.snapshot_bytes += chunk;
  }
  if (!status.ok()) ++n.step_errors;
  return status;
}

void Cluster::Drop(size_t index) {
  EDDY_CHECK_LT(index, in_flight_.size());
  in_flight_.erase(in_flight_.begin() + static_cast<ptrdiff_t>(index));
}

void Cluster::Duplicate(size_t index) {
  EDDY_CHECK_LT(index, in_flight_.size());
  in_flight_.push_back(in_flight_[index]);
}

void Cluster::Isolate(const std::set<NodeId>& group) {
  for (const auto& [a, na] : nodes_) {
    for (const auto& [b, nb] : nodes_) {
      if (a < b && group.count(a) != group.count(b)) cut_.emplace(a, b);
    }
  }
}

void Cluster::Cut(NodeId a, NodeId b) { cut_.emplace(std::min(a, b), std::max(a, b)); }

void Cluster::Heal() { cut_.clear(); }

bool Cluster::Connected(NodeId a, NodeId b) const {
  return cut_.count({std::min(a, b), std::max(a, b)}) == 0;
}

void Cluster::Stabilize(int rounds_max,
                        const std::function<void(const Message&, const absl::Status&)>& on_message) {
  for (int round = 0; round < rounds_max; ++round) {
    bool moved = false;
    for (auto& [id, n] : nodes_) {
      while (ProcessReady(id)) moved = true;
    }
    while (!in_flight_.empty()) {
      Message copy = in_flight_.front();
      absl::Status status = Deliver(0);
      if (on_message) on_message(copy, status);
      moved = true;
    }
    if (!moved) return;
  }
}

void Cluster::Violation(std::string what) { violations_.push_back(std::move(what)); }

absl::Status Cluster::CheckSafety() {
  for (auto& [id, n] : nodes_) {
    if (!n.up) continue;
    RawNode& r = *n.raft;
    // Election Safety (§5.2): at most one leader per term.
    if (r.role() == Role::kLeader) {
      auto [it, inserted] = leaders_.emplace(r.term(), id);
      if (!inserted && it->second != id) {
        Violation(absl::StrCat("two leaders in term ", r.term(), ": ", it->second, " and ", id));
      }
      // Leader Completeness (§5.4): a new leader holds every entry committed so far.
      if (inserted) {
        for (auto c = committed_.lower_bound(r.log().FirstOffset()); c != committed_.end(); ++c) {
          // Only entries committed in an earlier term bind this leader (§5.4: "present in the
          // logs of the leaders for all higher-numbered terms").
          if (committed_in_term_[c->first] >= r.term()) continue;
          std::optional<EntryMeta> e = r.log().EntryAt(c->second.last_offset);
          if (!e || !(*e == c->second)) {
            Violation(absl::StrCat("leader ", id, " of term ", r.term(), " lacks committed entry ",
                                   DescribeEntry(c->second)));
            break;
          }
        }
      }
    }
    // Leader Completeness / State Machine Safety: each committed offset holds the same entry on
    // every node, forever. Checked once per newly committed entry per incarnation (a node
    // never changes its log at or below its commit offset).
    const int64_t commit = r.commit_offset();
    if (commit < n.checked_commit) {
      Violation(absl::StrCat("node ", id, " commit went back from ", n.checked_commit, " to ",
                             commit));
    }
    int64_t from = std::max(n.checked_commit + 1, r.log().FirstOffset());
    for (int64_t o = from; o <= commit;) {
      std::optional<EntryMeta> e = r.log().EntryAt(o);
      if (!e) {
        Violation(absl::StrCat("node ", id, " commits offset ", o, " it does not hold"));
        break;
      }
      auto it = committed_.lower_bound(e->base_offset);
      if (it != committed_.end() && it->second.base_offset <= e->last_offset) {
        if (!(it->second == *e)) {
          Violation(absl::StrCat("node ", id, " has ", DescribeEntry(*e), " committed where ",
                                 DescribeEntry(it->second), " was committed before"));
          break;
        }
      } else {
        committed_[e->last_offset] = *e;
        committed_in_term_[e->last_offset] = r.term();
      }
      o = e->last_offset + 1;
    }
    n.checked_commit = std::max(n.checked_commit, commit);
  }
  if (violations_.empty()) return absl::OkStatus();
  return absl::InternalError(violations_.front());
}

NodeId Cluster::Leader() const {
  NodeId leader = kNoNode;
  Term term = 0;
  for (const auto& [id, n] : nodes_) {
    if (n.up && n.raft->role() == Role::kLeader && n.raft->term() >= term) {
      leader = id;
      term = n.raft->term();
    }
  }
  return leader;
}

std::string Cluster::Describe(const Message& m) {
  std::string out = absl::StrCat(m.from(), "->", m.to(), " ", ShortType(m.type()), " t", m.term());
  switch (m.type()) {
    case MSG_VOTE:
    case MSG_PRE_VOTE:
      absl::StrAppend(&out, " last=", m.last_log_term(), "/", m.last_log_offset());
      if (m.transfer()) absl::StrAppend(&out, " transfer");
      break;
    case MSG_APPEND: {
      absl::StrAppend(&out, " prev=", m.prev_log_term(), "/", m.prev_log_offset(),
                      " commit=", m.commit_offset());
      if (m.entries_size() > 0) {
        std::vector<std::string> parts;
        for (const Entry& e : m.entries()) parts.push_back(DescribeEntry(EntryMeta::FromProto(e)));
        absl::StrAppend(&out, " [", absl::StrJoin(parts, " "), "]");
      }
      break;
    }
    case MSG_APPEND_RESP:
      if (m.reject()) {
        absl::StrAppend(&out, " reject rejected=", m.rejected_offset(), " hint=", m.hint_term(),
                        "/", m.hint_offset());
      } else {
        absl::StrAppend(&out, " match=", m.match_offset());
      }
      break;
    case MSG_HEARTBEAT:
      absl::StrAppend(&out, " commit=", m.commit_offset());
      if (m.read_context()) absl::StrAppend(&out, " read=", m.read_context());
      break;
    case MSG_HEARTBEAT_RESP:
      if (m.read_context()) absl::StrAppend(&out, " read=", m.read_context());
      break;
    case MSG_SNAPSHOT:
      absl::StrAppend(&out, " snap=", m.snapshot().term(), "/", m.snapshot().last_offset(),
                      " bytes=", m.chunk_offset_bytes(), "+", m.chunk_size_bytes(), "/",
                      m.snapshot().size_bytes());
      break;
    case MSG_SNAPSHOT_RESP:
      absl::StrAppend(&out, " snap=", m.snapshot().term(), "/", m.snapshot().last_offset(),
                      m.reject() ? " reject" : "", " next=", m.chunk_offset_bytes(),
                      " match=", m.match_offset());
      break;
    default:
      if (m.reject()) absl::StrAppend(&out, " reject");
      break;
  }
  return out;
}

std::string Cluster::DescribeNode(NodeId id) const {
  const Node& n = nodes_.at(id);
  if (!n.up) return absl::StrCat(id, ": down");
  const RawNode& r = *n.raft;
  std::string out = absl::StrCat(id, ": ", RoleName(r.role()), " term=", r.term(),
                                 " vote=", r.vote(), " leader=", r.leader(), " log=",
                                 r.log().FirstOffset(), "..", r.log().LastOffset(),
                                 " commit=", r.commit_offset(), " applied=", r.applied_offset(),
                                 " ", r.membership().DebugString());
  if (r.role() == Role::kLeader) {
    std::vector<std::string> parts;
    for (const auto& [peer, n2] : nodes_) {
      const Progress* pr = r.progress(peer);
      if (pr == nullptr) continue;
      parts.push_back(absl::StrCat(peer, ":", ProgressStateName(pr->state), " match=",
                                   pr->match_offset, " next=", pr->next_offset,
                                   " inflight=", pr->inflight_last_offsets.size()));
    }
    absl::StrAppend(&out, "\n   progress ", absl::StrJoin(parts, ", "));
  }
  return out;
}

std::string Cluster::DescribeLog(NodeId id) const {
  const Node& n = nodes_.at(id);
  if (!n.up) return absl::StrCat(id, ": down");
  const RawNode& r = *n.raft;
  std::vector<std::string> parts;
  for (int64_t o = r.log().FirstOffset(); o <= r.log().LastOffset();) {
    EntryMeta e = *r.log().EntryAt(o);
    parts.push_back(DescribeEntry(e));
    o = e.last_offset + 1;
  }
  const SnapshotMeta snap = r.log().SnapshotPoint();
  return absl::StrCat(id, ": snap=", snap.term(), "/", snap.last_offset(), " [",
                      absl::StrJoin(parts, " "), "] commit=", r.commit_offset());
}

}  // namespace eddy::raft::testing
