// BrokerSim: whole brokers (core/broker) in the simulated world under the swarm fault set, with
// Kafka clients producing and, at the end, consuming everything back — a first broker mode for
// eddy-sim (issue 10, "Whole-cluster simulation").
//
// THE RUN. N brokers (every one a metadata voter) start; an admin client creates the topics
// through broker 1; producers send batches of unique values (acks=all or acks=1) to the
// partitions' leaders as Metadata tells them, refreshing on errors, while an operator (SimAdmin)
// creates topics, adds partitions, deletes the topics it created and has brokers hand their
// leaderships away; the fault injector drives
// network, disk, clock and process faults through its phases (a minority's disks may be
// damaged); then everything heals and a consumer reads every partition from offset 0 up to its
// high watermark on the leader.
//
// THE CHECKS (a violation ends the run, named):
//   * every ACKNOWLEDGED batch is read back at the offsets it was acknowledged with, with the
//     values it carried (no acknowledged record lost or changed);
//   * every value is read at most once (a plain producer never resends a batch, and an
//     idempotent one's resends must be deduplicated: any duplicate is the broker's), and every
//     value read was produced;
//   * an idempotent producer's records of a partition are read in the order it produced them;
//   * no broker's producer table met a duplicate, a gap or a stale epoch when applying (the
//     leaders admitted only batches in sequence);
//   * Kafka offsets are dense from the log start, batch after batch;
//   * a consumer never sees a high watermark go back, nor records above it;
//   * after healing, every acknowledged record is readable within the liveness bound;
//   * after healing, the metadata converges: every broker's image the same, no deleted topic
//     listed, and every broker hosting exactly the replicas its image places on it;
//   * consumer groups (sim_groups.h, group_checker.h), whose members join, leave, crash and
//     restart (a static member bounces) over the first two topics, processing and then
//     committing: within a generation no partition has two owners; an OffsetFetch never
//     returns less than an acknowledged commit (no stale generation's commit, no offsets lost
//     on a coordinator failover); after healing every group commits up to the acknowledged
//     end within the liveness bound, and every acknowledged record below its committed offset
//     was processed by the group.
//
// DETERMINISM: everything comes from the seed; the same seed gives the same trace hash.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/base/units.h"
#include "core/broker/broker.h"
#include "raft/driver/driver_options.h"

namespace eddy::sim::broker {

struct BrokerSimOptions {
  uint64_t seed = 1;
  int brokers = 3;
  int topics = 3;
  int partitions_per_topic = 4;
  int producers = 3;
  // Of which idempotent (InitProducerId, retries with the same sequences); the rest plain.
  int idempotent_producers = 2;
  // Consumer groups of SimGroups::kMembersPerGroup members each, over the first two topics.
  int groups = 2;
  // The operator (SimAdmin) acts about this often: topic creations, partition growth,
  // deletions of the topics it created, leadership hand-overs. Zero: no operator.
  Duration admin_interval_mean = Duration::Seconds(2);
  // Batches per simulated second, over all producers.
  int batches_per_second = 100;
  // Producing (and faults) last this long; then healing and the final read.
  Duration duration = Duration::Seconds(30);
  // After healing, every acknowledged record must be readable within this.
  Duration liveness_bound = Duration::Seconds(300);
  bool faults = true;
  // TEST ONLY: bugs planted in every broker, or in their replicas' drivers, to show the checks
  // catch them.
  eddy::broker::BrokerBug planted_bug = eddy::broker::BrokerBug::kNone;
  raft::driver::DriverBug driver_bug = raft::driver::DriverBug::kNone;
};

struct BrokerSimResult {
  bool ok = true;
  std::string violation;  // what broke, when !ok
  std::string profile;    // the fault profile
  uint64_t trace_hash = 0;
  uint64_t produce_requests = 0;
  uint64_t acked_batches = 0;
  uint64_t acked_records = 0;
  uint64_t failed_batches = 0;  // answered with an error or lost with a connection
  uint64_t records_read = 0;
  uint64_t retried_batches = 0;     // idempotent resends
  uint64_t idempotent_duplicates = 0;  // resends the brokers answered from their tables
  std::string idempotent_errors;       // code:count of idempotent failures (-100: no reply)
  uint64_t topics_created = 0;         // by the operator, during the run
  uint64_t topics_deleted = 0;
  uint64_t partitions_added = 0;
  uint64_t leadership_transfers = 0;
  uint64_t group_members_started = 0;
  uint64_t group_records_processed = 0;
  uint64_t group_commits_acked = 0;
  uint64_t group_assignments = 0;
  uint64_t group_fetches_checked = 0;
  double simulated_seconds = 0;
  std::map<std::string, uint64_t> coverage;
};

BrokerSimResult RunBrokerSim(const BrokerSimOptions& options);

}  // namespace eddy::sim::broker
