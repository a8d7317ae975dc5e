// Differential golden test: Eddy's range, roundrobin and cooperative-sticky assignors give,
// byte for byte, the assignments Kafka's Java assignors computed for 230 random groups
// (testdata/java_assignments.txt; testdata/README.md says how they were made): dynamic and
// static members with random ids, equal and unequal subscriptions, topics missing from the
// metadata, owned partitions of one or many generations, claims of one partition by two
// members, and generations carried in the cooperative user data (v1-style subscriptions).
#include <fstream>
#include <sstream>

#include "clients/group/assignor.h"
#include "gtest/gtest.h"

namespace eddy::clients::group {
namespace {

struct Case {
  int line = 0;
  PartitionCounts partitions_per_topic;
  std::vector<MemberSubscription> members;
  std::vector<std::pair<std::string, std::string>> expected;  // assignor, answer
};

std::vector<std::string> SplitCommas(const std::string& field) {
  std::vector<std::string> out;
  if (field == "-") return out;
  std::stringstream in(field);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

MemberSubscription ParseMember(std::stringstream& in) {
  std::string id, instance, generation, user_data_generation, topics, owned;
  in >> id >> instance >> generation >> user_data_generation >> topics >> owned;
  MemberSubscription member;
  member.member_id = id;
  if (instance != "-") member.group_instance_id = instance;
  member.subscription.generation_id = std::stoi(generation);
  if (user_data_generation != "-") {
    const auto value = static_cast<uint32_t>(std::stoi(user_data_generation));
    member.subscription.user_data =
        std::string{static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                    static_cast<char>(value >> 8), static_cast<char>(value)};
  }
  member.subscription.topics = SplitCommas(topics);
  for (const std::string& tp : SplitCommas(owned)) {
    const size_t colon = tp.rfind(':');
    member.subscription.owned_partitions.push_back(
        {tp.substr(0, colon), std::stoi(tp.substr(colon + 1))});
  }
  return member;
}

std::vector<Case> ReadCases(const std::string& path) {
  std::ifstream file(path);
  std::vector<Case> cases;
  int line_number = 0;
  for (std::string line; std::getline(file, line);) {
    ++line_number;
    std::stringstream in(line);
    std::string kind;
    in >> kind;
    if (kind == "case") {
      cases.emplace_back().line = line_number;
    } else if (kind == "topic") {
      std::string topic;
      int32_t count = 0;
      in >> topic >> count;
      cases.back().partitions_per_topic[topic] = count;
    } else if (kind == "member") {
      cases.back().members.push_back(ParseMember(in));
    } else if (kind == "expect") {
      std::string assignor;
      in >> assignor >> std::ws;
      std::string answer;
      std::getline(in, answer);
      cases.back().expected.emplace_back(assignor, answer);
    }
  }
  return cases;
}

// Harness.java's format: "<member>: <topic>-<partition> ...;" for every member, sorted.
std::string Format(const GroupAssignment& assignment) {
  std::string out;
  for (const auto& [member_id, partitions] : assignment) {
    out += member_id + ":";
    for (const TopicPartition& tp : partitions) {
      out += " " + tp.topic + "-" + std::to_string(tp.partition);
    }
    out += ";";
  }
  return out;
}

TEST(JavaAssignmentsTest, EveryAssignorAgreesWithJavaOnEveryGroup) {
  const std::vector<Case> cases = ReadCases("clients/group/testdata/java_assignments.txt");
  ASSERT_EQ(cases.size(), 230u);
  int compared = 0;
  for (const Case& group : cases) {
    ASSERT_EQ(group.expected.size(), 3u) << "case at line " << group.line;
    for (const auto& [name, expected] : group.expected) {
      absl::StatusOr<std::unique_ptr<Assignor>> assignor = MakeAssignor(name);
      ASSERT_TRUE(assignor.ok()) << name;
      absl::StatusOr<GroupAssignment> assignment =
          (*assignor)->Assign(group.partitions_per_topic, group.members);
      ASSERT_TRUE(assignment.ok()) << assignment.status();
      EXPECT_EQ(Format(*assignment), expected) << name << ", case at line " << group.line;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 690);
}

}  // namespace
}  // namespace eddy::clients::group
