// The topics of a ConsumerProtocolSubscription (the "consumer" protocol's member metadata:
// int16 version, then an int32-counted array of int16-length strings, then fields this
// reader does not need), so OffsetDelete can tell which topics a group consumes. The full
// codec lives with the client (clients/group/); the broker needs only this much.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::group {

// nullopt if the bytes do not begin with a well-formed subscription.
std::optional<std::vector<std::string>> SubscriptionTopics(std::string_view metadata);

}  // namespace eddy::group
