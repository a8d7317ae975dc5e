// libFuzzer target: the record-carrying family (Produce and Fetch, requests and responses),
// whose RECORDS fields are views into the input. The first byte picks message and direction,
// the second the version; decoded messages must round-trip (CheckBody aborts otherwise), and
// every records view must lie inside the input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/produce.h"
#include "core/kafka/testing/check_body.h"

namespace {

using eddy::kafka::FetchResponse;
using eddy::kafka::ProduceRequest;

void CheckViewInside(const eddy::kafka::Records& records, std::span<const uint8_t> input) {
  for (std::span<const uint8_t> piece : records.pieces()) {
    if (piece.data() < input.data() || piece.data() + piece.size() > input.data() + input.size()) {
      __builtin_trap();
    }
  }
}

template <typename Message>
int16_t PickVersion(uint8_t selector) {
  return static_cast<int16_t>(Message::kVersionMin +
                              selector % (Message::kVersionMax - Message::kVersionMin + 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::span<const uint8_t> body(data + 2, size - 2);
  namespace testing = eddy::kafka::testing;
  switch (data[0] % 4) {
    case 0: {
      const int16_t version = PickVersion<ProduceRequest>(data[1]);
      ProduceRequest request;
      if (eddy::kafka::DecodeBody(version, body, &request).ok()) {
        for (const auto& topic : request.topic_data) {
          for (const auto& partition : topic.partition_data) CheckViewInside(partition.records, body);
        }
      }
      (void)testing::CheckBody<ProduceRequest>(version, body);
      break;
    }
    case 1: {
      const int16_t version = PickVersion<FetchResponse>(data[1]);
      FetchResponse response;
      if (eddy::kafka::DecodeBody(version, body, &response).ok()) {
        for (const auto& topic : response.responses) {
          for (const auto& partition : topic.partitions) CheckViewInside(partition.records, body);
        }
      }
      (void)testing::CheckBody<FetchResponse>(version, body);
      break;
    }
    case 2:
      (void)testing::CheckBody<eddy::kafka::ProduceResponse>(
          PickVersion<eddy::kafka::ProduceResponse>(data[1]), body);
      break;
    default:
      (void)testing::CheckBody<eddy::kafka::FetchRequest>(
          PickVersion<eddy::kafka::FetchRequest>(data[1]), body);
      break;
  }
  return 0;
}
