// RapidCheck building blocks for the generated message generators (`*_testing.h`): short
// strings and bytes, finite doubles, UUIDs, record views, small vectors, optional values and
// unknown tagged fields. Testonly.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/kafka/wire.h"
#include "rapidcheck.h"

namespace eddy::kafka::testing {

// Most elements per generated array, so nested arrays stay small.
inline constexpr int kGeneratedArrayCountMax = 3;
inline constexpr int kGeneratedStringLengthMax = 24;

inline rc::Gen<std::string> GenString() {
  return rc::gen::mapcat(rc::gen::inRange(0, kGeneratedStringLengthMax + 1), [](int length) {
    return rc::gen::container<std::string>(static_cast<size_t>(length),
                                           rc::gen::arbitrary<char>());
  });
}

inline rc::Gen<std::string> GenBytes() { return GenString(); }

inline rc::Gen<double> GenFloat64() {
  return rc::gen::map(rc::gen::arbitrary<int32_t>(),
                      [](int32_t n) { return static_cast<double>(n) / 8; });
}

inline rc::Gen<Uuid> GenUuid() {
  return rc::gen::map(rc::gen::container<std::vector<uint8_t>>(16, rc::gen::arbitrary<uint8_t>()),
                      [](const std::vector<uint8_t>& bytes) {
                        Uuid uuid;
                        std::copy(bytes.begin(), bytes.end(), uuid.bytes.begin());
                        return uuid;
                      });
}

// Record views need bytes that outlive the message: they are kept here for the whole test.
inline std::deque<std::string>& RecordsArena() {
  static auto* arena = new std::deque<std::string>();
  return *arena;
}

inline rc::Gen<Records> GenRecords(bool nullable) {
  return rc::gen::exec([nullable] {
    if (nullable && *rc::gen::inRange(0, 4) == 0) return Records();
    std::string& bytes = RecordsArena().emplace_back(*GenBytes());
    return Records::Of(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                bytes.size()));
  });
}

template <typename T>
rc::Gen<std::vector<T>> GenVector(rc::Gen<T> element) {
  return rc::gen::mapcat(rc::gen::inRange(0, kGeneratedArrayCountMax + 1), [element](int count) {
    return rc::gen::container<std::vector<T>>(static_cast<size_t>(count), element);
  });
}

template <typename T>
rc::Gen<std::optional<T>> GenNullable(bool nullable, rc::Gen<T> value) {
  return rc::gen::exec([nullable, value] {
    if (nullable && *rc::gen::inRange(0, 4) == 0) return std::optional<T>();
    return std::optional<T>(*value);
  });
}

// Zero to two unknown tagged fields with ascending tags from `first_free_tag` on.
inline rc::Gen<UnknownTaggedFields> GenUnknownTaggedFields(uint32_t first_free_tag) {
  return rc::gen::exec([first_free_tag] {
    UnknownTaggedFields fields;
    const int count = *rc::gen::inRange(0, 3);
    uint32_t tag = first_free_tag;
    for (int i = 0; i < count; ++i) {
      tag += static_cast<uint32_t>(*rc::gen::inRange(0, 200));
      fields.push_back(UnknownTaggedField{tag, *GenBytes()});
      ++tag;
    }
    return fields;
  });
}

}  // namespace eddy::kafka::testing
