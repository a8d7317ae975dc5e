// eddyd: the Eddy broker daemon. Loads its configuration (config.h), prepares the data directory
// (data_dir.h), builds the real runtime (net/runtime) and runs one Broker on it until SIGTERM or
// SIGINT.
//
//   eddyd                       dev mode: one node on 127.0.0.1:9092, data in /tmp/eddy-data
//   eddyd --dev                 the same
//   eddyd --config FILE         a server.properties-style file (Kafka's key names)
//   --override key=value        after the file and the EDDY_* environment (repeatable)
//   --log-format=text|json
//
// SHUTDOWN: on SIGTERM or SIGINT the broker hands the leadership of its partitions (and of the
// metadata group) to other replicas, for at most 5 s, then is destroyed and the process exits 0
// (a second signal stops it at once). Every acknowledged batch was already synced on a quorum
// before its answer, so nothing acknowledged depends on the shutdown path; a restart recovers
// exactly as after SIGKILL.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/broker/broker.h"
#include "eddyd/config.h"
#include "eddyd/data_dir.h"
#include "eddyd/event_log.h"
#include "net/loop/asio_loop.h"
#include "net/loop/signal_watch.h"
#include "net/runtime/asio_runtime.h"

extern char** environ;

namespace eddy::eddyd {
namespace {

// How long a SIGTERM waits for leadership to move before the broker stops anyway.
constexpr Duration kHandOverBound = Duration::Seconds(5);

constexpr char kUsage[] =
    "usage: eddyd [--dev] [--config FILE] [--override key=value]... [--log-format=text|json]\n"
    "With no --config, runs one node on 127.0.0.1:9092 with data in /tmp/eddy-data.\n"
    "EDDY_<KEY> environment variables (EDDY_NODE_ID for node.id) override the file;\n"
    "--override overrides both.\n";

struct Arguments {
  std::optional<std::string> config_file;
  std::map<std::string, std::string> overrides;
  LogFormat log_format = LogFormat::kText;
};

absl::StatusOr<Arguments> ParseArguments(int argc, char** argv) {
  Arguments out;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](absl::string_view flag) -> absl::StatusOr<std::string> {
      if (absl::StartsWith(arg, absl::StrCat(flag, "="))) return arg.substr(flag.size() + 1);
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value"));
      return std::string(argv[++i]);
    };
    if (arg == "--dev") continue;
    if (arg == "--help" || arg == "-h") return absl::CancelledError(kUsage);
    if (arg == "--config" || absl::StartsWith(arg, "--config=")) {
      auto v = value("--config");
      if (!v.ok()) return v.status();
      out.config_file = *v;
    } else if (arg == "--override" || absl::StartsWith(arg, "--override=")) {
      auto v = value("--override");
      if (!v.ok()) return v.status();
      const size_t equals = v->find('=');
      if (equals == std::string::npos || equals == 0) {
        return absl::InvalidArgumentError(absl::StrCat("--override ", *v, ": expected key=value"));
      }
      out.overrides[v->substr(0, equals)] = v->substr(equals + 1);
    } else if (arg == "--log-format" || absl::StartsWith(arg, "--log-format=")) {
      auto v = value("--log-format");
      if (!v.ok()) return v.status();
      if (*v != "text" && *v != "json") {
        return absl::InvalidArgumentError("--log-format must be text or json");
      }
      out.log_format = *v == "json" ? LogFormat::kJson : LogFormat::kText;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument ", arg, "\n", kUsage));
    }
  }
  return out;
}

absl::StatusOr<Config> LoadConfig(const Arguments& arguments) {
  std::vector<std::map<std::string, std::string>> layers;
  if (arguments.config_file.has_value()) {
    std::ifstream in(*arguments.config_file);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", *arguments.config_file));
    std::stringstream text;
    text << in.rdbuf();
    auto file = ParseProperties(text.str());
    if (!file.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(*arguments.config_file, ": ", file.status().message()));
    }
    layers.push_back(std::move(*file));
  }
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  layers.push_back(PropertiesFromEnvironment(environment));
  layers.push_back(arguments.overrides);
  return BuildConfig(layers);
}

// The transport binds both listeners on one numeric host.
absl::StatusOr<std::string> ListenHost(const Config& config) {
  auto numeric = [](const std::string& host) { return host == "localhost" ? "127.0.0.1" : host; };
  const std::string client = numeric(config.client_listener.host);
  if (client != numeric(config.peer_listener.host)) {
    return absl::InvalidArgumentError(
        "listeners: PLAINTEXT and CONTROLLER must bind the same host in this version");
  }
  return client;
}

