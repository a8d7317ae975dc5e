// Broker: one Eddy broker on the runtime seam — its node's replication engine (NodeDriver)
// hosting the metadata group's replica and its partitions' replicas, the Kafka front end
// (KafkaListener), and, while its metadata replica leads, the controller (ControllerService).
//
// METADATA. Every broker of this version is a voter of the metadata group (the controllers are
// BrokerOptions::controllers, which must list every broker: learners for other brokers come
// later). The broker keeps a mirror of the metadata image, fed by the metadata machine's
// observer (the machine is rebuilt on every reopen of the replica; the mirror applies the same
// records and must reach the same verdicts — checked loudly). The mirror never goes back: a
// reopened replica's restore and replay of what the mirror holds are ignored. From the mirror it RECONCILES its
// partition replicas: every partition the image places on it is added (its Raft group's voters
// are the partition's replicas), every one it no longer does is removed with its files.
//
// JOINING. On start the broker registers (a fresh random incarnation, its listener address and
// rack) with the controller, and once its own metadata replica has applied that registration —
// it has caught up with the metadata log — asks to be unfenced. Only unfenced brokers are
// given new partitions and listed in Metadata responses.
//
// CONTROLLER CALLS go to the metadata group's leader: handled here if this replica leads, else
// sent to the leader's node as owner messages (raft/driver/node_driver.h) and retried every
// kCallRetryInterval until their deadline (messages may be lost; the leader may move).
//
// THE CLUSTER ID is drawn by the first broker whose metadata replica leads while the image has
// none; the image keeps the first one committed.
//
// KAFKA APIS so far: ApiVersions (the listener), Metadata, CreateTopics, DeleteTopics,
// CreatePartitions, DescribeConfigs, AlterConfigs, IncrementalAlterConfigs (SET and DELETE), Produce
// (v3+: acks=all and acks=1 answered once the batch is committed by a quorum and durable here —
// acks=1 is thus answered later than Kafka would; acks=0 not at all) and Fetch (v4+: from the
// leader, up to the high watermark, long-polled on the high watermark, sessionless) and
// ListOffsets v1-v6 (earliest, latest, by timestamp at batch granularity) and
// OffsetForLeaderEpoch (leader epochs are Raft terms; ends of committed terms), and
// InitProducerId (idempotent producers; transactional ids are refused with INVALID_REQUEST),
// and consumer groups (group_handlers.cc, core/group/README.md): FindCoordinator v0-5,
// JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit v0-8, OffsetFetch v0-8,
// DescribeGroups, ListGroups, DeleteGroups, OffsetDelete.
//
// CONSUMER GROUPS: the coordinator of a group is the leader of its __consumer_offsets
// partition, once ready (its term's no-op applied); those replicas host a GroupStateMachine
// instead of the producer table, and the coordinator's shard of the partition is loaded from
// it at the first use in each term (Coordinates). Its writes go through ProduceBatch like any
// produced batch (WriteGroupRecords). Clients may not produce to the topic.
//
// IDEMPOTENT PRODUCE (core/producer/README.md): every partition replica hosts a
// ProducerStateMachine (its producer table, rebuilt from snapshots and the log). A leader
// admits a batch with a producer id only once it has applied its term's no-op, through the
// partition's ProducerSequencer (the table plus this term's batches in flight): a duplicate of
// one of the producer's last 5 batches is answered with its original offsets (once visible, or
// once the batch in flight it repeats is), a gap with OUT_OF_ORDER_SEQUENCE_NUMBER, a stale
// epoch with INVALID_PRODUCER_EPOCH; a leader not yet ready answers NOT_LEADER_OR_FOLLOWER.
//
// PRODUCER IDS: InitProducerId takes the next id of this broker's block; a new block of
// kProducerIdBlockSize ids is asked of the controller (an AllocateProducerIds record) when it
// runs out, and after every start (a block is never reused by a later incarnation).
//
// LOOP AFFINITY: the runtime's loop. OWNERSHIP: the runtime outlives the broker; destroying it
// (a crash) drops everything in flight.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/broker/broker_rpc.pb.h"
#include "core/broker/controller_service.h"
#include "core/broker/handler_support.h"
#include "core/broker/isr_tracker.h"
#include "core/broker/leadership_directory.h"
#include "core/broker/kafka_listener.h"
#include "core/controller/metadata_image.h"
#include "core/controller/metadata_machine.h"
#include "core/controller/topic_planner.h"
#include "core/group/group_coordinator.h"
#include "core/group/group_state_machine.h"
#include "core/group/offsets_topic.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/list_offsets.h"
#include "core/producer/producer_sequencer.h"
#include "core/producer/producer_state_machine.h"
#include "core/runtime/connector.h"
#include "core/runtime/runtime.h"
#include "raft/driver/group_listener.h"
#include "raft/driver/node_driver.h"

