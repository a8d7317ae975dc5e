// Proves the consumer-protocol codec against the byte layout Kafka's Java client uses and against
// bytes real clients sent:
//   - GOLDEN bytes derived by hand from the schemas (ConsumerProtocolSubscription.json and
//     ConsumerProtocolAssignment.json, non-flexible): int16 version; ARRAY = int32 count then
//     elements; STRING = int16 length then bytes (-1 null); BYTES = int32 length then bytes
//     (-1 null); INT32 big-endian. Each byte string below is written field by field with the
//     field named beside it, in the order Java's serializeSubscription/serializeAssignment put
//     them (topics sorted; owned partitions sorted and grouped by topic; assigned partitions
//     grouped by topic in order of first appearance).
//   - CAPTURED metadata: the subscriptions librdkafka 2.0.2, kafka-python 2.0.2 and kafkajs
//     2.2.4 put in JoinGroup, and the assignment librdkafka put in SyncGroup
//     (core/kafka/testdata/*.bin; each test first finds the bytes inside the captured frame).
//   - DECODING rules: newer versions read as v3 with the rest ignored, trailing bytes ignored,
//     every truncation and malformed length rejected with kInvalidArgument.
//   - PROPERTIES (RapidCheck): encode-then-decode gives back the value (as the version keeps
//     it), at every version; decoding random bytes, or mutated valid encodings, never crashes
//     and fails only with kInvalidArgument.
#include "clients/group/consumer_protocol.h"

#include <fstream>
#include <sstream>

#include "core/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::clients::group {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;

// Bytes from a list of pieces: integers as big-endian of the given width, strings verbatim.
struct Piece {
  Piece(const char* text) : bytes(text) {}  // NOLINT: pieces read like the layout
  static Piece I16(int16_t v) { return Piece(BigEndian(static_cast<uint16_t>(v), 2)); }
  static Piece I32(int32_t v) { return Piece(BigEndian(static_cast<uint32_t>(v), 4)); }
  // STRING: int16 length + bytes.
  static Piece Str(const std::string& s) { return Piece(I16(int16_t(s.size())).bytes + s); }
  std::string bytes;

 private:
  explicit Piece(std::string b) : bytes(std::move(b)) {}
  static std::string BigEndian(uint32_t v, int width) {
    std::string out;
    for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
  }
};

std::string Bytes(std::initializer_list<Piece> pieces) {
  std::string out;
  for (const Piece& piece : pieces) out += piece.bytes;
  return out;
}

const Piece kNullBytes = Piece::I32(-1);
const Piece kNullString = Piece::I16(-1);

