#include "raft/driver/driver_options.h"

namespace eddy::raft::driver {
namespace {

constexpr struct {
  DriverBug bug;
  const char* name;
} kBugNames[] = {
    {DriverBug::kNone, "none"},
    {DriverBug::kAckBeforeFsync, "ack-before-fsync"},
    {DriverBug::kApplyBeforeCommit, "apply-before-commit"},
    {DriverBug::kSkipCrcOnRead, "skip-crc-on-read"},
    {DriverBug::kTruncateCommittedOnConflict, "truncate-committed-on-conflict"},
    {DriverBug::kForgetTermOnRestart, "forget-term-on-restart"},
};

}  // namespace

const char* DriverBugName(DriverBug bug) {
  for (const auto& entry : kBugNames) {
    if (entry.bug == bug) return entry.name;
  }
  return "?";
}

bool ParseDriverBug(const std::string& name, DriverBug* bug) {
  for (const auto& entry : kBugNames) {
    if (name == entry.name) {
      *bug = entry.bug;
      return true;
    }
  }
  return false;
}

}  // namespace eddy::raft::driver
