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

uint32_t GetU32(std::span<const uint8_t> in, size_t at) {
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

FileScan HardStateStore::ScanRecords(std::span<const uint8_t> bytes) {
  // A damaged record (bit flip, a misdirected write landing on it, a torn tail, an unreadable
  // sector read as zeros) does not end the scan: later records may be intact, so resynchronise
  // on the next magic. A record counts only if its CRC matches, so a false magic inside a
  // payload is harmless.
  FileScan scan;
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
      std::span<const uint8_t> payload = bytes.subspan(at + kRecordHeaderSizeBytes, length);
      valid = record::Crc32c(payload) == crc &&
              state.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
    }
    if (!valid) {
      if (!in_damage) ++scan.damaged_records;
      in_damage = true;
      ++at;
      continue;
    }
    in_damage = false;
    at += kRecordHeaderSizeBytes + length;
    if (!scan.newest.has_value() || state.sequence() > scan.newest->sequence()) {
      scan.newest = std::move(state);
      scan.newest_end_bytes = at;
    }
  }
  // Trailing bytes too short to hold a header are a torn tail too.
  if (!in_damage && at < bytes.size()) ++scan.damaged_records;
  return scan;
}

LoadedState HardStateStore::Combine(
    const std::array<FileScan, 2>& scans,
    const std::array<std::vector<uint64_t>, 2>& unreadable_sectors) {
  // A completed save is in both files (or, for a file compacted since, superseded by a newer
  // record at its start), and appends only grow a file, so an acknowledged record newer than a
  // file's newest valid one can only hide after it. Garbage there is an unacknowledged save
  // (a crash tore it); an unreadable sector there may be anything.
  LoadedState loaded;
  bool any_witness = false;
  bool any_trace = false;  // anything at all on either file, readable or not
  for (size_t i = 0; i < 2; ++i) {
    const FileScan& scan = scans[i];
    const std::vector<uint64_t>& bad = unreadable_sectors[i];
    loaded.damaged_records += scan.damaged_records;
    loaded.unreadable_sectors += bad.size();
    if (scan.newest.has_value() || !bad.empty()) any_trace = true;
    if (!scan.newest.has_value()) continue;
    const bool unreadable_after =
        !bad.empty() && (bad.back() + 1) * runtime::kSectorSizeBytes > scan.newest_end_bytes;
    if (!unreadable_after) any_witness = true;
    if (!loaded.state.has_value() || scan.newest->sequence() > loaded.state->sequence()) {
      loaded.state = scan.newest;
    }
  }
  // No record and nothing unreadable on either file: a new replica (or one whose first save
  // never completed). Otherwise one file must vouch for the newest record.
  loaded.newest_certain = any_witness || !any_trace;
  return loaded;
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
  // Chain: mkdir -> open a -> open b -> sync dir -> load a -> load b. Each step's completion
  // captures `this`, which the caller's `done` owns, so it lives until the chain ends.
  struct Loading {
    std::array<FileScan, 2> scans;
    std::array<std::vector<uint64_t>, 2> unreadable;
  };
  auto loading = std::make_shared<Loading>();
  auto fail = std::make_shared<absl::AnyInvocable<void(absl::StatusOr<LoadedState>) &&>>(
      std::move(done));
  auto load_b = [this, loading, fail]() {
    LoadFile(1, [this, loading, fail](absl::StatusOr<std::pair<FileScan, FileImage>> b) {
      if (!b.ok()) return std::move(*fail)(b.status());
      loading->scans[1] = std::move(b->first);
      loading->unreadable[1] = std::move(b->second.unreadable_sectors);
      LoadedState loaded = Combine(loading->scans, loading->unreadable);
      if (loaded.state.has_value()) sequence_ = loaded.state->sequence();
      for (size_t i = 0; i < 2; ++i) {
        files_[i].damaged =
            loading->scans[i].damaged_records > 0 || !loading->unreadable[i].empty();
      }
      // Stagger compactions so the two files never compact together.
      files_[1].records += kRecordsPerFileMax / 2;
      // The owner is about to act on the newest record, so make it as durable as a completed
      // save first, in both files — always: it may sit in one file only (a save cut short by a
      // crash), and even in both it may not be durable: a replica reopening in the same process
      // after a failed fsync reads back writes the disk never made durable (fsyncgate), and
      // a later crash would take them back.
      if (!loaded.state.has_value() || !loaded.newest_certain) {
        return std::move(*fail)(std::move(loaded));
      }
      PersistedState again = *loaded.state;
      Save(std::move(again), [this, fail, loaded = std::move(loaded)](absl::Status s) mutable {
        if (!s.ok()) return std::move(*fail)(s);
        loaded.state->set_sequence(sequence_);
        std::move(*fail)(std::move(loaded));
      });
    });
  };
  auto load_a = [this, loading, fail, load_b]() {
    LoadFile(0, [loading, fail, load_b](absl::StatusOr<std::pair<FileScan, FileImage>> a) {
      if (!a.ok()) return std::move(*fail)(a.status());
      loading->scans[0] = std::move(a->first);
      loading->unreadable[0] = std::move(a->second.unreadable_sectors);
      load_b();
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
  disk_.CreateDirectories(directory_, [this, fail, open_file, load_a](absl::Status s) {
    if (!s.ok()) return std::move(*fail)(s);
    open_file(0, [this, fail, open_file, load_a] {
      open_file(1, [this, fail, load_a] {
        disk_.SyncDirectory(directory_, [fail, load_a](absl::Status s) {
          if (!s.ok()) return std::move(*fail)(s);
          load_a();
        });
      });
    });
  });
}

void HardStateStore::LoadFile(
    size_t index,
    absl::AnyInvocable<void(absl::StatusOr<std::pair<FileScan, FileImage>>) &&> done) {
  ReadImage(index, [this, alive = alive_, index, done = std::move(done)](
                       absl::StatusOr<FileImage> first) mutable {
    if (!*alive) return;
    if (!first.ok()) return std::move(done)(first.status());
    FileScan first_scan = ScanRecords(first->bytes);
    if (first_scan.damaged_records == 0) {
      return std::move(done)(std::make_pair(std::move(first_scan), *std::move(first)));
    }
    ReadImage(index, [first_scan = std::move(first_scan), first = *std::move(first),
                      done = std::move(done)](absl::StatusOr<FileImage> second) mutable {
      if (!second.ok()) return std::move(done)(second.status());
      FileScan second_scan = ScanRecords(second->bytes);
      const auto sequence = [](const FileScan& scan) {
        return scan.newest.has_value() ? scan.newest->sequence() : 0;
      };
      // Bad sectors stay bad, so both reads list the same ones (a read may add one).
      const bool take_second = sequence(second_scan) > sequence(first_scan) ||
                               (sequence(second_scan) == sequence(first_scan) &&
                                second_scan.damaged_records < first_scan.damaged_records);
      if (take_second) {
        return std::move(done)(std::make_pair(std::move(second_scan), *std::move(second)));
      }
      std::move(done)(std::make_pair(std::move(first_scan), std::move(first)));
    });
  });
}

void HardStateStore::ReadImage(size_t index, ImageDone done) {
  static constexpr uint64_t kChunkBytes = 4096;
  static_assert(kChunkBytes % runtime::kSectorSizeBytes == 0);
  auto shared_done = std::make_shared<ImageDone>(std::move(done));
  disk_.Size(files_[index].handle, [this, alive = alive_, index,
                                    shared_done](absl::StatusOr<uint64_t> size) {
    if (!*alive) return;
    if (!size.ok()) return std::move(*shared_done)(size.status());
    if (*size > kRecordsPerFileMax * 2 * (kRecordHeaderSizeBytes + kRecordSizeBytesMax)) {
      return std::move(*shared_done)(absl::DataLossError("hard state file too large"));
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
      disk_.ReadAt(files_[index].handle, at, length,
                   [this, alive = alive_, index, image, at, length,
                    arrive](absl::StatusOr<std::vector<uint8_t>> bytes) mutable {
                     if (!*alive) return;
                     if (bytes.ok() && bytes->size() == length) {
                       std::copy(bytes->begin(), bytes->end(), image->bytes.begin() + at);
                       return arrive();
                     }
                     ReadSectors(index, at, length, image, std::move(arrive));
                   });
    }
    arrive();
  });
}

void HardStateStore::ReadSectors(size_t index, uint64_t at, uint64_t length,
                                 std::shared_ptr<FileImage> image,
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
    disk_.ReadAt(files_[index].handle, sector_at, sector_length,
                 [alive = alive_, image, sector_at, sector_length,
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

void HardStateStore::Save(PersistedState state, Done done) {
  EDDY_CHECK(!save_pending_);
  EDDY_CHECK(files_[0].handle != runtime::kNoFile && files_[1].handle != runtime::kNoFile);
  save_pending_ = true;
  state.set_sequence(++sequence_);
  std::vector<uint8_t> record = EncodeRecord(state);
  // A file is rewritten whole when it is full or damaged, but never both files in one save: the
  // one not compacting keeps every earlier record.
  const auto wants_compaction = [](const File& file) {
    return file.records >= kRecordsPerFileMax || file.damaged;
  };
  const bool compact_a = wants_compaction(files_[0]);
  const bool compact_b = !compact_a && wants_compaction(files_[1]);
  auto join = std::make_shared<Join>();
  join->done = [this, alive = alive_, done = std::move(done)](absl::Status s) mutable {
    if (!*alive) return;
    save_pending_ = false;
    std::move(done)(s);
  };
  WriteOne(0, compact_a, record, [join](absl::Status s) { join->Arrive(s); });
  WriteOne(1, compact_b, std::move(record), [join](absl::Status s) { join->Arrive(s); });
}

void HardStateStore::WriteOne(size_t index, bool compact, std::vector<uint8_t> record,
                              absl::AnyInvocable<void(absl::Status) &&> done) {
  File& file = files_[index];
  auto shared_done = std::make_shared<absl::AnyInvocable<void(absl::Status) &&>>(std::move(done));
  auto expected = std::make_shared<std::vector<uint8_t>>(std::move(record));
  if (!compact) {
    ++file.records;
    return AppendVerified(index, expected, kWriteAttemptsMax, shared_done);
  }
  file.records = 1;
  file.damaged = false;
  // The record goes in only once the truncation succeeded: appended after a failed one it would
  // sit behind stale records of unknown state, and the save must fail instead.
  disk_.Truncate(file.handle, 0,
                 [this, alive = alive_, index, expected, shared_done](absl::Status s) {
                   if (!*alive) return;
                   if (!s.ok()) return std::move(*shared_done)(s);
                   AppendVerified(index, expected, kWriteAttemptsMax, shared_done);
                 });
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
                     return std::move(*done)(absl::OkStatus());
                   }
                   // Garbage or a bad sector now sits in this file: rewrite it soon.
                   files_[index].damaged = true;
                   if (attempts_left <= 1) {
                     return std::move(*done)(
                         absl::DataLossError("hard state record did not read back"));
                   }
                   AppendVerified(index, record, attempts_left - 1, done);
                 });
  });
}

}  // namespace eddy::raft::driver
