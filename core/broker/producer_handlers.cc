// Broker: InitProducerId — producer ids for idempotent producers, handed out from blocks the
// controller allocates to this broker (broker.h, PRODUCER IDS).
#include <utility>

#include "core/broker/broker.h"
#include "core/broker/handler_support.h"
#include "core/kafka/generated/init_producer_id.h"

namespace eddy::broker {

using internal::DecodeBody;
using kafka::ErrorCode;

void Broker::HandleInitProducerId(const kafka::RequestFrame& frame, Respond respond) {
  kafka::InitProducerIdRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  auto answer = [header = frame.header, respond = std::move(respond)](
                    ErrorCode error, int64_t producer_id) mutable {
    kafka::InitProducerIdResponse response;
    response.error_code = kafka::ToWire(error);
    response.producer_id = error == ErrorCode::kNone ? producer_id : -1;
    response.producer_epoch = error == ErrorCode::kNone ? 0 : -1;
    std::move(respond)(EncodeResponse(header, response));
  };
  // Transactions are not served: no transaction coordinator exists to hold a transactional id.
  if (request.transactional_id.has_value() && !request.transactional_id->empty()) {
    return answer(ErrorCode::kInvalidRequest, -1);
  }
  // Kafka hands an idempotent producer a fresh id at epoch 0 every time, also when it names its
  // current id and epoch (KIP-360's bump is for transactional producers).
  NextProducerId(std::move(answer));
}

void Broker::NextProducerId(ProducerIdDone done) {
  if (producer_ids_.size > 0) {
    const int64_t id = producer_ids_.first++;
    --producer_ids_.size;
    return std::move(done)(ErrorCode::kNone, id);
  }
  producer_id_waiters_.push_back(std::move(done));
  if (allocating_producer_ids_) return;
  allocating_producer_ids_ = true;
  ControllerCall call;
  call.mutable_allocate_producer_ids()->set_broker_id(
      static_cast<controller::BrokerId>(runtime_.self()));
  call.mutable_allocate_producer_ids()->set_block_size(kProducerIdBlockSize);
  CallController(std::move(call), kProducerIdCallTimeout, [this](ControllerAnswer a) {
    allocating_producer_ids_ = false;
    std::vector<ProducerIdDone> waiters = std::move(producer_id_waiters_);
    producer_id_waiters_.clear();
    if (a.error_code() == 0 && a.producer_id_count() > 0 && a.producer_id_first() >= 0) {
      producer_ids_ = controller::ProducerIdRange{a.producer_id_first(), a.producer_id_count()};
      ++stats_.producer_id_blocks;
      for (ProducerIdDone& w : waiters) NextProducerId(std::move(w));
      return;
    }
    // Retriable for every client: it asks again (the controller may be electing).
    for (ProducerIdDone& w : waiters) std::move(w)(ErrorCode::kCoordinatorNotAvailable, -1);
  });
}

}  // namespace eddy::broker
