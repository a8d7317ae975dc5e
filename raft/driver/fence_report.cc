#include "raft/driver/fence_report.h"

namespace eddy::raft::driver {

Message FenceReport(const Message& query, NodeId reporter, const LogEnd& end,
                    int64_t conf_change_end) {
  Message report;
  report.set_type(MSG_FENCE_REPORT);
  report.set_from(reporter);
  report.set_to(query.from());
  report.set_last_log_offset(end.offset);
  report.set_last_log_term(end.term);
  report.set_conf_change_end(conf_change_end);
  report.set_fence_query_id(query.fence_query_id());
  return report;
}

Message EmptyFenceReport(const Message& query, NodeId reporter) {
  return FenceReport(query, reporter, LogEnd{kNoOffset, 0}, kNoOffset);
}

}  // namespace eddy::raft::driver
