// Java's AbstractStickyAssignor.GeneralAssignmentBuilder (without its rack-aware steps, which
// need replica racks this interface does not carry), for groups whose members subscribe to
// different topics:
//   1. every member keeps the owned partitions of topics it still subscribes to;
//   2. each unassigned partition, in the order of "sortedAllPartitions" (topics with fewer
//      potential members first, then by name; partitions ascending), goes to the least loaded
//      member (fewest partitions, then lowest id) subscribed to its topic;
//   3. partitions of topics with two or more potential members move, one at a time, from a
//      member holding two more than another potential member to the least loaded one (or back
//      to its owner of an older generation), until the assignment is balanced: no member could
//      take a partition from one holding two more. PartitionMovements keeps the moves from
//      forming cycles between two members; a rebalance that is no more balanced (by the sum of
//      pairwise size differences) than keeping the owned partitions is undone.
#include <algorithm>
#include <compare>

#include "clients/group/java_hash.h"
#include "clients/group/sticky_group.h"
#include "core/base/check.h"

namespace eddy::clients::group::internal {
namespace {

// A named bound on step 3 (Java has none): the moves allowed per partition to balance. Java's
// loop ends by itself in practice; the bound turns a hypothetical endless loop into a valid,
// possibly less balanced, assignment.
constexpr int64_t kMovesPerPartitionMax = 32;

// A java.util.HashSet<TopicPartition> as far as getTheActualPartitionToBeMoved looks at it: the
// element its iterator returns first (java_hash.h).
class JavaPartitionSet {
 public:
  void Insert(const TopicPartition& tp) {
    EDDY_CHECK(Find(tp) == entries_.end());
    entries_.push_back(Entry{tp, next_insertion_++});
    size_max_ = std::max(size_max_, entries_.size());
  }
  void Erase(const TopicPartition& tp) {
    auto it = Find(tp);
    EDDY_CHECK(it != entries_.end());
    entries_.erase(it);
  }
  bool empty() const { return entries_.empty(); }
  // HashSet.iterator().next(): the lowest bucket, then the earliest inserted.
  const TopicPartition& First() const {
    EDDY_CHECK(!entries_.empty());
    const size_t capacity = JavaHashCapacity(size_max_);
    auto key = [capacity](const Entry& entry) {
      return std::make_pair(JavaBucket(JavaTopicPartitionHash(entry.tp), capacity),
                            entry.insertion);
    };
    return std::min_element(entries_.begin(), entries_.end(),
                            [&key](const Entry& a, const Entry& b) { return key(a) < key(b); })
        ->tp;
  }

 private:
  struct Entry {
    TopicPartition tp;
    uint64_t insertion;
  };
  std::vector<Entry>::const_iterator Find(const TopicPartition& tp) const {
    return std::find_if(entries_.begin(), entries_.end(),
                        [&tp](const Entry& entry) { return entry.tp == tp; });
  }
  std::vector<Entry> entries_;
  size_t size_max_ = 0;  // the table never shrinks
  uint64_t next_insertion_ = 0;
};

struct ConsumerPair {
  std::string src;
  std::string dst;
  friend auto operator<=>(const ConsumerPair&, const ConsumerPair&) = default;
};

// Java's PartitionMovements: for each partition moved so far, the member it left first (src)
// and the member that has it now (dst), indexed by topic and pair.
class PartitionMovements {
 public:
  void Move(const TopicPartition& tp, const std::string& old_owner, const std::string& new_owner) {
    if (!pair_of_.contains(tp)) {
      Add(tp, ConsumerPair{old_owner, new_owner});
      return;
    }
    const ConsumerPair existing = Remove(tp);
    EDDY_CHECK_EQ(existing.dst, old_owner);
    // Moving back to where it came from leaves no record.
    if (existing.src != new_owner) Add(tp, ConsumerPair{existing.src, new_owner});
  }

  // Java's getTheActualPartitionToBeMoved: to move `tp` from `old_owner` to `new_owner`, prefer
  // a partition of the same topic that earlier moved the opposite way (undoing that move): the
  // first that Java's HashSet of such partitions iterates.
  TopicPartition ActualPartitionToMove(const TopicPartition& tp, std::string old_owner,
                                       const std::string& new_owner) const {
    auto topic = by_topic_.find(tp.topic);
    if (topic == by_topic_.end()) return tp;
    if (auto moved = pair_of_.find(tp); moved != pair_of_.end()) {
      EDDY_CHECK_EQ(moved->second.dst, old_owner);
      old_owner = moved->second.src;
    }
    auto reverse = topic->second.find(ConsumerPair{new_owner, old_owner});
    if (reverse == topic->second.end()) return tp;
    return reverse->second.First();
  }

