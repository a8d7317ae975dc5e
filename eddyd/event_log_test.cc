// The event log's two line formats: key=value with quoting where needed, and JSON.
#include "eddyd/event_log.h"

#include "gtest/gtest.h"

namespace eddy::eddyd {
namespace {

constexpr int64_t kNoon = 1796385600000;  // 2026-12-04T12:00:00Z

TEST(EventLogTest, TextQuotesOnlyWhatNeedsIt) {
  EventLog log(LogFormat::kText);
  EXPECT_EQ(log.Format(kNoon, LogLevel::kInfo, "broker", "ready",
                       {{"node.id", "1"}, {"why", "a b"}, {"empty", ""}, {"q", "say \"hi\""}}),
            "2026-12-04T12:00:00.000Z level=info subsystem=broker event=ready node.id=1 "
            "why=\"a b\" empty=\"\" q=\"say \\\"hi\\\"\"");
}

TEST(EventLogTest, JsonEscapesEverything) {
  EventLog log(LogFormat::kJson);
  EXPECT_EQ(log.Format(kNoon + 5, LogLevel::kError, "config", "invalid configuration",
                       {{"error", "bad\nline \\ \"x\""}}),
            "{\"time\":\"2026-12-04T12:00:00.005Z\",\"level\":\"error\",\"subsystem\":\"config\","
            "\"event\":\"invalid configuration\",\"error\":\"bad\\u000aline \\\\ \\\"x\\\"\"}");
}

}  // namespace
}  // namespace eddy::eddyd
