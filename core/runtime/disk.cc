#include "core/runtime/disk.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace eddy::runtime {

std::string JoinPath(absl::string_view directory, absl::string_view name) {
  directory = absl::StripSuffix(directory, "/");
  name = absl::StripPrefix(name, "/");
  if (directory.empty()) return std::string(name);
  return absl::StrCat(directory, "/", name);
}

absl::string_view ParentDirectory(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return absl::string_view();
  return path.substr(0, slash);
}

}  // namespace eddy::runtime
