#include "core/group/classic_group.h"

#include <algorithm>
#include <set>

#include "core/base/check.h"

namespace eddy::group {

const char* GroupStateName(GroupState state) {
  switch (state) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kPreparingRebalance:
      return "PreparingRebalance";
    case GroupState::kCompletingRebalance:
      return "CompletingRebalance";
    case GroupState::kStable:
      return "Stable";
    case GroupState::kDead:
      return "Dead";
  }
  return "Unknown";
}

std::string GroupMember::MetadataFor(const std::string& protocol) const {
  for (const auto& [name, metadata] : protocols) {
    if (name == protocol) return metadata;
  }
  return {};
}

void ClassicGroup::TransitionTo(GroupState state, int64_t now_ms) {
  EDDY_CHECK(state_ != GroupState::kDead);
  state_ = state;
  state_timestamp_ms_ = now_ms;
}

GroupMember* ClassicGroup::Find(const std::string& member_id) {
  auto it = members_.find(member_id);
  return it == members_.end() ? nullptr : &it->second;
}

const std::string* ClassicGroup::StaticMember(const std::string& instance_id) const {
  auto it = static_members_.find(instance_id);
  return it == static_members_.end() ? nullptr : &it->second;
}

bool ClassicGroup::IsFencedStatic(const std::optional<std::string>& instance_id,
                                  const std::string& member_id) const {
  if (!instance_id.has_value()) return false;
  const std::string* holder = StaticMember(*instance_id);
  return holder != nullptr && *holder != member_id;
}

void ClassicGroup::Add(GroupMember member) {
  EDDY_CHECK(!members_.contains(member.member_id));
  if (leader_.empty()) leader_ = member.member_id;
  if (member.group_instance_id.has_value()) {
    static_members_[*member.group_instance_id] = member.member_id;
  }
  pending_.erase(member.member_id);
  const std::string id = member.member_id;
  members_.emplace(id, std::move(member));
}

void ClassicGroup::Remove(const std::string& member_id) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  if (it->second.group_instance_id.has_value()) {
    auto s = static_members_.find(*it->second.group_instance_id);
    if (s != static_members_.end() && s->second == member_id) static_members_.erase(s);
  }
  members_.erase(it);
  if (leader_ == member_id) leader_ = members_.empty() ? std::string() : members_.begin()->first;
}

void ClassicGroup::ReplaceStaticMember(std::string old_id, std::string new_id) {
  auto it = members_.find(old_id);
  EDDY_CHECK(it != members_.end());
  EDDY_CHECK(!members_.contains(new_id));
  GroupMember member = std::move(it->second);
  members_.erase(it);
  member.member_id = new_id;
  member.awaiting_join = nullptr;
  member.awaiting_sync = nullptr;
  EDDY_CHECK(member.group_instance_id.has_value());
  static_members_[*member.group_instance_id] = new_id;
  if (leader_ == old_id) leader_ = new_id;
  members_.emplace(new_id, std::move(member));
  EDDY_CHECK(members_.contains(leader_));
}

bool ClassicGroup::AllJoined() const {
  if (!pending_.empty()) return false;
  return std::all_of(members_.begin(), members_.end(),
                     [](const auto& m) { return static_cast<bool>(m.second.awaiting_join); });
}

bool ClassicGroup::SupportsProtocols(
    const std::string& type,
    const std::vector<std::pair<std::string, std::string>>& protocols) const {
  if (members_.empty()) return !type.empty() && !protocols.empty();
  if (type != protocol_type_) return false;
  for (const auto& [name, metadata] : protocols) {
    const bool everyone = std::all_of(members_.begin(), members_.end(), [&](const auto& m) {
      return std::any_of(m.second.protocols.begin(), m.second.protocols.end(),
                         [&](const auto& p) { return p.first == name; });
    });
    if (everyone) return true;
  }
  return false;
}

