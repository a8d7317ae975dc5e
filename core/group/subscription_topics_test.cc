// Proves SubscriptionTopics (the broker's reader of a "consumer" member's topics) reads what
// Kafka's clients write and refuses the rest without crashing. How: subscriptions encoded by
// the client's own codec (clients/group/consumer_protocol.h, as Java's ConsumerProtocol writes
// them) at versions 0..3 read back as their topics; every truncation before the end of the
// topic array is refused and every one after it is not (later fields are not read); hand-made
// hostile bytes (negative version, negative or huge counts, null or overlong topic lengths) are
// refused; and RapidCheck checks random and mutated bytes never crash and agree with the
// client's full decoder (whatever it decodes, this reads the same topics; whatever this
// refuses, it refuses too).
#include "core/group/subscription_topics.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "clients/group/consumer_protocol.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::group {
namespace {

namespace cg = ::eddy::clients::group;

std::string I16(int16_t v) {
  return {static_cast<char>((static_cast<uint16_t>(v) >> 8) & 0xff),
          static_cast<char>(static_cast<uint16_t>(v) & 0xff)};
}
std::string I32(int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  return {static_cast<char>(u >> 24), static_cast<char>((u >> 16) & 0xff),
          static_cast<char>((u >> 8) & 0xff), static_cast<char>(u & 0xff)};
}
std::string Str(const std::string& s) { return I16(static_cast<int16_t>(s.size())) + s; }

// Where the topic array of `encoded` ends: version, count, then each int16-length topic.
size_t TopicsEnd(const std::vector<std::string>& topics) {
  size_t end = 2 + 4;
  for (const std::string& t : topics) end += 2 + t.size();
  return end;
}

cg::Subscription Sample() {
  cg::Subscription s;
  s.topics = {"orders", "payments", "t"};
  s.user_data = std::string("\x00\x01", 2);
  s.owned_partitions = {{"orders", 0}, {"orders", 3}, {"t", 1}};
  s.generation_id = 7;
  s.rack_id = "rack-a";
  return s;
}

TEST(SubscriptionTopicsTest, ReadsTheTopicsOfEveryVersionTheClientWrites) {
  const cg::Subscription s = Sample();
  for (int16_t version = 0; version <= 3; ++version) {
    const absl::StatusOr<std::string> bytes = cg::EncodeSubscription(s, version);
    ASSERT_TRUE(bytes.ok()) << version;
    const auto topics = SubscriptionTopics(*bytes);
    ASSERT_TRUE(topics.has_value()) << version;
    EXPECT_EQ(*topics, s.topics) << version;
  }
}

TEST(SubscriptionTopicsTest, AnEmptySubscriptionAndANewerVersion) {
  EXPECT_EQ(SubscriptionTopics(I16(0) + I32(0)), std::vector<std::string>{});
  // A version above 3 (fields appended later) still starts with the topics.
  EXPECT_EQ(SubscriptionTopics(I16(9) + I32(1) + Str("a") + "whatever follows"),
            std::vector<std::string>{"a"});
  // Empty topic names are well-formed bytes (the coordinator does not judge names).
  EXPECT_EQ(SubscriptionTopics(I16(1) + I32(2) + Str("") + Str("x")),
            (std::vector<std::string>{"", "x"}));
}

TEST(SubscriptionTopicsTest, EveryTruncationInsideTheTopicsIsRefused) {
  const cg::Subscription s = Sample();
  for (int16_t version = 0; version <= 3; ++version) {
    const std::string bytes = *cg::EncodeSubscription(s, version);
    const size_t end = TopicsEnd(s.topics);
    ASSERT_LE(end, bytes.size());
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
      const auto topics = SubscriptionTopics(std::string_view(bytes).substr(0, cut));
      if (cut < end) {
        EXPECT_FALSE(topics.has_value()) << "version " << version << " cut " << cut;
      } else {
        ASSERT_TRUE(topics.has_value()) << "version " << version << " cut " << cut;
        EXPECT_EQ(*topics, s.topics);
      }
    }
  }
}

