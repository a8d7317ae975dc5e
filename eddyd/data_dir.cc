#include "eddyd/data_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eddyd/config.h"

namespace eddy::eddyd {
namespace {

constexpr char kMetaFile[] = "meta.properties";
constexpr char kFormatVersion[] = "1";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncPath(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags);
  if (fd < 0) return Errno("open", path);
  const int synced = fsync(fd);
  close(fd);
  if (synced != 0) return Errno("fsync", path);
  return absl::OkStatus();
}

absl::Status Format(const std::string& directory, runtime::NodeId node_id) {
  const std::string temporary = absl::StrCat(directory, "/", kMetaFile, ".tmp");
  const std::string final_path = absl::StrCat(directory, "/", kMetaFile);
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "# Written by eddyd when it formatted this directory. Do not edit.\n"
        << "version=" << kFormatVersion << "\n"
        << "node.id=" << node_id << "\n";
    out.close();
    if (!out) return Errno("write", temporary);
  }
  if (absl::Status s = SyncPath(temporary, O_RDONLY); !s.ok()) return s;
  if (rename(temporary.c_str(), final_path.c_str()) != 0) return Errno("rename", temporary);
  return SyncPath(directory, O_RDONLY | O_DIRECTORY);
}

absl::Status Check(const std::string& directory, runtime::NodeId node_id) {
  const std::string path = absl::StrCat(directory, "/", kMetaFile);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto properties = ParseProperties(text.str());
  if (!properties.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", properties.status().message()));
  }
  if (!properties->contains("version") || properties->at("version") != kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": unsupported format version (expected ", kFormatVersion, ")"));
  }
  uint32_t owner = 0;
  if (!properties->contains("node.id") || !absl::SimpleAtoi(properties->at("node.id"), &owner) ||
      owner != node_id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "log.dirs ", directory, " belongs to node.id ",
        properties->contains("node.id") ? properties->at("node.id") : "(none)",
        ", not to node.id ", node_id));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DataDirectoryState> PrepareDataDirectory(const std::string& directory,
                                                        runtime::NodeId node_id) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", directory, ": ", error.message()));
  }
  if (std::filesystem::exists(absl::StrCat(directory, "/", kMetaFile))) {
    if (absl::Status s = Check(directory, node_id); !s.ok()) return s;
    return DataDirectoryState::kExisting;
  }
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.path().filename() == absl::StrCat(kMetaFile, ".tmp")) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "log.dirs ", directory, " holds files but no ", kMetaFile,
        ": not an Eddy data directory (refusing to use it)"));
  }
  if (error) return absl::InternalError(absl::StrCat("cannot list ", directory, ": ", error.message()));
  if (absl::Status s = Format(directory, node_id); !s.ok()) return s;
  return DataDirectoryState::kFormatted;
}

}  // namespace eddy::eddyd
