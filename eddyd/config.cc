#include "eddyd/config.h"

#include <cctype>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/controller/topic_config.h"

namespace eddy::eddyd {
namespace {

absl::Status Bad(const std::string& key, const std::string& value, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value for ", key, "=\"", value, "\": ", why));
}

absl::StatusOr<int64_t> Integer(const std::map<std::string, std::string>& p,
                                const std::string& key, int64_t min, int64_t max) {
  const std::string& value = p.at(key);
  int64_t n = 0;
  if (!absl::SimpleAtoi(value, &n)) return Bad(key, value, "not an integer");
  if (n < min || n > max) {
    return Bad(key, value, absl::StrCat("must be in ", min, "..", max));
  }
  return n;
}

absl::StatusOr<bool> Boolean(const std::map<std::string, std::string>& p,
                             const std::string& key) {
  const std::string value = absl::AsciiStrToLower(p.at(key));
  if (value == "true") return true;
  if (value == "false") return false;
  return Bad(key, p.at(key), "must be true or false");
}

// "host:port", the host numeric or a name, the port 1..65535 (0 too where `allow_zero`).
absl::StatusOr<runtime::Address> HostPort(const std::string& key, const std::string& text,
                                          bool allow_zero) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return Bad(key, text, "expected host:port");
  int32_t port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < (allow_zero ? 0 : 1) ||
      port > 65535) {
    return Bad(key, text, "the port must be 1..65535");
  }
  return runtime::Address{.host = text.substr(0, colon), .port = port};
}

// "NAME://host:port,..." into NAME -> address.
absl::StatusOr<std::map<std::string, runtime::Address>> Listeners(const std::string& key,
                                                                  const std::string& text,
                                                                  bool allow_zero) {
  std::map<std::string, runtime::Address> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const size_t scheme = item.find("://");
    if (scheme == absl::string_view::npos) {
      return Bad(key, text, "expected NAME://host:port");
    }
    const std::string name(item.substr(0, scheme));
    if (name != "PLAINTEXT" && name != "CONTROLLER") {
      return Bad(key, text, absl::StrCat("unknown listener ", name,
                                         " (PLAINTEXT and CONTROLLER are supported)"));
    }
    auto address = HostPort(key, std::string(item.substr(scheme + 3)), allow_zero);
    if (!address.ok()) return address.status();
    if (!out.emplace(name, *address).second) return Bad(key, text, "listener named twice");
  }
  return out;
}

absl::StatusOr<std::map<runtime::NodeId, runtime::Address>> Voters(const std::string& key,
                                                                   const std::string& text) {
  std::map<runtime::NodeId, runtime::Address> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const size_t at = item.find('@');
    uint32_t id = 0;
    if (at == absl::string_view::npos || !absl::SimpleAtoi(item.substr(0, at), &id) || id == 0) {
      return Bad(key, text, "expected id@host:port entries with ids of at least 1");
    }
    auto address = HostPort(key, std::string(item.substr(at + 1)), /*allow_zero=*/false);
    if (!address.ok()) return address.status();
    if (!out.emplace(id, *address).second) return Bad(key, text, "a voter is named twice");
  }
  if (out.empty()) return Bad(key, text, "no voters");
  return out;
}

absl::Status Roles(const std::map<std::string, std::string>& p) {
  std::set<std::string> roles;
  for (absl::string_view role : absl::StrSplit(p.at("process.roles"), ',', absl::SkipEmpty())) {
    roles.insert(std::string(absl::StripAsciiWhitespace(role)));
  }
  if (roles != std::set<std::string>{"broker", "controller"}) {
    return Bad("process.roles", p.at("process.roles"),
               "every Eddy node is broker,controller in this version");
  }
  return absl::OkStatus();
}

