// Broker: Produce and Fetch on the partitions this broker leads (broker.h, KAFKA APIS).
#include <algorithm>
#include <map>
#include <span>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/broker/broker.h"
#include "core/broker/handler_support.h"
#include "core/broker/produce_validation.h"
#include "core/base/check.h"
#include "core/controller/topic_config.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_reader.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/list_offsets.h"
#include "core/kafka/generated/offset_for_leader_epoch.h"
#include "core/kafka/generated/produce.h"

namespace eddy::broker {
namespace {

using internal::DecodeBody;
using internal::LeaderEpochOf;
using kafka::ErrorCode;

// A proposal's failure in Kafka's terms: definitely not written (NOT_LEADER_OR_FOLLOWER: the
// client refreshes metadata and retries), or its outcome unknown (REQUEST_TIMED_OUT).
ErrorCode ErrorOfProposal(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return ErrorCode::kNotLeaderOrFollower;
    case absl::StatusCode::kInvalidArgument:
      return ErrorCode::kCorruptMessage;
    default:
      return ErrorCode::kRequestTimedOut;
  }
}

// Kafka's fencing by leader epoch (KIP-320), for Fetch, ListOffsets and OffsetForLeaderEpoch:
// a client that names another epoch than this leader's term learned its leader elsewhere — an
// older one (FENCED_LEADER_EPOCH: it refreshes its metadata) or one this replica has not heard
// of yet (UNKNOWN_LEADER_EPOCH: it retries). kNone when it names none (-1) or this one.
ErrorCode EpochFence(int32_t current_leader_epoch, const raft::driver::GroupDriver& leader) {
  const int32_t epoch = LeaderEpochOf(leader.raft()->term());
  if (current_leader_epoch < 0 || current_leader_epoch == epoch) return ErrorCode::kNone;
  return current_leader_epoch > epoch ? ErrorCode::kUnknownLeaderEpoch
                                      : ErrorCode::kFencedLeaderEpoch;
}

// The records of one Fetch response at most: one transport message, less room for the
// response's own fields (a few dozen bytes per partition; a request naming more partitions
// than fit is refused by the listener's check).
constexpr size_t kFetchRecordsBytesMax = runtime::kMessageSizeBytesMax - 60 * kKiB;

// How many leading bytes of `batches` (whole record batches, as a log read returns them) hold
// whole batches within `limit`; with `at_least_one`, the first batch even if larger (a single
// batch never exceeds the transport's limit: limits::kBatchSizeBytesMax).
size_t WholeBatchesWithin(const std::vector<uint8_t>& batches, size_t limit, bool at_least_one) {
  size_t taken = 0;
  std::span<const uint8_t> rest(batches);
  while (!rest.empty()) {
    const absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(rest);
    if (!header.ok()) break;  // the log verified them: cannot happen, and stops safely
    const size_t size = header->size_bytes();
    if (size > rest.size() || (taken + size > limit && !(at_least_one && taken == 0))) break;
    taken += size;
    rest = rest.subspan(size);
  }
  return taken;
}

ErrorCode ErrorOfRead(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOutOfRange:
      return ErrorCode::kOffsetOutOfRange;
    case absl::StatusCode::kDataLoss:
      return ErrorCode::kKafkaStorageError;
    default:
      return ErrorCode::kNotLeaderOrFollower;
  }
}

struct ProduceState {
  kafka::ProduceResponse response;
  size_t outstanding = 0;
  bool answered = false;
  bool no_response = false;  // acks=0
  kafka::RequestHeader header;
  RequestHandler::Respond respond;
  runtime::TimerId timeout = runtime::kNoTimer;

  void Done(runtime::Clock& clock) {
    if (--outstanding != 0 || answered) return;
    answered = true;
    clock.Cancel(timeout);
    if (no_response) return std::move(respond)(Response{});
    std::move(respond)(EncodeResponse(header, response));
  }
};

}  // namespace

