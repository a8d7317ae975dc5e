#include "raft/driver/hard_state_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/log/whole_file.h"
#include "core/record/crc32c.h"

namespace eddy::raft::driver {
namespace {

void PutU32(std::vector<uint8_t>& out, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}

uint32_t GetU32(const std::vector<uint8_t>& in, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | in[at + i];
  return value;
}

// Counts two completions and reports the first error once both are in.
struct Join {
  int remaining = 2;
  absl::Status status;
  absl::AnyInvocable<void(absl::Status) &&> done;
  void Arrive(absl::Status s) {
    if (status.ok() && !s.ok()) status = s;
    if (--remaining == 0) std::move(done)(status);
  }
};

}  // namespace

HardStateStore::HardStateStore(runtime::Disk& disk, std::string directory)
    : disk_(disk), directory_(std::move(directory)) {
  files_[0].path = absl::StrCat(directory_, "/state.a");
  files_[1].path = absl::StrCat(directory_, "/state.b");
}

HardStateStore::~HardStateStore() { *alive_ = false; }

std::vector<uint8_t> HardStateStore::EncodeRecord(const PersistedState& state) {
  std::string payload;
  EDDY_CHECK(state.SerializeToString(&payload));
  EDDY_CHECK_LE(payload.size(), kRecordSizeBytesMax);
  std::vector<uint8_t> record(kRecordHeaderSizeBytes + payload.size());
  std::copy(payload.begin(), payload.end(), record.begin() + kRecordHeaderSizeBytes);
  PutU32(record, 0, kRecordMagic);
  PutU32(record, 4, static_cast<uint32_t>(payload.size()));
  PutU32(record, 8,
         record::Crc32c(std::span<const uint8_t>(record).subspan(kRecordHeaderSizeBytes)));
  return record;
}

void HardStateStore::DecodeRecords(const std::vector<uint8_t>& bytes, LoadedState* into) {
  // A damaged record (bit flip, a misdirected write landing on it, a torn tail) does not end the
  // scan: later records may be intact, so resynchronise on the next magic. A record counts only
  // if its CRC matches, so a false magic inside a payload is harmless.
  size_t at = 0;
  bool in_damage = false;
  while (at + kRecordHeaderSizeBytes <= bytes.size()) {
    const uint32_t magic = GetU32(bytes, at);
    const uint32_t length = GetU32(bytes, at + 4);
    const uint32_t crc = GetU32(bytes, at + 8);
    bool valid = magic == kRecordMagic && length <= kRecordSizeBytesMax &&
                 bytes.size() - at - kRecordHeaderSizeBytes >= length;
    PersistedState state;
    if (valid) {
      std::span<const uint8_t> payload(bytes.data() + at + kRecordHeaderSizeBytes, length);
      valid = record::Crc32c(payload) == crc &&
              state.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
    }
    if (!valid) {
      if (!in_damage) ++into->damaged_records;
      in_damage = true;
      ++at;
      continue;
    }
    in_damage = false;
    if (!into->state.has_value() || state.sequence() > into->state->sequence()) {
      into->state = std::move(state);
    }
    at += kRecordHeaderSizeBytes + length;
  }
}

void HardStateStore::Open(
    runtime::Disk& disk, std::string directory,
    absl::AnyInvocable<void(absl::StatusOr<std::pair<std::unique_ptr<HardStateStore>, LoadedState>>)
                           &&>
        done) {
  std::unique_ptr<HardStateStore> store(new HardStateStore(disk, std::move(directory)));
  HardStateStore* raw = store.get();
  raw->OpenFiles([store = std::move(store),
                  done = std::move(done)](absl::StatusOr<LoadedState> loaded) mutable {
    if (!loaded.ok()) return std::move(done)(loaded.status());
    std::move(done)(std::make_pair(std::move(store), *std::move(loaded)));
  });
}

void HardStateStore::OpenFiles(absl::AnyInvocable<void(absl::StatusOr<LoadedState>) &&> done) {
  // Chain: mkdir -> open a -> open b -> sync dir -> read a -> read b. Each step's completion
  // captures `this`, which the caller's `done` owns, so it lives until the chain ends.
  auto loaded = std::make_shared<LoadedState>();
  auto fail = std::make_shared<absl::AnyInvocable<void(absl::StatusOr<LoadedState>) &&>>(
      std::move(done));
  auto read_b = [this, loaded, fail]() {
    ReadTolerant(1, [this, loaded, fail](absl::StatusOr<std::vector<uint8_t>> bytes,
                                         uint64_t unreadable) {
      if (!bytes.ok()) return std::move(*fail)(bytes.status());
      LoadedState file_b;
      DecodeRecords(*bytes, &file_b);
      loaded->damaged_records += file_b.damaged_records + unreadable;
      if (file_b.state.has_value() &&
          (!loaded->state.has_value() || file_b.state->sequence() > loaded->state->sequence())) {
        loaded->state = file_b.state;
      }
      if (loaded->state.has_value()) sequence_ = loaded->state->sequence();
      // Stagger compactions so the two files never compact together.
      files_[1].records += kRecordsPerFileMax / 2;
      std::move(*fail)(*loaded);
    });
  };
  auto read_a = [this, loaded, fail, read_b]() {
    ReadTolerant(0, [loaded, fail, read_b](absl::StatusOr<std::vector<uint8_t>> bytes,
                                           uint64_t unreadable) {
      if (!bytes.ok()) return std::move(*fail)(bytes.status());
      DecodeRecords(*bytes, loaded.get());
      loaded->damaged_records += unreadable;
      read_b();
    });
  };
  auto open_file = [this, fail](size_t index, absl::AnyInvocable<void()> next) {
    disk_.Open(files_[index].path, runtime::OpenMode::kCreateIfMissing,
               [this, index, fail, next = std::move(next)](
                   absl::StatusOr<runtime::FileHandle> handle) mutable {
                 if (!handle.ok()) return std::move(*fail)(handle.status());
                 files_[index].handle = *handle;
                 next();
               });
  };
  disk_.CreateDirectories(directory_, [this, fail, open_file, read_a](absl::Status s) {
    if (!s.ok()) return std::move(*fail)(s);
    open_file(0, [this, fail, open_file, read_a] {
      open_file(1, [this, fail, read_a] {
        disk_.SyncDirectory(directory_, [fail, read_a](absl::Status s) {
          if (!s.ok()) return std::move(*fail)(s);
          read_a();
        });
      });
    });
  });
}

void HardStateStore::ReadTolerant(
    size_t index,
    absl::AnyInvocable<void(absl::StatusOr<std::vector<uint8_t>>, uint64_t) &&> done) {
  static constexpr uint64_t kChunkBytes = 4096;
  File& file = files_[index];
  auto shared_done = std::make_shared<
      absl::AnyInvocable<void(absl::StatusOr<std::vector<uint8_t>>, uint64_t) &&>>(
      std::move(done));
  disk_.Size(file.handle, [this, index, shared_done](absl::StatusOr<uint64_t> size) {
    if (!size.ok()) return std::move(*shared_done)(size.status(), 0);
    if (*size > kRecordsPerFileMax * 2 * (kRecordHeaderSizeBytes + kRecordSizeBytesMax)) {
      return std::move(*shared_done)(absl::DataLossError("hard state file too large"), 0);
    }
    files_[index].size_bytes = *size;
    struct Read {
      std::vector<uint8_t> bytes;
      uint64_t unreadable = 0;
      uint64_t remaining = 0;
    };
    auto read = std::make_shared<Read>();
    read->bytes.assign(*size, 0);
    const uint64_t chunks = (*size + kChunkBytes - 1) / kChunkBytes;
    read->remaining = chunks + 1;
    auto arrive = [read, shared_done]() {
      if (--read->remaining == 0) std::move(*shared_done)(std::move(read->bytes), read->unreadable);
    };
    for (uint64_t c = 0; c < chunks; ++c) {
      const uint64_t at = c * kChunkBytes;
      const uint64_t length = std::min(kChunkBytes, *size - at);
      disk_.ReadAt(files_[index].handle, at, length,
                   [read, at, length, arrive](absl::StatusOr<std::vector<uint8_t>> bytes) {
                     if (bytes.ok() && bytes->size() == length) {
                       std::copy(bytes->begin(), bytes->end(), read->bytes.begin() + at);
                     } else {
                       ++read->unreadable;  // zeros: the scan resynchronises after it
                     }
                     arrive();
                   });
    }
    arrive();
  });
}

void HardStateStore::Save(PersistedState state, Done done) {
  EDDY_CHECK(!save_pending_);
  EDDY_CHECK(files_[0].handle != runtime::kNoFile && files_[1].handle != runtime::kNoFile);
  save_pending_ = true;
  state.set_sequence(++sequence_);
  std::vector<uint8_t> record = EncodeRecord(state);
  auto join = std::make_shared<Join>();
  join->done = [this, alive = alive_, done = std::move(done)](absl::Status s) mutable {
    if (!*alive) return;
    save_pending_ = false;
    std::move(done)(s);
  };
  WriteOne(0, record, [join](absl::Status s) { join->Arrive(s); });
  WriteOne(1, std::move(record), [join](absl::Status s) { join->Arrive(s); });
}

void HardStateStore::WriteOne(size_t index, std::vector<uint8_t> record,
                              absl::AnyInvocable<void(absl::Status) &&> done) {
  File& file = files_[index];
  const File& other = files_[1 - index];
  // Compact only while the other file keeps every earlier record (it is not compacting now).
  const bool compact = file.records >= kRecordsPerFileMax && other.records < kRecordsPerFileMax;
  auto shared_done = std::make_shared<absl::AnyInvocable<void(absl::Status) &&>>(std::move(done));
  auto expected = std::make_shared<std::vector<uint8_t>>(std::move(record));
  if (compact) {
    file.records = 1;
    file.size_bytes = 0;
    disk_.Truncate(file.handle, 0, [](absl::Status) {});
  } else {
    ++file.records;
  }
  AppendVerified(index, expected, kWriteAttemptsMax, shared_done);
}

void HardStateStore::AppendVerified(
    size_t index, std::shared_ptr<std::vector<uint8_t>> record, int attempts_left,
    std::shared_ptr<absl::AnyInvocable<void(absl::Status) &&>> done) {
  // Append at the file's real end (a misdirected write may have left our count wrong), sync,
  // and read the bytes back. A write that does not read back (misdirected, corrupted, a sector
  // gone bad) is appended again: the latest record must exist somewhere readable.
  const runtime::FileHandle handle = files_[index].handle;
  disk_.Size(handle, [this, alive = alive_, index, record, attempts_left, done,
                      handle](absl::StatusOr<uint64_t> size) {
    if (!*alive) return;
    if (!size.ok()) return std::move(*done)(size.status());
    auto first_error = std::make_shared<absl::Status>();
    disk_.Append(handle, *record, [first_error](absl::StatusOr<uint64_t> s) {
      if (first_error->ok() && !s.ok()) *first_error = s.status();
    });
    disk_.Sync(handle, [first_error](absl::Status s) {
      if (first_error->ok() && !s.ok()) *first_error = s;
    });
    const uint64_t position = *size;
    disk_.ReadAt(handle, position, record->size(),
                 [this, alive = alive_, index, record, attempts_left, done, first_error,
                  position](absl::StatusOr<std::vector<uint8_t>> bytes) {
                   if (!*alive) return;
                   if (!first_error->ok()) return std::move(*done)(*first_error);
                   if (bytes.ok() && *bytes == *record) {
                     files_[index].size_bytes = position + record->size();
                     return std::move(*done)(absl::OkStatus());
                   }
                   if (attempts_left <= 1) {
                     return std::move(*done)(
                         absl::DataLossError("hard state record did not read back"));
                   }
                   AppendVerified(index, record, attempts_left - 1, done);
                 });
  });
}

}  // namespace eddy::raft::driver
