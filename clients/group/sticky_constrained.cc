// Java's AbstractStickyAssignor.ConstrainedAssignmentBuilder (without its rack-aware step,
// which needs replica racks this interface does not carry):
//   1. every member keeps owned partitions, sorted by (partition, topic), up to a quota: all of
//      them if under minQuota; maxQuota while fewer than `expected_over` members hold more than
//      minQuota; else minQuota. What it gives up "may be revoked".
//   2. the rest, sorted by (topic, partition), are dealt round-robin to the members under
//      minQuota (by member id), then one each to members at minQuota, in list order, until
//      `expected_over` members hold maxQuota.
// A partition dealt to a member other than one that gave it up, or one claimed by many, is
// transferring ownership.
#include <algorithm>
#include <list>
#include <tuple>

#include "clients/group/sticky_group.h"
#include "core/base/check.h"

namespace eddy::clients::group::internal {
namespace {

class ConstrainedBuilder {
 public:
  explicit ConstrainedBuilder(const StickyGroup& group)
      : group_(group),
        member_count_(static_cast<int64_t>(group.owned_of.size())),
        min_quota_(group.input->partition_count / member_count_),
        max_quota_((group.input->partition_count + member_count_ - 1) / member_count_),
        expected_over_(group.input->partition_count % member_count_) {
    EDDY_CHECK(group.subscriptions_equal);
    EDDY_CHECK_LE(max_quota_ - min_quota_, 1);
    for (const auto& [member_id, owned] : group.owned_of) assignment_[member_id];
  }

  StickyResult Build() {
    AssignOwnedPartitions();
    AssignRoundRobin(UnassignedPartitions());
    VerifyUnfilledMembers();
    return StickyResult{std::move(assignment_), std::move(transferring_)};
  }

 private:
  // Step 1, member by member in Java's HashMap order: who keeps maxQuota depends on it.
  void AssignOwnedPartitions() {
    for (const std::string& member_id : group_.java_order) {
      const std::vector<TopicPartition>& owned_of_member = group_.owned_of.at(member_id);
      std::vector<TopicPartition> owned;
      for (const TopicPartition& tp : owned_of_member) {
        if (!group_.claimed_by_many.contains(tp)) owned.push_back(tp);
      }
      std::sort(owned.begin(), owned.end(), [](const TopicPartition& a, const TopicPartition& b) {
        return std::tie(a.partition, a.topic) < std::tie(b.partition, b.topic);
      });
      const auto owned_count = static_cast<int64_t>(owned.size());
      if (owned_count < min_quota_) {
        Keep(member_id, owned, owned_count);
        under_min_.push_back(member_id);
      } else if (owned_count >= max_quota_ && current_over_ < expected_over_) {
        ++current_over_;
        if (current_over_ == expected_over_) at_min_.clear();
        Keep(member_id, owned, max_quota_);
      } else {
        Keep(member_id, owned, min_quota_);
        if (current_over_ < expected_over_) at_min_.push_back(member_id);
      }
    }
  }

  // Keeps the first `count` of `owned` for the member; the rest may be revoked.
  void Keep(const std::string& member_id, const std::vector<TopicPartition>& owned, int64_t count) {
    EDDY_CHECK_LE(count, static_cast<int64_t>(owned.size()));
    std::vector<TopicPartition>& out = assignment_.at(member_id);
    for (size_t i = 0; i < owned.size(); ++i) {
      if (static_cast<int64_t>(i) < count) {
        out.push_back(owned[i]);
        EDDY_CHECK(assigned_.insert(owned[i]).second);
      } else {
        maybe_revoked_[owned[i]] = member_id;
      }
    }
  }

  std::vector<TopicPartition> UnassignedPartitions() const {
    std::vector<TopicPartition> unassigned;
    for (const auto& [topic, partition_count] : group_.input->partitions_per_topic) {
      for (int32_t partition = 0; partition < partition_count; ++partition) {
        TopicPartition tp{topic, partition};
        if (!assigned_.contains(tp)) unassigned.push_back(std::move(tp));
      }
    }
    return unassigned;
  }

  // Step 2: Java's assignRoundRobin, whose iterator over the under-minQuota list this mirrors
  // (`next` is the member the iterator returns next; `last` the one it returned).
  void AssignRoundRobin(const std::vector<TopicPartition>& unassigned) {
    under_min_.sort();
    at_min_.sort();
    auto next = under_min_.begin();
    for (const TopicPartition& tp : unassigned) {
      std::string member_id;
      auto last = under_min_.end();
      if (next == under_min_.end() && !under_min_.empty()) next = under_min_.begin();
      if (next != under_min_.end()) {
        last = next++;
        member_id = *last;
      } else {
        EDDY_CHECK_MSG(!at_min_.empty(),
                       "no unfilled member left for " << tp.topic << "-" << tp.partition);
        member_id = at_min_.front();
        at_min_.pop_front();
      }
      const int64_t count = AssignNewPartition(tp, member_id);
      if (count == min_quota_) {
        EDDY_CHECK(last != under_min_.end());  // members at minQuota never got here
        under_min_.erase(last);
        at_min_.push_back(member_id);
      } else if (count == max_quota_) {
        ++current_over_;
      }
    }
  }

  int64_t AssignNewPartition(const TopicPartition& tp, const std::string& member_id) {
    std::vector<TopicPartition>& out = assignment_.at(member_id);
    out.push_back(tp);
    EDDY_CHECK(assigned_.insert(tp).second);
    auto revoked = maybe_revoked_.find(tp);
    if ((revoked != maybe_revoked_.end() && revoked->second != member_id) ||
        group_.claimed_by_many.contains(tp)) {
      transferring_[tp] = member_id;
    }
    return static_cast<int64_t>(out.size());
  }

  // Java throws IllegalStateException here: it can only mean a bug in the steps above.
  void VerifyUnfilledMembers() const {
    EDDY_CHECK_EQ(static_cast<int64_t>(assigned_.size()), group_.input->partition_count);
    if (under_min_.empty()) return;
    EDDY_CHECK_EQ(current_over_, expected_over_);
    for (const std::string& member_id : under_min_) {
      EDDY_CHECK_EQ(static_cast<int64_t>(assignment_.at(member_id).size()), min_quota_);
    }
  }

  const StickyGroup& group_;
  const int64_t member_count_;
  const int64_t min_quota_;
  const int64_t max_quota_;
  // How many members end with maxQuota partitions (0 when minQuota == maxQuota).
  const int64_t expected_over_;
  int64_t current_over_ = 0;

  GroupAssignment assignment_;
  std::set<TopicPartition> assigned_;
  std::map<TopicPartition, std::string> maybe_revoked_;  // partition -> member that gave it up
  std::list<std::string> under_min_;  // unfilledMembersWithUnderMinQuotaPartitions
  std::list<std::string> at_min_;     // unfilledMembersWithExactlyMinQuotaPartitions
  std::map<TopicPartition, std::string> transferring_;
};

}  // namespace

StickyResult AssignConstrained(const StickyGroup& group) {
  EDDY_CHECK(!group.owned_of.empty());
  return ConstrainedBuilder(group).Build();
}

}  // namespace eddy::clients::group::internal