raft::driver::GroupDriver* Broker::LeaderReplica(const std::string& topic, int32_t partition,
                                                 ErrorCode* error) {
  const controller::TopicInfo* info = image_.FindTopic(topic);
  if (info == nullptr || partition < 0 ||
      static_cast<size_t>(partition) >= info->partitions.size()) {
    *error = ErrorCode::kUnknownTopicOrPartition;
    return nullptr;
  }
  raft::driver::GroupDriver* g = node_->group(info->partitions[partition].group_id);
  if (g == nullptr || g->raft() == nullptr || g->raft()->role() != raft::Role::kLeader) {
    *error = ErrorCode::kNotLeaderOrFollower;
    return nullptr;
  }
  *error = ErrorCode::kNone;
  return g;
}

void Broker::HandleProduce(const kafka::RequestFrame& frame, Respond respond) {
  kafka::ProduceRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  auto state = std::make_shared<ProduceState>();
  state->header = frame.header;
  state->respond = std::move(respond);
  state->no_response = request.acks == 0;
  state->outstanding = 1;  // released once every partition is under way
  const bool acks_valid = request.acks == -1 || request.acks == 0 || request.acks == 1;
  const int64_t now_ms = runtime_.wall_clock().NowMs();
  for (const auto& topic : request.topic_data) {
    auto& topic_response = state->response.responses.emplace_back();
    topic_response.name = topic.name;
    topic_response.partition_responses.resize(topic.partition_data.size());
    const controller::TopicInfo* info = image_.FindTopic(topic.name);
    for (size_t i = 0; i < topic.partition_data.size(); ++i) {
      const auto& data = topic.partition_data[i];
      auto& pr = topic_response.partition_responses[i];
      pr.index = data.index;
      pr.base_offset = -1;
      ErrorCode error = ErrorCode::kNone;
      raft::driver::GroupDriver* g = LeaderReplica(topic.name, data.index, &error);
      if (!acks_valid) error = ErrorCode::kInvalidRequiredAcks;
      if (topic.name == group::kOffsetsTopicName) {
        // Only the coordinator writes there (Kafka: "cannot append to internal topic").
        ++stats_.internal_topic_produce_refused;
        error = ErrorCode::kInvalidTopicException;
      }
      if (error != ErrorCode::kNone) {
        pr.error_code = kafka::ToWire(error);
        continue;
      }
      const absl::StatusOr<controller::TopicConfig> config =
          controller::ResolveTopicConfig(info->configs, options_.topic_config_defaults);
      // A decoded request's records are one view into the frame; several only if re-encoded.
      std::string flat;
      std::span<const uint8_t> records;
      if (data.records.pieces().size() == 1) {
        records = data.records.pieces()[0];
      } else {
        flat = data.records.Flatten();
        records = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(flat.data()),
                                           flat.size());
      }
      ProducedBatches batches =
          ValidateProduced(records, config.ok() ? *config : controller::TopicConfig{}, now_ms);
      if (batches.error != ErrorCode::kNone) {
        pr.error_code = kafka::ToWire(batches.error);
        if (frame.header.api_version >= 8) pr.error_message = batches.message;
        continue;
      }
      const int32_t min_insync = config.ok() ? config->min_insync_replicas : 1;
      if (request.acks == -1 && min_insync > 1 &&
          LocalIsr(info->partitions[data.index].group_id).size() <
              static_cast<size_t>(min_insync)) {
        // Kafka's rule: acks=all needs min.insync.replicas in sync, before anything is written.
        ++stats_.not_enough_replicas;
        pr.error_code = kafka::ToWire(ErrorCode::kNotEnoughReplicas);
        continue;
      }
      pr.log_append_time_ms = batches.log_append_time_ms;
      pr.log_start_offset = g->kafka_log_start_offset();
      const raft::driver::GroupId group = info->partitions[data.index].group_id;
      const size_t topic_index = state->response.responses.size() - 1;
      const size_t count = batches.batches.size();
      state->outstanding += count;
      for (size_t b = 0; b < count; ++b) {
        ProduceBatch(group, g, std::move(batches.batches[b]),
                     [this, state, topic_index, i, b](BatchOutcome outcome) {
                       auto& r = state->response.responses[topic_index].partition_responses[i];
                       if (outcome.error != ErrorCode::kNone) {
                         if (r.error_code == 0) r.error_code = kafka::ToWire(outcome.error);
                         r.base_offset = -1;
                       } else if (b == 0 && r.error_code == 0) {
                         r.base_offset = outcome.first;
                       }
                       state->Done(runtime_.clock());
                     });
      }
    }
  }
  if (state->no_response) {
    // acks=0: nothing is awaited; the proposals carry on.
    state->answered = true;
    return std::move(state->respond)(Response{});
  }
  const Duration timeout = Duration::Milliseconds(std::max(request.timeout_ms, 0));
  state->timeout = runtime_.clock().ScheduleAfter(timeout, [this, alive = alive_, state] {
    if (!*alive || state->answered) return;
    // The quorum did not answer in time; the batches may still be committed.
    for (auto& t : state->response.responses) {
      for (auto& p : t.partition_responses) {
        if (p.error_code == 0 && p.base_offset < 0) {
          p.error_code = kafka::ToWire(ErrorCode::kRequestTimedOut);
        }
      }
    }
    state->answered = true;
    std::move(state->respond)(EncodeResponse(state->header, state->response));
  });
  state->Done(runtime_.clock());
}

