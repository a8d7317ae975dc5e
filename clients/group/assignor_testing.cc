#include "clients/group/assignor_testing.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "rapidcheck.h"

namespace eddy::clients::group::testing {
namespace {

const std::vector<std::string> kTopicPool = {"t0", "t1", "t2", "t3", "t4"};

bool Chance(int percent) { return *rc::gen::inRange(0, 100) < percent; }

std::string MemberId(std::set<std::string>& taken) {
  // Short ids over a tiny alphabet: sorting ties and prefixes ("a" < "ab" < "b") get exercised.
  while (true) {
    std::string id = *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(1, 4),
                                                      rc::gen::element('a', 'b', 'c', 'd'));
    if (taken.insert(id).second) return id;
  }
}

std::vector<std::string> SomeTopics() {
  std::vector<std::string> topics;
  for (const std::string& topic : kTopicPool) {
    if (Chance(50)) topics.push_back(topic);
  }
  if (Chance(10)) topics.push_back("gone");  // subscribed, not in the metadata
  return topics;
}

void OwnConsistently(GroupCase& group) {
  const int32_t generation = *rc::gen::inRange(0, 5);
  std::map<std::string, std::vector<MemberSubscription*>> subscribers;
  for (MemberSubscription& member : group.members) {
    member.subscription.generation_id = generation;
    for (const std::string& topic : member.subscription.topics) {
      subscribers[topic].push_back(&member);
    }
  }
  for (const TopicPartition& tp : AssignablePartitions(group)) {
    if (!Chance(70)) continue;
    const std::vector<MemberSubscription*>& candidates = subscribers.at(tp.topic);
    const size_t pick = *rc::gen::inRange<size_t>(0, candidates.size());
    candidates[pick]->subscription.owned_partitions.push_back(tp);
  }
}

void OwnArbitrarily(MemberSubscription& member) {
  Subscription& subscription = member.subscription;
  const size_t count = *rc::gen::inRange<size_t>(0, 9);
  for (size_t i = 0; i < count; ++i) {
    const std::string topic = Chance(10) ? "x" : *rc::gen::elementOf(kTopicPool);
    subscription.owned_partitions.push_back(Tp(topic, *rc::gen::inRange(-1, 9)));
  }
  subscription.generation_id = *rc::gen::inRange(-2, 4);
  if (subscription.generation_id < 0 && Chance(50)) {
    // A v0/v1-style member: the generation travels in the cooperative user data (or not).
    const int32_t generation = *rc::gen::inRange(-1, 4);
    std::string bytes = {0, 0, 0, static_cast<char>(generation & 0xff)};
    if (generation < 0) bytes = "\xff\xff\xff\xff";
    subscription.user_data = Chance(20) ? bytes.substr(0, 2) : bytes;
  }
}

}  // namespace

TopicPartition Tp(std::string topic, int32_t partition) {
  return TopicPartition{std::move(topic), partition};
}

MemberSubscription Member(std::string member_id, std::vector<std::string> topics,
                          std::vector<TopicPartition> owned, int32_t generation_id) {
  MemberSubscription member;
  member.member_id = std::move(member_id);
  member.subscription.topics = std::move(topics);
  member.subscription.owned_partitions = std::move(owned);
  member.subscription.generation_id = generation_id;
  return member;
}

MemberSubscription StaticMember(std::string member_id, std::string group_instance_id,
                                std::vector<std::string> topics) {
  MemberSubscription member = Member(std::move(member_id), std::move(topics));
  member.group_instance_id = std::move(group_instance_id);
  return member;
}

std::string Show(const GroupAssignment& assignment) {
  std::ostringstream out;
  out << "{";
  const char* separator = "";
  for (const auto& [member_id, partitions] : assignment) {
    out << separator << member_id << ": [";
    for (size_t i = 0; i < partitions.size(); ++i) {
      out << (i == 0 ? "" : " ") << partitions[i].topic << "-" << partitions[i].partition;
    }
    out << "]";
    separator = ", ";
  }
  out << "}";
  return out.str();
}

GroupCase GenGroup(const GroupShape& shape) {
  GroupCase group;
  for (const std::string& topic : kTopicPool) {
    if (Chance(85)) group.partitions_per_topic[topic] = *rc::gen::inRange(0, 8);
  }
  if (Chance(30)) group.partitions_per_topic["unsubscribed"] = *rc::gen::inRange(0, 4);
  const std::vector<std::string> shared = SomeTopics();
  const size_t member_count = *rc::gen::inRange<size_t>(0, 8);
  std::set<std::string> ids;
  for (size_t i = 0; i < member_count; ++i) {
    MemberSubscription member =
        Member(MemberId(ids), shape.equal_subscriptions ? shared : SomeTopics());
    if (Chance(25)) member.group_instance_id = "instance-" + std::to_string(i);
    if (shape.ownership == GroupShape::Ownership::kArbitrary) OwnArbitrarily(member);
    group.members.push_back(std::move(member));
  }
  if (shape.ownership == GroupShape::Ownership::kConsistent) OwnConsistently(group);
  return group;
}

std::vector<MemberSubscription> Shuffled(const std::vector<MemberSubscription>& members) {
  std::vector<MemberSubscription> shuffled = members;
  for (size_t i = shuffled.size(); i > 1; --i) {
    std::swap(shuffled[i - 1], shuffled[*rc::gen::inRange<size_t>(0, i)]);
  }
  return shuffled;
}

