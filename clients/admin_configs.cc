// The admin client's config APIs: DescribeConfigs, AlterConfigs, IncrementalAlterConfigs (topic
// and broker resources; Eddy's brokers alter topic configs only and describe no broker-level
// settings yet — their answers say so, and are passed on as they are).
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/admin.h"
#include "clients/kafka_status.h"
#include "core/kafka/generated/alter_configs.h"
#include "core/kafka/generated/describe_configs.h"
#include "core/kafka/generated/incremental_alter_configs.h"

namespace eddy::clients {
namespace {

constexpr int16_t kDescribeConfigsVersion = 4;
constexpr int16_t kAlterConfigsVersion = 2;
constexpr int16_t kIncrementalAlterConfigsVersion = 1;

template <typename Value>
using Answer = std::function<void(const ConfigResource&, int16_t,
                                  const std::optional<std::string>&, Value)>;

ConfigResource ResourceOf(int8_t type, const std::string& name) {
  return ConfigResource{static_cast<ConfigResourceType>(type), name};
}

std::string Describe(const ConfigResource& r) {
  return absl::StrCat(r.type == ConfigResourceType::kTopic ? "topic " : "broker ", r.name);
}

template <typename Response>
void VisitAlterResponses(const Response& response, const Answer<absl::Status>& answer) {
  for (const auto& r : response.responses) {
    const ConfigResource resource = ResourceOf(r.resource_type, r.resource_name);
    answer(resource, r.error_code, r.error_message,
           KafkaStatus(r.error_code, absl::StrCat("alter configs of ", Describe(resource)),
                       r.error_message));
  }
}

}  // namespace

void Admin::DescribeConfigs(
    std::vector<ConfigResource> resources,
    Done<std::map<ConfigResource, absl::StatusOr<std::vector<ConfigEntry>>>> done) {
  using Value = absl::StatusOr<std::vector<ConfigEntry>>;
  RunKeyed<ConfigResource, Value, kafka::DescribeConfigsRequest, kafka::DescribeConfigsResponse>(
      std::set<ConfigResource>(resources.begin(), resources.end()), {}, kDescribeConfigsVersion,
      [](const std::set<ConfigResource>& pending) {
        kafka::DescribeConfigsRequest request;
        for (const ConfigResource& r : pending) {
          auto& out = request.resources.emplace_back();
          out.resource_type = static_cast<int8_t>(r.type);
          out.resource_name = r.name;
          out.configuration_keys = std::nullopt;  // every key
        }
        return request;
      },
      [](const kafka::DescribeConfigsResponse& response, const Answer<Value>& answer) {
        for (const auto& r : response.results) {
          const ConfigResource resource = ResourceOf(r.resource_type, r.resource_name);
          if (r.error_code != 0) {
            answer(resource, r.error_code, r.error_message,
                   KafkaStatus(r.error_code, absl::StrCat("describe configs of ", Describe(resource)),
                               r.error_message));
            continue;
          }
          std::vector<ConfigEntry> entries;
          for (const auto& c : r.configs) {
            entries.push_back(ConfigEntry{.name = c.name,
                                          .value = c.value,
                                          .read_only = c.read_only,
                                          .is_default = c.config_source == 5 || c.is_default,
                                          .is_sensitive = c.is_sensitive,
                                          .source = c.config_source});
          }
          answer(resource, 0, std::nullopt, std::move(entries));
        }
      },
      std::move(done));
}

void Admin::AlterConfigs(std::map<ConfigResource, std::map<std::string, std::string>> configs,
                         bool validate_only, Done<ResourceStatuses> done) {
  auto wanted = std::make_shared<decltype(configs)>(std::move(configs));
  std::set<ConfigResource> keys;
  for (const auto& [r, c] : *wanted) keys.insert(r);
  RunKeyed<ConfigResource, absl::Status, kafka::AlterConfigsRequest, kafka::AlterConfigsResponse>(
      std::move(keys), {}, kAlterConfigsVersion,
      [wanted, validate_only](const std::set<ConfigResource>& pending) {
        kafka::AlterConfigsRequest request;
        request.validate_only = validate_only;
        for (const ConfigResource& r : pending) {
          auto& out = request.resources.emplace_back();
          out.resource_type = static_cast<int8_t>(r.type);
          out.resource_name = r.name;
          for (const auto& [key, value] : wanted->at(r)) {
            auto& c = out.configs.emplace_back();
            c.name = key;
            c.value = value;
          }
        }
        return request;
      },
      [](const kafka::AlterConfigsResponse& response, const Answer<absl::Status>& answer) {
        VisitAlterResponses(response, answer);
      },
      std::move(done));
}

void Admin::IncrementalAlterConfigs(std::map<ConfigResource, std::vector<AlterConfigOp>> ops,
                                    bool validate_only, Done<ResourceStatuses> done) {
  auto wanted = std::make_shared<decltype(ops)>(std::move(ops));
  std::set<ConfigResource> keys;
  for (const auto& [r, o] : *wanted) keys.insert(r);
  RunKeyed<ConfigResource, absl::Status, kafka::IncrementalAlterConfigsRequest,
           kafka::IncrementalAlterConfigsResponse>(
      std::move(keys), {}, kIncrementalAlterConfigsVersion,
      [wanted, validate_only](const std::set<ConfigResource>& pending) {
        kafka::IncrementalAlterConfigsRequest request;
        request.validate_only = validate_only;
        for (const ConfigResource& r : pending) {
          auto& out = request.resources.emplace_back();
          out.resource_type = static_cast<int8_t>(r.type);
          out.resource_name = r.name;
          for (const AlterConfigOp& op : wanted->at(r)) {
            auto& c = out.configs.emplace_back();
            c.name = op.name;
            c.config_operation = static_cast<int8_t>(op.op);
            c.value = op.value;
          }
        }
        return request;
      },
      [](const kafka::IncrementalAlterConfigsResponse& response,
         const Answer<absl::Status>& answer) { VisitAlterResponses(response, answer); },
      std::move(done));
}

}  // namespace eddy::clients
