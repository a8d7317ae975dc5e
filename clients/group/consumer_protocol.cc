#include "clients/group/consumer_protocol.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/base/check.h"
#include "core/kafka/wire.h"

namespace eddy::clients::group {
namespace {

constexpr bool kFlexible = false;  // neither schema has flexible versions
// Smallest encodings, so a count is checked against the bytes left before anything is reserved.
constexpr size_t kStringSizeBytesMin = 2;
constexpr size_t kInt32SizeBytes = 4;
constexpr size_t kTopicPartitionsSizeBytesMin = kStringSizeBytesMin + kInt32SizeBytes;
static_assert(kDecodedTopicBytesMax >= size_t{kafka::kStringLengthMax} * 1024,
              "room for a thousand partitions of the longest topic name");

// One wire entry: a topic and its partitions.
using TopicEntry = std::pair<std::string, std::vector<int32_t>>;

absl::Status CheckVersion(int16_t version, absl::string_view message) {
  if (version < kConsumerProtocolVersionMin || version > kConsumerProtocolVersionMax) {
    return absl::InvalidArgumentError(absl::StrCat(message, ": cannot encode version ", version));
  }
  return absl::OkStatus();
}

absl::Status CheckString(std::string_view value, absl::string_view what) {
  if (value.size() > kafka::kStringLengthMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " of ", value.size(), " bytes exceeds ", kafka::kStringLengthMax));
  }
  return absl::OkStatus();
}

absl::Status CheckCount(size_t count, absl::string_view what) {
  if (count > kafka::kArrayCountMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", count, " elements exceed ", kafka::kArrayCountMax));
  }
  return absl::OkStatus();
}

absl::Status CheckUserData(const std::optional<std::string>& user_data) {
  if (user_data.has_value() && user_data->size() > kafka::kBytesSizeBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("user data of ", user_data->size(),
                                                   " bytes exceeds ", kafka::kBytesSizeBytesMax));
  }
  return absl::OkStatus();
}

absl::Status CheckEntries(const std::vector<TopicEntry>& entries) {
  absl::Status status = CheckCount(entries.size(), "topic partitions");
  for (const auto& [topic, partitions] : entries) {
    if (!status.ok()) break;
    status.Update(CheckString(topic, "topic"));
    status.Update(CheckCount(partitions.size(), "partitions of a topic"));
  }
  return status;
}

void WriteUserData(const std::optional<std::string>& user_data, kafka::Writer& writer) {
  if (user_data.has_value()) {
    writer.Bytes(*user_data, kFlexible);
  } else {
    writer.NullBytes(kFlexible);
  }
}

void WriteEntries(const std::vector<TopicEntry>& entries, kafka::Writer& writer) {
  writer.ArrayCount(entries.size(), kFlexible);
  for (const auto& [topic, partitions] : entries) {
    writer.String(topic, kFlexible);
    writer.ArrayCount(partitions.size(), kFlexible);
    for (const int32_t partition : partitions) writer.Int32(partition);
  }
}

// Java's serializeSubscription: sorted by (topic, partition), one entry per run of a topic.
std::vector<TopicEntry> SortedEntries(std::vector<TopicPartition> partitions) {
  std::sort(partitions.begin(), partitions.end());
  std::vector<TopicEntry> entries;
  for (TopicPartition& tp : partitions) {
    if (entries.empty() || entries.back().first != tp.topic) {
      entries.emplace_back(std::move(tp.topic), std::vector<int32_t>{});
    }
    entries.back().second.push_back(tp.partition);
  }
  return entries;
}

// Java's serializeAssignment: one entry per topic, in order of first appearance.
std::vector<TopicEntry> EntriesInFirstAppearanceOrder(
    const std::vector<TopicPartition>& partitions) {
  std::vector<TopicEntry> entries;
  std::map<std::string_view, size_t> index_of_topic;
  for (const TopicPartition& tp : partitions) {
    auto [it, inserted] = index_of_topic.emplace(tp.topic, entries.size());
    if (inserted) entries.emplace_back(tp.topic, std::vector<int32_t>{});
    entries[it->second].second.push_back(tp.partition);
  }
  EDDY_CHECK_EQ(entries.size(), index_of_topic.size());
  return entries;
}

// Appends every (topic, partition) of a topic-partitions array to `out`. Each partition carries
// its own copy of the topic name, so the copies are bounded (kDecodedTopicBytesMax): a short
// input cannot make a huge output.
void ReadEntries(kafka::Reader& reader, std::vector<TopicPartition>& out) {
  const int32_t topic_count = reader.ArrayCount(kFlexible, kTopicPartitionsSizeBytesMin, false);
  size_t topic_bytes = 0;
  for (int32_t i = 0; i < topic_count && reader.ok(); ++i) {
    std::string topic = reader.String(kFlexible);
    const int32_t partition_count = reader.ArrayCount(kFlexible, kInt32SizeBytes, false);
    topic_bytes += topic.size() * static_cast<size_t>(partition_count);
    if (topic_bytes > kDecodedTopicBytesMax) {
      reader.Fail(absl::StrCat("topic names repeated over partitions exceed ",
                               kDecodedTopicBytesMax, " bytes"));
      return;
    }
    for (int32_t j = 0; j < partition_count && reader.ok(); ++j) {
      const int32_t partition = reader.Int32();
      out.push_back(TopicPartition{topic, partition});
    }
  }
}

