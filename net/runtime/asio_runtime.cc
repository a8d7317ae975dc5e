#include "net/runtime/asio_runtime.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::net {

uint64_t OsRandomSeed() {
  uint64_t seed = 0;
  uint8_t* bytes = reinterpret_cast<uint8_t*>(&seed);
  size_t filled = 0;
  while (filled < sizeof(seed)) {
    const ssize_t n = getrandom(bytes + filled, sizeof(seed) - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    EDDY_CHECK_MSG(n > 0, "getrandom failed: errno " << errno);
    filled += static_cast<size_t>(n);
  }
  return seed;
}

absl::StatusOr<std::unique_ptr<AsioRuntime>> AsioRuntime::Create(AsioLoop& loop,
                                                                  AsioRuntimeOptions options) {
  if (options.self == runtime::kNoNode) {
    return absl::InvalidArgumentError("node id must be at least 1");
  }
  struct stat info;
  if (stat(options.data_directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("data directory ", options.data_directory, " does not exist"));
  }
  const uint64_t seed = options.random_seed != 0 ? options.random_seed : OsRandomSeed();
  std::unique_ptr<AsioRuntime> runtime(
      new AsioRuntime(loop, options.self, std::move(options.data_directory), seed));
  options.transport.self = options.self;
  options.transport.random_seed = runtime->random_.Next();
  auto transport = TcpTransport::Create(loop, std::move(options.transport));
  if (!transport.ok()) return transport.status();
  runtime->transport_ = std::move(*transport);
  return runtime;
}

AsioRuntime::AsioRuntime(AsioLoop& loop, runtime::NodeId self, std::string data_directory,
                         uint64_t seed)
    : loop_(loop), self_(self), disk_(loop, std::move(data_directory)), random_(seed) {}

}  // namespace eddy::net
