#include "core/log/segment_file_names.h"

#include <cstdio>
#include <string_view>

#include "core/base/check.h"

namespace eddy::log {
namespace {

constexpr size_t kDigitCount = 20;

const char* SuffixFor(SegmentFileKind kind) {
  switch (kind) {
    case SegmentFileKind::kLog:
      return ".log";
    case SegmentFileKind::kIndex:
      return ".index";
    case SegmentFileKind::kTimeIndex:
      return ".timeindex";
    case SegmentFileKind::kResetMarker:
      return ".reset";
  }
  EDDY_UNREACHABLE();
}

}  // namespace

std::string SegmentFileNameFor(int64_t base_offset, SegmentFileKind kind) {
  EDDY_CHECK_GE(base_offset, 0);
  char digits[kDigitCount + 1];
  std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(base_offset));
  return std::string(digits) + SuffixFor(kind);
}

std::optional<SegmentFileName> ParseSegmentFileName(const std::string& name) {
  if (name.size() <= kDigitCount) return std::nullopt;
  const std::string_view digits(name.data(), kDigitCount);
  const std::string_view suffix(name.data() + kDigitCount, name.size() - kDigitCount);
  SegmentFileName parsed;
  bool matched = false;
  for (SegmentFileKind kind : {SegmentFileKind::kLog, SegmentFileKind::kIndex,
                              SegmentFileKind::kTimeIndex, SegmentFileKind::kResetMarker}) {
    if (suffix == SuffixFor(kind)) {
      parsed.kind = kind;
      matched = true;
    }
  }
  if (!matched) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    // 20 digits can exceed INT64_MAX (and UINT64_MAX); offsets never do.
    if (value > (static_cast<uint64_t>(INT64_MAX) - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  parsed.base_offset = static_cast<int64_t>(value);
  return parsed;
}

}  // namespace eddy::log
