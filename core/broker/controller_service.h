// ControllerService: the controller's work on the metadata group's leader. A ControllerCall —
// from this broker or forwarded by another — is planned against the leader's image
// (core/controller/topic_planner.h), written as one record to the metadata log, and answered
// with the record's outcome once it is applied here (the image may still refuse it: a race with
// another proposal in flight).
//
// Answers: NOT_CONTROLLER when this replica is not the leader (the caller asks the new one);
// REQUEST_TIMED_OUT when the proposal's outcome is unknown (the replica stopped; the caller's
// retry is planned afresh, and finds the topic created if it was); otherwise the planner's or
// the image's verdict in Kafka's codes.
//
// LOOP AFFINITY: the runtime's loop. OWNERSHIP: the metadata replica's driver is looked up per
// call (it is rebuilt on every reopen); the runtime outlives the service.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "core/broker/broker_rpc.pb.h"
#include "core/controller/metadata_image.h"
#include "core/controller/topic_planner.h"
#include "core/runtime/runtime.h"
#include "raft/driver/group_driver.h"

namespace eddy::broker {

struct ControllerStats {
  uint64_t calls = 0;
  uint64_t not_controller = 0;
  uint64_t proposed = 0;
  uint64_t refused_by_plan = 0;
  uint64_t refused_by_image = 0;
  uint64_t outcome_unknown = 0;
};

class ControllerService {
 public:
  using Answer = absl::AnyInvocable<void(ControllerAnswer) &&>;
  // The metadata replica's driver now (nullptr when not running) and its image.
  using DriverFn = std::function<raft::driver::GroupDriver*()>;

  ControllerService(runtime::Runtime& runtime, DriverFn metadata_driver,
                    controller::TopicDefaults defaults);
  ~ControllerService();

  // Carries out `call` against `image` (this broker's view of the metadata: the leader's image
  // has every committed record applied once it is ready to serve). `image` outlives the
  // service (it is the broker's mirror). A call with a request id is carried out once: a retry
  // finds its record applied (MetadataImage::Applied) and is answered as a success.
  void Handle(const ControllerCall& call, const controller::MetadataImage& image, Answer answer);
  // The metadata machine applied (or refused) the record at `offset`.
  void OnRecord(int64_t offset, const absl::Status& outcome);
  // This replica leads and has applied its term's no-op (GroupListener::OnReadyToServe): its
  // image holds everything committed before.
  void SetReady(bool ready) { ready_ = ready; }
  const ControllerStats& stats() const { return stats_; }

 private:
  // Writes `record`; `answer` hears its outcome. `topic_id` is echoed on success.
  void Propose(const controller::MetadataRecord& record, std::string topic_id, Answer answer);
  // The success answer for a call `image` shows carried out already (a record with the call's
  // request id was applied); std::nullopt otherwise.
  static std::optional<ControllerAnswer> Done(const controller::MetadataImage& image,
                                              const ControllerCall& call);
  // A successful producer-id allocation's answer carries the block (the image's newest for the
  // caller).
  static void AddProducerIds(const controller::MetadataImage& image, const ControllerCall& call,
                             ControllerAnswer* answer);
  // A created topic's partition count and replication factor (CreateTopics v5+ reports them):
  // from the planned record (validate_only), or from the image once it is applied.
  static void AddTopicShape(const controller::CreateTopic& topic, ControllerAnswer* answer);
  static void AddCreatedTopicShape(const controller::MetadataImage& image,
                                   const ControllerCall& call, ControllerAnswer* answer);

  runtime::Runtime& runtime_;
  DriverFn metadata_driver_;
  const controller::TopicDefaults defaults_;
  bool ready_ = false;
  // Outcomes of applied records by offset, until their proposal's acknowledgement takes them.
  std::map<int64_t, absl::Status> outcomes_;
  ControllerStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A ControllerAnswer with a Kafka error.
ControllerAnswer AnswerWith(kafka::ErrorCode code, std::string message);

}  // namespace eddy::broker