bool IsTopicConfigDefault(const std::string& key) {
  for (const controller::ConfigSpec& spec : controller::TopicConfigSpecs()) {
    if (key == spec.broker_name) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseProperties(const std::string& text) {
  std::map<std::string, std::string> out;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    const size_t split = line.find_first_of("=:");
    if (split == absl::string_view::npos || split == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, " is not key=value: \"", line, "\""));
    }
    out[std::string(absl::StripAsciiWhitespace(line.substr(0, split)))] =
        std::string(absl::StripAsciiWhitespace(line.substr(split + 1)));
  }
  return out;
}

const std::map<std::string, std::string>& DefaultProperties() {
  static const auto* defaults = new std::map<std::string, std::string>{
      {"node.id", "1"},
      {"process.roles", "broker,controller"},
      {"controller.quorum.voters", "1@127.0.0.1:9093"},
      {"listeners", "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"},
      {"advertised.listeners", ""},
      {"log.dirs", "/tmp/eddy-data"},
      {"broker.rack", ""},
      {"num.partitions", "1"},
      {"default.replication.factor", "1"},
      {"auto.create.topics.enable", "true"},
      {"producer.id.expiration.ms", "86400000"},
      {"group.initial.rebalance.delay.ms", "0"},
      {"group.min.session.timeout.ms", "6000"},
      {"group.max.session.timeout.ms", "1800000"},
      {"group.max.size", "10000"},
      {"offsets.topic.num.partitions", "50"},
      {"offsets.topic.replication.factor", "3"},
      {"offsets.retention.minutes", "10080"},
      {"offsets.retention.check.interval.ms", "600000"},
      {"offset.metadata.max.bytes", "4096"},
  };
  return *defaults;
}

std::map<std::string, std::string> PropertiesFromEnvironment(
    const std::vector<std::string>& environment) {
  std::map<std::string, std::string> out;
  for (const std::string& entry : environment) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos) continue;
    const std::string name = entry.substr(0, equals);
    if (!absl::StartsWith(name, "EDDY_") || name == "EDDY_BROKERS") continue;
    std::string key = absl::AsciiStrToLower(name.substr(5));
    for (char& c : key) {
      if (c == '_') c = '.';
    }
    out[key] = entry.substr(equals + 1);
  }
  return out;
}

