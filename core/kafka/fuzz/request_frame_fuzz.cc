// libFuzzer target: whole request frames, as a broker reads them (the bytes after the size
// prefix). Parses the header; when the API and version are supported, decodes the body with
// that API's codec and, if it decodes, checks it re-encodes to Size() bytes and decodes back
// equal (CheckRequestBody aborts otherwise). ASan/UBSan catch any read outside the input.
// Seeds: the golden frames in core/kafka/testdata/.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/kafka/generated/apis_testing.h"
#include "core/kafka/header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> frame(data, size);
  const eddy::kafka::RequestFrame parsed = eddy::kafka::ParseRequestFrame(frame);
  if (parsed.ids_parsed != (size >= eddy::kafka::kRequestHeaderSizeBytesMin)) __builtin_trap();
  if (!parsed.status.ok()) return 0;
  (void)eddy::kafka::testing::CheckRequestBody(parsed.header.api_key, parsed.header.api_version,
                                               parsed.body);
  return 0;
}