void Broker::ProduceBatch(raft::driver::GroupId group, raft::driver::GroupDriver* g,
                          std::vector<uint8_t> batch, BatchDone done) {
  const absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(batch);
  EDDY_CHECK_OK(header.status());  // validated: ValidateProduced
  if (header->producer_id >= 0) {
    const producer::BatchIdentity identity{
        header->producer_id, header->producer_epoch, header->base_sequence,
        producer::LastSequence(header->base_sequence, header->record_count)};
    return ProduceIdempotent(group, g, std::move(batch), identity, std::move(done));
  }
  if (options_.planted_bug == BrokerBug::kAckBeforeCommit) {
    // PLANTED BUG: the offset the batch should get, answered before it is committed.
    const std::optional<int64_t> expected = g->KafkaOffsetOf(g->log_last_offset() + 1);
    g->Propose(std::move(batch), [](absl::StatusOr<raft::EntryMeta>) {});
    if (!expected.has_value()) return std::move(done)(BatchOutcome{ErrorCode::kRequestTimedOut});
    return std::move(done)(BatchOutcome{ErrorCode::kNone, *expected,
                                        *expected + header->last_offset_delta + 1});
  }
  g->Propose(std::move(batch), [this, alive = alive_, group, done = std::move(done)](
                                   absl::StatusOr<raft::EntryMeta> meta) mutable {
    if (*alive) OnProposed(group, std::move(meta), std::move(done));
  });
}