namespace {

// The consumer-group keys (config.h), into c->group_coordinator and the offsets topic's shape.
absl::Status GroupSettings(const std::map<std::string, std::string>& p, Config* c) {
  group::CoordinatorOptions& g = c->group_coordinator;
  struct Key {
    const char* name;
    int64_t min;
    int64_t max;
    int64_t* out;
  };
  int64_t delay = 0, min_session = 0, max_session = 0, max_size = 0, partitions = 0, rf = 0,
          retention_minutes = 0, check_ms = 0, metadata_bytes = 0;
  const Key keys[] = {
      {"group.initial.rebalance.delay.ms", 0, INT32_MAX, &delay},
      {"group.min.session.timeout.ms", 1, INT32_MAX, &min_session},
      {"group.max.session.timeout.ms", 1, INT32_MAX, &max_session},
      {"group.max.size", 1, 1'000'000, &max_size},
      {"offsets.topic.num.partitions", 1, 1000, &partitions},
      {"offsets.topic.replication.factor", 1, 7, &rf},
      {"offsets.retention.minutes", 1, INT64_MAX / 60'000 / 4, &retention_minutes},
      {"offsets.retention.check.interval.ms", 1, INT64_MAX / 4, &check_ms},
      {"offset.metadata.max.bytes", 0, 1 << 20, &metadata_bytes},
  };
  for (const Key& key : keys) {
    auto value = Integer(p, key.name, key.min, key.max);
    if (!value.ok()) return value.status();
    *key.out = *value;
  }
  if (min_session > max_session) {
    return Bad("group.min.session.timeout.ms", p.at("group.min.session.timeout.ms"),
               "is above group.max.session.timeout.ms");
  }
  g.initial_rebalance_delay_ms = static_cast<int32_t>(delay);
  g.min_session_timeout_ms = static_cast<int32_t>(min_session);
  g.max_session_timeout_ms = static_cast<int32_t>(max_session);
  g.group_max_size = static_cast<size_t>(max_size);
  g.offsets_retention_ms = retention_minutes * 60'000;
  g.offsets_retention_check_interval_ms = check_ms;
  g.offset_metadata_max_bytes = static_cast<size_t>(metadata_bytes);
  c->offsets_topic_partitions = static_cast<int32_t>(partitions);
  c->offsets_topic_replication_factor = static_cast<int32_t>(rf);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> BuildConfig(
    const std::vector<std::map<std::string, std::string>>& layers) {
  std::map<std::string, std::string> p = DefaultProperties();
  Config c;
  for (const auto& layer : layers) {
    for (const auto& [key, value] : layer) {
      if (IsTopicConfigDefault(key)) {
        if (absl::Status s = controller::ValidateBrokerConfig(key, value); !s.ok()) {
          return Bad(key, value, s.message());
        }
        c.topic_config_defaults[key] = value;
        continue;
      }
      if (!p.contains(key)) return absl::InvalidArgumentError(absl::StrCat("unknown key ", key));
      p[key] = value;
    }
  }
  auto node_id = Integer(p, "node.id", 1, 65535);
  if (!node_id.ok()) return node_id.status();
  c.node_id = static_cast<runtime::NodeId>(*node_id);
  if (absl::Status s = Roles(p); !s.ok()) return s;
  auto voters = Voters("controller.quorum.voters", p.at("controller.quorum.voters"));
  if (!voters.ok()) return voters.status();
  c.voters = std::move(*voters);
  if (!c.voters.contains(c.node_id)) {
    return Bad("controller.quorum.voters", p.at("controller.quorum.voters"),
               absl::StrCat("node.id ", c.node_id, " is not among the voters"));
  }
  auto listeners = Listeners("listeners", p.at("listeners"), /*allow_zero=*/true);
  if (!listeners.ok()) return listeners.status();
  if (!listeners->contains("PLAINTEXT") || !listeners->contains("CONTROLLER")) {
    return Bad("listeners", p.at("listeners"), "needs a PLAINTEXT and a CONTROLLER listener");
  }
  c.client_listener = listeners->at("PLAINTEXT");
  c.peer_listener = listeners->at("CONTROLLER");
  if (c.peer_listener.port != c.voters.at(c.node_id).port) {
    return Bad("listeners", p.at("listeners"),
               "the CONTROLLER port must be this node's port in controller.quorum.voters");
  }
  c.advertised_listener = c.client_listener;
  if (!p.at("advertised.listeners").empty()) {
    auto advertised =
        Listeners("advertised.listeners", p.at("advertised.listeners"), /*allow_zero=*/false);
    if (!advertised.ok()) return advertised.status();
    if (!advertised->contains("PLAINTEXT")) {
      return Bad("advertised.listeners", p.at("advertised.listeners"),
                 "needs a PLAINTEXT listener");
    }
    c.advertised_listener = advertised->at("PLAINTEXT");
  }
  c.data_directory = p.at("log.dirs");
  if (c.data_directory.empty() || c.data_directory.find(',') != std::string::npos) {
    return Bad("log.dirs", c.data_directory, "exactly one directory is supported");
  }
  c.rack = p.at("broker.rack");
  auto partitions = Integer(p, "num.partitions", 1, 100000);
  if (!partitions.ok()) return partitions.status();
  c.num_partitions = static_cast<int32_t>(*partitions);
  auto replication = Integer(p, "default.replication.factor", 1, 7);
  if (!replication.ok()) return replication.status();
  c.default_replication_factor = static_cast<int16_t>(*replication);
  auto auto_create = Boolean(p, "auto.create.topics.enable");
  if (!auto_create.ok()) return auto_create.status();
  c.auto_create_topics = *auto_create;
  auto expiration = Integer(p, "producer.id.expiration.ms", 1, INT64_MAX / 4);
  if (!expiration.ok()) return expiration.status();
  c.producer_id_expiration_ms = *expiration;
  if (absl::Status s = GroupSettings(p, &c); !s.ok()) return s;
  return c;
}

}  // namespace eddy::eddyd
