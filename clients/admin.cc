// The admin client's calls: each a sequence of attempts to any broker, retried with backoff
// until done or its deadline (admin.h, RETRIES). The APIs live in admin_topics.cc and
// admin_configs.cc.
#include "clients/admin.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/kafka_status.h"
#include "core/base/check.h"
#include "core/kafka/errors.h"

namespace eddy::clients {

absl::StatusOr<std::unique_ptr<Admin>> Admin::Create(runtime::ClientRuntime& runtime,
                                                     AdminOptions options) {
  if (options.bootstrap.empty()) return absl::InvalidArgumentError("bootstrap.servers is empty");
  if (options.request_timeout <= Duration::Zero() ||
      options.default_api_timeout <= Duration::Zero() ||
      options.retry_backoff <= Duration::Zero()) {
    return absl::InvalidArgumentError("timeouts and backoff must be > 0");
  }
  return std::unique_ptr<Admin>(new Admin(runtime, std::move(options)));
}

Admin::Admin(runtime::ClientRuntime& runtime, AdminOptions options)
    : runtime_(runtime),
      options_(std::move(options)),
      pool_(runtime, options_.bootstrap,
            ConnectionOptions{.client_id = options_.client_id,
                              .request_timeout = options_.request_timeout}) {}

Admin::~Admin() { alive_.reset(); }

void Admin::Close() {
  if (closed_) return;
  closed_ = true;
  std::map<uint64_t, std::shared_ptr<Call>> calls = std::move(calls_);
  calls_.clear();
  for (const auto& [id, call] : calls) {
    if (call->finished) continue;
    call->finished = true;
    call->give_up(absl::CancelledError("admin client closed"));
  }
  pool_.CloseAll();
}

bool Admin::Retriable(int16_t code) {
  using kafka::ErrorCode;
  // An unknown topic is an answer for admin calls (Java's too), not a stale-metadata hint.
  if (code == kafka::ToWire(ErrorCode::kUnknownTopicOrPartition) ||
      code == kafka::ToWire(ErrorCode::kUnknownTopicId)) {
    return false;
  }
  return code == kafka::ToWire(ErrorCode::kNotController) ||
         code == kafka::ToWire(ErrorCode::kRequestTimedOut) || KafkaRetriable(code);
}

int32_t Admin::TimeoutMs() const {
  return static_cast<int32_t>(options_.request_timeout.milliseconds());
}

void Admin::Start(absl::AnyInvocable<void(std::shared_ptr<Call> self)> attempt,
                  absl::AnyInvocable<void(absl::Status why)> give_up) {
  auto call = std::make_shared<Call>();
  call->deadline = runtime_.clock().Now() + options_.default_api_timeout;
  call->attempt = std::move(attempt);
  call->give_up = std::move(give_up);
  if (closed_) {
    // Never inline: the caller's callback runs on the loop, later.
    runtime_.clock().ScheduleAfter(Duration::Zero(), [call] {
      call->finished = true;
      call->give_up(absl::FailedPreconditionError("admin client closed"));
    });
    return;
  }
  call->id = next_call_id_++;
  calls_.emplace(call->id, call);
  Attempt(call);
}

void Admin::Attempt(std::shared_ptr<Call> call) {
  if (call->finished) return;
  call->attempt(call);
}

void Admin::Finish(Call& call) {
  EDDY_CHECK(!call.finished);
  call.finished = true;
  calls_.erase(call.id);
}

void Admin::Retry(std::shared_ptr<Call> call, absl::Status why) {
  if (call->finished) return;
  const Instant now = runtime_.clock().Now();
  if (closed_ || now + options_.retry_backoff >= call->deadline) {
    Finish(*call);
    call->give_up(closed_ ? absl::CancelledError("admin client closed")
                          : absl::DeadlineExceededError(absl::StrCat(
                                "default.api.timeout passed; last error: ", why.ToString())));
    return;
  }
  runtime_.clock().ScheduleAfter(options_.retry_backoff,
                                 [this, alive = std::weak_ptr<bool>(alive_), call] {
                                   if (alive.expired()) return;
                                   pool_.Sweep();  // no connection callback on the stack here
                                   Attempt(call);
                                 });
}

void Admin::Remember(const kafka::MetadataResponse& response) {
  known_.clear();
  for (const auto& b : response.brokers) known_.push_back(runtime::Address{b.host, b.port});
}

void Admin::FetchMetadata(
    std::optional<std::vector<std::string>> topics,
    absl::AnyInvocable<void(absl::StatusOr<kafka::MetadataResponse>)> done) {
  auto shared_done = std::make_shared<decltype(done)>(std::move(done));
  Start(
      [this, topics, shared_done](std::shared_ptr<Call> self) {
        kafka::MetadataRequest request;
        request.allow_auto_topic_creation = false;
        if (topics.has_value()) {
          request.topics.emplace();
          for (const std::string& t : *topics) request.topics->emplace_back().name = t;
        } else {
          request.topics = std::nullopt;  // all topics
        }
        Send<kafka::MetadataRequest, kafka::MetadataResponse>(
            self, request, 12, [this, self, shared_done](const kafka::MetadataResponse& r) {
              Remember(r);
              Finish(*self);
              (*shared_done)(r);
            });
      },
      [shared_done](absl::Status why) { (*shared_done)(std::move(why)); });
}

}  // namespace eddy::clients
