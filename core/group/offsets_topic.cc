#include "core/group/offsets_topic.h"

#include "core/base/check.h"

namespace eddy::group {
namespace {

constexpr uint32_t kReplacement = 0xFFFD;

bool Continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// The next code point of `text` at `*i`, advancing past it, as Java's UTF-8 decoder reads it
// (String(bytes, UTF_8): REPLACE mode): the Unicode standard's well-formed sequences (Table
// 3-7), a malformed one replaced by ONE U+FFFD per maximal subpart (the longest prefix of a
// well-formed sequence; a byte that starts none alone) — with Java's one difference: a
// surrogate encoded in three bytes (ED A0..BF 80..BF) is taken whole and replaced by one
// U+FFFD, and so is its two-byte prefix.
uint32_t NextCodePoint(std::string_view text, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(*i);
  if (lead < 0x80) {
    ++*i;
    return lead;
  }
  int length = 0;
  uint8_t second_min = 0x80, second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong below
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong below
    if (lead == 0xF4) second_max = 0x8F;  // beyond U+10FFFF above
  } else {
    ++*i;  // 80..C1, F5..FF start nothing
    return kReplacement;
  }
  // The longest well-formed prefix.
  size_t taken = 1;
  while (taken < static_cast<size_t>(length) && *i + taken < text.size()) {
    const uint8_t b = byte(*i + taken);
    const bool ok = taken == 1 ? (b >= second_min && b <= second_max) : Continuation(b);
    if (!ok) break;
    ++taken;
  }
  if (taken < static_cast<size_t>(length)) {
    *i += taken;
    return kReplacement;
  }
  uint32_t cp = lead & (0xFF >> (length + 1));
  for (int k = 1; k < length; ++k) cp = (cp << 6) | (byte(*i + k) & 0x3F);
  *i += length;
  return cp >= 0xD800 && cp <= 0xDFFF ? kReplacement : cp;  // Java's surrogate case
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