std::string Hex(const std::string& bytes) {
  std::ostringstream out;
  for (unsigned char c : bytes) out << "0123456789abcdef"[c >> 4] << "0123456789abcdef"[c & 15];
  return out.str();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<Subscription> DecodeSubscriptionString(const std::string& bytes) {
  return DecodeSubscription(AsBytes(bytes));
}
absl::StatusOr<Assignment> DecodeAssignmentString(const std::string& bytes) {
  return DecodeAssignment(AsBytes(bytes));
}

TopicPartition Tp(std::string topic, int32_t partition) { return {std::move(topic), partition}; }

// The subscription the golden tests use at every version.
Subscription GoldenSubscription() {
  Subscription s;
  s.topics = {"t2", "t1"};
  s.user_data = "ud";
  s.owned_partitions = {Tp("t2", 0), Tp("t1", 1), Tp("t1", 0)};
  s.generation_id = 5;
  s.rack_id = "r1";
  return s;
}

// Its fields in Java's wire order: topics sorted, owned partitions sorted and grouped.
const std::string kGoldenTopicsAndUserData = Bytes({Piece::I32(2), Piece::Str("t1"),
                                                    Piece::Str("t2"),       // Topics
                                                    Piece::I32(2), "ud"});  // UserData
const std::string kGoldenOwned = Bytes({Piece::I32(2),                      // OwnedPartitions
                                        Piece::Str("t1"), Piece::I32(2), Piece::I32(0),
                                        Piece::I32(1),  //   t1: [0, 1]
                                        Piece::Str("t2"), Piece::I32(1), Piece::I32(0)});  // t2

TEST(SubscriptionGoldenTest, EveryVersionByteForByte) {
  const Subscription s = GoldenSubscription();
  const std::string v0 = Bytes({Piece::I16(0)}) + kGoldenTopicsAndUserData;
  const std::string v1 = Bytes({Piece::I16(1)}) + kGoldenTopicsAndUserData + kGoldenOwned;
  const std::string v2 =
      Bytes({Piece::I16(2)}) + kGoldenTopicsAndUserData + kGoldenOwned + Piece::I32(5).bytes;
  const std::string v3 = Bytes({Piece::I16(3)}) + kGoldenTopicsAndUserData + kGoldenOwned +
                         Bytes({Piece::I32(5), Piece::Str("r1")});  // GenerationId, RackId
  const std::string expected[] = {v0, v1, v2, v3};
  for (int16_t version = 0; version <= 3; ++version) {
    absl::StatusOr<std::string> encoded = EncodeSubscription(s, version);
    ASSERT_THAT(encoded, IsOk());
    EXPECT_EQ(Hex(*encoded), Hex(expected[version])) << "version " << version;
  }
  EXPECT_EQ(*EncodeSubscription(s), v3);  // the default is the highest version
}

TEST(SubscriptionGoldenTest, NullUserDataAndNoRackAndNoGeneration) {
  Subscription s;
  s.topics = {"topic"};
  const std::string expected = Bytes({Piece::I16(3), Piece::I32(1), Piece::Str("topic"),
                                      kNullBytes,      // UserData null
                                      Piece::I32(0),   // OwnedPartitions empty
                                      Piece::I32(-1),  // GenerationId: none
                                      kNullString});   // RackId null
  EXPECT_EQ(Hex(*EncodeSubscription(s, 3)), Hex(expected));
  EXPECT_EQ(*DecodeSubscriptionString(expected), s);
}

TEST(SubscriptionGoldenTest, DecodesEveryVersionToWhatThatVersionCarries) {
  const Subscription s = GoldenSubscription();
  for (int16_t version = 0; version <= 3; ++version) {
    absl::StatusOr<Subscription> decoded =
        DecodeSubscriptionString(*EncodeSubscription(s, version));
    ASSERT_THAT(decoded, IsOk()) << "version " << version;
    EXPECT_EQ(decoded->topics, (std::vector<std::string>{"t1", "t2"}));
    EXPECT_EQ(decoded->user_data, "ud");
    const std::vector<TopicPartition> owned = {Tp("t1", 0), Tp("t1", 1), Tp("t2", 0)};
    EXPECT_EQ(decoded->owned_partitions, version >= 1 ? owned : std::vector<TopicPartition>{});
    EXPECT_EQ(decoded->generation_id, version >= 2 ? 5 : kNoGeneration);
    EXPECT_EQ(decoded->rack_id, version >= 3 ? std::optional<std::string>("r1") : std::nullopt);
  }
}

TEST(AssignmentGoldenTest, GroupedByTopicInOrderOfFirstAppearance) {
  Assignment a;
  a.partitions = {Tp("t2", 1), Tp("t1", 0), Tp("t2", 0)};
  const std::string body = Bytes({Piece::I32(2),                                   // Assigned
                                  Piece::Str("t2"), Piece::I32(2), Piece::I32(1),  //   t2: [1, 0]
                                  Piece::I32(0),                                   //
                                  Piece::Str("t1"), Piece::I32(1), Piece::I32(0),  //   t1: [0]
                                  kNullBytes});                                    // UserData
  for (int16_t version = 0; version <= 3; ++version) {
    EXPECT_EQ(Hex(*EncodeAssignment(a, version)), Hex(Piece::I16(version).bytes + body));
  }
  absl::StatusOr<Assignment> decoded = DecodeAssignmentString(Piece::I16(3).bytes + body);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->partitions,
            (std::vector<TopicPartition>{Tp("t2", 1), Tp("t2", 0), Tp("t1", 0)}));
  EXPECT_EQ(decoded->user_data, std::nullopt);
}

TEST(AssignmentGoldenTest, UserDataAndEmptyAssignment) {
  Assignment a;
  a.user_data = std::string("\x00\x01", 2);
  const std::string expected =
      Bytes({Piece::I16(1), Piece::I32(0), Piece::I32(2)}) + std::string("\x00\x01", 2);
  EXPECT_EQ(Hex(*EncodeAssignment(a, 1)), Hex(expected));
  EXPECT_EQ(*DecodeAssignmentString(expected), a);
}

// The consumer-protocol bytes inside frames real clients sent (core/kafka/testdata/README.md).
struct Captured {
  const char* frame_file;
  std::string metadata;
};

void ExpectInsideFrame(const Captured& captured) {
  const std::string frame = ReadFile(std::string("core/kafka/testdata/") + captured.frame_file);
  ASSERT_FALSE(frame.empty()) << captured.frame_file;
  EXPECT_NE(frame.find(captured.metadata), std::string::npos)
      << Hex(captured.metadata) << " is not in " << captured.frame_file;
}