void Broker::ProduceIdempotent(raft::driver::GroupId group, raft::driver::GroupDriver* g,
                               std::vector<uint8_t> batch,
                               const producer::BatchIdentity& identity, BatchDone done) {
  Idempotence& state = idempotence_[group];
  const raft::Term term = g->raft()->term();
  auto* machine = dynamic_cast<producer::ProducerStateMachine*>(g->state_machine());
  if (state.ready_term != term || machine == nullptr) {
    // Elected, but the table may still lack what earlier leaders committed.
    ++stats_.idempotent_not_ready;
    return std::move(done)(BatchOutcome{ErrorCode::kNotLeaderOrFollower});
  }
  const producer::ProducerTable* table = &machine->table();
  if (options_.planted_bug == BrokerBug::kForgetProducerStateOnLeaderChange) {
    // PLANTED BUG: only what this leader admitted in its term counts.
    if (state.forgetful_term != term) {
      state.forgetful_term = term;
      state.forgetful_table = producer::ProducerTable();
    }
    table = &state.forgetful_table;
  }
  const producer::ProducerSequencer::Decision decision =
      state.sequencer.Decide(*table, term, identity);
  switch (decision.verdict) {
    case producer::Verdict::kStaleEpoch:
      ++stats_.idempotent_stale_epochs;
      return std::move(done)(BatchOutcome{ErrorCode::kInvalidProducerEpoch});
    case producer::Verdict::kOutOfOrder:
      ++stats_.idempotent_out_of_order;
      return std::move(done)(BatchOutcome{ErrorCode::kOutOfOrderSequenceNumber});
    case producer::Verdict::kDuplicate: {
      ++stats_.idempotent_duplicates;
      if (decision.in_flight_duplicate != 0) {
        // Answered as the batch it repeats is.
        state.repeats[decision.in_flight_duplicate].push_back(
            [this, alive = alive_, group, done = std::move(done)](
                absl::StatusOr<raft::EntryMeta> meta) mutable {
              if (*alive) OnProposed(group, std::move(meta), std::move(done));
            });
        return;
      }
      const producer::BatchRecord original = *decision.committed_duplicate;
      return WhenVisible(group, original.kafka_last_offset + 1,
                         [original, done = std::move(done)](bool visible) mutable {
                           if (!visible) {
                             return std::move(done)(BatchOutcome{ErrorCode::kRequestTimedOut});
                           }
                           std::move(done)(BatchOutcome{ErrorCode::kNone,
                                                        original.kafka_base_offset,
                                                        original.kafka_last_offset + 1});
                         });
    }
    case producer::Verdict::kAppend:
      break;
  }
  const uint64_t ticket = state.sequencer.Add(term, identity);
  // The acknowledgement may run at once (a refusal), before the next batch is decided.
  g->Propose(std::move(batch), [this, alive = alive_, group, ticket, identity,
                                done = std::move(done)](
                                   absl::StatusOr<raft::EntryMeta> meta) mutable {
    if (!*alive) return;
    std::vector<ProposalDone> repeats;
    if (auto it = idempotence_.find(group); it != idempotence_.end()) {
      it->second.sequencer.Settle(ticket);
      if (auto r = it->second.repeats.find(ticket); r != it->second.repeats.end()) {
        repeats = std::move(r->second);
        it->second.repeats.erase(r);
      }
    }
    for (ProposalDone& repeat : repeats) std::move(repeat)(meta);
    if (options_.planted_bug == BrokerBug::kForgetProducerStateOnLeaderChange && meta.ok()) {
      RecordForgetful(group, identity, *meta);
    }
    OnProposed(group, std::move(meta), std::move(done));
  });
}

void Broker::RecordForgetful(raft::driver::GroupId group, const producer::BatchIdentity& identity,
                             const raft::EntryMeta& meta) {
  auto it = idempotence_.find(group);
  raft::driver::GroupDriver* driver = node_->group(group);
  if (it == idempotence_.end() || driver == nullptr) return;
  const std::optional<int64_t> first = driver->KafkaOffsetOf(meta.base_offset);
  const std::optional<int64_t> last = driver->KafkaOffsetOf(meta.last_offset);
  if (!first.has_value() || !last.has_value()) return;
  it->second.forgetful_table.Record(
      identity, producer::BatchRecord{identity.first_sequence, identity.last_sequence, *first, *last},
      0, meta.base_offset);
}

