#include "clients/group/java_hash.h"

#include <algorithm>
#include <tuple>

#include "core/base/check.h"

namespace eddy::clients::group::internal {
namespace {

constexpr size_t kDefaultCapacity = 16;  // java.util.HashMap.DEFAULT_INITIAL_CAPACITY
constexpr uint32_t kReplacement = 0xfffd;

// The length of the UTF-8 sequence starting with `lead`, or 0 if `lead` cannot start one.
size_t SequenceLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// Decodes the code point at `at` (advancing it), U+FFFD for a malformed byte.
uint32_t NextCodePoint(std::string_view utf8, size_t& at) {
  const auto lead = static_cast<uint8_t>(utf8[at]);
  const size_t length = SequenceLength(lead);
  if (length == 1) return utf8[at++] & 0x7f;
  if (length == 0 || at + length > utf8.size()) {
    ++at;
    return kReplacement;
  }
  uint32_t code_point = lead & (0x7f >> length);
  for (size_t i = 1; i < length; ++i) {
    const auto next = static_cast<uint8_t>(utf8[at + i]);
    if ((next & 0xc0) != 0x80) {
      ++at;
      return kReplacement;
    }
    code_point = (code_point << 6) | (next & 0x3f);
  }
  const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < smallest[length] || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    ++at;
    return kReplacement;
  }
  at += length;
  return code_point;
}

}  // namespace

int32_t JavaStringHash(std::string_view utf8) {
  // Java's int arithmetic wraps like uint32_t.
  uint32_t hash = 0;
  size_t at = 0;
  while (at < utf8.size()) {
    const uint32_t code_point = NextCodePoint(utf8, at);
    if (code_point < 0x10000) {
      hash = 31 * hash + code_point;
    } else {
      const uint32_t offset = code_point - 0x10000;
      hash = 31 * hash + (0xd800 + (offset >> 10));
      hash = 31 * hash + (0xdc00 + (offset & 0x3ff));
    }
  }
  EDDY_CHECK_EQ(at, utf8.size());
  return static_cast<int32_t>(hash);
}

int32_t JavaTopicPartitionHash(const TopicPartition& tp) {
  const uint32_t result = 31 + static_cast<uint32_t>(tp.partition);
  return static_cast<int32_t>(31 * result + static_cast<uint32_t>(JavaStringHash(tp.topic)));
}

size_t JavaHashCapacity(size_t size_max) {
  size_t capacity = kDefaultCapacity;
  // HashMap.putVal resizes when ++size > threshold (capacity * 0.75).
  while (size_max > capacity / 4 * 3) capacity *= 2;
  EDDY_CHECK_GE(capacity, size_max);
  return capacity;
}

size_t JavaBucket(int32_t hash, size_t capacity) {
  EDDY_CHECK_EQ(capacity & (capacity - 1), 0u);  // a power of two
  const auto h = static_cast<uint32_t>(hash);
  return (h ^ (h >> 16)) & (capacity - 1);
}

std::vector<std::string> JavaHashMapOrder(std::vector<std::string> keys) {
  const size_t capacity = JavaHashCapacity(keys.size());
  std::vector<std::pair<size_t, std::string>> ranked;
  ranked.reserve(keys.size());
  for (std::string& key : keys) {
    const size_t bucket = JavaBucket(JavaStringHash(key), capacity);
    ranked.emplace_back(bucket, std::move(key));
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> ordered;
  ordered.reserve(ranked.size());
  for (auto& [bucket, key] : ranked) ordered.push_back(std::move(key));
  return ordered;
}

}  // namespace eddy::clients::group::internal
