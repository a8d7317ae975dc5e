// Broker: consumer groups' offsets and administration — OffsetCommit, OffsetFetch,
// OffsetDelete, DescribeGroups, ListGroups, DeleteGroups (core/group/README.md).
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "core/broker/broker.h"
#include "core/broker/handler_support.h"
#include "core/kafka/generated/delete_groups.h"
#include "core/kafka/generated/describe_groups.h"
#include "core/kafka/generated/list_groups.h"
#include "core/kafka/generated/offset_commit.h"
#include "core/kafka/generated/offset_delete.h"
#include "core/kafka/generated/offset_fetch.h"

namespace eddy::broker {

using internal::DecodeBody;
using internal::Gather;
using kafka::ErrorCode;

void Broker::HandleOffsetCommit(const kafka::RequestFrame& frame, Respond respond) {
  kafka::OffsetCommitRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  kafka::OffsetCommitResponse response;
  group::CommitRequest commit;
  commit.member = {request.group_id, version >= 1 ? request.generation_id : -1,
                   request.member_id, request.group_instance_id};
  for (const auto& t : request.topics) {
    auto& rt = response.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      rt.partitions.emplace_back().partition_index = p.partition_index;
      commit.partitions.push_back({group::TopicPartition{t.name, p.partition_index},
                                   p.committed_offset,
                                   version >= 6 ? p.committed_leader_epoch : -1,
                                   p.committed_metadata});
    }
  }
  auto reply = [header = frame.header, response = std::move(response),
                respond = std::move(respond)](std::vector<ErrorCode> errors) mutable {
    size_t i = 0;
    for (auto& t : response.topics) {
      for (auto& p : t.partitions) p.error_code = kafka::ToWire(errors[i++]);
    }
    std::move(respond)(EncodeResponse(header, response));
  };
  int32_t partition = 0;
  if (ErrorCode e = Coordinates(request.group_id, &partition); e != ErrorCode::kNone) {
    return reply(std::vector<ErrorCode>(commit.partitions.size(), e));
  }
  coordinator_->CommitOffsets(partition, std::move(commit), std::move(reply));
}

namespace {

// One group's answer to OffsetFetch, in the v8+ shape (the older shape is filled from it).
kafka::OffsetFetchResponse::OffsetFetchResponseGroup FetchedGroup(
    const std::string& group_id, ErrorCode error,
    const std::vector<group::FetchedOffset>& offsets) {
  kafka::OffsetFetchResponse::OffsetFetchResponseGroup g;
  g.group_id = group_id;
  g.error_code = kafka::ToWire(error);
  for (const group::FetchedOffset& f : offsets) {
    if (g.topics.empty() || g.topics.back().name != f.tp.topic) {
      g.topics.emplace_back().name = f.tp.topic;
    }
    auto& p = g.topics.back().partitions.emplace_back();
    p.partition_index = f.tp.partition;
    p.committed_offset = f.value.has_value() ? f.value->offset() : -1;
    p.committed_leader_epoch = f.value.has_value() ? f.value->leader_epoch() : -1;
    p.metadata = std::string();
    if (f.value.has_value()) {
      p.metadata = f.value->metadata_null() ? std::nullopt
                                            : std::optional<std::string>(f.value->metadata());
    }
    p.error_code = kafka::ToWire(error);
  }
  return g;
}

template <typename Topics>
std::optional<std::vector<group::TopicPartition>> WantedPartitions(
    const std::optional<Topics>& topics) {
  if (!topics.has_value()) return std::nullopt;
  std::vector<group::TopicPartition> wanted;
  for (const auto& t : *topics) {
    for (int32_t p : t.partition_indexes) wanted.push_back({t.name, p});
  }
  return wanted;
}

}  // namespace

void Broker::HandleOffsetFetch(const kafka::RequestFrame& frame, Respond respond) {
  kafka::OffsetFetchRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  auto fetch = [this](const std::string& group_id,
                      const std::optional<std::vector<group::TopicPartition>>& wanted) {
    int32_t partition = 0;
    const ErrorCode error = Coordinates(group_id, &partition);
    if (error != ErrorCode::kNone) {
      std::vector<group::FetchedOffset> none;
      if (wanted.has_value()) {
        for (const auto& tp : *wanted) none.push_back({tp, std::nullopt});
      }
      return FetchedGroup(group_id, error, none);
    }
    return FetchedGroup(group_id, ErrorCode::kNone,
                        coordinator_->FetchOffsets(partition, group_id, wanted));
  };
  kafka::OffsetFetchResponse response;
  if (version >= 8) {
    for (const auto& g : request.groups) {
      response.groups.push_back(fetch(g.group_id, WantedPartitions(g.topics)));
    }
    return std::move(respond)(EncodeResponse(frame.header, response));
  }
  kafka::OffsetFetchResponse::OffsetFetchResponseGroup g =
      fetch(request.group_id, WantedPartitions(request.topics));
  if (version >= 2) response.error_code = g.error_code;
  for (auto& t : g.topics) {
    auto& rt = response.topics.emplace_back();
    rt.name = t.name;
    for (auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.committed_offset = p.committed_offset;
      rp.committed_leader_epoch = p.committed_leader_epoch;
      rp.metadata = p.metadata;
      // Before v2 a group-level error can only be told per partition.
      rp.error_code = version >= 2 ? 0 : p.error_code;
    }
  }
  std::move(respond)(EncodeResponse(frame.header, response));
}

