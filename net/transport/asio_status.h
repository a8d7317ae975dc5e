// The one translation of Asio error codes into absl::Status for net/transport.
//
// Socket failures a peer or the network can cause are transient from the caller's point of view
// (retry, reconnect): they map to kUnavailable. A cancelled operation is kCancelled, a malformed
// address kInvalidArgument, an unknown host kNotFound.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "boost/system/error_code.hpp"

namespace eddy::net {

// OK for a zero error code; otherwise a status whose message names `operation`.
absl::Status AsioErrorToStatus(const boost::system::error_code& error, absl::string_view operation);

}  // namespace eddy::net