void Broker::OnProposed(raft::driver::GroupId group, absl::StatusOr<raft::EntryMeta> meta,
                        BatchDone done) {
  if (!meta.ok()) return std::move(done)(BatchOutcome{ErrorOfProposal(meta.status())});
  raft::driver::GroupDriver* driver = node_->group(group);
  const std::optional<int64_t> first =
      driver == nullptr ? std::nullopt : driver->KafkaOffsetOf(meta->base_offset);
  const std::optional<int64_t> end =
      driver == nullptr ? std::nullopt : driver->KafkaOffsetOf(meta->last_offset + 1);
  if (!first.has_value() || !end.has_value()) {
    return std::move(done)(BatchOutcome{ErrorCode::kRequestTimedOut});
  }
  WhenVisible(group, *end, [first = *first, end = *end, done = std::move(done)](
                               bool visible) mutable {
    // Not visible: committed, but this replica went away before it could tell.
    if (!visible) return std::move(done)(BatchOutcome{ErrorCode::kRequestTimedOut});
    std::move(done)(BatchOutcome{ErrorCode::kNone, first, end});
  });
}

// ---- ListOffsets ----

void Broker::HandleListOffsets(const kafka::RequestFrame& frame, Respond respond) {
  kafka::ListOffsetsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  constexpr int64_t kLatest = -1;
  constexpr int64_t kEarliest = -2;
  auto gather = std::make_shared<internal::Gather<kafka::ListOffsetsResponse>>();
  gather->header = frame.header;
  gather->respond = std::move(respond);
  gather->outstanding = 1;  // until every partition is looked at
  gather->response.topics.reserve(request.topics.size());
  for (const auto& topic : request.topics) {
    auto& out = gather->response.topics.emplace_back();
    out.name = topic.name;
    out.partitions.reserve(topic.partitions.size());
    for (const auto& partition : topic.partitions) {
      auto& pr = out.partitions.emplace_back();
      pr.partition_index = partition.partition_index;
      ErrorCode error = ErrorCode::kNone;
      raft::driver::GroupDriver* g = LeaderReplica(topic.name, partition.partition_index, &error);
      if (g == nullptr) {
        pr.error_code = kafka::ToWire(error);
        continue;
      }
      pr.leader_epoch = LeaderEpochOf(g->raft()->term());
      if (const ErrorCode fence = EpochFence(partition.current_leader_epoch, *g);
          fence != ErrorCode::kNone) {
        pr.error_code = kafka::ToWire(fence);
        continue;
      }
      if (partition.timestamp == kLatest) {
        pr.offset = g->kafka_high_watermark();  // read_committed too: no transactions yet
      } else if (partition.timestamp == kEarliest) {
        pr.offset = g->kafka_log_start_offset();
      } else if (partition.timestamp < 0) {
        pr.error_code = kafka::ToWire(ErrorCode::kInvalidRequest);
      } else {
        const std::optional<int64_t> batch = g->KafkaOffsetForTimestamp(partition.timestamp);
        // None: Kafka answers offset -1 and timestamp -1.
        pr.offset = batch.value_or(-1);
        pr.timestamp = -1;
        if (batch.has_value()) {
          ++gather->outstanding;
          FindRecordAtTime(g, *batch, partition.timestamp, &pr, gather);
        }
      }
    }
  }
  gather->Done();
}

void Broker::FindRecordAtTime(
    raft::driver::GroupDriver* g, int64_t batch_offset, int64_t timestamp_ms,
    kafka::ListOffsetsResponse::ListOffsetsTopicResponse::ListOffsetsPartitionResponse* out,
    std::shared_ptr<internal::Gather<kafka::ListOffsetsResponse>> gather) {
  // The index finds the batch; Kafka answers the first RECORD at or after the time, with its own
  // timestamp, so the batch is read and its records scanned. `out` lives in gather->response,
  // which is not resized once the loop above has built it.
  g->ReadKafka(batch_offset, 1, [out, timestamp_ms, gather](
                                    absl::StatusOr<log::KafkaReadResult> read) {
    if (!read.ok() && absl::IsDataLoss(read.status())) {
      out->error_code = kafka::ToWire(ErrorCode::kKafkaStorageError);
      out->offset = -1;
      return gather->Done();
    }
    if (!read.ok() || read->batch_count == 0) {
      // Gone meanwhile (retention, a lost leadership): the batch's first offset, as the index
      // found it.
      return gather->Done();
    }
    std::span<const uint8_t> bytes(read->bytes);
    absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(bytes);
    absl::StatusOr<record::RecordBatchReader> reader =
        header.ok() && header->size_bytes() <= bytes.size()
            ? record::RecordBatchReader::Open(bytes.first(header->size_bytes()))
            : absl::StatusOr<record::RecordBatchReader>(absl::DataLossError("short batch"));
    if (!reader.ok()) {
      // A compressed batch (not decoded yet) or damage: the batch's first offset, as before.
      return gather->Done();
    }
    record::RecordView r;
    while (reader->Next(&r)) {
      const int64_t ts = record::RecordTimestamp(reader->header(), r.timestamp_delta);
      if (ts >= timestamp_ms) {
        out->offset = record::RecordOffset(reader->header(), r.offset_delta);
        out->timestamp = ts;
        break;
      }
    }
    gather->Done();
  });
}