std::string ClassicGroup::SelectProtocol() const {
  EDDY_CHECK(!members_.empty());
  // Candidates: the protocols every member supports, in the leader's order of preference.
  std::vector<std::string> candidates;
  const GroupMember& first = members_.contains(leader_) ? members_.at(leader_)
                                                        : members_.begin()->second;
  for (const auto& [name, metadata] : first.protocols) {
    const bool everyone = std::all_of(members_.begin(), members_.end(), [&](const auto& m) {
      return std::any_of(m.second.protocols.begin(), m.second.protocols.end(),
                         [&](const auto& p) { return p.first == name; });
    });
    if (everyone) candidates.push_back(name);
  }
  EDDY_CHECK(!candidates.empty());
  // Each member votes for its most preferred candidate; the most votes win, ties going to the
  // leader's preference (Kafka leaves ties to hash order).
  std::map<std::string, int> votes;
  for (const auto& [id, member] : members_) {
    for (const auto& [name, metadata] : member.protocols) {
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
        ++votes[name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const std::string& c : candidates) {
    if (votes[c] > votes[best]) best = c;
  }
  return best;
}

void ClassicGroup::InitNextGeneration(int64_t now_ms) {
  ++generation_;
  if (members_.empty()) {
    protocol_.reset();
    TransitionTo(GroupState::kEmpty, now_ms);
    return;
  }
  protocol_ = SelectProtocol();
  TransitionTo(GroupState::kCompletingRebalance, now_ms);
}

int32_t ClassicGroup::RebalanceTimeoutMs() const {
  int32_t timeout = 0;
  for (const auto& [id, member] : members_) timeout = std::max(timeout, member.rebalance_timeout_ms);
  return timeout;
}

GroupMetadataValue ClassicGroup::ToValue() const {
  GroupMetadataValue value;
  value.set_protocol_type(protocol_type_);
  value.set_generation(generation_);
  value.set_protocol(protocol_.value_or(""));
  value.set_leader(leader_);
  value.set_state_timestamp_ms(state_timestamp_ms_);
  for (const auto& [id, member] : members_) {
    MemberValue* m = value.add_members();
    m->set_member_id(id);
    if (member.group_instance_id.has_value()) {
      m->set_group_instance_id(*member.group_instance_id);
      m->set_has_group_instance_id(true);
    }
    m->set_client_id(member.client_id);
    m->set_client_host(member.client_host);
    m->set_session_timeout_ms(member.session_timeout_ms);
    m->set_rebalance_timeout_ms(member.rebalance_timeout_ms);
    m->set_subscription(member.MetadataFor(protocol_.value_or("")));
    m->set_assignment(member.assignment);
  }
  return value;
}

ClassicGroup ClassicGroup::FromValue(const std::string& id, const GroupMetadataValue& value,
                                     Instant now) {
  ClassicGroup group(id, value.state_timestamp_ms());
  group.protocol_type_ = value.protocol_type();
  group.generation_ = value.generation();
  for (const MemberValue& m : value.members()) {
    if (m.member_id().empty() || group.members_.contains(m.member_id())) continue;
    GroupMember member;
    member.member_id = m.member_id();
    if (m.has_group_instance_id()) member.group_instance_id = m.group_instance_id();
    member.client_id = m.client_id();
    member.client_host = m.client_host();
    member.session_timeout_ms = m.session_timeout_ms();
    member.rebalance_timeout_ms = m.rebalance_timeout_ms();
    member.protocols.emplace_back(value.protocol(), m.subscription());
    member.assignment = m.assignment();
    member.heartbeat_deadline = now + Duration::Milliseconds(std::max(m.session_timeout_ms(), 0));
    group.Add(std::move(member));
  }
  if (!group.members_.empty()) {
    group.protocol_ = value.protocol();
    if (group.members_.contains(value.leader())) group.leader_ = value.leader();
    group.state_ = GroupState::kStable;
  }
  return group;
}

}  // namespace eddy::group
