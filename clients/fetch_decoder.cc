#include "clients/fetch_decoder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/record/record_batch_reader.h"

namespace eddy::clients {
namespace {

std::optional<std::vector<uint8_t>> Copy(const std::optional<std::span<const uint8_t>>& bytes) {
  if (!bytes.has_value()) return std::nullopt;
  return std::vector<uint8_t>(bytes->begin(), bytes->end());
}

void AppendRecords(record::RecordBatchReader& reader, const std::string& topic,
                   int32_t partition, int64_t position, std::vector<ConsumerRecord>& out) {
  const record::BatchHeader& h = reader.header();
  record::RecordView v;
  while (reader.Next(&v)) {
    const int64_t offset = record::RecordOffset(h, v.offset_delta);
    if (offset < position) continue;  // returned before, or skipped by a seek
    ConsumerRecord& r = out.emplace_back();
    r.topic = topic;
    r.partition = partition;
    r.offset = offset;
    r.timestamp_ms = record::RecordTimestamp(h, v.timestamp_delta);
    r.timestamp_type = h.timestamp_type();
    r.key = Copy(v.key);
    r.value = Copy(v.value);
    r.headers.reserve(v.headers.size());
    for (const record::HeaderView& hv : v.headers) {
      r.headers.push_back(record::Header{std::string(hv.key), Copy(hv.value)});
    }
    r.leader_epoch = h.partition_leader_epoch;
  }
}

}  // namespace

size_t ConsumerRecord::SizeBytes() const {
  size_t size = sizeof(ConsumerRecord) + topic.size();
  if (key.has_value()) size += key->size();
  if (value.has_value()) size += value->size();
  for (const record::Header& h : headers) {
    size += sizeof(record::Header) + h.key.size() + (h.value.has_value() ? h.value->size() : 0);
  }
  return size;
}

absl::StatusOr<DecodedFetch> DecodeFetchedRecords(std::span<const uint8_t> bytes,
                                                  const std::string& topic, int32_t partition,
                                                  int64_t position) {
  EDDY_CHECK_GE(position, 0);
  DecodedFetch out;
  out.next_offset = position;
  std::span<const uint8_t> rest = bytes;
  while (rest.size() >= record::kBatchHeaderSizeBytes) {
    absl::StatusOr<record::BatchHeader> h = record::ParseBatchHeader(rest);
    if (!h.ok()) return h.status();
    if (h->size_bytes() > rest.size()) break;  // a partial batch at the byte limit
    const std::span<const uint8_t> batch = rest.first(h->size_bytes());
    rest = rest.subspan(h->size_bytes());
    if (h->last_offset() < out.next_offset) continue;  // wholly before the position
    absl::StatusOr<record::RecordBatchReader> reader = record::RecordBatchReader::Open(batch);
    if (!reader.ok()) {
      return absl::Status(reader.status().code(),
                          absl::StrCat(topic, "-", partition, " batch at offset ",
                                       h->base_offset, ": ", reader.status().message()));
    }
    if (!h->is_control()) AppendRecords(*reader, topic, partition, out.next_offset, out.records);
    out.next_offset = h->last_offset() + 1;
    out.bytes += batch.size();
  }
  EDDY_CHECK_GE(out.next_offset, position);
  EDDY_CHECK(out.records.empty() || out.records.back().offset < out.next_offset);
  return out;
}

}  // namespace eddy::clients