// ---- OffsetForLeaderEpoch ----

void Broker::HandleOffsetForLeaderEpoch(const kafka::RequestFrame& frame, Respond respond) {
  kafka::OffsetForLeaderEpochRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  kafka::OffsetForLeaderEpochResponse response;
  for (const auto& topic : request.topics) {
    auto& out = response.topics.emplace_back();
    out.topic = topic.topic;
    for (const auto& partition : topic.partitions) {
      auto& pr = out.partitions.emplace_back();
      pr.partition = partition.partition;
      ErrorCode error = ErrorCode::kNone;
      raft::driver::GroupDriver* g = LeaderReplica(topic.topic, partition.partition, &error);
      if (g == nullptr) {
        pr.error_code = kafka::ToWire(error);
        continue;
      }
      if (const ErrorCode fence = EpochFence(partition.current_leader_epoch, *g);
          fence != ErrorCode::kNone) {
        pr.error_code = kafka::ToWire(fence);
        continue;
      }
      if (partition.leader_epoch < 0) {
        pr.error_code = kafka::ToWire(ErrorCode::kInvalidRequest);
        continue;
      }
      const std::optional<raft::driver::GroupDriver::TermEnd> end =
          g->KafkaEndOfTerm(static_cast<raft::Term>(partition.leader_epoch));
      if (end.has_value()) {
        pr.leader_epoch = LeaderEpochOf(end->term);
        pr.end_offset = end->kafka_end_offset;
      }  // else UNDEFINED: -1 and -1
    }
  }
  std::move(respond)(EncodeResponse(frame.header, response));
}

// ---- Fetch ----

struct Broker::FetchState {
  kafka::FetchRequest request;
  kafka::RequestHeader header;
  Respond respond;
  Instant deadline;
  bool answered = false;
  runtime::TimerId timer = runtime::kNoTimer;
};

struct Broker::FetchRead {
  size_t topic = 0;
  int32_t partition = 0;
  ErrorCode error = ErrorCode::kNone;
  raft::driver::GroupId group = 0;
  int64_t high_watermark = -1;
  int64_t log_start = -1;
  std::optional<log::KafkaReadResult> result = std::nullopt;
};

struct Broker::FetchRound {
  std::vector<FetchRead> reads;
  size_t outstanding = 1;
};

void Broker::HandleFetch(const kafka::RequestFrame& frame, Respond respond) {
  auto state = std::make_shared<FetchState>();
  if (!DecodeBody(frame, state->request, respond)) return;
  state->header = frame.header;
  state->respond = std::move(respond);
  state->deadline =
      runtime_.clock().Now() + Duration::Milliseconds(std::max(state->request.max_wait_ms, 0));
  if (state->request.session_id != 0 || state->request.session_epoch > 0) {
    // No session is ever created (every answer is sessionless: session id 0).
    kafka::FetchResponse response;
    response.error_code = kafka::ToWire(ErrorCode::kFetchSessionIdNotFound);
    return std::move(state->respond)(EncodeResponse(state->header, response));
  }
  RunFetch(std::move(state));
}

