#include "core/group/offsets_topic.h"

#include "core/base/check.h"

namespace eddy::group {
namespace {

constexpr uint32_t kReplacement = 0xFFFD;

// The next code point of `text` at `*i`, advancing past it; invalid sequences yield U+FFFD
// for their first byte.
uint32_t NextCodePoint(std::string_view text, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(*i);
  int length = 0;
  uint32_t cp = 0;
  if (lead < 0x80) {
    ++*i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, cp = lead & 0x07;
  } else {
    ++*i;
    return kReplacement;
  }
  if (*i + length > text.size()) {
    ++*i;
    return kReplacement;
  }
  for (int k = 1; k < length; ++k) {
    if ((byte(*i + k) & 0xC0) != 0x80) {
      ++*i;
      return kReplacement;
    }
    cp = (cp << 6) | (byte(*i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return kReplacement;
  }
  *i += length;
  return cp;
}

}  // namespace

int32_t JavaStringHash(std::string_view text) {
  uint32_t hash = 0;  // Java's int arithmetic wraps: unsigned here, same bits
  const auto add = [&hash](uint32_t unit) { hash = hash * 31 + unit; };
  for (size_t i = 0; i < text.size();) {
    const uint32_t cp = NextCodePoint(text, &i);
    if (cp >= 0x10000) {  // a surrogate pair in UTF-16
      add(0xD800 + ((cp - 0x10000) >> 10));
      add(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(hash);
}

int32_t OffsetsPartitionFor(std::string_view group_id, int32_t partition_count) {
  EDDY_CHECK_GT(partition_count, 0);
  const int32_t hash = JavaStringHash(group_id);
  const int32_t positive = hash == INT32_MIN ? 0 : (hash < 0 ? -hash : hash);
  return positive % partition_count;
}

}  // namespace eddy::group
