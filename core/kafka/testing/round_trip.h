// The round-trip and malformed-input properties every generated message test checks, at every
// version of the message (see the generated `*_round_trip_test.cc`). Testonly.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/kafka/wire.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"

namespace eddy::kafka::testing {

inline std::span<const uint8_t> AsBytes(const std::string& bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

template <typename Message>
std::string EncodeOrDie(const Message& message, int16_t version) {
  Writer writer;
  const absl::Status status = message.Encode(version, writer);
  RC_ASSERT(status.ok());
  RC_ASSERT(writer.size_bytes() == message.Size(version));
  return writer.Flatten();
}

// Encode -> Size -> decode -> equal -> re-encode identical; every prefix fails; every
// single-byte corruption fails or yields a message that itself round-trips.
template <typename Message>
void CheckMessage(const Message& message, int16_t version) {
  const std::string bytes = EncodeOrDie(message, version);
  Message decoded;
  const absl::Status status = DecodeBody(version, AsBytes(bytes), &decoded);
  RC_ASSERT(status.ok());
  RC_ASSERT(decoded == message);
  RC_ASSERT(EncodeOrDie(decoded, version) == bytes);
  for (size_t length = 0; length < bytes.size(); ++length) {
    // A copy of exactly `length` bytes, so ASan sees any read past the end.
    const std::string prefix = bytes.substr(0, length);
    Message truncated;
    RC_ASSERT(!DecodeBody(version, AsBytes(prefix), &truncated).ok());
  }
  std::string corrupted = bytes;
  const uint8_t flip = *rc::gen::inRange<uint8_t>(1, 255);
  for (size_t position = 0; position < bytes.size(); ++position) {
    corrupted[position] = static_cast<char>(bytes[position] ^ flip);
    Message damaged;
    if (DecodeBody(version, AsBytes(corrupted), &damaged).ok()) {
      Writer writer;
      // A decoded message always re-encodes (its values came from the wire's own ranges).
      RC_ASSERT(damaged.Encode(version, writer).ok());
      Message again;
      const std::string again_bytes = writer.Flatten();
      RC_ASSERT(DecodeBody(version, AsBytes(again_bytes), &again).ok());
      RC_ASSERT(again == damaged);
    }
    corrupted[position] = bytes[position];
  }
}

template <typename Message, typename GenFunction>
void CheckEveryVersion(GenFunction generator) {
  for (int16_t version = Message::kVersionMin; version <= Message::kVersionMax; ++version) {
    const std::string name = std::string(Message::kName) + " v" + std::to_string(version);
    const bool passed = rc::check(name, [&] { CheckMessage(*generator(version), version); });
    EXPECT_TRUE(passed) << name;
  }
}

}  // namespace eddy::kafka::testing
