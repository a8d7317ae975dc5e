#include "clients/group/sticky_group.h"

#include <algorithm>

#include "clients/group/java_hash.h"
#include "core/base/check.h"

namespace eddy::clients::group::internal {
namespace {

int32_t ReadBigEndianInt32(const std::string& bytes) {
  EDDY_CHECK_GE(bytes.size(), 4u);
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return static_cast<int32_t>(value);
}

std::vector<TopicPartition> Claims(const GroupInput& input, const Subscription& subscription) {
  std::vector<TopicPartition> claims;
  std::set<TopicPartition> seen;
  for (const TopicPartition& tp : subscription.owned_partitions) {
    if (input.Exists(tp) && seen.insert(tp).second) claims.push_back(tp);
  }
  return claims;
}

void Erase(std::vector<TopicPartition>& partitions, const TopicPartition& tp) {
  auto it = std::find(partitions.begin(), partitions.end(), tp);
  if (it != partitions.end()) partitions.erase(it);
}

// Java's allSubscriptionsEqual, claim by claim, in Java's member order: the first claimant owns a
// partition until a member of a higher generation claims it; a second claimant of the same
// generation takes it from both. As in Java, the claimant's generation is its MemberData one
// (which may come from the user data) while the current owner's is the generation_id field of
// its Subscription (-1 for v0/v1 subscriptions): the two agree for v2+ subscriptions.
void ResolveClaims(StickyGroup& group) {
  std::map<TopicPartition, std::string> owner_of;
  for (const std::string& member_id : group.java_order) {
    const std::vector<TopicPartition>& claims = group.claimed_of.at(member_id);
    const int32_t generation = group.generation_of.at(member_id).value_or(kNoGeneration);
    std::vector<TopicPartition>& owned = group.owned_of[member_id];
    for (const TopicPartition& tp : claims) {
      auto [it, first] = owner_of.emplace(tp, member_id);
      if (first) {
        owned.push_back(tp);
        continue;
      }
      const std::string other = it->second;
      EDDY_CHECK_NE(other, member_id);  // Claims() removed duplicates
      const int32_t other_generation =
          std::max(group.input->member_of.at(other)->subscription.generation_id, kNoGeneration);
      if (generation == other_generation) {
        group.claimed_by_many.insert(tp);
        Erase(group.owned_of[other], tp);
        it->second = member_id;
      } else if (generation > other_generation) {
        owned.push_back(tp);
        Erase(group.owned_of[other], tp);
        it->second = member_id;
      }
    }
  }
}

}  // namespace

std::optional<int32_t> CooperativeGeneration(const Subscription& subscription) {
  if (subscription.generation_id >= 0) return subscription.generation_id;
  if (!subscription.user_data.has_value()) return std::nullopt;
  // CooperativeStickyAssignor's user data v0: one INT32 "generation"; unreadable -> -1.
  if (subscription.user_data->size() < 4) return kNoGeneration;
  return ReadBigEndianInt32(*subscription.user_data);
}

StickyGroup MakeStickyGroup(const GroupInput& input) {
  StickyGroup group;
  group.input = &input;
  const std::set<std::string>* first_topics = nullptr;
  for (const auto& [member_id, member] : input.member_of) {
    group.java_order.push_back(member_id);
    const std::optional<int32_t> generation = CooperativeGeneration(member->subscription);
    group.generation_of[member_id] = generation;
    group.max_generation = std::max(group.max_generation, generation.value_or(kNoGeneration));
    group.claimed_of[member_id] = Claims(input, member->subscription);
    group.owned_of[member_id];
    const std::set<std::string>& topics = input.topics_of.at(member_id);
    if (first_topics == nullptr) first_topics = &topics;
    if (topics != *first_topics) group.subscriptions_equal = false;
  }
  group.java_order = JavaHashMapOrder(std::move(group.java_order));
  ResolveClaims(group);
  EDDY_CHECK_EQ(group.owned_of.size(), input.member_of.size());
  EDDY_CHECK_EQ(group.claimed_of.size(), input.member_of.size());
  return group;
}

}  // namespace eddy::clients::group::internal
