// Proves the classic group protocol's safety claims of GroupCoordinator under random schedules:
// members joining (with and without the MEMBER_ID_REQUIRED round, some static with a
// group.instance.id), syncing, heartbeating, leaving, restarting (the old process lives on as a
// zombie that still commits; a static one comes back under a new member id), committing
// with their believed generation or a stale one, time jumping past session and rebalance
// timeouts, writes failing, and coordinator failovers (Unload, then Load at a higher term, the
// writes in flight each committed or lost as Raft may decide).
//
// How: RapidCheck draws up to 60 operations by 2..4 clients on one group, run on a simulated
// node's clocks; the coordinator's writes go through a log that applies them, in order, to a
// real GroupStateMachine (the replicated partition) and records every assignment committed.
// Each client is modelled as a Kafka consumer sees itself (member id, generation, leader,
// assignment), learning only from answers. After every operation:
//   (a) a commit answered NONE came from a member of the group at exactly the group's
//       generation at the moment of the call, the group not CompletingRebalance (or is Kafka's
//       commit outside the protocol: generation < 0 to an Empty group);
//   (b) successful JoinGroup generations never decrease within one shard load, and a SyncGroup
//       answered NONE carries exactly the assignment committed for that member in that
//       generation, which is an assignment the generation's leader sent;
//   (c) within a generation no partition is delivered to two members (a static member's
//       instance is one member whatever its member id);
//   (d) FetchOffsets returns, per partition, the last commit answered NONE — or a later one
//       that was written but answered with an error (it may have been committed) — never one
//       refused, never an older one (nothing accepted is lost, across failovers too);
//   (e) after a failover the loaded group is what the store holds: the last generation whose
//       assignment was committed, with those members and assignments, Stable — or Empty at the
//       emptied generation — and never older than any generation a member was synced in;
//   and the partition's state machine refuses no record the coordinator wrote.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/base/check.h"
#include "core/group/group_coordinator.h"
#include "core/group/group_state_machine.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::group {
namespace {

using kafka::ErrorCode;

constexpr int32_t kPartitions = 6;
constexpr int32_t kSessionTimeoutMs = 10000;
constexpr int32_t kRebalanceTimeoutMs = 20000;
constexpr size_t kZombiesMax = 4;
const char* const kGroup = "g";
const char* const kTopic = "t";

// Who an assignment is for: a static member's instance id (it keeps its assignment under a new
// member id, KIP-345), else the member id.
std::string Owner(const std::string& member_id, const std::optional<std::string>& instance) {
  return instance.has_value() ? "instance " + *instance : "member " + member_id;
}
using AssignmentMap = std::map<std::string, std::string>;  // owner -> assignment bytes

// The offsets partition. Writes wait in order; each is applied to the state machine and
// answered on a later loop turn, unless it was told to fail (then it is not applied). When the
// leadership moves, ResolveInFlight decides each waiting write's fate — committed (applied
// before the next leader loads) or lost — and answers it NOT_COORDINATOR; so a new leader never
// sees an old term's write arrive after its load, as Raft guarantees.
class MachineLog final : public GroupLog {
 public:
  explicit MachineLog(runtime::Clock& clock) : clock_(clock), machine_(&stats_) {
    raft::SnapshotMeta bootstrap;
    bootstrap.set_last_offset(raft::kNoOffset);
    EDDY_CHECK(machine_.Restore(bootstrap, {}).ok());
  }

  void Write(int32_t, uint64_t, std::vector<uint8_t> batch, WriteDone done) override {
    ++writes;
    pending_.push_back(Pending{std::move(batch), std::move(done), fail_next});
    fail_next.reset();
    clock_.Post([this] { CompleteOldest(); });
  }
  const GroupStore* Store(int32_t) override { return &machine_.store(); }
  bool PartitionExists(const std::string& topic, int32_t partition) override {
    return topic == kTopic && partition >= 0 && partition < kPartitions;
  }

  // `commit()` is asked once per write in flight, oldest first.
  template <typename Decide>
  void ResolveInFlight(Decide commit) {
    std::deque<Pending> pending = std::move(pending_);
    pending_.clear();
    for (Pending& p : pending) {
      if (commit()) Apply(p.batch);
      clock_.Post(
          [done = std::move(p.done)]() mutable { std::move(done)(ErrorCode::kNotCoordinator); });
    }
  }

  const GroupStore& store() const { return machine_.store(); }
  const GroupStateStats& stats() const { return stats_; }

  std::optional<ErrorCode> fail_next;  // the next write fails with this error, unapplied
  uint64_t writes = 0;
  // Every assignment ever committed, by generation, and the generation of the last one.
  std::map<int32_t, AssignmentMap> assignments;
  std::optional<int32_t> last_assignment_generation;
  std::vector<std::string> violations;

