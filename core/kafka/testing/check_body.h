// CheckBody<Message>: decodes one untrusted body; when it decodes, re-encodes it and checks the
// size prediction and that it decodes back equal, aborting on any violation (for fuzzers: a
// crash is a finding). Returns the decode status. Testonly.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/check.h"
#include "core/kafka/wire.h"

namespace eddy::kafka::testing {

template <typename Message>
absl::Status CheckBody(int16_t version, std::span<const uint8_t> body) {
  Message message;
  absl::Status status = DecodeBody(version, body, &message);
  if (!status.ok()) return status;
  Writer writer;
  EDDY_CHECK_OK(message.Encode(version, writer));
  EDDY_CHECK_EQ(writer.size_bytes(), message.Size(version));
  EDDY_CHECK_LE(writer.size_bytes(), body.size());
  const std::string bytes = writer.Flatten();
  Message again;
  EDDY_CHECK_OK(DecodeBody(version,
                           std::span<const uint8_t>(
                               reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                           &again));
  EDDY_CHECK(again == message);
  return absl::OkStatus();
}

template <typename Message>
absl::StatusOr<std::string> ReencodeBody(int16_t version, std::span<const uint8_t> body) {
  Message message;
  absl::Status status = DecodeBody(version, body, &message);
  if (!status.ok()) return status;
  Writer writer;
  status = message.Encode(version, writer);
  if (!status.ok()) return status;
  return writer.Flatten();
}

}  // namespace eddy::kafka::testing
