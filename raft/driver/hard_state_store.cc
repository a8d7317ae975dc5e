#include "raft/driver/hard_state_store.h"

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
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < kRecordHeaderSizeBytes) break;  // torn tail
    const uint32_t magic = GetU32(bytes, at);
    const uint32_t length = GetU32(bytes, at + 4);
    const uint32_t crc = GetU32(bytes, at + 8);
    if (magic != kRecordMagic || length > kRecordSizeBytesMax ||
        bytes.size() - at - kRecordHeaderSizeBytes < length) {
      ++into->damaged_records;
      break;
    }
    std::span<const uint8_t> payload(bytes.data() + at + kRecordHeaderSizeBytes, length);
    PersistedState state;
    if (record::Crc32c(payload) != crc ||
        !state.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      ++into->damaged_records;
      break;
    }
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
    log::ReadWholeFile(disk_, files_[1].path,
                       [this, loaded, fail](absl::StatusOr<std::vector<uint8_t>> bytes) {
                         if (!bytes.ok()) return std::move(*fail)(bytes.status());
                         LoadedState file_b;
                         DecodeRecords(*bytes, &file_b);
                         loaded->damaged_records += file_b.damaged_records;
                         if (file_b.state.has_value() &&
                             (!loaded->state.has_value() ||
                              file_b.state->sequence() > loaded->state->sequence())) {
                           loaded->state = file_b.state;
                         }
                         if (loaded->state.has_value()) sequence_ = loaded->state->sequence();
                         // Stagger compactions so the two files never compact together.
                         files_[1].records += kRecordsPerFileMax / 2;
                         std::move(*fail)(*loaded);
                       });
  };
  auto read_a = [this, loaded, fail, read_b]() {
    log::ReadWholeFile(disk_, files_[0].path,
                       [this, loaded, fail, read_b](absl::StatusOr<std::vector<uint8_t>> bytes) {
                         if (!bytes.ok()) return std::move(*fail)(bytes.status());
                         DecodeRecords(*bytes, loaded.get());
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
  struct Step {
    absl::Status first_error;
    absl::AnyInvocable<void(absl::Status) &&> done;
    void Note(absl::Status s) {
      if (first_error.ok() && !s.ok()) first_error = s;
    }
  };
  auto step = std::make_shared<Step>();
  step->done = std::move(done);
  auto append_and_sync = [this, handle = file.handle, record = std::move(record), step]() mutable {
    disk_.Append(handle, std::move(record),
                 [step](absl::StatusOr<uint64_t> s) { step->Note(s.status()); });
    // Same-file FIFO: the sync completes after the append; a failed append or truncate fails
    // the save even if the sync itself succeeds.
    disk_.Sync(handle, [step](absl::Status s) {
      step->Note(s);
      std::move(step->done)(step->first_error);
    });
  };
  if (compact) {
    file.records = 1;
    disk_.Truncate(file.handle, 0, [step](absl::Status s) { step->Note(s); });
    append_and_sync();
  } else {
    ++file.records;
    append_and_sync();
  }
}

}  // namespace eddy::raft::driver