 private:
  struct Pending {
    std::vector<uint8_t> batch;
    WriteDone done;
    std::optional<ErrorCode> fail;
  };

  void CompleteOldest() {
    if (pending_.empty()) return;  // resolved by a failover
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    if (p.fail.has_value()) return std::move(p.done)(*p.fail);
    Apply(p.batch);
    std::move(p.done)(ErrorCode::kNone);
  }

  void Apply(const std::vector<uint8_t>& batch) {
    raft::EntryMeta meta;
    meta.base_offset = meta.last_offset = ++offset_;
    if (!machine_.Apply(meta, batch).ok()) violations.push_back("the machine failed an Apply");
    const StoredGroup* g = machine_.store().Find(kGroup);
    if (g == nullptr || !g->metadata.has_value() || g->metadata->members_size() == 0) return;
    AssignmentMap map;
    for (const MemberValue& m : g->metadata->members()) {
      std::optional<std::string> instance;
      if (m.has_group_instance_id()) instance = m.group_instance_id();
      map[Owner(m.member_id(), instance)] = m.assignment();
    }
    const int32_t generation = g->metadata->generation();
    auto [it, inserted] = assignments.emplace(generation, map);
    if (!inserted && it->second != map) {
      violations.push_back("generation " + std::to_string(generation) +
                           " committed two different assignments");
    }
    last_assignment_generation = generation;
  }

