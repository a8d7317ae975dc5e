// SimGroups: the consumer groups of a broker simulation — several groups of Eddy's Consumer
// (clients/consumer.h, Subscribe) over the simulation's first topics, processing every record
// they are given and committing after processing, while members join, leave, crash and restart
// (a static member per group bounces under its instance id) and the coordinators fail over
// with the brokers. Everything they see goes to the GroupChecker.
//
// THE END. Stop() ends the churn and starts every member slot; Drained() then says whether every
// group has committed every partition of its topics up to the acknowledged end; Check() runs the
// final checks (the group's committed offsets as an OffsetFetch returns them, and that every
// acknowledged record below them was processed).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "clients/consumer.h"
#include "sim/broker/data_checker.h"
#include "sim/broker/group_checker.h"
#include "sim/broker/topology.h"
#include "sim/runtime/sim_world.h"

namespace eddy::sim::broker {

struct GroupStats {
  uint64_t members_started = 0;
  uint64_t members_left = 0;
  uint64_t members_crashed = 0;
  uint64_t members_failed = 0;  // a fatal group error: restarted
  uint64_t records_processed = 0;
  uint64_t commits_acked = 0;
  uint64_t commits_refused = 0;
  uint64_t assignments = 0;
  uint64_t fetches_checked = 0;
  uint64_t late_commits_sent = 0;
  uint64_t late_commits_refused = 0;
};

class SimGroups {
 public:
  static constexpr int kMembersPerGroup = 3;
  static constexpr Duration kChurnIntervalMean = Duration::Milliseconds(1500);

  // `topics`: what every group subscribes to. The world, topology, checkers and stats outlive
  // this object.
  SimGroups(SimWorld& world, int groups, std::vector<std::string> topics,
            const Topology& topology, const DataChecker& data, GroupChecker& checker,
            GroupStats& stats, std::optional<std::string>* violation);
  ~SimGroups();

  void Start();
  // Ends the churn; every member slot gets a running member.
  void Stop();
  // Every group has an acknowledged commit at or beyond the acknowledged end of every live
  // partition of its topics. `why` says what is missing otherwise.
  bool Drained(std::string* why) const;
  // The final checks; runs the world while the groups' OffsetFetches are answered.
  std::optional<std::string> Check(Duration bound);

 private:
  struct Member {
    int group = 0;
    int slot = 0;
    uint64_t incarnation = 0;
    std::unique_ptr<clients::Consumer> consumer;
    // The commit of processed positions in flight, and what this member had acknowledged.
    bool committing = false;
    std::map<clients::TopicPartition, int64_t> acked;
    // False once the member is gone (its consumer may still be shutting down).
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    ~Member() { *alive = false; }
  };

  std::string GroupId(int group) const { return "group" + std::to_string(group); }
  void ScheduleChurn();
  void Churn();
  void StartMember(int group, int slot);
  void Poll(Member* member);
  // The member's process ends (now, outside its callbacks) and starts again a second later.
  void Restart(int group, int slot);
  // A ZOMBIE'S COMMIT: what a member held when a rebalance took its partitions, committed again
  // a little later with the generation and member id it had then (a commit delayed in the
  // network, a paused process waking up). Once the member is in a later generation, the
  // coordinator must refuse it: an acceptance is a violation.
  void LateCommit(Member* member, std::map<clients::TopicPartition, int64_t> offsets);
  void SendLateCommit(const std::string& group, int32_t generation, std::string member_id,
                      std::optional<std::string> instance_id,
                      std::map<clients::TopicPartition, int64_t> offsets,
                      std::shared_ptr<bool> member_alive, Member* member);
  void OnRecords(Member* member, std::vector<clients::ConsumerRecord> records);
  // Commits the positions (everything processed) not yet acknowledged, one commit at a time;
  // a failed commit is retried with the next poll, so a group that stops receiving records
  // still gets its last positions committed.
  void CommitProcessed(Member* member);
  void OnAssigned(Member* member, const std::vector<clients::TopicPartition>& partitions);
  std::vector<PartitionKey> Partitions() const;
  // The members' view of `p`, for a violation's message.
  std::string DescribeGroup(int group, const PartitionKey& p) const;
  void Violation(std::optional<std::string> v);

  SimWorld& world_;
  SimClient& client_;
  const int groups_;
  const std::vector<std::string> topics_;
  const Topology& topology_;
  const DataChecker& data_;
  GroupChecker& checker_;
  GroupStats& stats_;
  std::optional<std::string>* violation_;
  std::map<std::pair<int, int>, std::unique_ptr<Member>> members_;  // by (group, slot)
  std::vector<std::unique_ptr<clients::Consumer>> leaving_;         // shutting down
  std::map<uint64_t, std::unique_ptr<clients::BrokerConnection>> late_connections_;
  uint64_t next_late_ = 1;
  uint64_t next_incarnation_ = 1;
  bool churning_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::sim::broker
