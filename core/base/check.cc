#include "core/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace eddy::base_internal {

void CheckFailed(const char* file, int line, const char* expression, const std::string& detail) {
  // stderr is unbuffered; write in one call so concurrent test output does not interleave.
  std::fprintf(stderr, "%s:%d: EDDY_CHECK failed: %s %s\n", file, line, expression, detail.c_str());
  std::abort();
}

}  // namespace eddy::base_internal
