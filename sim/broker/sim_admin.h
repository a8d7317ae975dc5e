// SimAdmin: the broker simulation's operator. While producers write, it creates topics, adds
// partitions, deletes the topics it created (never the initial ones) through the Kafka admin
// APIs of random brokers, and asks random brokers to hand their leaderships away (what eddyd
// does on SIGTERM). The Topology follows what the brokers confirmed; an unanswered call is
// retried later, and a topic whose deletion was confirmed is checked at the end: no broker may
// list it or host its partitions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "core/base/random.h"
#include "core/base/units.h"
#include "sim/broker/topology.h"
#include "sim/runtime/sim_world.h"

namespace eddy::sim::broker {

struct AdminStats {
  uint64_t topics_created = 0;
  uint64_t topics_deleted = 0;
  uint64_t partitions_added = 0;
  uint64_t leadership_transfers = 0;
  uint64_t calls_failed = 0;
};

class SimAdmin {
 public:
  // Asks one live broker (chosen with `random`) to hand its leaderships away.
  using TransferFn = std::function<void(Random& random)>;

  // `topology` and `checker` outlive the admin; the checker hears of every confirmed deletion.
  SimAdmin(SimWorld& world, Topology& topology, DataChecker& checker, Duration interval_mean,
           TransferFn transfer, AdminStats& stats);
  void Start();
  void Stop() { stopped_ = true; }

 private:
  void Tick();
  void CreateTopic();
  void AddPartitions();
  void DeleteTopic();
  runtime::NodeId AnyBroker();
  clients::BrokerConnection& ConnectionTo(runtime::NodeId broker);

  SimWorld& world_;
  SimClient& client_;
  Topology& topology_;
  DataChecker& checker_;
  const Duration interval_mean_;
  TransferFn transfer_;
  AdminStats& stats_;
  std::map<runtime::NodeId, std::unique_ptr<clients::BrokerConnection>> connections_;
  // Topics this admin created or tried to (and may delete), with their partition counts.
  std::map<std::string, int32_t> created_;
  int next_topic_ = 0;
  bool busy_ = false;  // one call at a time
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::sim::broker