int Run(const Arguments& arguments, EventLog& log) {
  absl::StatusOr<Config> config = LoadConfig(arguments);
  if (!config.ok()) {
    log.Log(LogLevel::kError, "config", "invalid configuration",
            {{"error", std::string(config.status().message())}});
    return 2;
  }
  absl::StatusOr<std::string> host = ListenHost(*config);
  if (!host.ok()) {
    log.Log(LogLevel::kError, "config", "invalid configuration",
            {{"error", std::string(host.status().message())}});
    return 2;
  }
  absl::StatusOr<DataDirectoryState> directory =
      PrepareDataDirectory(config->data_directory, config->node_id);
  if (!directory.ok()) {
    log.Log(LogLevel::kError, "storage", "data directory unusable",
            {{"log.dirs", config->data_directory},
             {"error", std::string(directory.status().message())}});
    return 1;
  }
  log.Log(LogLevel::kInfo, "storage",
          *directory == DataDirectoryState::kFormatted ? "data directory formatted"
                                                       : "data directory found",
          {{"log.dirs", config->data_directory}, {"node.id", absl::StrCat(config->node_id)}});

  net::AsioLoop loop;
  net::AsioRuntimeOptions options;
  options.self = config->node_id;
  options.data_directory = config->data_directory;
  options.transport.listen_host = *host;
  options.transport.client_port = static_cast<uint16_t>(config->client_listener.port);
  options.transport.peer_port = static_cast<uint16_t>(config->peer_listener.port);
  for (const auto& [id, address] : config->voters) {
    if (id != config->node_id) options.transport.peers[id] = address;
  }
  absl::StatusOr<std::unique_ptr<net::AsioRuntime>> runtime =
      net::AsioRuntime::Create(loop, std::move(options));
  if (!runtime.ok()) {
    log.Log(LogLevel::kError, "network", "cannot listen",
            {{"error", std::string(runtime.status().message())}});
    return 1;
  }
  net::TcpTransport& transport = (*runtime)->tcp_transport();

  broker::BrokerOptions broker_options;
  for (const auto& [id, address] : config->voters) broker_options.controllers.push_back(id);
  broker_options.advertised = config->advertised_listener;
  if (broker_options.advertised.port == 0) broker_options.advertised.port = transport.client_port();
  broker_options.rack = config->rack;
  broker_options.topic_defaults = {.num_partitions = config->num_partitions,
                                   .replication_factor = config->default_replication_factor};
  broker_options.auto_create_topics = config->auto_create_topics;
  broker_options.producer_id_expiration_ms = config->producer_id_expiration_ms;
  broker_options.group_coordinator = config->group_coordinator;
  broker_options.offsets_topic_partitions = config->offsets_topic_partitions;
  broker_options.offsets_topic_replication_factor = config->offsets_topic_replication_factor;
  broker_options.topic_config_defaults = config->topic_config_defaults;
  log.Log(LogLevel::kInfo, "network", "listening",
          {{"node.id", absl::StrCat(config->node_id)},
           {"kafka", absl::StrCat(*host, ":", transport.client_port())},
           {"controller", absl::StrCat(*host, ":", transport.peer_port())},
           {"advertised", absl::StrCat(broker_options.advertised.host, ":",
                                       broker_options.advertised.port)}});

  auto broker = std::make_unique<broker::Broker>(**runtime, broker_options);
  broker->Start();

  // SHUTDOWN: leadership moves to the other replicas first (bounded by kHandOverBound), so
  // clients find new leaders without waiting out an election; then the broker goes.
  std::optional<Instant> shutdown_started;
  std::function<void()> hand_over = [&] {
    if (broker == nullptr) return;
    const size_t leading = broker->TransferLeadershipAway();
    const bool bound_reached = loop.Now() - *shutdown_started > kHandOverBound;
    if (leading > 0 && !bound_reached) {
      loop.ScheduleAfter(Duration::Milliseconds(50), [&] { hand_over(); });
      return;
    }
    log.Log(bound_reached ? LogLevel::kWarn : LogLevel::kInfo, "broker", "leadership handed over",
            {{"still_leading", absl::StrCat(leading)}});
    broker.reset();
    loop.Stop();
  };
  net::SignalWatch signals(loop, {SIGTERM, SIGINT}, [&](int signal) {
    if (shutdown_started.has_value()) {
      log.Log(LogLevel::kWarn, "broker", "second signal: stopping now");
      broker.reset();
      loop.Stop();
      return;
    }
    shutdown_started = loop.Now();
    log.Log(LogLevel::kInfo, "broker", "shutting down",
            {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    hand_over();
  });
  // Reports the cluster id and readiness once each, as they happen.
  bool named = false;
  bool ready = false;
  std::function<void()> watch = [&] {
    if (broker == nullptr) return;
    if (!named && !broker->image().cluster_id().empty()) {
      named = true;
      log.Log(LogLevel::kInfo, "controller", "cluster id",
              {{"cluster.id", broker->image().cluster_id()}});
    }
    if (!ready && broker->joined()) {
      ready = true;
      log.Log(LogLevel::kInfo, "broker", "ready",
              {{"node.id", absl::StrCat(config->node_id)},
               {"bootstrap.servers", absl::StrCat(broker_options.advertised.host, ":",
                                                  broker_options.advertised.port)}});
    }
    if (!named || !ready) loop.ScheduleAfter(Duration::Milliseconds(50), [&] { watch(); });
  };
  watch();
  loop.Run();
  log.Log(LogLevel::kInfo, "broker", "stopped");
  return 0;
}

}  // namespace
}  // namespace eddy::eddyd

int main(int argc, char** argv) {
  using namespace eddy::eddyd;
  absl::StatusOr<Arguments> arguments = ParseArguments(argc, argv);
  if (!arguments.ok()) {
    const bool help = absl::IsCancelled(arguments.status());
    std::fprintf(help ? stdout : stderr, "%s%s", std::string(arguments.status().message()).c_str(),
                 help ? "" : "\n");
    return help ? 0 : 2;
  }
  EventLog log(arguments->log_format);
  return Run(*arguments, log);
}
