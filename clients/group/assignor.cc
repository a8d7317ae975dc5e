#include "clients/group/assignor.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "clients/group/cooperative_sticky_assignor.h"
#include "clients/group/range_assignor.h"
#include "clients/group/round_robin_assignor.h"

namespace eddy::clients::group {

absl::StatusOr<std::unique_ptr<Assignor>> MakeAssignor(std::string_view name) {
  if (name == RangeAssignor::kName) return std::make_unique<RangeAssignor>();
  if (name == RoundRobinAssignor::kName) return std::make_unique<RoundRobinAssignor>();
  if (name == CooperativeStickyAssignor::kName) {
    return std::make_unique<CooperativeStickyAssignor>();
  }
  return absl::NotFoundError(
      absl::StrCat("no partition assignor called \"", std::string(name), "\""));
}

std::vector<std::string_view> AssignorNames() {
  return {CooperativeStickyAssignor::kName, RangeAssignor::kName, RoundRobinAssignor::kName};
}

}  // namespace eddy::clients::group