TEST(SubscriptionTopicsTest, HostileBytesAreRefused) {
  EXPECT_FALSE(SubscriptionTopics("").has_value());
  EXPECT_FALSE(SubscriptionTopics(std::string(1, '\0')).has_value());
  EXPECT_FALSE(SubscriptionTopics(I16(-1) + I32(0)).has_value()) << "negative version";
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(-1)).has_value()) << "null topic array";
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(INT32_MIN)).has_value());
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(INT32_MAX) + Str("a")).has_value())
      << "a count the bytes cannot back (and nothing is reserved for it)";
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(2) + Str("a")).has_value()) << "one topic short";
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(1) + I16(-1)).has_value()) << "null topic";
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(1) + I16(-2) + "ab").has_value());
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(1) + I16(5) + "abcd").has_value())
      << "a topic longer than the bytes";
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(1) + I16(INT16_MAX) + "abcd").has_value());
  EXPECT_FALSE(SubscriptionTopics(I16(0) + I32(1) + std::string(1, '\0')).has_value());
}

rc::Gen<std::string> GenTopic() {
  return rc::gen::container<std::string>(rc::gen::element('a', 'b', 'c', '.', '-', '_', '7'));
}

cg::Subscription GenSubscription() {
  cg::Subscription s;
  s.topics =
      *rc::gen::container<std::vector<std::string>>(*rc::gen::inRange<size_t>(0, 6), GenTopic());
  if (*rc::gen::arbitrary<bool>()) s.user_data = *rc::gen::arbitrary<std::string>();
  const auto owned = *rc::gen::inRange(0, 4);
  for (int i = 0; i < owned; ++i) {
    s.owned_partitions.push_back({*GenTopic(), *rc::gen::inRange<int32_t>(0, 100)});
  }
  s.generation_id = *rc::gen::arbitrary<int32_t>();
  if (*rc::gen::arbitrary<bool>()) s.rack_id = *GenTopic();
  return s;
}

// The client's decoder and this reader agree on the topics, or both refuse.
void CheckAgainstTheClientDecoder(const std::string& bytes) {
  const auto topics = SubscriptionTopics(bytes);
  const absl::StatusOr<cg::Subscription> full = cg::DecodeSubscription(cg::AsBytes(bytes));
  if (full.ok()) {
    RC_ASSERT(topics.has_value());
    RC_ASSERT(*topics == full->topics);
  }
  if (!topics.has_value()) {
    RC_ASSERT(!full.ok());
  } else {
    // Nothing beyond what the bytes present is produced.
    size_t total = 0;
    for (const std::string& t : *topics) total += 2 + t.size();
    RC_ASSERT(total + 6 <= bytes.size());
  }
}

RC_GTEST_PROP(SubscriptionTopicsProperty, ReadsEncodedSubscriptionsAndEveryCut, ()) {
  const cg::Subscription s = GenSubscription();
  const auto version = *rc::gen::inRange<int16_t>(0, 4);
  const absl::StatusOr<std::string> bytes = cg::EncodeSubscription(s, version);
  RC_ASSERT(bytes.ok());
  std::vector<std::string> sorted = s.topics;
  std::sort(sorted.begin(), sorted.end());  // Java writes them sorted
  RC_ASSERT(SubscriptionTopics(*bytes) == std::optional(sorted));
  const size_t cut = *rc::gen::inRange<size_t>(0, bytes->size() + 1);
  const auto topics = SubscriptionTopics(std::string_view(*bytes).substr(0, cut));
  if (cut < TopicsEnd(sorted)) {
    RC_ASSERT(!topics.has_value());
  } else {
    RC_ASSERT(topics == std::optional(sorted));
  }
  CheckAgainstTheClientDecoder(bytes->substr(0, cut));
}

RC_GTEST_PROP(SubscriptionTopicsProperty, RandomBytesNeverCrash, (const std::string& tail)) {
  // A plausible version and count first, so the reader gets past the prefix most of the time.
  const auto version = *rc::gen::inRange<int16_t>(-2, 6);
  const auto count =
      *rc::gen::oneOf(rc::gen::inRange<int32_t>(-2, 8), rc::gen::arbitrary<int32_t>());
  CheckAgainstTheClientDecoder(I16(version) + I32(count) + tail);
  CheckAgainstTheClientDecoder(tail);
}

RC_GTEST_PROP(SubscriptionTopicsProperty, MutatedEncodingsNeverCrash, ()) {
  std::string bytes = *cg::EncodeSubscription(GenSubscription(), *rc::gen::inRange<int16_t>(0, 4));
  const auto flips = *rc::gen::inRange(1, 4);
  for (int i = 0; i < flips; ++i) {
    bytes[*rc::gen::inRange<size_t>(0, bytes.size())] = *rc::gen::arbitrary<char>();
  }
  CheckAgainstTheClientDecoder(bytes);
}

}  // namespace
}  // namespace eddy::group
