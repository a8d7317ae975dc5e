#include "eddyd/event_log.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace eddy::eddyd {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", static_cast<unsigned char>(c)));
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string TextValue(const std::string& value) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\t\n") == std::string::npos;
  return plain ? value : JsonString(value);
}

}  // namespace

std::string EventLog::Format(int64_t now_ms, LogLevel level, const std::string& subsystem,
                             const std::string& event, const LogFields& fields) const {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(now_ms), absl::UTCTimeZone());
  if (format_ == LogFormat::kJson) {
    std::string out = absl::StrCat("{\"time\":", JsonString(time), ",\"level\":\"",
                                   LevelName(level), "\",\"subsystem\":", JsonString(subsystem),
                                   ",\"event\":", JsonString(event));
    for (const auto& [key, value] : fields) {
      absl::StrAppend(&out, ",", JsonString(key), ":", JsonString(value));
    }
    return out + "}";
  }
  std::string out = absl::StrCat(time, " level=", LevelName(level), " subsystem=", subsystem,
                                 " event=", TextValue(event));
  for (const auto& [key, value] : fields) absl::StrAppend(&out, " ", key, "=", TextValue(value));
  return out;
}

void EventLog::Log(LogLevel level, const std::string& subsystem, const std::string& event,
                   const LogFields& fields) {
  if (level < minimum_) return;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const std::string line = Format(now_ms, level, subsystem, event, fields);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace eddy::eddyd