TEST(CapturedSubscriptionTest, Librdkafka2V1WithEmptyUserData) {
  // librdkafka 2.0.2, protocol "range": v1, topics [eddy-ck], user data empty (not null), no
  // owned partitions. The JoinGroup v5 frame's metadata bytes, length 0x17.
  const Captured captured{
      "confluent-kafka-JoinGroup-v5-1.bin",
      Bytes({Piece::I16(1), Piece::I32(1), Piece::Str("eddy-ck"), Piece::I32(0), Piece::I32(0)})};
  ExpectInsideFrame(captured);
  absl::StatusOr<Subscription> s = DecodeSubscriptionString(captured.metadata);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->topics, std::vector<std::string>{"eddy-ck"});
  EXPECT_EQ(s->user_data, std::optional<std::string>(""));
  EXPECT_TRUE(s->owned_partitions.empty());
  EXPECT_EQ(s->generation_id, kNoGeneration);
  // Re-encoding at v1 reproduces the client's bytes.
  EXPECT_EQ(Hex(*EncodeSubscription(*s, 1)), Hex(captured.metadata));
}

TEST(CapturedSubscriptionTest, KafkaPythonAndKafkajsV0) {
  for (const Captured& captured :
       {Captured{"kafka-python-JoinGroup-v2-1.bin",
                 Bytes({Piece::I16(0), Piece::I32(1), Piece::Str("eddy-kp"), Piece::I32(0)})},
        Captured{"kafkajs-JoinGroup-v5-1.bin",
                 Bytes({Piece::I16(0), Piece::I32(1), Piece::Str("eddy-kjs"), Piece::I32(0)})}}) {
    ExpectInsideFrame(captured);
    absl::StatusOr<Subscription> s = DecodeSubscriptionString(captured.metadata);
    ASSERT_THAT(s, IsOk()) << captured.frame_file;
    EXPECT_EQ(s->topics.size(), 1u);
    EXPECT_EQ(s->user_data, std::optional<std::string>(""));
    EXPECT_EQ(Hex(*EncodeSubscription(*s, 0)), Hex(captured.metadata));
  }
}

TEST(CapturedAssignmentTest, LibrdkafkaLeaderAssignment) {
  // librdkafka 2.0.2 as leader, SyncGroup v3: v0, eddy-ck [0, 1, 2], user data empty.
  const Captured captured{"confluent-kafka-SyncGroup-v3-0.bin",
                          Bytes({Piece::I16(0), Piece::I32(1), Piece::Str("eddy-ck"), Piece::I32(3),
                                 Piece::I32(0), Piece::I32(1), Piece::I32(2), Piece::I32(0)})};
  ExpectInsideFrame(captured);
  absl::StatusOr<Assignment> a = DecodeAssignmentString(captured.metadata);
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->partitions,
            (std::vector<TopicPartition>{Tp("eddy-ck", 0), Tp("eddy-ck", 1), Tp("eddy-ck", 2)}));
  EXPECT_EQ(a->user_data, std::optional<std::string>(""));
  EXPECT_EQ(Hex(*EncodeAssignment(*a, 0)), Hex(captured.metadata));
}

TEST(DecodeTest, NewerVersionReadsAsV3AndIgnoresTheRest) {
  const std::string v3_body = Bytes({Piece::I32(1), Piece::Str("t"), kNullBytes, Piece::I32(0),
                                     Piece::I32(7), Piece::Str("rack")});
  const std::string v9 = Piece::I16(9).bytes + v3_body + "future fields";
  absl::StatusOr<Subscription> s = DecodeSubscriptionString(v9);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->generation_id, 7);
  EXPECT_EQ(s->rack_id, std::optional<std::string>("rack"));
  EXPECT_EQ(*DecodeConsumerProtocolVersion(AsBytes(v9)), 9);

  const std::string assignment_v4 = Bytes({Piece::I16(4), Piece::I32(0), kNullBytes}) + "more";
  EXPECT_THAT(DecodeAssignmentString(assignment_v4), IsOk());
}

TEST(DecodeTest, TrailingBytesAreIgnoredAtKnownVersionsToo) {
  const std::string v0 =
      Bytes({Piece::I16(0), Piece::I32(1), Piece::Str("t"), kNullBytes}) + "\x01\x02";
  absl::StatusOr<Subscription> s = DecodeSubscriptionString(v0);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->topics, std::vector<std::string>{"t"});
}

TEST(DecodeTest, EmptyRackIsNoRack) {
  const std::string v3 = Bytes(
      {Piece::I16(3), Piece::I32(0), kNullBytes, Piece::I32(0), Piece::I32(1), Piece::Str("")});
  EXPECT_EQ(DecodeSubscriptionString(v3)->rack_id, std::nullopt);
}

