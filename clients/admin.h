// Admin: Eddy's Kafka admin client (Java's AdminClient, the topic and config half), on the
// client seam — no thread, socket, clock or randomness of its own.
//
// ROUTING. Every request goes to "any broker" (bootstrap addresses, then the brokers a Metadata
// reply named, in turn): Eddy's brokers forward changes to the controller themselves.
//
// RETRIES. A call is retried, after retry_backoff, on a lost connection, a timed-out attempt,
// and on retriable per-item errors (NOT_CONTROLLER, REQUEST_TIMED_OUT, LEADER_NOT_AVAILABLE,
// ...): only the items that failed retriably are sent again, so a topic created by the first
// attempt is not reported TOPIC_ALREADY_EXISTS by the second. Once default_api_timeout passes,
// items still unresolved get kDeadlineExceeded carrying the last error.
//
// RESULTS. Per item (topic, config resource): OK / a value, or the broker's error as a status
// from KafkaStatus (kafka_status.h) — its message names the Kafka error
// ("TOPIC_ALREADY_EXISTS"), KafkaErrorCodeOf gives the code. The outer StatusOr fails only when
// the call as a whole did (kCancelled at Close(), kDeadlineExceeded for calls without items).
//
// DescribeCluster is answered from Metadata: Eddy's brokers do not serve the DescribeCluster
// API (core/broker/broker_handlers.cc, Implements()).
//
// LOOP AFFINITY: the runtime's loop; callbacks run on it, never inline. OWNERSHIP: the runtime
// outlives the client; destroying it runs no callback (Close() first to cancel what is pending).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/admin_types.h"
#include "clients/broker_connection.h"
#include "clients/connection_pool.h"
#include "clients/kafka_status.h"
#include "core/kafka/generated/metadata.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

class Admin {
 public:
  template <typename T>
  using Done = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;
  using TopicStatuses = std::map<std::string, absl::Status>;
  using ResourceStatuses = std::map<ConfigResource, absl::Status>;

  // Errors: kInvalidArgument for empty bootstrap or non-positive timeouts.
  static absl::StatusOr<std::unique_ptr<Admin>> Create(runtime::ClientRuntime& runtime,
                                                       AdminOptions options);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // CreateTopics v5 (the reply carries the partitions, replication factor and, v7, the id).
  void CreateTopics(std::vector<NewTopic> topics, bool validate_only,
                    Done<std::map<std::string, absl::StatusOr<CreatedTopic>>> done);
  void DeleteTopics(std::vector<std::string> names, Done<TopicStatuses> done);
  // Every topic, by name (Metadata with all topics).
  void ListTopics(Done<std::vector<TopicListing>> done);
  // Partitions, leaders, replicas, ISR, ids (Metadata). A missing topic: kNotFound.
  void DescribeTopics(std::vector<std::string> names,
                      Done<std::map<std::string, absl::StatusOr<TopicDescription>>> done);
  // Grows each topic to `totals[topic]` partitions in all.
  void CreatePartitions(std::map<std::string, int32_t> totals, bool validate_only,
                        Done<TopicStatuses> done);
  void DescribeConfigs(std::vector<ConfigResource> resources,
                       Done<std::map<ConfigResource, absl::StatusOr<std::vector<ConfigEntry>>>> done);
  // Replaces each resource's whole set of non-default configs (Kafka's deprecated AlterConfigs).
  void AlterConfigs(std::map<ConfigResource, std::map<std::string, std::string>> configs,
                    bool validate_only, Done<ResourceStatuses> done);
  void IncrementalAlterConfigs(std::map<ConfigResource, std::vector<AlterConfigOp>> ops,
                               bool validate_only, Done<ResourceStatuses> done);
  // Brokers, controller and cluster id (Metadata with no topics).
  void DescribeCluster(Done<ClusterDescription> done);

  // Cancels every pending call (kCancelled, before returning) and closes every connection.
  // Calls made afterwards fail with kFailedPrecondition. Idempotent.
  void Close();

 private:
  // One call: attempts, each a request to "any broker", until it is done or the deadline.
  struct Call {
    uint64_t id = 0;
    Instant deadline;
    // Sends one attempt; its reply ends in Retry(call, why) or in the call's own completion.
    absl::AnyInvocable<void(std::shared_ptr<Call> self)> attempt;
    // Ends the call: the deadline passed (with the last error) or Close() (kCancelled).
    absl::AnyInvocable<void(absl::Status why)> give_up;
    bool finished = false;
  };

  Admin(runtime::ClientRuntime& runtime, AdminOptions options);