 private:
  ConsumerPair Remove(const TopicPartition& tp) {
    auto it = pair_of_.find(tp);
    EDDY_CHECK(it != pair_of_.end());
    const ConsumerPair pair = it->second;
    pair_of_.erase(it);
    auto& of_topic = by_topic_.at(tp.topic);
    JavaPartitionSet& partitions = of_topic.at(pair);
    partitions.Erase(tp);
    if (partitions.empty()) of_topic.erase(pair);
    if (of_topic.empty()) by_topic_.erase(tp.topic);
    return pair;
  }

  void Add(const TopicPartition& tp, ConsumerPair pair) {
    by_topic_[tp.topic][pair].Insert(tp);
    EDDY_CHECK(pair_of_.emplace(tp, std::move(pair)).second);
  }

  std::map<std::string, std::map<ConsumerPair, JavaPartitionSet>> by_topic_;
  std::map<TopicPartition, ConsumerPair> pair_of_;
};

struct PreviousOwner {
  std::string member_id;
  int32_t generation = kNoGeneration;
};

using MemberPartitions = std::map<std::string, std::set<TopicPartition>>;

// Java's getBalanceScore: the sum of |a - b| over all pairs of members' partition counts.
int64_t BalanceScore(const MemberPartitions& assignment) {
  std::vector<int64_t> sizes;
  for (const auto& [member_id, partitions] : assignment) {
    sizes.push_back(static_cast<int64_t>(partitions.size()));
  }
  std::sort(sizes.begin(), sizes.end());
  int64_t score = 0;
  const auto n = static_cast<int64_t>(sizes.size());
  for (int64_t k = 0; k < n; ++k) score += sizes[k] * (2 * k - n + 1);
  EDDY_CHECK_GE(score, 0);
  return score;
}

class GeneralBuilder {
 public:
  explicit GeneralBuilder(const StickyGroup& group);
  StickyResult Build();

 private:
  void PrepopulatePrevious();
  void UpdatePrevious(const std::vector<TopicPartition>& claims, const std::string& member_id,
                      int32_t generation);
  std::vector<TopicPartition> KeepOwnedPartitions();
  std::vector<TopicPartition> Unassigned(const std::vector<TopicPartition>& assigned) const;
  void Balance(std::vector<TopicPartition> unassigned);
  void AssignToLeastLoaded(const TopicPartition& tp);
  void RemoveFixedPartitions(std::vector<TopicPartition>& unassigned);
  MemberPartitions SetAsideFixedMembers();
  bool PerformReassignments(const std::vector<TopicPartition>& partitions);
  bool ReassignIfUnbalanced(const TopicPartition& tp);
  bool IsBalanced() const;
  bool CanTakeMore(const std::string& member_id, size_t size) const;
  bool CanParticipate(const std::string& member_id) const;
  int64_t MaxAssignmentSize(const std::string& member_id) const;
  bool IsEligible(const std::string& member_id, const std::string& topic) const;
  void Reassign(const TopicPartition& tp, const std::string& new_owner);
  void ReassignToLeastLoaded(const TopicPartition& tp);
  void ProcessMovement(const TopicPartition& tp, const std::string& new_owner);

  size_t SizeOf(const std::string& member_id) const { return current_.at(member_id).size(); }
  // sortedCurrentSubscriptions is ordered by size: take a member out BEFORE its size changes
  // and put it back AFTER.
  void Unrank(const std::string& member_id) {
    EDDY_CHECK_EQ(ranked_.erase({SizeOf(member_id), member_id}), 1u);
  }
  void Rank(const std::string& member_id) {
    EDDY_CHECK(ranked_.insert({SizeOf(member_id), member_id}).second);
  }