namespace eddy::broker {

// Classic broker bugs, planted behind this test-only switch so the simulator's checkers can be
// shown to catch them (sim/broker). kNone is the only production value.
enum class BrokerBug {
  kNone,
  // Produce answered as soon as the batch is proposed, with the offset the leader expects it to
  // get: before it is committed, so a leader change can lose or move it.
  kAckBeforeCommit,
  // A new leader admits idempotent batches against an empty producer table (only what it
  // admitted itself in its term): the state earlier leaders built is forgotten.
  kForgetProducerStateOnLeaderChange,
  // The group coordinator's planted bugs (group::GroupBug): a stale generation's commit
  // accepted; a partition assigned to two members; offsets lost on a coordinator failover.
  kAcceptStaleCommit,
  kDoubleAssign,
  kLoseOffsetsOnFailover,
};
const char* BrokerBugName(BrokerBug bug);
// Parses a BrokerBugName; false if unknown.
bool ParseBrokerBug(const std::string& name, BrokerBug* bug);

struct BrokerOptions {
  // The metadata group's voters: every broker of the cluster (see METADATA).
  std::vector<runtime::NodeId> controllers;
  // This broker's Kafka listener as clients reach it.
  runtime::Address advertised;
  std::string rack;
  controller::TopicDefaults topic_defaults;
  // auto.create.topics.enable: Metadata naming an unknown topic creates it with the defaults.
  bool auto_create_topics = true;
  // Broker-level defaults of topic configs, by their broker names (log.retention.ms,
  // message.max.bytes, ...: controller/topic_config.h), under every topic's own values. The
  // owner validates them (controller::ValidateBrokerConfig) before building the broker.
  std::map<std::string, std::string> topic_config_defaults;
  // producer.id.expiration.ms: an idempotent producer idle this long (by its partition's clock,
  // core/producer/producer_table.h) is forgotten there.
  int64_t producer_id_expiration_ms = producer::ProducerTable::kDefaultExpirationMs;
  // Consumer groups (core/group/README.md): the coordinator's settings, and the shape
  // __consumer_offsets is created with on the first FindCoordinator
  // (offsets.topic.num.partitions; offsets.topic.replication.factor, capped at the cluster's
  // size).
  group::CoordinatorOptions group_coordinator;
  int32_t offsets_topic_partitions = 50;
  int32_t offsets_topic_replication_factor = 3;
  raft::driver::NodeOptions node;
  // Replication settings of every replica this broker hosts (timeouts, log options).
  raft::driver::GroupOptions group_template;
  // TEST ONLY: a planted bug (see BrokerBug).
  BrokerBug planted_bug = BrokerBug::kNone;
};

struct BrokerStats {
  uint64_t controller_calls_sent = 0;
  uint64_t controller_calls_retried = 0;
  uint64_t controller_calls_timed_out = 0;
  uint64_t rpc_malformed = 0;
  uint64_t replicas_added = 0;
  uint64_t replicas_removed = 0;
  uint64_t registrations = 0;
  uint64_t producer_id_blocks = 0;
  uint64_t idempotent_duplicates = 0;  // retries answered with their original offsets
  uint64_t idempotent_out_of_order = 0;
  uint64_t idempotent_stale_epochs = 0;
  uint64_t idempotent_not_ready = 0;   // a new leader asked before its no-op was applied
  uint64_t hints_sent = 0;
  uint64_t hints_received = 0;
  uint64_t not_enough_replicas = 0;    // acks=all refused: the ISR below min.insync.replicas
  uint64_t internal_topic_produce_refused = 0;
};

class Broker final : public RequestHandler,
                     public controller::MetadataObserver,
                     public raft::driver::DriverObserver {
 public:
  static constexpr Duration kCallRetryInterval = Duration::Milliseconds(500);
  static constexpr Duration kJoinCallDeadline = Duration::Seconds(3600 * 24 * 365);
  static constexpr int64_t kProducerIdBlockSize = 1000;
  // How often leaders sample their ISR and announce their leaderships to every broker.
  static constexpr Duration kAnnounceInterval = Duration::Milliseconds(500);
  static constexpr size_t kHintsPerMessageMax = 1000;
  static constexpr Duration kProducerIdCallTimeout = Duration::Seconds(10);

  Broker(runtime::Runtime& runtime, BrokerOptions options);
  ~Broker() override;
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Opens the metadata replica, starts the node and the listener, and begins joining.
  void Start();

  // Graceful shutdown, step one (call it repeatedly until it returns 0, within a bound): asks
  // every group this broker leads that has another voter to hand its leadership to one, and
  // returns how many such groups it still leads. Clients then find the new leaders at once
  // instead of after an election timeout. Safe to call at any time.
  size_t TransferLeadershipAway();

  // --- observers (tests, the simulator's checkers) ---
  runtime::NodeId id() const { return runtime_.self(); }
  const controller::MetadataImage& image() const { return image_; }
  uint64_t incarnation() const { return incarnation_; }
  // Registered with this process's incarnation and unfenced, as this broker's image says.
  bool joined() const;
  bool leads_metadata() const;
  raft::driver::NodeDriver& node() { return *node_; }
  const BrokerStats& stats() const { return stats_; }
  const ListenerStats& listener_stats() const { return listener_->stats(); }
  const ControllerStats& controller_stats() const { return controller_.stats(); }
  // Over every partition machine this broker has hosted, this process.
  const producer::ProducerStateStats& producer_state_stats() const {
    return producer_state_stats_;
  }
  const group::GroupCoordinator& coordinator() const { return *coordinator_; }
  const group::GroupStateStats& group_state_stats() const { return group_state_stats_; }

  // --- RequestHandler ---
  bool Implements(int16_t api_key) const override;
  int16_t MinVersion(int16_t api_key) const override;
  int16_t MaxVersion(int16_t api_key) const override;
  void Handle(runtime::ConnectionId connection, const kafka::RequestFrame& frame,
              Respond respond) override;

  // --- MetadataObserver ---
  void OnRecord(const controller::MetadataImage& image, int64_t offset,
                const controller::MetadataRecord& record, const absl::Status& outcome) override;
  void OnRestored(const controller::MetadataImage& image, int64_t offset) override;

  // --- DriverObserver ---
  void OnSoftState(raft::NodeId replica, raft::driver::GroupId group,
                   const raft::SoftState& soft) override;

 private:
  using CallDone = absl::AnyInvocable<void(ControllerAnswer) &&>;
  struct PendingCall {
    ControllerCall call;
    Instant deadline;
    CallDone done;
  };

  raft::driver::GroupOptions GroupOptionsFor(raft::driver::GroupId group,
                                             const std::vector<controller::BrokerId>& replicas);
  raft::driver::GroupDriver* MetadataDriver();
  // The node of the metadata group's leader as this broker knows it; kNoNode if unknown.
  runtime::NodeId MetadataLeader() const;

  // Controller calls (see CONTROLLER CALLS).
  void CallController(ControllerCall call, Duration timeout, CallDone done);
  void SendCall(uint64_t call_id);
  void OnOwnerMessage(runtime::NodeId from, std::string payload);
  void Answer(runtime::NodeId to, uint64_t call_id, ControllerAnswer answer);
  void FinishCall(uint64_t call_id, ControllerAnswer answer);

  // Joining (see JOINING).
  void Register();
  void MaybeUnfence();
  // The first controller leader names the cluster (Kafka's 22-character base64 of 16 random
  // bytes); set once, by whichever proposal commits first.
  void MaybeNameCluster();

  // Leaderships (leadership_directory.h): every kAnnounceInterval (and soon after a group
  // becomes ready here) each group this broker leads samples its ISR and is announced to every
  // other broker.
  void ScheduleAnnounce(Duration after);
  void Announce();
  void LearnHints(const LeadershipHints& hints);
  // The ISR of a group this broker leads and serves (ready), by broker; empty otherwise.
  std::vector<int32_t> LocalIsr(raft::driver::GroupId group);
  // Who leads `group` and who is in sync, as this broker knows it (its own replica, or the
  // leader's announcement); std::nullopt if it does not know.
  std::optional<Leadership> LeadershipOf(raft::driver::GroupId group);

  // Replicas the image places here, added; those it no longer does, removed.
  void ScheduleReconcile();
  void Reconcile();

  // Kafka handlers (broker_handlers.cc).
  void HandleMetadata(const kafka::RequestFrame& frame, Respond respond);
  void HandleCreateTopics(const kafka::RequestFrame& frame, Respond respond);
  void HandleDeleteTopics(const kafka::RequestFrame& frame, Respond respond);
  // The admin APIs (admin_handlers.cc).
  void HandleCreatePartitions(const kafka::RequestFrame& frame, Respond respond);
  void HandleDescribeConfigs(const kafka::RequestFrame& frame, Respond respond);
  void HandleAlterConfigs(const kafka::RequestFrame& frame, Respond respond);
  void HandleIncrementalAlterConfigs(const kafka::RequestFrame& frame, Respond respond);
  template <typename Response>
  void AlterTopicConfigs(std::shared_ptr<internal::Gather<Response>> gather, size_t i,
                         const std::string& topic, std::map<std::string, std::string> set,
                         std::vector<std::string> remove, bool incremental, bool validate_only);
  // Asks the controller to create `name` with the defaults (auto.create.topics.enable).
  void AutoCreate(const std::string& name);
  // InitProducerId (producer_handlers.cc): `done` gets the next id of this broker's block.
  using ProducerIdDone = absl::AnyInvocable<void(kafka::ErrorCode, int64_t producer_id) &&>;
  void HandleInitProducerId(const kafka::RequestFrame& frame, Respond respond);
  void NextProducerId(ProducerIdDone done);
  // Consumer groups (group_handlers.cc): the coordinator of the groups whose
  // __consumer_offsets partition this broker leads.
  void HandleFindCoordinator(const kafka::RequestFrame& frame, Respond respond);
  void HandleJoinGroup(const kafka::RequestFrame& frame, Respond respond);
  void HandleSyncGroup(const kafka::RequestFrame& frame, Respond respond);
  void HandleHeartbeat(const kafka::RequestFrame& frame, Respond respond);
  void HandleLeaveGroup(const kafka::RequestFrame& frame, Respond respond);
  void HandleOffsetCommit(const kafka::RequestFrame& frame, Respond respond);
  void HandleOffsetFetch(const kafka::RequestFrame& frame, Respond respond);
  void HandleDescribeGroups(const kafka::RequestFrame& frame, Respond respond);
  void HandleListGroups(const kafka::RequestFrame& frame, Respond respond);
  void HandleDeleteGroups(const kafka::RequestFrame& frame, Respond respond);
  void HandleOffsetDelete(const kafka::RequestFrame& frame, Respond respond);
  // Whether this broker coordinates `group_id` now: kNone and its offsets partition, or
  // COORDINATOR_NOT_AVAILABLE (no offsets topic yet: it is being created),
  // NOT_COORDINATOR (another broker leads the partition) or COORDINATOR_LOAD_IN_PROGRESS.
  kafka::ErrorCode Coordinates(const std::string& group_id, int32_t* partition);
  // The leader of the group's offsets partition, as this broker knows it.
  kafka::ErrorCode FindCoordinatorOf(const std::string& group_id, int32_t* node);
  void CreateOffsetsTopic();
  // Builds the coordinator and its GroupLog (from the constructor).
  void MakeCoordinator();
  // An offsets partition replica became ready as leader, or stopped leading: its shard of
  // the coordinator is loaded or unloaded (posted, so never inside the driver).
  void SyncCoordinatorShard(raft::driver::GroupId group);
  // The coordinator's writes and reads (group::GroupLog), on this broker's replicas.
  class GroupLogAdapter;
  friend class GroupLogAdapter;
  void WriteGroupRecords(int32_t partition, uint64_t term, std::vector<uint8_t> batch,
                         group::GroupLog::WriteDone done);
  const group::GroupStore* GroupStoreOf(int32_t partition);
  // Produce and Fetch (data_handlers.cc).
  void HandleProduce(const kafka::RequestFrame& frame, Respond respond);
  // What one produced batch came to: its Kafka offsets [first, end) once visible, or an error.
  struct BatchOutcome {
    kafka::ErrorCode error = kafka::ErrorCode::kNone;
    int64_t first = -1;
    int64_t end = -1;
  };
  using BatchDone = absl::AnyInvocable<void(BatchOutcome) &&>;
  using ProposalDone = absl::AnyInvocable<void(absl::StatusOr<raft::EntryMeta>) &&>;
  // Writes one validated batch to the partition `g` leads (see IDEMPOTENT PRODUCE).
  void ProduceBatch(raft::driver::GroupId group, raft::driver::GroupDriver* g,
                    std::vector<uint8_t> batch, BatchDone done);
  void ProduceIdempotent(raft::driver::GroupId group, raft::driver::GroupDriver* g,
                         std::vector<uint8_t> batch, const producer::BatchIdentity& identity,
                         BatchDone done);
  // A proposal's acknowledgement, turned into an outcome once the batch is visible.
  void OnProposed(raft::driver::GroupId group, absl::StatusOr<raft::EntryMeta> meta,
                  BatchDone done);
  // Planted bug kForgetProducerStateOnLeaderChange: an admitted batch, into the term's table.
  void RecordForgetful(raft::driver::GroupId group, const producer::BatchIdentity& identity,
                       const raft::EntryMeta& meta);
  // A removed replica's idempotence state goes; answers waiting on its batches fail.
  void ForgetIdempotence(raft::driver::GroupId group);
  void HandleFetch(const kafka::RequestFrame& frame, Respond respond);
  void HandleListOffsets(const kafka::RequestFrame& frame, Respond respond);
  void HandleOffsetForLeaderEpoch(const kafka::RequestFrame& frame, Respond respond);
  // ListOffsets by time: the first record of the batch at `batch_offset` whose timestamp is at
  // least `timestamp_ms`, with that timestamp, into `out`.
  void FindRecordAtTime(
      raft::driver::GroupDriver* g, int64_t batch_offset, int64_t timestamp_ms,
      kafka::ListOffsetsResponse::ListOffsetsTopicResponse::ListOffsetsPartitionResponse* out,
      std::shared_ptr<internal::Gather<kafka::ListOffsetsResponse>> gather);
  struct FetchState;
  struct FetchRead;
  struct FetchRound;
  void RunFetch(std::shared_ptr<FetchState> state);
  void OnFetchRound(std::shared_ptr<FetchState> state, std::shared_ptr<FetchRound> round);
  std::string FetchTopicName(const kafka::FetchRequest::FetchTopic& topic, int16_t version) const;
  // A partition's high watermark moved, or its leadership changed: waiting fetches read again,
  // and acknowledgements waiting for visibility are checked.
  void OnPartitionAdvanced(raft::driver::GroupId group);
  // Runs done(true) once the partition's high watermark reaches `kafka_end`, done(false) if its
  // replica goes away first. A Produce is answered only then, as Kafka answers acks=all once
  // the high watermark passed the batch: a client told "written" can at once read it and see
  // it in ListOffsets. (A proposal is acknowledged when applied, which may precede the save of
  // the commit offset the high watermark is taken from.)
  void WhenVisible(raft::driver::GroupId group, int64_t kafka_end,
                   absl::AnyInvocable<void(bool visible) &&> done);
  void ResolveVisibility(raft::driver::GroupId group);
  // The replica of `topic`/`partition` if this broker leads it; else nullptr and why.
  raft::driver::GroupDriver* LeaderReplica(const std::string& topic, int32_t partition,
                                           kafka::ErrorCode* error);

  // Each partition replica's events (group_listener.h), posted to the broker.
  struct PartitionListener final : raft::driver::GroupListener {
    PartitionListener(Broker& b, raft::driver::GroupId g) : broker(b), group(g) {}
    void OnHighWatermark(int64_t) override { Wake(); }
    void OnLeadership(const raft::SoftState&) override {
      Wake();
      if (offsets) broker.SyncCoordinatorShard(group);
    }
    void OnReadyToServe(raft::Term term) override {
      broker.idempotence_[group].ready_term = term;
      broker.ScheduleAnnounce(Duration::Milliseconds(20));  // tell the others soon
      if (offsets) broker.SyncCoordinatorShard(group);
    }
    void Wake() {
      broker.runtime_.clock().Post([b = &broker, alive = broker.alive_, g = group] {
        if (*alive) b->OnPartitionAdvanced(g);
      });
    }
    Broker& broker;
    raft::driver::GroupId group;
    bool offsets = false;  // a partition of __consumer_offsets
  };

  runtime::Runtime& runtime_;
  const BrokerOptions options_;
  const uint64_t incarnation_;
  // The metadata replica's events: the controller serves only once its leader is ready.
  struct MetadataListener final : raft::driver::GroupListener {
    explicit MetadataListener(ControllerService& c) : controller(c) {}
    void OnLeadership(const raft::SoftState& soft) override {
      if (soft.role != raft::Role::kLeader) controller.SetReady(false);
    }
    void OnReadyToServe(raft::Term) override { controller.SetReady(true); }
    void OnStopped(const absl::Status&) override { controller.SetReady(false); }
    void OnHalted(const absl::Status&) override { controller.SetReady(false); }
    ControllerService& controller;
  };

  std::unique_ptr<raft::driver::NodeDriver> node_;
  std::unique_ptr<KafkaListener> listener_;
  ControllerService controller_;
  MetadataListener metadata_listener_{controller_};
  controller::MetadataImage image_;
  // The Raft offset of the metadata log the mirror reflects: it only moves forward.
  int64_t mirror_offset_ = raft::kNoOffset;
  std::map<raft::driver::GroupId, raft::SoftState> soft_states_;
  std::map<uint64_t, PendingCall> calls_;
  uint64_t next_call_id_ = 1;
  bool registering_ = false;
  bool unfencing_ = false;
  bool naming_cluster_ = false;
  std::set<std::string> auto_creating_;  // auto-creations asked of the controller, unanswered
  bool reconcile_posted_ = false;
  std::set<raft::driver::GroupId> removing_;
  std::map<raft::driver::GroupId, std::unique_ptr<PartitionListener>> partition_listeners_;
  std::map<raft::driver::GroupId, std::vector<std::weak_ptr<FetchState>>> fetch_waiters_;
  struct VisibilityWaiter {
    int64_t kafka_end = 0;  // visible once the high watermark reaches it
    absl::AnyInvocable<void(bool visible) &&> done;
  };
  std::map<raft::driver::GroupId, std::vector<VisibilityWaiter>> visibility_waiters_;
  // Per partition replica: the term whose no-op it applied as leader, and the admission of
  // idempotent batches with the answers waiting on a batch in flight (by its ticket).
  struct Idempotence {
    raft::Term ready_term = 0;
    producer::ProducerSequencer sequencer;
    std::map<uint64_t, std::vector<ProposalDone>> repeats;
    // Planted bug kForgetProducerStateOnLeaderChange: the table of this term's own batches.
    raft::Term forgetful_term = 0;
    producer::ProducerTable forgetful_table;
  };
  std::map<raft::driver::GroupId, Idempotence> idempotence_;
  producer::ProducerStateStats producer_state_stats_;
  group::GroupStateStats group_state_stats_;
  // The __consumer_offsets partitions hosted here: Raft group -> partition index.
  std::map<raft::driver::GroupId, int32_t> offsets_partitions_;
  std::unique_ptr<group::GroupLog> group_log_;
  std::unique_ptr<group::GroupCoordinator> coordinator_;
  bool creating_offsets_topic_ = false;
  LeadershipDirectory directory_;
  struct Led {
    raft::Term term = 0;
    IsrTracker isr;
  };
  std::map<raft::driver::GroupId, Led> led_;  // groups led here, with their ISR
  runtime::TimerId announce_timer_ = runtime::kNoTimer;
  bool announce_soon_ = false;
  controller::ProducerIdRange producer_ids_;  // what is left of this process's block
  std::vector<ProducerIdDone> producer_id_waiters_;
  bool allocating_producer_ids_ = false;
  BrokerStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::broker
