#include "net/transport/asio_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "boost/asio/error.hpp"

namespace eddy::net {

absl::Status AsioErrorToStatus(const boost::system::error_code& error,
                               absl::string_view operation) {
  if (!error) return absl::OkStatus();
  const std::string message = absl::StrCat(operation, ": ", error.message());
  namespace asio_error = boost::asio::error;
  if (error == asio_error::operation_aborted) return absl::CancelledError(message);
  if (error == asio_error::invalid_argument) return absl::InvalidArgumentError(message);
  if (error == asio_error::host_not_found || error == asio_error::service_not_found) {
    return absl::NotFoundError(message);
  }
  // Refused, reset, unreachable, timed out, end of stream, address in use, descriptors
  // exhausted: all are conditions that may clear, so the caller retries.
  return absl::UnavailableError(message);
}

}  // namespace eddy::net
