// The broker's data directory: created and formatted on first start, checked on every later one.
//
// Formatting writes `meta.properties` (Kafka's name for the same idea): `version`, and the
// `node.id` that owns the directory. It is written to a temporary file, synced, renamed into
// place and the directory synced, so a crash leaves a formatted directory or none. A directory
// that holds files but no meta.properties, or one formatted for another node, is refused: a
// typo in log.dirs or node.id must never let a broker treat another's data as its own.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/runtime/transport.h"

namespace eddy::eddyd {

enum class DataDirectoryState { kFormatted, kExisting };

// Creates (with parents) and formats `directory` if it is missing or empty; otherwise checks its
// meta.properties. kFailedPrecondition for a directory that is not this node's; kInternal-class
// errors from the file system, naming the path.
absl::StatusOr<DataDirectoryState> PrepareDataDirectory(const std::string& directory,
                                                        runtime::NodeId node_id);

}  // namespace eddy::eddyd