std::vector<TopicPartition> AssignablePartitions(const GroupCase& group) {
  std::set<std::string> subscribed;
  for (const MemberSubscription& member : group.members) {
    subscribed.insert(member.subscription.topics.begin(), member.subscription.topics.end());
  }
  std::vector<TopicPartition> partitions;
  for (const auto& [topic, count] : group.partitions_per_topic) {
    if (!subscribed.contains(topic)) continue;
    for (int32_t p = 0; p < count; ++p) partitions.push_back(Tp(topic, p));
  }
  return partitions;
}

std::string ContractViolation(const GroupCase& group, const GroupAssignment& assignment) {
  std::ostringstream problem;
  if (assignment.size() != group.members.size()) problem << "wrong number of entries; ";
  const std::vector<TopicPartition> assignable = AssignablePartitions(group);
  const std::set<TopicPartition> exists(assignable.begin(), assignable.end());
  std::set<TopicPartition> given;
  for (const MemberSubscription& member : group.members) {
    auto it = assignment.find(member.member_id);
    if (it == assignment.end()) {
      problem << "no entry for " << member.member_id << "; ";
      continue;
    }
    const std::vector<TopicPartition>& partitions = it->second;
    if (!std::is_sorted(partitions.begin(), partitions.end())) problem << "unsorted; ";
    const std::vector<std::string>& topics = member.subscription.topics;
    for (const TopicPartition& tp : partitions) {
      const std::string name = tp.topic + "-" + std::to_string(tp.partition);
      if (!exists.contains(tp)) problem << name << " does not exist; ";
      if (std::find(topics.begin(), topics.end(), tp.topic) == topics.end()) {
        problem << name << " given to non-subscriber " << member.member_id << "; ";
      }
      if (!given.insert(tp).second) problem << name << " given twice; ";
    }
  }
  return problem.str();
}

std::vector<TopicPartition> Unassigned(const GroupCase& group, const GroupAssignment& assignment) {
  std::set<TopicPartition> given;
  for (const auto& [member_id, partitions] : assignment) {
    given.insert(partitions.begin(), partitions.end());
  }
  std::vector<TopicPartition> unassigned;
  for (const TopicPartition& tp : AssignablePartitions(group)) {
    if (!given.contains(tp)) unassigned.push_back(tp);
  }
  return unassigned;
}

std::map<std::string, std::vector<TopicPartition>> OwnedPartitions(const GroupCase& group) {
  std::map<std::string, std::vector<TopicPartition>> owned;
  for (const MemberSubscription& member : group.members) {
    owned[member.member_id] = member.subscription.owned_partitions;
  }
  return owned;
}

std::string JavaBalanceViolation(const GroupAssignment& assignment) {
  for (auto a = assignment.begin(); a != assignment.end(); ++a) {
    for (auto b = std::next(a); b != assignment.end(); ++b) {
      const auto& [more, fewer] =
          a->second.size() > b->second.size() ? std::tie(*a, *b) : std::tie(*b, *a);
      if (more.second.size() <= fewer.second.size() + 1) continue;
      std::set<std::string> fewer_topics;
      for (const TopicPartition& tp : fewer.second) fewer_topics.insert(tp.topic);
      for (const TopicPartition& tp : more.second) {
        if (fewer_topics.contains(tp.topic)) {
          return more.first + " holds " + std::to_string(more.second.size()) + ", " + fewer.first +
                 " " + std::to_string(fewer.second.size()) + ", both of " + tp.topic;
        }
      }
    }
  }
  return "";
}

size_t CountSpread(const GroupAssignment& assignment) {
  if (assignment.empty()) return 0;
  size_t smallest = SIZE_MAX;
  size_t largest = 0;
  for (const auto& [member_id, partitions] : assignment) {
    smallest = std::min(smallest, partitions.size());
    largest = std::max(largest, partitions.size());
  }
  return largest - smallest;
}

}  // namespace eddy::clients::group::testing

namespace eddy::clients::group::testing {

bool RevokesSomething(const GroupCase& group, const GroupAssignment& assignment) {
  for (const MemberSubscription& member : group.members) {
    const std::vector<TopicPartition>& given = assignment.at(member.member_id);
    for (const TopicPartition& tp : member.subscription.owned_partitions) {
      if (std::find(given.begin(), given.end(), tp) == given.end()) return true;
    }
  }
  return false;
}

Settled SettleCooperatively(const Assignor& assignor, GroupCase group, GroupAssignment assignment,
                            int32_t generation_id, int rebalances_max) {
  Settled settled;
  while (RevokesSomething(group, assignment) && settled.rebalances < rebalances_max) {
    for (MemberSubscription& member : group.members) {
      member.subscription.owned_partitions = assignment.at(member.member_id);
      member.subscription.generation_id = generation_id;
    }
    absl::StatusOr<GroupAssignment> next =
        assignor.Assign(group.partitions_per_topic, group.members);
    if (!next.ok()) break;
    assignment = *std::move(next);
    ++settled.rebalances;
  }
  settled.assignment = std::move(assignment);
  settled.group = std::move(group);
  return settled;
}

}  // namespace eddy::clients::group::testing