TEST(DecodeTest, NegativeVersionIsRejected) {
  const std::string bytes = Bytes({Piece::I16(-1), Piece::I32(0), kNullBytes});
  EXPECT_THAT(DecodeSubscriptionString(bytes), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeAssignmentString(bytes), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DecodeTest, EveryTruncationIsRejected) {
  const std::string subscription = *EncodeSubscription(GoldenSubscription(), 3);
  for (size_t n = 0; n < subscription.size(); ++n) {
    EXPECT_THAT(DecodeSubscriptionString(subscription.substr(0, n)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << n;
  }
  Assignment a;
  a.partitions = {Tp("t", 0), Tp("u", 3)};
  a.user_data = "x";
  const std::string assignment = *EncodeAssignment(a, 0);
  for (size_t n = 0; n < assignment.size(); ++n) {
    EXPECT_THAT(DecodeAssignmentString(assignment.substr(0, n)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << n;
  }
}

TEST(DecodeTest, MalformedLengthsAreRejected) {
  const auto rejected = [](const std::string& bytes) {
    return DecodeSubscriptionString(bytes).status().code() == absl::StatusCode::kInvalidArgument;
  };
  // Topics: null array; negative count; null topic name; a count the bytes cannot hold.
  EXPECT_TRUE(rejected(Bytes({Piece::I16(0), Piece::I32(-1), kNullBytes})));
  EXPECT_TRUE(rejected(Bytes({Piece::I16(0), Piece::I32(-2), kNullBytes})));
  EXPECT_TRUE(rejected(Bytes({Piece::I16(0), Piece::I32(1), kNullString, kNullBytes})));
  EXPECT_TRUE(rejected(Bytes({Piece::I16(0), Piece::I32(0x7fffffff), kNullBytes})));
  // User data length below -1.
  EXPECT_TRUE(rejected(Bytes({Piece::I16(0), Piece::I32(0), Piece::I32(-2)})));
  // Owned partitions: a partition count the bytes cannot hold.
  EXPECT_TRUE(rejected(Bytes({Piece::I16(1), Piece::I32(0), kNullBytes, Piece::I32(1),
                              Piece::Str("t"), Piece::I32(1000)})));
  // Rack id length below -1.
  EXPECT_TRUE(rejected(Bytes(
      {Piece::I16(3), Piece::I32(0), kNullBytes, Piece::I32(0), Piece::I32(0), Piece::I16(-3)})));
}

TEST(DecodeTest, LongTopicRepeatedOverManyPartitionsIsBounded) {
  // One 32767-byte topic name owning 3000 partitions would decode into ~98 MB of names.
  const std::string topic(32767, 't');
  std::string bytes = Bytes({Piece::I16(1), Piece::I32(0), kNullBytes, Piece::I32(1),
                             Piece::Str(topic), Piece::I32(3000)});
  for (int i = 0; i < 3000; ++i) bytes += Piece::I32(i).bytes;
  EXPECT_THAT(DecodeSubscriptionString(bytes), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EncodeTest, RejectsWhatTheFormatCannotCarry) {
  Subscription s;
  s.topics = {std::string(32768, 'x')};
  EXPECT_THAT(EncodeSubscription(s), StatusIs(absl::StatusCode::kInvalidArgument));
  s.topics = {"t"};
  EXPECT_THAT(EncodeSubscription(s, 4), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeSubscription(s, -1), StatusIs(absl::StatusCode::kInvalidArgument));
  s.rack_id = std::string(40000, 'r');
  EXPECT_THAT(EncodeSubscription(s, 3), StatusIs(absl::StatusCode::kInvalidArgument));
  Assignment a;
  a.partitions = {Tp(std::string(32768, 'x'), 0)};
  EXPECT_THAT(EncodeAssignment(a), StatusIs(absl::StatusCode::kInvalidArgument));
}

// ---- Properties ----

std::string GenName() {
  return *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(0, 6),
                                          rc::gen::element('a', 'b', 'z', '-', '\0', '\xff'));
}

std::optional<std::string> GenNullableBytes() {
  if (*rc::gen::arbitrary<bool>()) return std::nullopt;
  return *rc::gen::arbitrary<std::string>();
}

std::vector<TopicPartition> GenPartitions() {
  std::vector<TopicPartition> partitions;
  const size_t count = *rc::gen::inRange<size_t>(0, 10);
  for (size_t i = 0; i < count; ++i)
    partitions.push_back({GenName(), *rc::gen::arbitrary<int32_t>()});
  return partitions;
}

// What decoding an encoding at `version` gives back: Java's sorting, and only the version's
// fields.
Subscription AsDecoded(Subscription s, int16_t version) {
  std::sort(s.topics.begin(), s.topics.end());
  std::sort(s.owned_partitions.begin(), s.owned_partitions.end());
  if (version < 1) s.owned_partitions.clear();
  if (version < 2) s.generation_id = kNoGeneration;
  if (version < 3 || (s.rack_id.has_value() && s.rack_id->empty())) s.rack_id.reset();
  return s;
}

// Decoding an assignment groups its partitions by topic in order of first appearance.
std::vector<TopicPartition> GroupedByFirstAppearance(const std::vector<TopicPartition>& in) {
  std::vector<std::string> order;
  for (const TopicPartition& tp : in) {
    if (std::find(order.begin(), order.end(), tp.topic) == order.end()) order.push_back(tp.topic);
  }
  std::vector<TopicPartition> out;
  for (const std::string& topic : order) {
    for (const TopicPartition& tp : in) {
      if (tp.topic == topic) out.push_back(tp);
    }
  }
  return out;
}

RC_GTEST_PROP(ConsumerProtocolProperty, SubscriptionRoundTripsAtEveryVersion, ()) {
  Subscription s;
  s.topics = *rc::gen::container<std::vector<std::string>>(*rc::gen::inRange<size_t>(0, 5),
                                                           rc::gen::exec(GenName));
  s.user_data = GenNullableBytes();
  s.owned_partitions = GenPartitions();
  s.generation_id = *rc::gen::arbitrary<int32_t>();
  if (*rc::gen::arbitrary<bool>()) s.rack_id = GenName();
  const auto version = *rc::gen::inRange<int16_t>(0, 4);
  const absl::StatusOr<std::string> encoded = EncodeSubscription(s, version);
  RC_ASSERT(encoded.ok());
  const absl::StatusOr<Subscription> decoded = DecodeSubscriptionString(*encoded);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == AsDecoded(s, version));
  // And the decoded value re-encodes to the same bytes, except that an empty rack id (which
  // Java, too, reads as no rack) comes back null.
  if (s.rack_id != std::optional<std::string>("")) {
    RC_ASSERT(*EncodeSubscription(*decoded, version) == *encoded);
  }
}

RC_GTEST_PROP(ConsumerProtocolProperty, AssignmentRoundTripsAtEveryVersion, ()) {
  Assignment a;
  a.partitions = GenPartitions();
  a.user_data = GenNullableBytes();
  const auto version = *rc::gen::inRange<int16_t>(0, 4);
  const absl::StatusOr<std::string> encoded = EncodeAssignment(a, version);
  RC_ASSERT(encoded.ok());
  const absl::StatusOr<Assignment> decoded = DecodeAssignmentString(*encoded);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->partitions == GroupedByFirstAppearance(a.partitions));
  RC_ASSERT(decoded->user_data == a.user_data);
}

void DecodeBoth(const std::string& bytes) {
  const absl::StatusOr<Subscription> s = DecodeSubscriptionString(bytes);
  RC_ASSERT(s.ok() || s.status().code() == absl::StatusCode::kInvalidArgument);
  const absl::StatusOr<Assignment> a = DecodeAssignmentString(bytes);
  RC_ASSERT(a.ok() || a.status().code() == absl::StatusCode::kInvalidArgument);
}

RC_GTEST_PROP(ConsumerProtocolProperty, RandomBytesNeverCrash, (const std::string& tail)) {
  // A plausible version first, so the decoders get past the prefix most of the time.
  const auto version = *rc::gen::inRange<int16_t>(-1, 6);
  DecodeBoth(Piece::I16(version).bytes + tail);
  DecodeBoth(tail);
}

RC_GTEST_PROP(ConsumerProtocolProperty, MutatedEncodingsNeverCrash, ()) {
  Subscription s;
  s.topics = {GenName(), GenName()};
  s.owned_partitions = GenPartitions();
  s.user_data = GenNullableBytes();
  std::string bytes = *EncodeSubscription(s, *rc::gen::inRange<int16_t>(0, 4));
  const size_t flips = *rc::gen::inRange<size_t>(1, 4);
  for (size_t i = 0; i < flips; ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, bytes.size());
    bytes[at] = *rc::gen::arbitrary<char>();
  }
  if (*rc::gen::arbitrary<bool>()) bytes.resize(*rc::gen::inRange<size_t>(0, bytes.size() + 1));
  DecodeBoth(bytes);
}

}  // namespace
}  // namespace eddy::clients::group
