// eddyd's event log: one line per event on stderr, `key=value` fields (values with spaces or
// quotes are quoted) or, with --log-format=json, one JSON object per line. Every line carries
// the time (UTC, ms), the level and the subsystem. Record payloads are never logged.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace eddy::eddyd {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogFields = std::vector<std::pair<std::string, std::string>>;

class EventLog {
 public:
  explicit EventLog(LogFormat format, LogLevel minimum = LogLevel::kInfo)
      : format_(format), minimum_(minimum) {}

  void Log(LogLevel level, const std::string& subsystem, const std::string& event,
           const LogFields& fields = {});
  // The line Log() writes, without writing it (for tests).
  std::string Format(int64_t now_ms, LogLevel level, const std::string& subsystem,
                     const std::string& event, const LogFields& fields) const;

 private:
  const LogFormat format_;
  const LogLevel minimum_;
};

}  // namespace eddy::eddyd
