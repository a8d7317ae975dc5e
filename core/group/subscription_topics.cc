#include "core/group/subscription_topics.h"

#include <cstdint>

namespace eddy::group {
namespace {

bool ReadInt(std::string_view& in, int bytes, int64_t* out) {
  if (in.size() < static_cast<size_t>(bytes)) return false;
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  in.remove_prefix(bytes);
  // Sign-extend.
  const int shift = 64 - 8 * bytes;
  *out = static_cast<int64_t>(v << shift) >> shift;
  return true;
}

}  // namespace

std::optional<std::vector<std::string>> SubscriptionTopics(std::string_view in) {
  int64_t version = 0;
  int64_t count = 0;
  if (!ReadInt(in, 2, &version) || version < 0 || !ReadInt(in, 4, &count) || count < 0) {
    return std::nullopt;
  }
  // Each topic takes at least its 2-byte length: a count the bytes cannot back is refused
  // before anything is reserved for it.
  if (static_cast<uint64_t>(count) > in.size() / 2) return std::nullopt;
  std::vector<std::string> topics;
  for (int64_t i = 0; i < count; ++i) {
    int64_t length = 0;
    if (!ReadInt(in, 2, &length) || length < 0 || static_cast<uint64_t>(length) > in.size()) {
      return std::nullopt;
    }
    topics.emplace_back(in.substr(0, static_cast<size_t>(length)));
    in.remove_prefix(static_cast<size_t>(length));
  }
  return topics;
}

}  // namespace eddy::group
