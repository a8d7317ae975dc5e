// Proves that a group's __consumer_offsets partition is Kafka's: JavaStringHash equals Java's
// String.hashCode of the id decoded as Java decodes UTF-8, and OffsetsPartitionFor is Kafka's
// Utils.abs(hash) % n, always in [0, n). How:
//   - KNOWN VALUES computed outside this code (python3 emulating Java's int arithmetic over
//     UTF-16 code units), including a supplementary character (a surrogate pair) and
//     "polygenelubricants", whose hash is Integer.MIN_VALUE (Utils.abs maps it to 0);
//   - a REFERENCE written here from scratch: a port of JDK 17's String.decodeUTF8_UTF16 in
//     REPLACE mode (what `new String(bytes, UTF_8)` runs on the broker) to UTF-16 code units,
//     then the hash loop; RapidCheck compares it with JavaStringHash on valid UTF-8 built from
//     random code points, and on arbitrary bytes;
//   - bytes both decoders agree on as isolated invalid bytes, each one U+FFFD.
#include "core/group/offsets_topic.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::group {
namespace {

constexpr uint16_t kRepl = 0xFFFD;

bool Continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// JDK 17 String.decodeUTF8_UTF16 with doReplace = true, branch for branch: malformed input is
// replaced by one U+FFFD per "maximal subpart" (a truncated but so far valid sequence is one
// U+FFFD; an encoded surrogate, ED A0..BF xx, is one U+FFFD for its three bytes).
std::vector<uint16_t> JavaDecodeUtf8(const std::string& text) {
  std::vector<uint16_t> out;
  const auto at = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const size_t sl = text.size();
  size_t sp = 0;
  while (sp < sl) {
    const uint8_t b1 = at(sp++);
    if (b1 < 0x80) {
      out.push_back(b1);
    } else if (b1 >= 0xC2 && b1 <= 0xDF) {
      if (sp < sl) {
        const uint8_t b2 = at(sp);
        if (!Continuation(b2)) {
          out.push_back(kRepl);
        } else {
          out.push_back(static_cast<uint16_t>(((b1 & 0x1F) << 6) | (b2 & 0x3F)));
          ++sp;
        }
        continue;
      }
      out.push_back(kRepl);
      break;
    } else if (b1 >= 0xE0 && b1 <= 0xEF) {
      if (sp + 1 < sl) {
        const uint8_t b2 = at(sp), b3 = at(sp + 1);
        const bool overlong = b1 == 0xE0 && (b2 & 0xE0) == 0x80;
        if (overlong || !Continuation(b2) || !Continuation(b3)) {
          out.push_back(kRepl);
          sp += (overlong || !Continuation(b2)) ? 0 : 1;  // malformed3: 1 or 2 bytes, b1 counted
        } else {
          const uint16_t c =
              static_cast<uint16_t>(((b1 & 0x0F) << 12) | ((b2 & 0x3F) << 6) | (b3 & 0x3F));
          out.push_back(c >= 0xD800 && c <= 0xDFFF ? kRepl : c);
          sp += 2;
        }
        continue;
      }
      if (sp < sl && ((b1 == 0xE0 && (at(sp) & 0xE0) == 0x80) || !Continuation(at(sp)))) {
        out.push_back(kRepl);
        continue;
      }
      out.push_back(kRepl);
      break;
    } else if (b1 >= 0xF0 && b1 <= 0xF7) {
      if (sp + 2 < sl) {
        const uint8_t b2 = at(sp), b3 = at(sp + 1), b4 = at(sp + 2);
        const uint32_t uc =
            ((b1 & 0x07u) << 18) | ((b2 & 0x3Fu) << 12) | ((b3 & 0x3Fu) << 6) | (b4 & 0x3Fu);
        if (!Continuation(b2) || !Continuation(b3) || !Continuation(b4) || uc < 0x10000 ||
            uc > 0x10FFFF) {
          out.push_back(kRepl);
          size_t n = 3;  // malformed4
          if (b1 > 0xF4 || (b1 == 0xF0 && (b2 < 0x90 || b2 > 0xBF)) ||
              (b1 == 0xF4 && (b2 & 0xF0) != 0x80) || !Continuation(b2)) {
            n = 1;
          } else if (!Continuation(b3)) {
            n = 2;
          }
          sp += n - 1;
        } else {
          const uint32_t v = uc - 0x10000;
          out.push_back(static_cast<uint16_t>(0xD800 + (v >> 10)));
          out.push_back(static_cast<uint16_t>(0xDC00 + (v & 0x3FF)));
          sp += 3;
        }
        continue;
      }
      if (b1 > 0xF4 ||
          (sp < sl && ((b1 == 0xF0 && (at(sp) < 0x90 || at(sp) > 0xBF)) ||
                       (b1 == 0xF4 && (at(sp) & 0xF0) != 0x80) || !Continuation(at(sp))))) {
        out.push_back(kRepl);
        continue;
      }
      ++sp;
      out.push_back(kRepl);
      if (sp < sl && !Continuation(at(sp))) continue;
      break;
    } else {
      out.push_back(kRepl);
    }
  }
  return out;
}

int32_t ReferenceHash(const std::string& text) {
  uint32_t h = 0;
  for (uint16_t unit : JavaDecodeUtf8(text)) h = h * 31u + unit;
  return static_cast<int32_t>(h);
}

// Kafka's Utils.abs(hash) % n.
int32_t ReferencePartition(int32_t hash, int32_t n) {
  const int64_t positive =
      hash == std::numeric_limits<int32_t>::min() ? 0 : (hash < 0 ? -int64_t{hash} : hash);
  return static_cast<int32_t>(positive % n);
}

std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

TEST(JavaStringHashTest, KnownValuesFromJava) {
  EXPECT_EQ(JavaStringHash(""), 0);
  EXPECT_EQ(JavaStringHash("hello"), 99162322);
  EXPECT_EQ(JavaStringHash("\xE2\x82\xAC"), 8364);         // "€", U+20AC
  EXPECT_EQ(JavaStringHash("\xF0\x9F\x98\x80"), 1772899);  // "😀", U+1F600 = D83D DE00
  EXPECT_EQ(JavaStringHash("my-group"), -1906497762);
  EXPECT_EQ(JavaStringHash("console-consumer-12345"), 158455506);
  EXPECT_EQ(JavaStringHash("\xC3\x9Cn\xC3\xAF"
                           "c\xC3\xB6"
                           "d\xC3\xA9"),
            1055431381);  // Ünïcödé
  EXPECT_EQ(JavaStringHash("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x82\xB0\xE3\x83\xAB\xE3\x83"
                           "\xBC\xE3\x83\x97"),
            -305235731);  // 日本語グループ
  EXPECT_EQ(JavaStringHash("a\xF0\x9F\x98\x80"
                           "b\xE2\x82\xAC"
                           "c"),
            -240759531);
  EXPECT_EQ(JavaStringHash("The quick brown fox jumps over the lazy dog"), -609428141);
  EXPECT_EQ(JavaStringHash("polygenelubricants"), std::numeric_limits<int32_t>::min());
}

TEST(JavaStringHashTest, IsolatedInvalidBytesCountAsOneReplacementEach) {
  // Stray continuation bytes, C0/C1, F5..FF and overlong or out-of-range forms: Java and Eddy
  // both read one U+FFFD per byte here.
  for (const char* bad : {"\x80", "\xBF", "\xC0", "\xC1", "\xF5", "\xF8", "\xFE", "\xFF"}) {
    EXPECT_EQ(JavaStringHash(bad), 0xFFFD) << std::hex << +static_cast<uint8_t>(bad[0]);
  }
  const int32_t two = static_cast<int32_t>(0xFFFDu * 31u + 0xFFFDu);
  EXPECT_EQ(JavaStringHash("\xC0\xAF"), two);  // overlong '/'
  EXPECT_EQ(JavaStringHash("a\xFF"), static_cast<int32_t>('a' * 31u + 0xFFFDu));
  EXPECT_EQ(JavaStringHash("\xE0\x80\x80"), 65074269);        // overlong NUL: three
  EXPECT_EQ(JavaStringHash("\xF4\x90\x80\x80"), 2017367872);  // above U+10FFFF: four
  EXPECT_EQ(JavaStringHash("\xC3"
                           "A"),
            static_cast<int32_t>(0xFFFDu * 31u + 'A'));
}

// Regression (found by this file's reference, once disabled): Eddy replaced every byte of a
// malformed multi-byte sequence with its own U+FFFD, but Java replaces a truncated sequence whose
// bytes are valid so far with ONE U+FFFD, and an encoded surrogate (ED A0..BF xx) with one
// U+FFFD for its three bytes — so such a group id was placed differently from Kafka's broker.
// Values below from the Java port above (and python3).
TEST(JavaStringHashTest, MalformedSequencesAreOneReplacementAsInJava) {
  EXPECT_EQ(JavaStringHash("\xE2\x82"), 65533);  // truncated "€" at the end
  EXPECT_EQ(JavaStringHash("\xE2\x82"
                           "A"),
            2031588);                                // truncated "€" then 'A'
  EXPECT_EQ(JavaStringHash("\xF0\x9F\x98"), 65533);  // truncated "😀" at the end
  EXPECT_EQ(JavaStringHash("\xF0\x9F\x98"
                           "A"),
            2031588);                                // truncated "😀" then 'A'
  EXPECT_EQ(JavaStringHash("\xED\xA0\x80"), 65533);  // U+D800 encoded in UTF-8
}

TEST(JavaStringHashTest, TheReferenceAgreesWithTheKnownValues) {
  EXPECT_EQ(ReferenceHash("hello"), 99162322);
  EXPECT_EQ(ReferenceHash("\xF0\x9F\x98\x80"), 1772899);
  EXPECT_EQ(ReferenceHash("\xE2\x82"
                          "A"),
            2031588);
  EXPECT_EQ(ReferenceHash("\xED\xA0\x80"), 65533);
  EXPECT_EQ(ReferenceHash("\xF4\x90\x80\x80"), 2017367872);
  EXPECT_EQ(ReferenceHash("polygenelubricants"), std::numeric_limits<int32_t>::min());
}

TEST(OffsetsPartitionForTest, KafkasAbsOfIntMinIsZero) {
  ASSERT_EQ(JavaStringHash("polygenelubricants"), std::numeric_limits<int32_t>::min());
  for (int32_t n : {1, 3, 7, 50, 1000, std::numeric_limits<int32_t>::max()}) {
    EXPECT_EQ(OffsetsPartitionFor("polygenelubricants", n), 0) << n;
  }
  // Two more strings whose hash is INT32_MIN (checked with python3 emulating Java).
  for (const char* min_hash : {"GydZG_", "DESIGNING WORKHOUSES"}) {
    EXPECT_EQ(JavaStringHash(min_hash), std::numeric_limits<int32_t>::min()) << min_hash;
    EXPECT_EQ(OffsetsPartitionFor(min_hash, 50), 0) << min_hash;
  }
  EXPECT_EQ(OffsetsPartitionFor("my-group", 50), 1906497762 % 50);
  EXPECT_EQ(OffsetsPartitionFor("hello", 50), 99162322 % 50);
  EXPECT_EQ(OffsetsPartitionFor("", 50), 0);
}

// Fresh INT32_MIN strings by search: "group-<i>" followed by four characters a b c d (b, c, d
// in 'A'..'_') solving h * 31^4 + 31^3 a + 31^2 b + 31 c + d = 2^31 (mod 2^32): a takes the high
// part, any BMP character that is not a surrogate, so most prefixes have a solution.
TEST(OffsetsPartitionForTest, SearchedStringsWithHashIntMinLandOnZero) {
  int found = 0;
  for (int i = 0; i < 1000 && found < 20; ++i) {
    const std::string prefix = "group-" + std::to_string(i);
    const uint32_t h = static_cast<uint32_t>(ReferenceHash(prefix));
    const uint32_t r = 0x80000000u - h * 923521u - 'A' * (961u + 31u + 1u);  // mod 2^32
    const uint32_t a = r / 29791u;
    if (a >= 0x10000 || (a >= 0xD800 && a <= 0xDFFF)) continue;
    const uint32_t rest = r - a * 29791u;
    const std::string id = prefix + Utf8(a) + Utf8('A' + rest / 961) + Utf8('A' + rest % 961 / 31) +
                           Utf8('A' + rest % 31);
    ASSERT_EQ(ReferenceHash(id), std::numeric_limits<int32_t>::min()) << i;
    EXPECT_EQ(JavaStringHash(id), std::numeric_limits<int32_t>::min()) << i;
    for (int32_t n : {1, 50, 1000}) EXPECT_EQ(OffsetsPartitionFor(id, n), 0) << i << " " << n;
    ++found;
  }
  EXPECT_EQ(found, 20);
}

TEST(OffsetsPartitionForTest, TopicName) { EXPECT_EQ(kOffsetsTopicName, "__consumer_offsets"); }

rc::Gen<uint32_t> GenCodePoint() {
  return rc::gen::oneOf(
      rc::gen::inRange<uint32_t>(0, 0x80), rc::gen::inRange<uint32_t>(0x80, 0x800),
      rc::gen::inRange<uint32_t>(0x800, 0xD800), rc::gen::inRange<uint32_t>(0xE000, 0x10000),
      rc::gen::inRange<uint32_t>(0x10000, 0x110000));
}

RC_GTEST_PROP(JavaStringHashProperty, MatchesTheReferenceOnValidUtf8, ()) {
  const auto cps = *rc::gen::container<std::vector<uint32_t>>(GenCodePoint());
  std::string text;
  for (uint32_t cp : cps) text += Utf8(cp);
  RC_ASSERT(JavaStringHash(text) == ReferenceHash(text));
  const auto n = *rc::gen::inRange<int32_t>(1, 2000);
  const int32_t p = OffsetsPartitionFor(text, n);
  RC_ASSERT(p == ReferencePartition(ReferenceHash(text), n));
}

// Disabled with JavaStringHashTest.MalformedSequencesAreOneReplacementAsInJava: the same
// deviation, found at random (e.g. "\xE2\x82").
RC_GTEST_PROP(JavaStringHashProperty, MatchesTheReferenceOnArbitraryBytes,
              (const std::string& text)) {
  RC_ASSERT(JavaStringHash(text) == ReferenceHash(text));
}

RC_GTEST_PROP(OffsetsPartitionForProperty, AlwaysInRangeAndKafkasRule, (const std::string& text)) {
  const auto n = *rc::gen::oneOf(rc::gen::inRange<int32_t>(1, 200),
                                 rc::gen::just(std::numeric_limits<int32_t>::max()),
                                 rc::gen::inRange<int32_t>(1, std::numeric_limits<int32_t>::max()));
  const int32_t p = OffsetsPartitionFor(text, n);
  RC_ASSERT(p >= 0);
  RC_ASSERT(p < n);
  RC_ASSERT(p == ReferencePartition(JavaStringHash(text), n));
}

}  // namespace
}  // namespace eddy::group
