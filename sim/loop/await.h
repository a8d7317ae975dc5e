// The await helpers (core/runtime/await.h) under the names simulator tests have always used:
// drive one asynchronous seam call to completion on a SimLoop.
//
//   EDDY_ASSERT_OK_AND_ASSIGN(auto file, AwaitValue<runtime::FileHandle>(loop, [&](auto done) {
//     disk.Open("x", runtime::OpenMode::kCreateNew, std::move(done));
//   }));
#pragma once

#include "core/runtime/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::sim {

using runtime::AwaitStatus;
using runtime::AwaitValue;

}  // namespace eddy::sim
