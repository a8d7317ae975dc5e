// Broker: the admin APIs on topics — CreatePartitions, DescribeConfigs, AlterConfigs and
// IncrementalAlterConfigs (broker.h, KAFKA APIS). Changes go to the controller; descriptions
// come from this broker's image.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/broker/broker.h"
#include "core/broker/handler_support.h"
#include "core/controller/topic_config.h"
#include "core/kafka/generated/alter_configs.h"
#include "core/kafka/generated/create_partitions.h"
#include "core/kafka/generated/describe_configs.h"
#include "core/kafka/generated/incremental_alter_configs.h"

namespace eddy::broker {
namespace {

using internal::DecodeBody;
using internal::Gather;
using kafka::ErrorCode;

// DescribeConfigs and the AlterConfigs pair name resources by type.
constexpr int8_t kTopicResource = 2;
constexpr int8_t kBrokerResource = 4;

// IncrementalAlterConfigs operations.
constexpr int8_t kSet = 0;
constexpr int8_t kDelete = 1;

// A gather of `count` answers, responding to `respond` once all are in.
template <typename Response>
std::shared_ptr<Gather<Response>> GatherFor(const kafka::RequestFrame& frame,
                                            RequestHandler::Respond respond, size_t count) {
  auto gather = std::make_shared<Gather<Response>>();
  gather->header = frame.header;
  gather->respond = std::move(respond);
  gather->outstanding = count + 1;  // + 1 until every answer is under way
  return gather;
}

// Answers resource `i` of an (Incremental)AlterConfigs with an error.
template <typename Response>
void FailResource(Gather<Response>& gather, size_t i, ErrorCode code, const char* message) {
  auto& r = gather.response.responses[i];
  r.error_code = kafka::ToWire(code);
  r.error_message = message;
  gather.Done();
}

// Names resource `i`'s answer; answers it and returns false unless it is a topic.
template <typename Response, typename Resource>
bool BeginTopicResource(Gather<Response>& gather, size_t i, const Resource& resource) {
  auto& r = gather.response.responses[i];
  r.resource_type = resource.resource_type;
  r.resource_name = resource.resource_name;
  r.error_message = std::nullopt;
  if (resource.resource_type == kTopicResource) return true;
  FailResource(gather, i, ErrorCode::kInvalidRequest, "only topic configs can be altered");
  return false;
}

Duration CallTimeout(int32_t timeout_ms) {
  return std::max(Broker::kCallRetryInterval, Duration::Milliseconds(std::max(timeout_ms, 0)));
}

}  // namespace

void Broker::HandleCreatePartitions(const kafka::RequestFrame& frame, Respond respond) {
  kafka::CreatePartitionsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  auto gather = GatherFor<kafka::CreatePartitionsResponse>(frame, std::move(respond),
                                                           request.topics.size());
  gather->response.results.resize(request.topics.size());
  for (size_t i = 0; i < request.topics.size(); ++i) {
    const auto& topic = request.topics[i];
    gather->response.results[i].name = topic.name;
    ControllerCall call;
    CreatePartitionsCall* grow = call.mutable_create_partitions();
    grow->set_name(topic.name);
    grow->set_total(topic.count);
    grow->set_validate_only(request.validate_only);
    if (topic.assignments.has_value()) {
      for (const auto& a : *topic.assignments) {
        grow->add_assignments()->mutable_replicas()->Add(a.broker_ids.begin(),
                                                         a.broker_ids.end());
      }
    }
    CallController(std::move(call), CallTimeout(request.timeout_ms),
                   [gather, i](ControllerAnswer answer) {
                     auto& r = gather->response.results[i];
                     r.error_code = static_cast<int16_t>(answer.error_code());
                     if (answer.error_code() != 0) r.error_message = answer.message();
                     gather->Done();
                   });
  }
  gather->Done();
}

void Broker::HandleDescribeConfigs(const kafka::RequestFrame& frame, Respond respond) {
  kafka::DescribeConfigsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  kafka::DescribeConfigsResponse response;
  for (const auto& resource : request.resources) {
    auto& result = response.results.emplace_back();
    result.resource_type = resource.resource_type;
    result.resource_name = resource.resource_name;
    result.error_message = std::nullopt;
    if (resource.resource_type == kBrokerResource) continue;  // no broker-level settings yet
    if (resource.resource_type != kTopicResource) {
      result.error_code = kafka::ToWire(ErrorCode::kInvalidRequest);
      result.error_message = "only topic and broker resources are described";
      continue;
    }
    const controller::TopicInfo* topic = image_.FindTopic(resource.resource_name);
    if (topic == nullptr) {
      result.error_code = kafka::ToWire(ErrorCode::kUnknownTopicOrPartition);
      result.error_message = "no such topic";
      continue;
    }
    std::set<std::string> keys;
    if (resource.configuration_keys.has_value()) {
      keys.insert(resource.configuration_keys->begin(), resource.configuration_keys->end());
    }
    for (const controller::DescribedConfig& d :
         controller::DescribeTopicConfig(topic->configs, options_.topic_config_defaults)) {
      if (!keys.empty() && !keys.contains(d.name)) continue;
      auto& c = result.configs.emplace_back();
      c.name = d.name;
      c.value = d.value;
      c.is_default = d.source == controller::ConfigSource::kDefault;
      c.config_source = static_cast<int8_t>(d.source);
      if (version >= 3 && request.include_documentation) c.documentation = d.documentation;
      if (request.include_synonyms) {
        auto& synonym = c.synonyms.emplace_back();
        synonym.name = d.name;
        synonym.value = d.value;
        synonym.source = static_cast<int8_t>(d.source);
      }
    }
  }
  std::move(respond)(EncodeResponse(frame.header, response));
}

template <typename Response>
void Broker::AlterTopicConfigs(std::shared_ptr<Gather<Response>> gather, size_t i,
                               const std::string& topic,
                               std::map<std::string, std::string> set,
                               std::vector<std::string> remove, bool incremental,
                               bool validate_only) {
  ControllerCall call;
  AlterConfigsCall* alter = call.mutable_alter_configs();
  alter->set_name(topic);
  for (const auto& [key, value] : set) {
    controller::ConfigEntry* e = alter->add_set();
    e->set_key(key);
    e->set_value(value);
  }
  for (const std::string& key : remove) alter->add_remove(key);
  alter->set_incremental(incremental);
  alter->set_validate_only(validate_only);
  CallController(std::move(call), Duration::Seconds(30), [gather, i](ControllerAnswer answer) {
    auto& r = gather->response.responses[i];
    r.error_code = static_cast<int16_t>(answer.error_code());
    r.error_message = answer.error_code() == 0 ? std::nullopt
                                               : std::optional<std::string>(answer.message());
    gather->Done();
  });
}

void Broker::HandleAlterConfigs(const kafka::RequestFrame& frame, Respond respond) {
  kafka::AlterConfigsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  auto gather = GatherFor<kafka::AlterConfigsResponse>(frame, std::move(respond),
                                                       request.resources.size());
  gather->response.responses.resize(request.resources.size());
  for (size_t i = 0; i < request.resources.size(); ++i) {
    const auto& resource = request.resources[i];
    if (!BeginTopicResource(*gather, i, resource)) continue;
    std::map<std::string, std::string> set;
    bool null_value = false;
    for (const auto& c : resource.configs) {
      null_value |= !c.value.has_value();
      if (c.value.has_value()) set[c.name] = *c.value;
    }
    if (null_value) {
      FailResource(*gather, i, ErrorCode::kInvalidConfig, "a config with a null value");
      continue;
    }
    AlterTopicConfigs(gather, i, resource.resource_name, std::move(set), {}, false,
                      request.validate_only);
  }
  gather->Done();
}

void Broker::HandleIncrementalAlterConfigs(const kafka::RequestFrame& frame, Respond respond) {
  kafka::IncrementalAlterConfigsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  auto gather = GatherFor<kafka::IncrementalAlterConfigsResponse>(frame, std::move(respond),
                                                                  request.resources.size());
  gather->response.responses.resize(request.resources.size());
  for (size_t i = 0; i < request.resources.size(); ++i) {
    const auto& resource = request.resources[i];
    if (!BeginTopicResource(*gather, i, resource)) continue;
    std::map<std::string, std::string> set;
    std::vector<std::string> remove;
    bool bad = false;
    for (const auto& c : resource.configs) {
      if (c.config_operation == kSet && c.value.has_value()) {
        set[c.name] = *c.value;
      } else if (c.config_operation == kDelete) {
        remove.push_back(c.name);
      } else {
        bad = true;  // APPEND/SUBTRACT: no list config is served with more than one value
      }
    }
    if (bad) {
      FailResource(*gather, i, ErrorCode::kInvalidConfig,
                   "only SET (with a value) and DELETE are served");
      continue;
    }
    AlterTopicConfigs(gather, i, resource.resource_name, std::move(set), std::move(remove), true,
                      request.validate_only);
  }
  gather->Done();
}

}  // namespace eddy::broker
