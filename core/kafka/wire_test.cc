// Proves the primitive codec's contracts: big-endian fixed widths and unsigned varints match
// Kafka's published encodings byte for byte; every length and count is checked against the
// limits and the remaining bytes before use (an array count of 2^31 fails without allocating);
// errors are sticky and never read past the end; Records are written as views (the Writer's
// pieces point at the caller's bytes, no copy) and read as views into the input.
#include "core/kafka/wire.h"

#include <string>
#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

using ::eddy::testing::StatusIs;

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(WriterTest, FixedWidthAreBigEndian) {
  Writer writer;
  writer.Int8(-1);
  writer.Int16(0x0102);
  writer.Int32(-2);
  writer.Int64(0x0102030405060708);
  writer.Uint32(0x80000000u);
  writer.Bool(true);
  EXPECT_EQ(writer.Flatten(), Bytes({0xff, 0x01, 0x02, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5,
                                     6, 7, 8, 0x80, 0, 0, 0, 1}));
}

TEST(WriterTest, UnsignedVarintAndCompactLengths) {
  Writer writer;
  writer.UnsignedVarint(0);
  writer.UnsignedVarint(127);
  writer.UnsignedVarint(128);
  writer.UnsignedVarint(UINT32_MAX);
  EXPECT_EQ(writer.Flatten(), Bytes({0x00, 0x7f, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(UnsignedVarintSizeBytes(UINT32_MAX), 5u);

  Writer strings;
  strings.String("ab", /*flexible=*/true);   // length + 1
  strings.NullString(/*flexible=*/true);     // 0
  strings.String("ab", /*flexible=*/false);  // int16 length
  strings.NullString(/*flexible=*/false);    // int16 -1
  strings.NullBytes(/*flexible=*/false);     // int32 -1
  strings.ArrayCount(2, /*flexible=*/true);  // count + 1
  EXPECT_EQ(strings.Flatten(), Bytes({3, 'a', 'b', 0, 0, 2, 'a', 'b', 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 3}));
}

TEST(ReaderTest, ReadsBackWhatWasWritten) {
  Writer writer;
  writer.Int16(-7);
  writer.UnsignedVarint(300);
  writer.String("kafka", true);
  writer.Bytes(std::string("\0\1", 2), false);
  writer.Float64(0.5);
  const std::string bytes = writer.Flatten();
  Reader reader(bytes);
  EXPECT_EQ(reader.Int16(), -7);
  EXPECT_EQ(reader.UnsignedVarint(), 300u);
  EXPECT_EQ(reader.String(true), "kafka");
  EXPECT_EQ(reader.Bytes(false), std::string("\0\1", 2));
  EXPECT_EQ(reader.Float64(), 0.5);
  EXPECT_TRUE(reader.ok());
  EXPECT_EQ(reader.remaining_bytes(), 0u);
}

TEST(ReaderTest, ZigZagVarintsAndVarlongs) {
  Writer writer;
  writer.Varint(0);
  writer.Varint(-1);
  writer.Varint(1);
  writer.Varint(-64);
  writer.Varint(INT32_MIN);
  writer.Varlong(INT64_MIN);
  writer.Varlong(300);
  const std::string bytes = writer.Flatten();
  // Published zig-zag examples: 0 -> 00, -1 -> 01, 1 -> 02, -64 -> 7f.
  EXPECT_EQ(bytes.substr(0, 4), Bytes({0x00, 0x01, 0x02, 0x7f}));
  EXPECT_EQ(bytes.size(), 4 + 5 + 10 + 2u);
  Reader reader(bytes);
  EXPECT_EQ(reader.Varint(), 0);
  EXPECT_EQ(reader.Varint(), -1);
  EXPECT_EQ(reader.Varint(), 1);
  EXPECT_EQ(reader.Varint(), -64);
  EXPECT_EQ(reader.Varint(), INT32_MIN);
  EXPECT_EQ(reader.Varlong(), INT64_MIN);
  EXPECT_EQ(reader.Varlong(), 300);
  EXPECT_TRUE(reader.ok());
  // Eleven bytes, or a tenth byte with bits beyond 64, are refused.
  const std::string too_long = Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02});
  Reader overflow(too_long);
  overflow.Varlong();
  EXPECT_FALSE(overflow.ok());
  const std::string varint_overflow = Bytes({0xff, 0xff, 0xff, 0xff, 0x10});
  Reader varint_reader(varint_overflow);
  varint_reader.Varint();
  EXPECT_FALSE(varint_reader.ok());
}

TEST(ReaderTest, ErrorsAreStickyAndStopTheReader) {
  const std::string bytes = Bytes({0, 1, 2});
  Reader reader(bytes);
  EXPECT_EQ(reader.Int32(), 0);
  EXPECT_FALSE(reader.ok());
  EXPECT_THAT(reader.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(reader.remaining_bytes(), 0u);
  EXPECT_EQ(reader.Int8(), 0);  // nothing more is read
  EXPECT_NE(reader.status().message().find("int32"), std::string::npos);
}

TEST(ReaderTest, RejectsOverlongVarint) {
  const std::string bytes = Bytes({0xff, 0xff, 0xff, 0xff, 0x1f});  // 33 bits
  Reader reader(bytes);
  reader.UnsignedVarint();
  EXPECT_FALSE(reader.ok());
  const std::string six = Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
  Reader reader6(six);
  reader6.UnsignedVarint();
  EXPECT_FALSE(reader6.ok());
}

TEST(ReaderTest, HugeArrayCountFailsBeforeAllocating) {
  // int32 count 2^31 - 1 followed by nothing, and compact count 2^31.
  const std::string classic = Bytes({0x7f, 0xff, 0xff, 0xff});
  Reader reader(classic);
  EXPECT_EQ(reader.ArrayCount(false, 1, false), 0);
  EXPECT_FALSE(reader.ok());
  const std::string compact = Bytes({0x81, 0x80, 0x80, 0x80, 0x08});  // 2^31 + 1
  Reader compact_reader(compact);
  EXPECT_EQ(compact_reader.ArrayCount(true, 1, false), 0);
  EXPECT_FALSE(compact_reader.ok());
  // A count that fits the limit but not the remaining bytes at the element's minimum size.
  const std::string short_array = Bytes({0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8});
  Reader short_reader(short_array);
  EXPECT_EQ(short_reader.ArrayCount(false, 4, false), 0);
  EXPECT_FALSE(short_reader.ok());
  Reader fits(short_array);
  EXPECT_EQ(fits.ArrayCount(false, 2, false), 3);
}

TEST(ReaderTest, NullsOnlyWhereNullable) {
  const std::string null_string = Bytes({0xff, 0xff});
  Reader nullable(null_string);
  EXPECT_EQ(nullable.NullableString(false, true), std::nullopt);
  EXPECT_TRUE(nullable.ok());
  Reader strict(null_string);
  strict.String(false);
  EXPECT_FALSE(strict.ok());
  const std::string null_array = Bytes({0});
  Reader array(null_array);
  EXPECT_EQ(array.ArrayCount(true, 1, true), -1);
  Reader strict_array(null_array);
  EXPECT_EQ(strict_array.ArrayCount(true, 1, false), 0);
  EXPECT_FALSE(strict_array.ok());
  const std::string negative = Bytes({0xff, 0xfe});
  Reader negative_reader(negative);
  negative_reader.NullableString(false, true);
  EXPECT_FALSE(negative_reader.ok());
}

TEST(ReaderTest, StringLengthBeyondBytesFails) {
  const std::string bytes = Bytes({0, 10, 'a', 'b'});
  Reader reader(bytes);
  reader.String(false);
  EXPECT_FALSE(reader.ok());
}

TEST(ReaderTest, SplitAndJoinDemandExactConsumption) {
  const std::string bytes = Bytes({0, 0, 0, 1, 9});
  Reader reader(bytes);
  Reader sub = reader.Split(4);
  EXPECT_EQ(reader.remaining_bytes(), 1u);
  sub.Int16();
  reader.Join(sub, "field");
  EXPECT_FALSE(reader.ok());  // two bytes unread in the sub-reader

  Reader whole(bytes);
  Reader exact = whole.Split(4);
  EXPECT_EQ(exact.Int32(), 1);
  whole.Join(exact, "field");
  EXPECT_TRUE(whole.ok());
  EXPECT_EQ(whole.Int8(), 9);

  Reader too_far(bytes);
  too_far.Split(6);
  EXPECT_FALSE(too_far.ok());
}

TEST(RecordsTest, WrittenAsViewsAndReadAsViews) {
  const std::string batch_a(1000, 'a');
  const std::string batch_b(24, 'b');
  Records records = Records::Empty();
  records.Append({reinterpret_cast<const uint8_t*>(batch_a.data()), batch_a.size()});
  records.Append({reinterpret_cast<const uint8_t*>(batch_b.data()), batch_b.size()});
  Writer writer;
  writer.Int16(1);
  writer.WriteRecords(records, /*flexible=*/false);
  writer.Int16(2);
  const auto pieces = writer.Pieces();
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[0].size(), 6u);  // int16 + int32 length
  EXPECT_EQ(static_cast<const void*>(pieces[1].data()), batch_a.data());  // not copied
  EXPECT_EQ(static_cast<const void*>(pieces[2].data()), batch_b.data());
  EXPECT_EQ(pieces[3].size(), 2u);
  EXPECT_EQ(writer.size_bytes(), 2 + 4 + 1024 + 2u);
  EXPECT_EQ(RecordsSizeBytes(records, false), 4 + 1024u);

  const std::string flat = writer.Flatten();
  Reader reader(flat);
  reader.Int16();
  const Records read = reader.ReadRecords(false, true);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(read.pieces().size(), 1u);
  EXPECT_EQ(static_cast<const void*>(read.pieces()[0].data()), flat.data() + 6);  // a view
  EXPECT_EQ(read, records);  // equal by content, however split
  EXPECT_EQ(reader.Int16(), 2);
}

TEST(RecordsTest, NullIsNotEmpty) {
  EXPECT_NE(Records(), Records::Empty());
  Writer writer;
  writer.WriteRecords(Records(), true);
  writer.WriteRecords(Records::Empty(), true);
  EXPECT_EQ(writer.Flatten(), Bytes({0, 1}));
}

}  // namespace
}  // namespace eddy::kafka