  const StickyGroup& group_;
  const PartitionCounts& partitions_per_topic_;
  std::map<std::string, std::vector<std::string>> members_of_topic_;  // topic2AllPotentialConsumers
  std::map<std::string, std::set<std::string>> topics_of_member_;     // consumer2AllPotentialTopics
  MemberPartitions current_;                                          // currentAssignment
  std::map<TopicPartition, std::string> owner_;                       // currentPartitionConsumer
  std::vector<TopicPartition> sorted_all_;                            // sortedAllPartitions
  std::set<std::pair<size_t, std::string>> ranked_;                   // sortedCurrentSubscriptions
  std::map<TopicPartition, PreviousOwner> previous_;                  // prevAssignment
  PartitionMovements movements_;
  bool revocation_required_ = false;
  int64_t moves_left_;
};

GeneralBuilder::GeneralBuilder(const StickyGroup& group)
    : group_(group),
      partitions_per_topic_(group.input->partitions_per_topic),
      moves_left_(kMovesPerPartitionMax * (group.input->partition_count + 1)) {
  for (const auto& [topic, count] : partitions_per_topic_) members_of_topic_[topic];
  for (const auto& [member_id, topics] : group.input->topics_of) {
    std::set<std::string>& mine = topics_of_member_[member_id];
    for (const std::string& topic : topics) {
      auto it = members_of_topic_.find(topic);
      if (it == members_of_topic_.end()) continue;
      mine.insert(topic);
      it->second.push_back(member_id);
    }
  }
  for (const auto& [member_id, owned] : group.owned_of) {
    current_[member_id].insert(owned.begin(), owned.end());
    for (const TopicPartition& tp : owned) EDDY_CHECK(owner_.emplace(tp, member_id).second);
  }
  std::vector<std::string> topics;
  for (const auto& [topic, members] : members_of_topic_) topics.push_back(topic);
  // Java's TopicComparator: fewer potential members first, then by name.
  std::stable_sort(topics.begin(), topics.end(),
                   [this](const std::string& a, const std::string& b) {
                     return members_of_topic_.at(a).size() < members_of_topic_.at(b).size();
                   });
  for (const std::string& topic : topics) {
    for (int32_t p = 0; p < partitions_per_topic_.at(topic); ++p) sorted_all_.push_back({topic, p});
  }
  EDDY_CHECK_EQ(static_cast<int64_t>(sorted_all_.size()), group.input->partition_count);
}

StickyResult GeneralBuilder::Build() {
  PrepopulatePrevious();
  const std::vector<TopicPartition> assigned = KeepOwnedPartitions();
  std::vector<TopicPartition> unassigned = Unassigned(assigned);
  for (const auto& [member_id, partitions] : current_) Rank(member_id);
  Balance(std::move(unassigned));

  StickyResult result;
  for (const auto& [member_id, partitions] : current_) {
    result.assignment[member_id].assign(partitions.begin(), partitions.end());
  }
  EDDY_CHECK_EQ(result.assignment.size(), group_.owned_of.size());
  return result;
}

// Java's prepopulateCurrentAssignments: claims of members behind the highest generation, the
// most recent claim per partition, so step 3 can hand a partition back to its last owner.
void GeneralBuilder::PrepopulatePrevious() {
  for (const std::string& member_id : group_.java_order) {
    const std::vector<TopicPartition>& claims = group_.claimed_of.at(member_id);
    const std::optional<int32_t> generation = group_.generation_of.at(member_id);
    if (generation.has_value() && *generation < group_.max_generation) {
      UpdatePrevious(claims, member_id, *generation);
    } else if (!generation.has_value() && group_.max_generation > kNoGeneration) {
      UpdatePrevious(claims, member_id, kNoGeneration);
    }
  }
}

void GeneralBuilder::UpdatePrevious(const std::vector<TopicPartition>& claims,
                                    const std::string& member_id, int32_t generation) {
  for (const TopicPartition& tp : claims) {
    auto [it, inserted] = previous_.emplace(tp, PreviousOwner{member_id, generation});
    if (!inserted && generation > it->second.generation) {
      it->second = PreviousOwner{member_id, generation};
    }
  }
}

// Java's assignOwnedPartitions: owned partitions of topics the member no longer subscribes to
// are taken away (and then nothing may be balanced by moving new partitions only).
std::vector<TopicPartition> GeneralBuilder::KeepOwnedPartitions() {
  std::vector<TopicPartition> assigned;
  for (auto& [member_id, partitions] : current_) {
    for (auto it = partitions.begin(); it != partitions.end();) {
      EDDY_CHECK(members_of_topic_.contains(it->topic));  // claims are of existing partitions
      if (topics_of_member_.at(member_id).contains(it->topic)) {
        assigned.push_back(*it++);
      } else {
        revocation_required_ = true;
        owner_.erase(*it);
        it = partitions.erase(it);
      }
    }
  }
  return assigned;
}

std::vector<TopicPartition> GeneralBuilder::Unassigned(
    const std::vector<TopicPartition>& assigned) const {
  const std::set<TopicPartition> taken(assigned.begin(), assigned.end());
  std::vector<TopicPartition> unassigned;
  for (const TopicPartition& tp : sorted_all_) {
    if (!taken.contains(tp)) unassigned.push_back(tp);
  }
  EDDY_CHECK_EQ(unassigned.size() + taken.size(), sorted_all_.size());
  return unassigned;
}

void GeneralBuilder::Balance(std::vector<TopicPartition> unassigned) {
  const bool initializing = current_.at(ranked_.rbegin()->second).empty();
  for (const TopicPartition& tp : unassigned) AssignToLeastLoaded(tp);
  EDDY_CHECK_EQ(static_cast<int64_t>(owner_.size()), group_.input->partition_count);

  RemoveFixedPartitions(unassigned);
  MemberPartitions fixed = SetAsideFixedMembers();
  const MemberPartitions pre_balance = current_;
  const std::map<TopicPartition, std::string> pre_balance_owner = owner_;
  // With nothing to revoke, first try to balance by moving only the new partitions.
  if (!revocation_required_) PerformReassignments(unassigned);
  const bool reassigned = PerformReassignments(sorted_all_);
  if (!initializing && reassigned && BalanceScore(current_) >= BalanceScore(pre_balance)) {
    current_ = pre_balance;
    owner_ = pre_balance_owner;
  }
  for (auto& [member_id, partitions] : fixed) current_[member_id] = std::move(partitions);
  ranked_.clear();
  for (const auto& [member_id, partitions] : current_) Rank(member_id);
}

void GeneralBuilder::AssignToLeastLoaded(const TopicPartition& tp) {
  for (const auto& [size, member_id] : ranked_) {
    if (!topics_of_member_.at(member_id).contains(tp.topic)) continue;
    const std::string chosen = member_id;  // ranked_ changes below
    Unrank(chosen);
    EDDY_CHECK(current_.at(chosen).insert(tp).second);
    owner_[tp] = chosen;
    Rank(chosen);
    return;
  }
  EDDY_UNREACHABLE();  // every topic left has a subscriber (MakeGroupInput)
}

// Partitions of topics only one member can have never move.
void GeneralBuilder::RemoveFixedPartitions(std::vector<TopicPartition>& unassigned) {
  auto fixed = [this](const TopicPartition& tp) {
    return members_of_topic_.at(tp.topic).size() < 2;
  };
  std::erase_if(sorted_all_, fixed);
  std::erase_if(unassigned, fixed);
}

// Members whose assignment cannot change leave the balancing and come back after it.
MemberPartitions GeneralBuilder::SetAsideFixedMembers() {
  MemberPartitions fixed;
  for (const auto& [member_id, topics] : topics_of_member_) {
    if (CanParticipate(member_id)) continue;
    Unrank(member_id);
    fixed[member_id] = std::move(current_.at(member_id));
    current_.erase(member_id);
  }
  return fixed;
}

int64_t GeneralBuilder::MaxAssignmentSize(const std::string& member_id) const {
  int64_t size = 0;
  for (const std::string& topic : topics_of_member_.at(member_id)) {
    size += partitions_per_topic_.at(topic);
  }
  return size;
}

bool GeneralBuilder::CanParticipate(const std::string& member_id) const {
  const auto size = static_cast<int64_t>(SizeOf(member_id));
  const int64_t size_max = MaxAssignmentSize(member_id);
  EDDY_CHECK_LE(size, size_max);
  if (size < size_max) return true;
  for (const TopicPartition& tp : current_.at(member_id)) {
    if (members_of_topic_.at(tp.topic).size() >= 2) return true;
  }
  return false;
}

bool GeneralBuilder::PerformReassignments(const std::vector<TopicPartition>& partitions) {
  bool reassigned = false;
  bool modified;
  do {
    modified = false;
    for (const TopicPartition& tp : partitions) {
      if (moves_left_ == 0 || IsBalanced()) break;
      if (ReassignIfUnbalanced(tp)) {
        --moves_left_;
        reassigned = true;
        modified = true;
      }
    }
  } while (modified);
  return reassigned;
}

bool GeneralBuilder::IsEligible(const std::string& member_id, const std::string& topic) const {
  return current_.contains(member_id) && topics_of_member_.at(member_id).contains(topic);
}

// One step of Java's performReassignments for `tp`.
bool GeneralBuilder::ReassignIfUnbalanced(const TopicPartition& tp) {
  EDDY_CHECK_GE(members_of_topic_.at(tp.topic).size(), 2u);
  const std::string owner = owner_.at(tp);
  // Back to its owner of an older generation when that evens things out. Java does not check
  // that this member still subscribes to the topic (nor that it is not set aside); this does.
  auto previous = previous_.find(tp);
  if (previous != previous_.end() && IsEligible(previous->second.member_id, tp.topic) &&
      SizeOf(owner) > SizeOf(previous->second.member_id) + 1) {
    Reassign(tp, previous->second.member_id);
    return true;
  }
  for (const std::string& other : members_of_topic_.at(tp.topic)) {
    EDDY_CHECK(current_.contains(other));  // members of shared topics are never set aside
    if (SizeOf(owner) > SizeOf(other) + 1) {
      ReassignToLeastLoaded(tp);
      return true;
    }
  }
  return false;
}

// Java's isBalanced: sizes differ by at most one, or no member could take a partition it may
// have from a member holding two more.
bool GeneralBuilder::IsBalanced() const {
  EDDY_CHECK(!ranked_.empty());
  if (ranked_.begin()->first + 1 >= ranked_.rbegin()->first) return true;
  for (const auto& [size, member_id] : ranked_) {
    if (CanTakeMore(member_id, size)) return false;
  }
  return true;
}

bool GeneralBuilder::CanTakeMore(const std::string& member_id, size_t size) const {
  if (static_cast<int64_t>(size) == MaxAssignmentSize(member_id)) return false;
  const std::set<TopicPartition>& mine = current_.at(member_id);
  for (const std::string& topic : topics_of_member_.at(member_id)) {
    for (int32_t p = 0; p < partitions_per_topic_.at(topic); ++p) {
      const TopicPartition tp{topic, p};
      if (mine.contains(tp)) continue;
      const std::string& other = owner_.at(tp);
      EDDY_CHECK(current_.contains(other));  // shared topics' owners are never set aside
      if (size + 1 < SizeOf(other)) return true;
    }
  }
  return false;
}

void GeneralBuilder::ReassignToLeastLoaded(const TopicPartition& tp) {
  for (const auto& [size, member_id] : ranked_) {
    if (topics_of_member_.at(member_id).contains(tp.topic)) {
      const std::string chosen = member_id;  // ranked_ changes below
      Reassign(tp, chosen);
      return;
    }
  }
  EDDY_UNREACHABLE();  // the owner itself subscribes
}

void GeneralBuilder::Reassign(const TopicPartition& tp, const std::string& new_owner) {
  const TopicPartition to_move = movements_.ActualPartitionToMove(tp, owner_.at(tp), new_owner);
  EDDY_CHECK_EQ(to_move.topic, tp.topic);
  ProcessMovement(to_move, new_owner);
}

void GeneralBuilder::ProcessMovement(const TopicPartition& tp, const std::string& new_owner) {
  const std::string old_owner = owner_.at(tp);
  EDDY_CHECK_NE(old_owner, new_owner);
  EDDY_CHECK(topics_of_member_.at(new_owner).contains(tp.topic));
  Unrank(old_owner);
  Unrank(new_owner);
  movements_.Move(tp, old_owner, new_owner);
  EDDY_CHECK_EQ(current_.at(old_owner).erase(tp), 1u);
  EDDY_CHECK(current_.at(new_owner).insert(tp).second);
  owner_[tp] = new_owner;
  Rank(new_owner);
  Rank(old_owner);
}

}  // namespace

StickyResult AssignGeneral(const StickyGroup& group) {
  EDDY_CHECK(!group.owned_of.empty());
  return GeneralBuilder(group).Build();
}

}  // namespace eddy::clients::group::internal