  runtime::Clock& clock_;
  GroupStateStats stats_;
  GroupStateMachine machine_;
  std::deque<Pending> pending_;
  int64_t offset_ = 0;
};

std::string EncodePartitions(const std::vector<int32_t>& partitions) {
  std::string out;
  for (int32_t p : partitions) out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

std::vector<int32_t> DecodePartitions(const std::string& text) {
  std::vector<int32_t> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(std::stoi(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}

// The leader's assignor: partition p to the (p + generation)-th member id in order; the same
// answer every time for the same generation and members.
AssignmentMap Plan(int32_t generation, std::vector<std::string> members) {
  std::sort(members.begin(), members.end());
  std::map<std::string, std::vector<int32_t>> owned;
  for (const std::string& m : members) owned[m];
  for (int32_t p = 0; p < kPartitions; ++p) {
    owned[members[static_cast<size_t>(p + generation) % members.size()]].push_back(p);
  }
  AssignmentMap plan;
  for (const auto& [m, partitions] : owned) plan[m] = EncodePartitions(partitions);
  return plan;
}

// ---- The operations.

enum class OpKind {
  kJoin,  // variant 0: plain; 1: new protocol metadata; 2: JoinGroup v3 (no KIP-394)
  kSync,
  kHeartbeat,
  kLeave,
  kCommit,        // variant 0: believed generation; 1: one older; 2: -1; 3: one newer
  kZombieCommit,  // a restarted client's old process commits with what it believed
  kRestart,       // the client's process restarts: no member id; the old one lives on
  kAdvance,       // time passes; variant != 2: clients heartbeat, rejoin and sync meanwhile
                  // (variant 1 and 3: and commit)
  kDeliver,       // the loop runs 1 ms: writes land, answers arrive
  kFailWrite,     // the next write fails
  kFailover,      // the coordinator moves: Unload, writes in flight resolved, Load at term+1
};

struct Op {
  OpKind kind = OpKind::kDeliver;
  int client = 0;
  int variant = 0;
  int64_t amount_ms = 0;
  uint32_t bits = 0;
};

const char* Name(OpKind kind) {
  switch (kind) {
    case OpKind::kJoin:
      return "Join";
    case OpKind::kSync:
      return "Sync";
    case OpKind::kHeartbeat:
      return "Heartbeat";
    case OpKind::kLeave:
      return "Leave";
    case OpKind::kCommit:
      return "Commit";
    case OpKind::kZombieCommit:
      return "ZombieCommit";
    case OpKind::kRestart:
      return "Restart";
    case OpKind::kAdvance:
      return "Advance";
    case OpKind::kDeliver:
      return "Deliver";
    case OpKind::kFailWrite:
      return "FailWrite";
    case OpKind::kFailover:
      return "Failover";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, const Op& op) {
  return os << Name(op.kind) << "(client " << op.client << ", variant " << op.variant << ", "
            << op.amount_ms << " ms, bits " << op.bits << ")";
}
void showValue(const Op& op, std::ostream& os) { os << op; }

rc::Gen<Op> GenOp() {
  return rc::gen::apply(
      [](OpKind kind, int client, int variant, int64_t amount_ms, uint32_t bits) {
        return Op{kind, client, variant, amount_ms, bits};
      },
      rc::gen::weightedElement<OpKind>({{6, OpKind::kJoin},
                                        {5, OpKind::kSync},
                                        {2, OpKind::kHeartbeat},
                                        {1, OpKind::kLeave},
                                        {5, OpKind::kCommit},
                                        {1, OpKind::kZombieCommit},
                                        {1, OpKind::kRestart},
                                        {8, OpKind::kAdvance},
                                        {5, OpKind::kDeliver},
                                        {1, OpKind::kFailWrite},
                                        {2, OpKind::kFailover}}),
      rc::gen::element(0, 1, 2, 3), rc::gen::element(0, 0, 1, 2, 3),
      rc::gen::element<int64_t>(1, 100, 300, 1000, 3000, 7000, 11000, 25000),
      rc::gen::arbitrary<uint32_t>());
}

// ---- The clients, as they see themselves.

struct Client {
  static Client New(int incarnation, std::optional<std::string> instance) {
    Client c;
    c.incarnation = incarnation;
    c.instance = std::move(instance);
    return c;
  }

  int incarnation = 0;
  std::optional<std::string> instance;  // group.instance.id: a static member, kept on restart
  std::string member_id;
  int32_t generation = -1;  // from its last successful JoinGroup
  std::string leader;
  std::vector<JoinOutcome::Member> members;  // the leader's JoinGroup answer
  bool synced = false;                       // got its assignment for `generation`
  std::vector<int32_t> partitions;
  bool rejoin = false;
  int joins_in_flight = 0;
  int syncs_in_flight = 0;
  int metadata_version = 0;

  void Forget() {
    member_id.clear();
    generation = -1;
    leader.clear();
    members.clear();
    synced = false;
    partitions.clear();
    rejoin = false;
  }
};

struct Zombie {
  std::string member_id;
  std::optional<std::string> instance;
  int32_t generation = -1;
  std::vector<int32_t> partitions;
};

struct JoinEvent {
  int incarnation;
  std::string requested_id;
  int load;
  JoinOutcome outcome;
};
struct SyncEvent {
  int incarnation;
  std::string member_id;
  std::optional<std::string> instance;
  int32_t generation;
  int load;
  SyncOutcome outcome;
};
struct CommitEvent {
  size_t commit;
  std::vector<ErrorCode> errors;
};
using Event = std::variant<JoinEvent, SyncEvent, CommitEvent>;

struct CommitRecord {
  std::string member_id;
  int32_t generation = -1;
  int64_t value = 0;
  std::vector<int32_t> partitions;
  bool submitted = false;   // it reached the log
  bool member_ok = false;   // (a) at the call: a member at the group's generation, not syncing
  bool outside_ok = false;  // (a) at the call: generation < 0 and no group or an Empty one
};

struct Coverage {
  int commits_accepted = 0;
  int syncs_delivered = 0;
  int failovers_stable = 0;
  int zombie_commits_refused = 0;
  int fenced = 0;  // FENCED_INSTANCE_ID answers
  int32_t generation_max = 0;
};

class Harness {
 public:
  // Client i is a static member if bit i of `static_mask` is set.
  Harness(uint64_t seed, int client_count, uint32_t static_mask, CoordinatorOptions options)
      : world_(sim::SimWorldOptions{.seed = seed, .nodes = {1}}),
        log_(world_.node(1).clock()),
        coordinator_(world_.node(1).clock(), world_.node(1).wall_clock(), world_.node(1).random(),
                     log_, options) {
    coordinator_.Load(0, term_);
    for (int i = 0; i < client_count; ++i) {
      std::optional<std::string> instance;
      if ((static_mask >> i) & 1) instance = "instance-" + std::to_string(i);
      clients_.push_back(Client::New(++incarnations_, instance));
    }
  }

  void Run(const Op& op) {
    Client& c = clients_[static_cast<size_t>(op.client) % clients_.size()];
    switch (op.kind) {
      case OpKind::kJoin:
        Join(c, op.variant % 3);
        break;
      case OpKind::kSync:
        Sync(c);
        break;
      case OpKind::kHeartbeat:
        Heartbeat(c);
        break;
      case OpKind::kLeave:
        coordinator_.LeaveGroup(0, kGroup, {{c.member_id, c.instance}});
        c.Forget();
        break;
      case OpKind::kCommit:
        Commit(c.member_id, c.instance, CommitGeneration(c.generation, op.variant),
               c.partitions.empty() ? Subset(op.bits) : c.partitions);
        break;
      case OpKind::kZombieCommit:
        if (!zombies_.empty()) {
          const Zombie& z = zombies_[op.bits % zombies_.size()];
          Commit(z.member_id, z.instance, z.generation,
                 z.partitions.empty() ? Subset(op.bits) : z.partitions);
        }
        break;
      case OpKind::kRestart:
        if (!c.member_id.empty()) {
          if (zombies_.size() == kZombiesMax) zombies_.erase(zombies_.begin());
          zombies_.push_back(Zombie{c.member_id, c.instance, c.generation, c.partitions});
        }
        c = Client::New(++incarnations_, std::optional<std::string>(c.instance));
        break;
      case OpKind::kAdvance:
        Advance(op.amount_ms, /*drive=*/op.variant != 2, /*commit=*/op.variant % 2 == 1);
        break;
      case OpKind::kDeliver:
        world_.RunFor(Duration::Milliseconds(1));
        break;
      case OpKind::kFailWrite:
        log_.fail_next =
            op.bits % 2 == 0 ? ErrorCode::kNotCoordinator : ErrorCode::kRequestTimedOut;
        break;
      case OpKind::kFailover:
        Failover(op.bits);
        break;
    }
    ProcessEvents();
    Check();
  }

  const Coverage& coverage() const { return coverage_; }

 private:
  static int32_t CommitGeneration(int32_t believed, int variant) {
    switch (variant) {
      case 1:
        return believed - 1;
      case 2:
        return -1;
      case 3:
        return believed + 1;
      default:
        return believed;
    }
  }
  static std::vector<int32_t> Subset(uint32_t bits) {
    std::vector<int32_t> out;
    for (int32_t p = 0; p < kPartitions; ++p) {
      if ((bits >> p) & 1) out.push_back(p);
    }
    if (out.empty()) out.push_back(static_cast<int32_t>(bits % kPartitions));
    return out;
  }

  void Join(Client& c, int variant) {
    if (variant == 1) ++c.metadata_version;
    JoinRequest r;
    r.group_id = kGroup;
    r.member_id = c.member_id;
    r.group_instance_id = c.instance;
    r.session_timeout_ms = kSessionTimeoutMs;
    r.rebalance_timeout_ms = kRebalanceTimeoutMs;
    r.protocol_type = "consumer";
    r.protocols = {{"range", "meta-" + std::to_string(c.metadata_version)}};
    r.client_id = "c" + std::to_string(c.incarnation);
    r.require_known_member_id = variant != 2;
    ++c.joins_in_flight;
    const int incarnation = c.incarnation;
    coordinator_.JoinGroup(0, std::move(r), [this, incarnation, id = c.member_id](JoinOutcome o) {
      events_.push_back(JoinEvent{incarnation, id, load_, std::move(o)});
    });
  }

  void Sync(Client& c) {
    SyncRequest r;
    r.group_id = kGroup;
    r.generation = c.generation;
    r.member_id = c.member_id;
    r.group_instance_id = c.instance;
    r.protocol_type = "consumer";
    if (!c.member_id.empty() && c.leader == c.member_id && !c.members.empty()) {
      std::vector<std::string> ids;
      std::map<std::string, std::optional<std::string>> instances;
      for (const JoinOutcome::Member& m : c.members) {
        ids.push_back(m.member_id);
        instances[m.member_id] = m.group_instance_id;
      }
      r.assignments = Plan(c.generation, ids);
      AssignmentMap by_owner;
      for (const auto& [id, a] : r.assignments) by_owner[Owner(id, instances[id])] = a;
      sent_plans_[c.generation].insert(by_owner);
    }
    ++c.syncs_in_flight;
    const int incarnation = c.incarnation;
    coordinator_.SyncGroup(
        0, std::move(r),
        [this, incarnation, id = c.member_id, instance = c.instance,
         g = c.generation](SyncOutcome o) {
          events_.push_back(SyncEvent{incarnation, id, instance, g, load_, std::move(o)});
        });
  }

  void Heartbeat(Client& c) {
    const ClassicGroup* g = coordinator_.group(0, kGroup);
    const bool member_ok =
        g != nullptr && g->members().contains(c.member_id) && g->generation() == c.generation &&
        (g->state() == GroupState::kStable || g->state() == GroupState::kCompletingRebalance);
    const ErrorCode e = coordinator_.Heartbeat(0, {kGroup, c.generation, c.member_id, c.instance});
    if (e == ErrorCode::kNone) RC_ASSERT(member_ok);
    if (e == ErrorCode::kFencedInstanceId) ++coverage_.fenced;
    switch (e) {
      case ErrorCode::kRebalanceInProgress:
        c.rejoin = true;
        break;
      case ErrorCode::kIllegalGeneration:
        c.generation = -1;
        c.synced = false;
        break;
      case ErrorCode::kUnknownMemberId:
        c.Forget();
        break;
      default:
        break;
    }
  }

  void Commit(const std::string& member_id, const std::optional<std::string>& instance,
              int32_t generation, const std::vector<int32_t>& partitions) {
    const ClassicGroup* g = coordinator_.group(0, kGroup);
    CommitRecord record;
    record.member_id = member_id;
    record.generation = generation;
    record.value = ++next_value_;
    record.partitions = partitions;
    record.member_ok = g != nullptr && g->state() != GroupState::kDead &&
                       g->members().contains(member_id) && generation == g->generation() &&
                       g->state() != GroupState::kCompletingRebalance;
    record.outside_ok = generation < 0 && (g == nullptr || g->state() == GroupState::kEmpty);
    const size_t index = commits_.size();
    commits_.push_back(record);
    CommitRequest r;
    r.member = MemberRef{kGroup, generation, member_id, instance};
    for (int32_t p : partitions) {
      r.partitions.push_back({TopicPartition{kTopic, p}, record.value, 1, std::string("m")});
    }
    const uint64_t writes_before = log_.writes;
    coordinator_.CommitOffsets(0, std::move(r), [this, index](std::vector<ErrorCode> errors) {
      events_.push_back(CommitEvent{index, std::move(errors)});
    });
    commits_[index].submitted = log_.writes > writes_before;
    // Kafka's rules refuse nothing else: a current member's commit (or one outside the
    // protocol into an Empty group) is written.
    if (record.member_ok || record.outside_ok) RC_ASSERT(commits_[index].submitted);
    if (commits_[index].submitted) {
      for (int32_t p : partitions) submitted_[p].insert(record.value);
    }
  }

  // What a consumer's background thread does next.
  void Drive(Client& c, bool commit) {
    if (c.joins_in_flight > 0 || c.syncs_in_flight > 0) return;
    if (c.member_id.empty() || c.generation < 0 || c.rejoin) return Join(c, 0);
    if (!c.synced) return Sync(c);
    Heartbeat(c);
    if (commit && c.synced && !c.partitions.empty()) {
      Commit(c.member_id, c.instance, c.generation, c.partitions);
    }
  }

  void Advance(int64_t amount_ms, bool drive, bool commit) {
    if (!drive) return world_.RunFor(Duration::Milliseconds(amount_ms));
    for (int64_t done_ms = 0; done_ms < amount_ms;) {
      for (Client& c : clients_) Drive(c, commit);
      ProcessEvents();
      const int64_t step_ms = std::min<int64_t>(1000, amount_ms - done_ms);
      world_.RunFor(Duration::Milliseconds(step_ms));
      done_ms += step_ms;
      ProcessEvents();
    }
  }

  void Failover(uint32_t bits) {
    coordinator_.Unload(0);
    ProcessEvents();
    int i = 0;
    log_.ResolveInFlight([&] { return ((bits >> (i++ % 32)) & 1) != 0; });
    ++term_;
    ++load_;
    coordinator_.Load(0, term_);
    CheckLoaded();
  }

  Client* Find(int incarnation) {
    for (Client& c : clients_) {
      if (c.incarnation == incarnation) return &c;
    }
    return nullptr;
  }

  void ProcessEvents() {
    std::vector<Event> events = std::move(events_);
    events_.clear();
    for (Event& e : events) {
      if (auto* join = std::get_if<JoinEvent>(&e)) OnJoin(*join);
      if (auto* sync = std::get_if<SyncEvent>(&e)) OnSync(*sync);
      if (auto* commit = std::get_if<CommitEvent>(&e)) OnCommit(*commit);
    }
  }

  void OnJoin(const JoinEvent& e) {
    const JoinOutcome& o = e.outcome;
    if (o.error == ErrorCode::kNone) {
      // (b) generations of one load never go back.
      int32_t& max = join_generation_max_[e.load];
      RC_ASSERT(o.generation >= max);
      max = o.generation;
      RC_ASSERT(!o.member_id.empty());
      if (!e.requested_id.empty()) RC_ASSERT(o.member_id == e.requested_id);
      if (o.leader == o.member_id) {
        RC_ASSERT(!o.members.empty());
      }
      coverage_.generation_max = std::max(coverage_.generation_max, o.generation);
    }
    if (o.error == ErrorCode::kFencedInstanceId) ++coverage_.fenced;
    Client* c = Find(e.incarnation);
    if (c == nullptr) return;
    --c->joins_in_flight;
    switch (o.error) {
      case ErrorCode::kNone:
        c->member_id = o.member_id;
        c->generation = o.generation;
        c->leader = o.leader;
        c->members = o.members;
        c->synced = false;
        c->partitions.clear();
        c->rejoin = false;
        break;
      case ErrorCode::kMemberIdRequired:
        c->member_id = o.member_id;
        c->generation = -1;
        break;
      case ErrorCode::kUnknownMemberId:
      case ErrorCode::kFencedInstanceId:
        c->Forget();
        break;
      case ErrorCode::kIllegalGeneration:
        c->generation = -1;
        break;
      default:
        break;
    }
  }

  void OnSync(const SyncEvent& e) {
    const SyncOutcome& o = e.outcome;
    if (o.error == ErrorCode::kNone) {
      // (b) exactly the assignment committed for this member in this generation...
      auto committed = log_.assignments.find(e.generation);
      RC_ASSERT(committed != log_.assignments.end());
      const std::string owner = Owner(e.member_id, e.instance);
      auto mine = committed->second.find(owner);
      RC_ASSERT(mine != committed->second.end());
      RC_ASSERT(o.assignment == mine->second);
      // ... which the generation's leader sent.
      RC_ASSERT(sent_plans_[e.generation].contains(committed->second));
      // (c) no partition delivered twice in one generation.
      for (int32_t p : DecodePartitions(o.assignment)) {
        auto [holder, fresh] = delivered_[e.generation].emplace(p, owner);
        RC_ASSERT(holder->second == owner);
      }
      synced_generation_max_ = std::max(synced_generation_max_.value_or(-1), e.generation);
      ++coverage_.syncs_delivered;
    }
    if (o.error == ErrorCode::kFencedInstanceId) ++coverage_.fenced;
    Client* c = Find(e.incarnation);
    if (c == nullptr) return;
    --c->syncs_in_flight;
    switch (o.error) {
      case ErrorCode::kNone:
        if (c->member_id == e.member_id && c->generation == e.generation) {
          c->synced = true;
          c->partitions = DecodePartitions(o.assignment);
        }
        break;
      case ErrorCode::kUnknownMemberId:
      case ErrorCode::kFencedInstanceId:
        c->Forget();
        break;
      case ErrorCode::kIllegalGeneration:
        c->generation = -1;
        c->synced = false;
        break;
      default:  // REBALANCE_IN_PROGRESS, NOT_COORDINATOR, a write's error: join again
        c->rejoin = true;
        break;
    }
  }

  void OnCommit(const CommitEvent& e) {
    const CommitRecord& r = commits_[e.commit];
    RC_ASSERT(e.errors.size() == r.partitions.size());
    const ErrorCode error = e.errors.front();
    for (ErrorCode x : e.errors) RC_ASSERT(x == error);
    if (error == ErrorCode::kFencedInstanceId) ++coverage_.fenced;
    if (error != ErrorCode::kNone) {
      if (r.submitted) {  // the write's error
        RC_ASSERT(error == ErrorCode::kNotCoordinator || error == ErrorCode::kRequestTimedOut);
      } else {  // refused by the protocol's rules
        RC_ASSERT(error == ErrorCode::kUnknownMemberId || error == ErrorCode::kIllegalGeneration ||
                  error == ErrorCode::kRebalanceInProgress ||
                  error == ErrorCode::kFencedInstanceId);
        if (r.generation >= 0) ++coverage_.zombie_commits_refused;
      }
      return;
    }
    // (a) accepted only from a current member at the current generation (or outside the
    // protocol, into an Empty group).
    RC_ASSERT(r.member_ok || r.outside_ok);
    RC_ASSERT(r.submitted);
    for (int32_t p : r.partitions) {
      RC_ASSERT(accepted_[p].value_or(0) < r.value);  // answered in the order written
      accepted_[p] = r.value;
    }
    ++coverage_.commits_accepted;
  }

  void Check() {
    RC_ASSERT(log_.violations.empty());
    RC_ASSERT(log_.stats().records_refused == 0u);
    RC_ASSERT(log_.stats().batches_undecodable == 0u);
    // (d) nothing accepted is lost, nothing refused appears.
    std::vector<TopicPartition> all;
    for (int32_t p = 0; p < kPartitions; ++p) all.push_back({kTopic, p});
    const std::vector<FetchedOffset> fetched = coordinator_.FetchOffsets(0, kGroup, all);
    RC_ASSERT(fetched.size() == all.size());
    for (int32_t p = 0; p < kPartitions; ++p) {
      const std::optional<int64_t> got =
          fetched[p].value.has_value() ? std::optional(fetched[p].value->offset()) : std::nullopt;
      if (got == accepted_[p]) continue;
      RC_ASSERT(got.has_value());
      RC_ASSERT(submitted_[p].contains(*got));
      RC_ASSERT(*got > accepted_[p].value_or(0));
    }
    if (const ClassicGroup* g = coordinator_.group(0, kGroup); g != nullptr) {
      RC_ASSERT(g->generation() >= 0);
      if (!g->members().empty()) RC_ASSERT(g->members().contains(g->leader()));
      if (g->state() == GroupState::kEmpty) RC_ASSERT(g->members().empty());
    }
  }

  // (e) the loaded group is the store's.
  void CheckLoaded() {
    const StoredGroup* stored = log_.store().Find(kGroup);
    const ClassicGroup* g = coordinator_.group(0, kGroup);
    if (stored == nullptr) {
      RC_ASSERT(g == nullptr);
      RC_ASSERT(!synced_generation_max_.has_value());
      return;
    }
    RC_ASSERT(g != nullptr);
    if (!stored->metadata.has_value()) {
      RC_ASSERT(g->state() == GroupState::kEmpty);
      RC_ASSERT(g->members().empty());
      RC_ASSERT(!synced_generation_max_.has_value());
      return;
    }
    const GroupMetadataValue& value = *stored->metadata;
    RC_ASSERT(g->generation() == value.generation());
    if (synced_generation_max_.has_value()) RC_ASSERT(g->generation() >= *synced_generation_max_);
    if (value.members_size() == 0) {
      RC_ASSERT(g->state() == GroupState::kEmpty);
      RC_ASSERT(g->members().empty());
      if (log_.last_assignment_generation.has_value()) {
        RC_ASSERT(g->generation() > *log_.last_assignment_generation);
      }
      return;
    }
    RC_ASSERT(g->state() == GroupState::kStable);
    RC_ASSERT(log_.last_assignment_generation == std::optional(g->generation()));
    const AssignmentMap& committed = log_.assignments.at(g->generation());
    RC_ASSERT(g->members().size() == committed.size());
    for (const auto& [id, member] : g->members()) {
      auto it = committed.find(Owner(id, member.group_instance_id));
      RC_ASSERT(it != committed.end());
      RC_ASSERT(member.assignment == it->second);
    }
    RC_ASSERT(g->members().contains(g->leader()));
    ++coverage_.failovers_stable;
  }

  sim::SimWorld world_;
  MachineLog log_;
  GroupCoordinator coordinator_;
  uint64_t term_ = 1;
  int load_ = 0;
  int incarnations_ = 0;
  std::vector<Client> clients_;
  std::vector<Zombie> zombies_;
  std::vector<Event> events_;  // answers, in the order they arrived
  std::vector<CommitRecord> commits_;
  int64_t next_value_ = 0;
  std::map<int, int32_t> join_generation_max_;                   // by load
  std::map<int32_t, std::set<AssignmentMap>> sent_plans_;        // by generation
  std::map<int32_t, std::map<int32_t, std::string>> delivered_;  // generation -> partition -> id
  std::optional<int32_t> synced_generation_max_;
  std::map<int32_t, std::optional<int64_t>> accepted_;  // partition -> last commit answered NONE
  std::map<int32_t, std::set<int64_t>> submitted_;      // partition -> commits written
  Coverage coverage_;
};

RC_GTEST_PROP(GroupCoordinatorProperty, ClassicProtocolSafetyUnderRandomSchedules, ()) {
  const auto seed = *rc::gen::arbitrary<uint32_t>();
  const auto clients = *rc::gen::element(2, 3, 4);
  const auto static_mask = *rc::gen::element(0u, 0u, 0b0101u, 0b1111u);
  CoordinatorOptions options;
  options.initial_rebalance_delay_ms = *rc::gen::element(100, 100, 3000);
  const auto ops = *rc::gen::resize(60, rc::gen::container<std::vector<Op>>(GenOp()));
  Harness h(seed, clients, static_mask, options);
  for (const Op& op : ops) h.Run(op);
  const Coverage& c = h.coverage();
  RC_CLASSIFY(c.commits_accepted > 0, "a commit accepted");
  RC_CLASSIFY(c.syncs_delivered > 0, "an assignment delivered");
  RC_CLASSIFY(c.failovers_stable > 0, "failover of a Stable group");
  RC_CLASSIFY(c.zombie_commits_refused > 0, "a stale commit refused");
  RC_CLASSIFY(c.generation_max >= 3, "generation 3 or more");
  RC_CLASSIFY(c.fenced > 0, "a static member fenced");
}

// ---- Client strings that are not UTF-8.
//
// Regression (found by these tests while disabled): the records' text fields were proto3
// `string`s, which must hold UTF-8 — protobuf's parser refuses a message whose string field does
// not. The coordinator copies client strings into them unchecked (librdkafka sends group.id,
// client.id and commit metadata as raw bytes, e.g. a Latin-1 "caf\xE9"), so a commit was
// answered NONE and then refused by the store (lost), and a leader's SyncGroup with such a
// member id was answered NONE but forgotten on failover. The fields are `bytes` now
// (wire-compatible): whatever is answered NONE must be readable, and the machine must refuse
// nothing the coordinator wrote.
struct Utf8Fixture {
  Utf8Fixture()
      : log(world.node(1).clock()),
        coordinator(world.node(1).clock(), world.node(1).wall_clock(), world.node(1).random(), log,
                    CoordinatorOptions{.initial_rebalance_delay_ms = 100}) {
    coordinator.Load(0, 1);
  }
  std::vector<ErrorCode> Commit(const std::string& group, const std::string& metadata) {
    CommitRequest r;
    r.member = MemberRef{group, -1, "", std::nullopt};
    r.partitions.push_back({TopicPartition{kTopic, 0}, 42, 1, metadata});
    std::vector<ErrorCode> errors;
    coordinator.CommitOffsets(0, r, [&errors](std::vector<ErrorCode> e) { errors = e; });
    world.RunFor(Duration::Milliseconds(1));
    return errors;
  }
  std::optional<int64_t> Committed(const std::string& group) {
    auto got = coordinator.FetchOffsets(0, group, std::vector<TopicPartition>{{kTopic, 0}});
    if (got.size() != 1 || !got[0].value.has_value()) return std::nullopt;
    return got[0].value->offset();
  }

  sim::SimWorld world{sim::SimWorldOptions{.seed = 3, .nodes = {1}}};
  MachineLog log;
  GroupCoordinator coordinator;
};

TEST(GroupCoordinatorUtf8Test, TheControlAUtf8CommitIsReadable) {
  Utf8Fixture f;
  ASSERT_EQ(f.Commit(kGroup, "fine"), std::vector<ErrorCode>{ErrorCode::kNone});
  EXPECT_EQ(f.Committed(kGroup), 42);
  EXPECT_EQ(f.log.stats().records_refused, 0u);
}

TEST(GroupCoordinatorUtf8Test, ACommitWithNonUtf8MetadataAnsweredNoneIsReadable) {
  Utf8Fixture f;
  const std::vector<ErrorCode> errors = f.Commit(kGroup, "caf\xE9");  // Latin-1 "café"
  ASSERT_EQ(errors.size(), 1u);
  if (errors[0] == ErrorCode::kNone) {
    EXPECT_EQ(f.Committed(kGroup), 42) << "answered NONE, then lost";
  }
  EXPECT_EQ(f.log.stats().records_refused, 0u) << "the coordinator wrote what its store refuses";
}

TEST(GroupCoordinatorUtf8Test, ACommitToANonUtf8GroupIdAnsweredNoneIsReadable) {
  Utf8Fixture f;
  const std::vector<ErrorCode> errors = f.Commit("caf\xE9", "m");
  ASSERT_EQ(errors.size(), 1u);
  if (errors[0] == ErrorCode::kNone) {
    EXPECT_EQ(f.Committed("caf\xE9"), 42) << "answered NONE, then lost";
  }
  EXPECT_EQ(f.log.stats().records_refused, 0u);
}

TEST(GroupCoordinatorUtf8Test, ASyncedGenerationOfANonUtf8ClientIdSurvivesAFailover) {
  Utf8Fixture f;
  JoinRequest r;
  r.group_id = kGroup;
  r.session_timeout_ms = kSessionTimeoutMs;
  r.rebalance_timeout_ms = kRebalanceTimeoutMs;
  r.protocol_type = "consumer";
  r.protocols = {{"range", "meta"}};
  r.client_id = "caf\xE9";  // the member id is "caf\xE9-<uuid>"
  std::optional<JoinOutcome> joined;
  f.coordinator.JoinGroup(0, r, [&](JoinOutcome o) { joined = std::move(o); });
  f.world.RunFor(Duration::Milliseconds(300));  // the initial delay
  ASSERT_TRUE(joined.has_value());
  ASSERT_EQ(joined->error, ErrorCode::kNone);
  const std::string id = joined->member_id;
  std::optional<SyncOutcome> synced;
  f.coordinator.SyncGroup(
      0, SyncRequest{kGroup, 1, id, std::nullopt, "consumer", std::nullopt, {{id, "0,1,2"}}},
      [&](SyncOutcome o) { synced = std::move(o); });
  f.world.RunFor(Duration::Milliseconds(1));
  ASSERT_TRUE(synced.has_value());
  EXPECT_EQ(f.log.stats().records_refused, 0u);
  if (synced->error != ErrorCode::kNone) return;  // refused up front: fine too
  f.coordinator.Unload(0);
  f.coordinator.Load(0, 2);
  const ClassicGroup* g = f.coordinator.group(0, kGroup);
  ASSERT_NE(g, nullptr) << "generation 1 was answered NONE, and is gone after a failover";
  EXPECT_EQ(g->generation(), 1);
  EXPECT_EQ(f.coordinator.Heartbeat(0, {kGroup, 1, id, std::nullopt}), ErrorCode::kNone);
}

}  // namespace
}  // namespace eddy::group