std::string Broker::FetchTopicName(const kafka::FetchRequest::FetchTopic& topic,
                                   int16_t version) const {
  if (version < 13) return topic.topic;
  controller::TopicId id{};
  std::copy(topic.topic_id.bytes.begin(), topic.topic_id.bytes.end(), id.begin());
  const controller::TopicInfo* info = image_.topic(id);
  return info == nullptr ? std::string() : info->name;
}

void Broker::RunFetch(std::shared_ptr<FetchState> state) {
  auto round = std::make_shared<FetchRound>();
  const int16_t version = state->header.api_version;
  for (size_t t = 0; t < state->request.topics.size(); ++t) {
    for (const auto& partition : state->request.topics[t].partitions) {
      round->reads.push_back(FetchRead{.topic = t, .partition = partition.partition});
    }
  }
  size_t slot = 0;
  for (size_t t = 0; t < state->request.topics.size(); ++t) {
    const std::string name = FetchTopicName(state->request.topics[t], version);
    for (const auto& partition : state->request.topics[t].partitions) {
      FetchRead& read = round->reads[slot];
      const size_t this_slot = slot++;
      ErrorCode error = version >= 13 ? ErrorCode::kUnknownTopicId
                                      : ErrorCode::kUnknownTopicOrPartition;
      raft::driver::GroupDriver* g =
          name.empty() ? nullptr : LeaderReplica(name, partition.partition, &error);
      if (g == nullptr) {
        read.error = error;
        continue;
      }
      if (const ErrorCode fence = EpochFence(partition.current_leader_epoch, *g);
          fence != ErrorCode::kNone) {
        read.error = fence;
        continue;
      }
      read.group = image_.FindTopic(name)->partitions[partition.partition].group_id;
      read.high_watermark = g->kafka_high_watermark();
      read.log_start = g->kafka_log_start_offset();
      ++round->outstanding;
      const uint64_t max_bytes = std::min<uint64_t>(
          static_cast<uint64_t>(std::max<int32_t>(partition.partition_max_bytes, 1)),
          kFetchRecordsBytesMax);
      g->ReadKafka(partition.fetch_offset, max_bytes,
                   [this, alive = alive_, state, round, this_slot](
                       absl::StatusOr<log::KafkaReadResult> result) mutable {
                     if (!*alive) return;
                     FetchRead& r = round->reads[this_slot];
                     if (result.ok()) {
                       r.result = *std::move(result);
                     } else {
                       r.error = ErrorOfRead(result.status());
                     }
                     if (--round->outstanding == 0) OnFetchRound(state, round);
                   });
    }
  }
  if (--round->outstanding == 0) OnFetchRound(state, round);
}