  // ---- admin.cc: calls, attempts, retries ----
  void Start(absl::AnyInvocable<void(std::shared_ptr<Call> self)> attempt,
             absl::AnyInvocable<void(absl::Status why)> give_up);
  void Attempt(std::shared_ptr<Call> call);
  void Retry(std::shared_ptr<Call> call, absl::Status why);
  void Finish(Call& call);
  // Sends `request` for `call` to any broker; `on_reply` gets the decoded response. A transport
  // failure retries the call.
  template <typename Request, typename Response>
  void Send(std::shared_ptr<Call> call, const Request& request, int16_t version,
            absl::AnyInvocable<void(const Response& response)> on_reply);
  // A call over items (topics, resources): each attempt sends the items still pending
  // (`build`), and `visit` reports each item's answer in the response through `answer(key,
  // error code, error message, value)`. Items that failed retriably, or were not answered, stay
  // pending; at the deadline they get kDeadlineExceeded. See RETRIES.
  template <typename Key, typename Value, typename Request, typename Response>
  void RunKeyed(std::set<Key> keys, std::map<Key, Value> early, int16_t version,
                std::function<Request(const std::set<Key>& pending)> build,
                std::function<void(const Response&,
                                   const std::function<void(const Key&, int16_t,
                                                            const std::optional<std::string>&,
                                                            Value)>& answer)>
                    visit,
                Done<std::map<Key, Value>> done);
  // Whether a per-item error is worth another attempt.
  static bool Retriable(int16_t code);
  int32_t TimeoutMs() const;
  // A Metadata request (all topics with `topics` unset) retried until it answers.
  void FetchMetadata(std::optional<std::vector<std::string>> topics,
                     absl::AnyInvocable<void(absl::StatusOr<kafka::MetadataResponse>)> done);
  void Remember(const kafka::MetadataResponse& response);

  runtime::ClientRuntime& runtime_;
  const AdminOptions options_;
  ConnectionPool pool_;
  std::vector<runtime::Address> known_;  // brokers the last Metadata named
  std::map<uint64_t, std::shared_ptr<Call>> calls_;  // by id: Close() cancels in call order
  uint64_t next_call_id_ = 0;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// ---- implementation ----

template <typename Request, typename Response>
void Admin::Send(std::shared_ptr<Call> call, const Request& request, int16_t version,
                 absl::AnyInvocable<void(const Response& response)> on_reply) {
  pool_.Any(known_).Call<Request, Response>(
      request, version,
      [this, alive = std::weak_ptr<bool>(alive_), call,
       on_reply = std::move(on_reply)](absl::StatusOr<Reply<Response>> reply) mutable {
        if (alive.expired() || call->finished) return;
        if (!reply.ok()) {
          pool_.CloseAny();  // the next attempt tries the next broker
          return Retry(call, reply.status());
        }
        on_reply(reply->response);
      });
}

template <typename Key, typename Value, typename Request, typename Response>
void Admin::RunKeyed(
    std::set<Key> keys, std::map<Key, Value> early, int16_t version,
    std::function<Request(const std::set<Key>& pending)> build,
    std::function<void(const Response&,
                       const std::function<void(const Key&, int16_t,
                                                const std::optional<std::string>&, Value)>&)>
        visit,
    Done<std::map<Key, Value>> done) {
  struct State {
    std::set<Key> pending;
    std::map<Key, Value> results;
    Done<std::map<Key, Value>> done;
  };
  auto state = std::make_shared<State>(State{std::move(keys), std::move(early), std::move(done)});
  auto attempt = [this, state, version, build, visit](std::shared_ptr<Call> self) {
    if (state->pending.empty()) {  // nothing to ask (every item refused up front)
      Finish(*self);
      return std::move(state->done)(std::move(state->results));
    }
    Send<Request, Response>(self, build(state->pending), version,
                            [this, self, state, visit](const Response& response) {
      absl::Status retriable;
      visit(response, [&](const Key& key, int16_t code, const std::optional<std::string>& message,
                          Value value) {
        if (!state->pending.contains(key)) return;
        if (Retriable(code)) {
          retriable = KafkaStatus(code, "admin", message);
          return;
        }
        state->pending.erase(key);
        state->results.insert_or_assign(key, std::move(value));
      });
      if (!state->pending.empty()) {
        return Retry(self, retriable.ok() ? absl::UnavailableError("items not answered")
                                          : retriable);
      }
      Finish(*self);
      std::move(state->done)(std::move(state->results));
    });
  };
  auto give_up = [state](absl::Status why) {
    if (absl::IsCancelled(why) || absl::IsFailedPrecondition(why)) {
      return std::move(state->done)(std::move(why));
    }
    for (const Key& key : state->pending) state->results.insert_or_assign(key, Value(why));
    std::move(state->done)(std::move(state->results));
  };
  Start(std::move(attempt), std::move(give_up));
}

}  // namespace eddy::clients
