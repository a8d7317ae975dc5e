#include "raft/driver/state_file.h"

#include <algorithm>
#include <utility>

#include "core/base/check.h"
#include "core/record/crc32c.h"

namespace eddy::raft::driver {
namespace {

void PutU32(std::vector<uint8_t>& out, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}

uint32_t GetU32(std::span<const uint8_t> in, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | in[at + i];
  return value;
}

constexpr uint64_t kChunkBytes = 64 * 1024;
static_assert(kChunkBytes % runtime::kSectorSizeBytes == 0);

void ReadSectors(runtime::Disk& disk, runtime::FileHandle file, uint64_t at, uint64_t length,
                 std::shared_ptr<FileImage> image, std::shared_ptr<bool> alive,
                 absl::AnyInvocable<void() &&> done) {
  // One read per sector of a chunk that failed: a sector that fails again stays zeros (the scan
  // resynchronises after it) and is listed.
  const uint64_t sectors = (length + runtime::kSectorSizeBytes - 1) / runtime::kSectorSizeBytes;
  auto shared_done = std::make_shared<absl::AnyInvocable<void() &&>>(std::move(done));
  auto remaining = std::make_shared<uint64_t>(sectors + 1);
  auto arrive = [remaining, shared_done]() {
    if (--*remaining == 0) std::move(*shared_done)();
  };
  for (uint64_t s = 0; s < sectors; ++s) {
    const uint64_t sector_at = at + s * runtime::kSectorSizeBytes;
    const uint64_t sector_length = std::min(runtime::kSectorSizeBytes, at + length - sector_at);
    disk.ReadAt(file, sector_at, sector_length,
                [alive, image, sector_at, sector_length,
                 arrive](absl::StatusOr<std::vector<uint8_t>> bytes) {
                  if (!*alive) return;
                  if (bytes.ok() && bytes->size() == sector_length) {
                    std::copy(bytes->begin(), bytes->end(), image->bytes.begin() + sector_at);
                  } else {
                    image->unreadable_sectors.push_back(sector_at / runtime::kSectorSizeBytes);
                  }
                  arrive();
                });
  }
  arrive();
}

}  // namespace

void AppendStateFrame(std::span<const uint8_t> payload, std::vector<uint8_t>& out) {
  EDDY_CHECK_LE(payload.size(), kStateFramePayloadSizeBytesMax);
  const size_t at = out.size();
  out.resize(at + kStateFrameHeaderSizeBytes);
  out.insert(out.end(), payload.begin(), payload.end());
  PutU32(out, at, kStateFrameMagic);
  PutU32(out, at + 4, static_cast<uint32_t>(payload.size()));
  PutU32(out, at + 8, record::Crc32c(payload));
}

StateFrameScan ScanStateFrames(std::span<const uint8_t> bytes,
                               absl::FunctionRef<bool(std::span<const uint8_t>)> accept) {
  // A damaged frame (bit flip, a misdirected write landing on it, a torn tail, an unreadable
  // sector read as zeros) does not end the scan: later frames may be intact.
  StateFrameScan scan;
  size_t at = 0;
  bool in_damage = false;
  while (at + kStateFrameHeaderSizeBytes <= bytes.size()) {
    const uint32_t magic = GetU32(bytes, at);
    const uint32_t length = GetU32(bytes, at + 4);
    const uint32_t crc = GetU32(bytes, at + 8);
    bool valid = magic == kStateFrameMagic && length <= kStateFramePayloadSizeBytesMax &&
                 bytes.size() - at - kStateFrameHeaderSizeBytes >= length;
    std::span<const uint8_t> payload;
    if (valid) {
      payload = bytes.subspan(at + kStateFrameHeaderSizeBytes, length);
      valid = record::Crc32c(payload) == crc && accept(payload);
    }
    if (!valid) {
      if (!in_damage) ++scan.damaged_runs;
      in_damage = true;
      ++at;
      continue;
    }
    in_damage = false;
    at += kStateFrameHeaderSizeBytes + length;
    scan.frames.push_back(StateFrame{payload, at});
  }
  // Trailing bytes too short to hold a header are a torn tail too.
  if (!in_damage && at < bytes.size()) ++scan.damaged_runs;
  return scan;
}

void ReadFileImage(runtime::Disk& disk, runtime::FileHandle file, uint64_t size_bytes_max,
                   std::shared_ptr<bool> alive,
                   absl::AnyInvocable<void(absl::StatusOr<FileImage>) &&> done) {
  using ImageDone = absl::AnyInvocable<void(absl::StatusOr<FileImage>) &&>;
  auto shared_done = std::make_shared<ImageDone>(std::move(done));
  disk.Size(file, [&disk, file, size_bytes_max, alive,
                   shared_done](absl::StatusOr<uint64_t> size) {
    if (!*alive) return;
    if (!size.ok()) return std::move(*shared_done)(size.status());
    if (*size > size_bytes_max) {
      return std::move(*shared_done)(absl::DataLossError("state file too large"));
    }
    auto image = std::make_shared<FileImage>();
    image->bytes.assign(*size, 0);
    const uint64_t chunks = (*size + kChunkBytes - 1) / kChunkBytes;
    auto remaining = std::make_shared<uint64_t>(chunks + 1);
    auto arrive = [image, remaining, shared_done]() {
      if (--*remaining > 0) return;
      std::sort(image->unreadable_sectors.begin(), image->unreadable_sectors.end());
      std::move(*shared_done)(std::move(*image));
    };
    for (uint64_t c = 0; c < chunks; ++c) {
      const uint64_t at = c * kChunkBytes;
      const uint64_t length = std::min(kChunkBytes, *size - at);
      disk.ReadAt(file, at, length,
                  [&disk, file, alive, image, at, length,
                   arrive](absl::StatusOr<std::vector<uint8_t>> bytes) mutable {
                    if (!*alive) return;
                    if (bytes.ok() && bytes->size() == length) {
                      std::copy(bytes->begin(), bytes->end(), image->bytes.begin() + at);
                      return arrive();
                    }
                    ReadSectors(disk, file, at, length, image, alive, std::move(arrive));
                  });
    }
    arrive();
  });
}

}  // namespace eddy::raft::driver
