// libFuzzer target: response bodies of every supported API at every version (what Eddy's own
// client library decodes). The first two bytes pick the API (modulo the supported list) and the
// version (modulo its range); the rest is the body. Decoded bodies must round-trip
// (CheckResponseBody aborts otherwise).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/kafka/generated/apis.h"
#include "core/kafka/generated/apis_testing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto apis = eddy::kafka::SupportedApis();
  const eddy::kafka::ApiInfo& api = apis[data[0] % apis.size()];
  const int range = api.version_max - api.version_min + 1;
  const int16_t version = static_cast<int16_t>(api.version_min + data[1] % range);
  (void)eddy::kafka::testing::CheckResponseBody(api.api_key, version,
                                                std::span<const uint8_t>(data + 2, size - 2));
  return 0;
}
