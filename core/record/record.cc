#include "core/record/record.h"

#include <algorithm>
#include <ostream>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace eddy::record {
namespace {

std::optional<std::vector<uint8_t>> Copy(const std::optional<std::span<const uint8_t>>& bytes) {
  if (!bytes.has_value()) return std::nullopt;
  return std::vector<uint8_t>(bytes->begin(), bytes->end());
}

void PrintBytes(std::ostream& out, const std::optional<std::vector<uint8_t>>& bytes) {
  if (!bytes.has_value()) {
    out << "null";
    return;
  }
  constexpr size_t kPrintedSizeBytesMax = 32;
  const size_t printed_size_bytes = std::min(bytes->size(), kPrintedSizeBytesMax);
  out << "0x"
      << absl::BytesToHexString(
             absl::string_view(reinterpret_cast<const char*>(bytes->data()), printed_size_bytes));
  if (bytes->size() > printed_size_bytes) out << "...(" << bytes->size() << " bytes)";
}

}  // namespace

Record RecordView::ToRecord() const {
  Record record;
  record.attributes = attributes;
  record.timestamp_delta = timestamp_delta;
  record.offset_delta = offset_delta;
  record.key = Copy(key);
  record.value = Copy(value);
  record.headers.reserve(headers.size());
  for (const HeaderView& header : headers) {
    record.headers.push_back(Header{std::string(header.key), Copy(header.value)});
  }
  return record;
}

std::ostream& operator<<(std::ostream& out, const Record& record) {
  out << "{attributes=" << static_cast<int>(record.attributes)
      << " timestamp_delta=" << record.timestamp_delta << " offset_delta=" << record.offset_delta
      << " key=";
  PrintBytes(out, record.key);
  out << " value=";
  PrintBytes(out, record.value);
  out << " headers=[";
  for (const Header& header : record.headers) {
    out << " " << header.key << "=";
    PrintBytes(out, header.value);
  }
  return out << " ]}";
}

}  // namespace eddy::record