void Broker::HandleDescribeGroups(const kafka::RequestFrame& frame, Respond respond) {
  kafka::DescribeGroupsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  kafka::DescribeGroupsResponse response;
  for (const std::string& id : request.groups) {
    auto& d = response.groups.emplace_back();
    d.group_id = id;
    int32_t partition = 0;
    const ErrorCode error = Coordinates(id, &partition);
    d.error_code = kafka::ToWire(error);
    if (error != ErrorCode::kNone) continue;
    const group::GroupDescription g = coordinator_->Describe(partition, id);
    d.group_state = group::GroupStateName(g.state);
    d.protocol_type = g.protocol_type;
    d.protocol_data = g.protocol;
    for (const auto& m : g.members) {
      auto& dm = d.members.emplace_back();
      dm.member_id = m.member_id;
      dm.group_instance_id = m.group_instance_id;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      dm.member_metadata = m.metadata;
      dm.member_assignment = m.assignment;
    }
  }
  std::move(respond)(EncodeResponse(frame.header, response));
}

void Broker::HandleListGroups(const kafka::RequestFrame& frame, Respond respond) {
  kafka::ListGroupsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const auto wanted = [](const std::vector<std::string>& filter, const std::string& value) {
    return filter.empty() || std::any_of(filter.begin(), filter.end(), [&](const auto& f) {
             return absl::AsciiStrToLower(f) == absl::AsciiStrToLower(value);
           });
  };
  kafka::ListGroupsResponse response;
  for (const auto& [group, partition] : offsets_partitions_) {
    if (!coordinator_->LoadedTerm(partition).has_value()) continue;
    for (const auto& [id, type, state] : coordinator_->List(partition)) {
      const std::string state_name = group::GroupStateName(state);
      if (!wanted(request.states_filter, state_name) ||
          !wanted(request.types_filter, "classic")) {
        continue;
      }
      auto& g = response.groups.emplace_back();
      g.group_id = id;
      g.protocol_type = type;
      g.group_state = state_name;
      g.group_type = "classic";
    }
  }
  std::move(respond)(EncodeResponse(frame.header, response));
}

void Broker::HandleDeleteGroups(const kafka::RequestFrame& frame, Respond respond) {
  kafka::DeleteGroupsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  auto gather = std::make_shared<Gather<kafka::DeleteGroupsResponse>>();
  gather->header = frame.header;
  gather->respond = std::move(respond);
  gather->outstanding = request.groups_names.size() + 1;
  gather->response.results.resize(request.groups_names.size());
  for (size_t i = 0; i < request.groups_names.size(); ++i) {
    const std::string& id = request.groups_names[i];
    gather->response.results[i].group_id = id;
    int32_t partition = 0;
    if (ErrorCode e = Coordinates(id, &partition); e != ErrorCode::kNone) {
      gather->response.results[i].error_code = kafka::ToWire(e);
      gather->Done();
      continue;
    }
    coordinator_->DeleteGroup(partition, id, [gather, i](ErrorCode error) {
      gather->response.results[i].error_code = kafka::ToWire(error);
      gather->Done();
    });
  }
  gather->Done();
}

void Broker::HandleOffsetDelete(const kafka::RequestFrame& frame, Respond respond) {
  kafka::OffsetDeleteRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  kafka::OffsetDeleteResponse response;
  std::vector<group::TopicPartition> partitions;
  for (const auto& t : request.topics) {
    auto& rt = response.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      rt.partitions.emplace_back().partition_index = p.partition_index;
      partitions.push_back({t.name, p.partition_index});
    }
  }
  auto reply = [header = frame.header, response = std::move(response),
                respond = std::move(respond)](ErrorCode top,
                                              std::vector<ErrorCode> errors) mutable {
    response.error_code = kafka::ToWire(top);
    size_t i = 0;
    for (auto& t : response.topics) {
      for (auto& p : t.partitions) {
        p.error_code = i < errors.size() ? kafka::ToWire(errors[i]) : 0;
        ++i;
      }
    }
    if (top != ErrorCode::kNone) response.topics.clear();
    std::move(respond)(EncodeResponse(header, response));
  };
  int32_t partition = 0;
  if (ErrorCode e = Coordinates(request.group_id, &partition); e != ErrorCode::kNone) {
    return reply(e, {});
  }
  coordinator_->DeleteOffsets(partition, request.group_id, std::move(partitions),
                              std::move(reply));
}

}  // namespace eddy::broker