void Broker::OnFetchRound(std::shared_ptr<FetchState> state, std::shared_ptr<FetchRound> round) {
  if (state->answered) return;
  size_t bytes = 0;
  bool any_error = false;
  for (const FetchRead& r : round->reads) {
    any_error |= r.error != ErrorCode::kNone;
    if (r.result.has_value()) bytes += r.result->bytes.size();
  }
  const bool enough = bytes >= static_cast<size_t>(std::max(state->request.min_bytes, 0));
  if (!enough && !any_error && runtime_.clock().Now() < state->deadline) {
    // Long poll: read again when a partition's high watermark moves, or at the deadline.
    for (const FetchRead& r : round->reads) {
      // Long polls that ended by their deadline leave expired entries: drop them here, so an
      // idle partition polled for ever holds only its live waiters.
      std::vector<std::weak_ptr<FetchState>>& waiting = fetch_waiters_[r.group];
      std::erase_if(waiting, [](const std::weak_ptr<FetchState>& w) { return w.expired(); });
      waiting.push_back(state);
    }
    state->timer = runtime_.clock().ScheduleAfter(
        state->deadline - runtime_.clock().Now(), [this, alive = alive_, state] {
          if (!*alive || state->answered) return;
          state->timer = runtime::kNoTimer;
          RunFetch(state);
        });
    return;
  }
  state->answered = true;
  if (state->timer != runtime::kNoTimer) runtime_.clock().Cancel(state->timer);
  // Whole batches up to max_bytes, the first non-empty partition's always (Kafka's rule), and
  // never more than one transport message can carry, whatever the client asked for.
  kafka::FetchResponse response;
  size_t budget = std::min(static_cast<size_t>(std::max(state->request.max_bytes, 0)),
                           kFetchRecordsBytesMax);
  size_t hard_budget = kFetchRecordsBytesMax;
  bool first = true;
  size_t slot = 0;
  for (size_t t = 0; t < state->request.topics.size(); ++t) {
    auto& out = response.responses.emplace_back();
    out.topic = state->request.topics[t].topic;
    out.topic_id = state->request.topics[t].topic_id;
    for (size_t p = 0; p < state->request.topics[t].partitions.size(); ++p) {
      const FetchRead& r = round->reads[slot++];
      auto& pd = out.partitions.emplace_back();
      pd.partition_index = r.partition;
      pd.error_code = kafka::ToWire(r.error);
      pd.high_watermark = r.high_watermark;
      pd.last_stable_offset = r.high_watermark;  // read_committed = read_uncommitted for now
      pd.log_start_offset = r.log_start;
      pd.aborted_transactions = std::nullopt;
      pd.records = kafka::Records::Empty();
      if (!r.result.has_value() || r.result->bytes.empty()) continue;
      const size_t limit = first ? hard_budget : budget;
      const size_t size = WholeBatchesWithin(r.result->bytes, limit, /*at_least_one=*/first);
      if (size == 0) continue;
      pd.records = kafka::Records::Of(std::span<const uint8_t>(r.result->bytes).first(size));
      budget = size >= budget ? 0 : budget - size;
      hard_budget -= size;
      first = false;
    }
  }
  // `round` holds the bytes the records view; encoding copies them.
  std::move(state->respond)(EncodeResponse(state->header, response));
}

void Broker::WhenVisible(raft::driver::GroupId group, int64_t kafka_end,
                         absl::AnyInvocable<void(bool visible) &&> done) {
  visibility_waiters_[group].push_back({kafka_end, std::move(done)});
  ResolveVisibility(group);
}

void Broker::ResolveVisibility(raft::driver::GroupId group) {
  auto it = visibility_waiters_.find(group);
  if (it == visibility_waiters_.end()) return;
  raft::driver::GroupDriver* driver = removing_.contains(group) ? nullptr : node_->group(group);
  const int64_t high_watermark = driver == nullptr ? -1 : driver->kafka_high_watermark();
  std::vector<VisibilityWaiter> ready;
  std::vector<VisibilityWaiter> waiting;
  for (VisibilityWaiter& w : it->second) {
    (driver == nullptr || high_watermark >= w.kafka_end ? ready : waiting).push_back(std::move(w));
  }
  if (waiting.empty()) {
    visibility_waiters_.erase(it);
  } else {
    it->second = std::move(waiting);
  }
  for (VisibilityWaiter& w : ready) std::move(w.done)(driver != nullptr);
}

void Broker::OnPartitionAdvanced(raft::driver::GroupId group) {
  ResolveVisibility(group);
  auto it = fetch_waiters_.find(group);
  if (it == fetch_waiters_.end()) return;
  std::vector<std::weak_ptr<FetchState>> waiting = std::move(it->second);
  fetch_waiters_.erase(it);
  for (const std::weak_ptr<FetchState>& weak : waiting) {
    std::shared_ptr<FetchState> state = weak.lock();
    if (state == nullptr || state->answered || state->timer == runtime::kNoTimer) continue;
    runtime_.clock().Cancel(state->timer);
    state->timer = runtime::kNoTimer;
    RunFetch(state);
  }
}

}  // namespace eddy::broker