absl::Status DecodeError(absl::string_view message, int16_t version, const absl::Status& status) {
  EDDY_CHECK(!status.ok());
  return absl::InvalidArgumentError(absl::StrCat(message, " v", version, ": ", status.message()));
}

// Reads the version prefix; a version above the highest known one reads as the highest.
absl::StatusOr<int16_t> ReadVersion(kafka::Reader& reader, absl::string_view message) {
  const int16_t version = reader.Int16();
  if (!reader.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(message, ": no version: ", reader.status().message()));
  }
  if (version < kConsumerProtocolVersionMin) {
    return absl::InvalidArgumentError(absl::StrCat(message, ": unsupported version ", version));
  }
  return std::min(version, kConsumerProtocolVersionMax);
}

}  // namespace

absl::StatusOr<std::string> EncodeSubscription(const Subscription& subscription, int16_t version) {
  constexpr absl::string_view kMessage = "ConsumerProtocolSubscription";
  absl::Status status = CheckVersion(version, kMessage);
  std::vector<std::string> topics = subscription.topics;
  std::sort(topics.begin(), topics.end());
  status.Update(CheckCount(topics.size(), "topics"));
  for (const std::string& topic : topics) status.Update(CheckString(topic, "topic"));
  status.Update(CheckUserData(subscription.user_data));
  const std::vector<TopicEntry> owned = SortedEntries(subscription.owned_partitions);
  status.Update(CheckEntries(owned));
  if (subscription.rack_id.has_value()) status.Update(CheckString(*subscription.rack_id, "rack"));
  if (!status.ok()) return status;

  kafka::Writer writer;
  writer.Int16(version);
  writer.ArrayCount(topics.size(), kFlexible);
  for (const std::string& topic : topics) writer.String(topic, kFlexible);
  WriteUserData(subscription.user_data, writer);
  if (version >= 1) WriteEntries(owned, writer);
  if (version >= 2) writer.Int32(subscription.generation_id);
  if (version >= 3) {
    if (subscription.rack_id.has_value()) {
      writer.String(*subscription.rack_id, kFlexible);
    } else {
      writer.NullString(kFlexible);
    }
  }
  return writer.Flatten();
}

absl::StatusOr<std::string> EncodeAssignment(const Assignment& assignment, int16_t version) {
  absl::Status status = CheckVersion(version, "ConsumerProtocolAssignment");
  const std::vector<TopicEntry> entries = EntriesInFirstAppearanceOrder(assignment.partitions);
  status.Update(CheckEntries(entries));
  status.Update(CheckUserData(assignment.user_data));
  if (!status.ok()) return status;

  // Versions 0..3 of the assignment have the same fields (v1..v3 exist to match the
  // subscription's versions).
  kafka::Writer writer;
  writer.Int16(version);
  WriteEntries(entries, writer);
  WriteUserData(assignment.user_data, writer);
  return writer.Flatten();
}

absl::StatusOr<int16_t> DecodeConsumerProtocolVersion(std::span<const uint8_t> bytes) {
  kafka::Reader reader(bytes);
  const int16_t version = reader.Int16();
  if (!reader.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer protocol: no version: ", reader.status().message()));
  }
  return version;
}

absl::StatusOr<Subscription> DecodeSubscription(std::span<const uint8_t> bytes) {
  constexpr absl::string_view kMessage = "ConsumerProtocolSubscription";
  kafka::Reader reader(bytes);
  absl::StatusOr<int16_t> version = ReadVersion(reader, kMessage);
  if (!version.ok()) return version.status();

  Subscription subscription;
  const int32_t topic_count = reader.ArrayCount(kFlexible, kStringSizeBytesMin, false);
  for (int32_t i = 0; i < topic_count && reader.ok(); ++i) {
    subscription.topics.push_back(reader.String(kFlexible));
  }
  subscription.user_data = reader.NullableBytes(kFlexible, /*nullable=*/true);
  if (*version >= 1) ReadEntries(reader, subscription.owned_partitions);
  if (*version >= 2) subscription.generation_id = reader.Int32();
  if (*version >= 3) {
    subscription.rack_id = reader.NullableString(kFlexible, /*nullable=*/true);
    // Java's deserializeSubscription: an empty rack id is no rack.
    if (subscription.rack_id.has_value() && subscription.rack_id->empty()) {
      subscription.rack_id.reset();
    }
  }
  if (!reader.ok()) return DecodeError(kMessage, *version, reader.status());
  return subscription;
}

absl::StatusOr<Assignment> DecodeAssignment(std::span<const uint8_t> bytes) {
  constexpr absl::string_view kMessage = "ConsumerProtocolAssignment";
  kafka::Reader reader(bytes);
  absl::StatusOr<int16_t> version = ReadVersion(reader, kMessage);
  if (!version.ok()) return version.status();

  Assignment assignment;
  ReadEntries(reader, assignment.partitions);
  assignment.user_data = reader.NullableBytes(kFlexible, /*nullable=*/true);
  if (!reader.ok()) return DecodeError(kMessage, *version, reader.status());
  return assignment;
}

}  // namespace eddy::clients::group
