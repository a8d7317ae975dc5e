// eddy-demo: Eddy's main job until the broker exists — one partition log on the real disk.
//
// Writes keyed records in batches through the partition log (leader appends, group-commit
// flushes), reads them all back and checks every record, finds an offset by timestamp, closes
// and reopens the log (recovery from the index files), tears the tail of the active segment the
// way a power cut would and reopens again (recovery truncates it), then applies retention.
// Prints what it did at each step and exits non-zero if anything did not hold.
//
//   eddy-demo [--dir=PATH] [--records=N] [--batch_records=N] [--value_bytes=N]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "core/base/check.h"
#include "core/log/partition_log.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"
#include "core/record/record_batch_reader.h"
#include "core/runtime/await.h"
#include "net/disk/posix_disk.h"
#include "net/loop/asio_loop.h"

namespace eddy::demo {
namespace {

struct Flags {
  std::string directory;
  int64_t records = 20000;
  int64_t batch_records = 100;
  int64_t value_bytes = 1000;
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    auto number = [&](absl::string_view prefix, int64_t* out) {
      if (!absl::StartsWith(arg, prefix)) return false;
      if (!absl::SimpleAtoi(arg.substr(prefix.size()), out) || *out <= 0) {
        std::fprintf(stderr, "bad value in %s\n", argv[i]);
        std::exit(2);
      }
      return true;
    };
    if (absl::StartsWith(arg, "--dir=")) {
      flags.directory = std::string(arg.substr(6));
    } else if (!number("--records=", &flags.records) &&
               !number("--batch_records=", &flags.batch_records) &&
               !number("--value_bytes=", &flags.value_bytes)) {
      std::fprintf(stderr,
                   "usage: eddy-demo [--dir=PATH] [--records=N] [--batch_records=N] "
                   "[--value_bytes=N]\n");
      std::exit(2);
    }
  }
  if (flags.directory.empty()) {
    std::string pattern = "/tmp/eddy-demo-XXXXXX";
    EDDY_CHECK(::mkdtemp(pattern.data()) != nullptr);
    flags.directory = pattern;
  }
  return flags;
}

std::string KeyOf(int64_t i) { return absl::StrCat("user-", i % 97); }
std::string ValueOf(int64_t i, int64_t size) {
  std::string value = absl::StrCat("record ", i, " ");
  value.resize(static_cast<size_t>(size), static_cast<char>('a' + i % 26));
  return value;
}
std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Require(bool condition, const std::string& what) {
  if (condition) return;
  std::printf("FAILED: %s\n", what.c_str());
  std::exit(1);
}

class Demo {
 public:
  explicit Demo(Flags flags) : flags_(std::move(flags)), disk_(loop_, flags_.directory) {
    options_.segment_size_bytes_max = 4 * kMiB;  // Small, so the demo shows several segments.
  }

  void Run() {
    std::printf("eddy-demo: one partition log in %s\n", flags_.directory.c_str());
    OpenLog("open (new log)");
    WriteRecords();
    ReadBackAndVerify();
    LookUpByTimestamp();
    log_.reset();
    OpenLog("reopen (clean shutdown)");
    Require(log_->next_offset() == flags_.records, "reopened log has every record");
    TearActiveSegmentTail();
    OpenLog("reopen (after a torn write)");
    Require(log_->next_offset() == flags_.records, "no flushed record lost to the torn tail");
    ApplyRetention();
    std::printf("all checks passed; the log stays in %s\n", flags_.directory.c_str());
  }

 private:
  void OpenLog(const char* why) {
    auto opened = runtime::AwaitValue<log::PartitionLog::Opened>(loop_, [&](auto done) {
      log::PartitionLog::Open(loop_, disk_, "partition-0", options_, std::move(done));
    });
    Require(opened.ok(), absl::StrCat("open: ", opened.status().ToString()));
    const log::RecoveryReport& report = opened->report;
    log_ = std::move(opened->log);
    std::printf(
        "%-28s offsets [%lld, %lld), %zu segment(s); recovery: %llu loaded from index, "
        "%llu scanned, %llu bytes truncated%s%s\n",
        why, static_cast<long long>(log_->first_offset()),
        static_cast<long long>(log_->next_offset()), log_->segment_count(),
        static_cast<unsigned long long>(report.segments_loaded),
        static_cast<unsigned long long>(report.segments_scanned),
        static_cast<unsigned long long>(report.bytes_truncated),
        report.first_defect.empty() ? "" : " — ", report.first_defect.c_str());
  }

  void WriteRecords() {
    const auto start = std::chrono::steady_clock::now();
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const std::string source = "eddy-demo";
    const record::HeaderView header{"source", Bytes(source)};
    uint64_t bytes = 0;
    int flushes_pending = 0;
    for (int64_t first = 0; first < flags_.records; first += flags_.batch_records) {
      record::RecordBatchBuilder builder(record::BatchHeader{});
      for (int64_t i = first; i < std::min(flags_.records, first + flags_.batch_records); ++i) {
        const std::string key = KeyOf(i);
        const std::string value = ValueOf(i, flags_.value_bytes);
        EDDY_CHECK_OK(builder.Append(now_ms + i, Bytes(key), Bytes(value), {&header, 1}));
      }
      std::vector<uint8_t> batch = builder.Finish();
      bytes += batch.size();
      auto appended = log_->AppendAsLeader(std::move(batch), /*term=*/1);
      Require(appended.ok(), absl::StrCat("append: ", appended.status().ToString()));
      // Group commit: ask for durability after every batch; flushes issued while a sync runs
      // share the next one, so there are far fewer syncs than batches.
      ++flushes_pending;
      log_->Flush(appended->last_offset, [&](absl::Status status) {
        Require(status.ok(), absl::StrCat("flush: ", status.ToString()));
        --flushes_pending;
      });
      if (first == 0) first_timestamp_ms_ = now_ms;
    }
    loop_.RunUntil([&] { return flushes_pending == 0; });
    const double seconds = SecondsSince(start);
    std::printf(
        "%-28s %lld records in %lld batches, %.1f MiB, durable in %.3f s "
        "(%.1f MiB/s, %llu syncs for %llu flush requests: group commit)\n",
        "append + flush", static_cast<long long>(flags_.records),
        static_cast<long long>(log_->stats().batches_appended), static_cast<double>(bytes) / kMiB,
        seconds, static_cast<double>(bytes) / kMiB / seconds,
        static_cast<unsigned long long>(log_->stats().syncs),
        static_cast<unsigned long long>(log_->stats().batches_appended));
    Require(log_->flushed_offset() == flags_.records - 1, "everything flushed");
  }

  void ReadBackAndVerify() {
    const auto start = std::chrono::steady_clock::now();
    int64_t offset = 0;
    int64_t checked = 0;
    while (offset < log_->next_offset()) {
      auto read = runtime::AwaitValue<log::ReadResult>(
          loop_, [&](auto done) { log_->Read(offset, 256 * kKiB, std::move(done)); });
      Require(read.ok(), absl::StrCat("read at ", offset, ": ", read.status().ToString()));
      std::span<const uint8_t> rest(read->bytes);
      while (!rest.empty()) {
        auto header = record::ParseBatchHeader(rest);
        Require(header.ok(), "batch header parses");
        auto reader = record::RecordBatchReader::Open(rest.first(header->size_bytes()));
        Require(reader.ok(), "batch passes its CRC and validation");
        record::RecordView view;
        while (reader->Next(&view)) {
          const int64_t i = header->base_offset + view.offset_delta;
          Require(i == checked, absl::StrCat("offsets dense: got ", i, " want ", checked));
          Require(view.key.has_value() && view.value.has_value(), "key and value present");
          Require(std::string(view.key->begin(), view.key->end()) == KeyOf(i), "key matches");
          Require(
              std::string(view.value->begin(), view.value->end()) == ValueOf(i, flags_.value_bytes),
              "value matches");
          ++checked;
        }
        rest = rest.subspan(header->size_bytes());
      }
      offset = read->next_offset;
    }
    std::printf("%-28s %lld records, every key, value and offset checked, in %.3f s\n", "read back",
                static_cast<long long>(checked), SecondsSince(start));
    Require(checked == flags_.records, "read every record");
  }

  void LookUpByTimestamp() {
    const int64_t target = first_timestamp_ms_ + flags_.records / 2;
    const std::optional<int64_t> offset = log_->OffsetForTimestamp(target);
    Require(offset.has_value(), "offset for timestamp found");
    std::printf("%-28s first batch with timestamp >= t0+%lld ms starts at offset %lld\n",
                "offset for timestamp", static_cast<long long>(flags_.records / 2),
                static_cast<long long>(*offset));
    Require(*offset <= flags_.records / 2 && flags_.records / 2 - *offset < flags_.batch_records,
            "timestamp lookup lands on the right batch");
  }

  // Appends half a sector of garbage to the newest segment file, as a write in flight during a
  // power cut leaves it.
  void TearActiveSegmentTail() {
    log_.reset();
    auto names = runtime::AwaitValue<std::vector<std::string>>(
        loop_, [&](auto done) { disk_.List("partition-0", std::move(done)); });
    Require(names.ok(), "list the log directory");
    std::string newest_segment;
    for (const std::string& name : *names) {
      if (absl::EndsWith(name, ".log")) newest_segment = name;  // Sorted: last is newest.
    }
    Require(!newest_segment.empty(), "found a segment file");
    const std::string path = absl::StrCat("partition-0/", newest_segment);
    auto file = runtime::AwaitValue<runtime::FileHandle>(
        loop_, [&](auto done) { disk_.Open(path, runtime::OpenMode::kExisting, std::move(done)); });
    Require(file.ok(), "open the segment");
    std::vector<uint8_t> garbage(runtime::kSectorSizeBytes / 2, 0xA5);
    Require(runtime::AwaitValue<uint64_t>(
                loop_, [&](auto done) { disk_.Append(*file, garbage, std::move(done)); })
                .ok(),
            "tear the tail");
    Require(
        runtime::AwaitStatus(loop_, [&](auto done) { disk_.Sync(*file, std::move(done)); }).ok() &&
            runtime::AwaitStatus(loop_, [&](auto done) { disk_.Close(*file, std::move(done)); })
                .ok(),
        "sync and close the torn segment");
    std::printf("%-28s wrote %zu garbage bytes after the last batch of %s\n",
                "power-cut simulation", garbage.size(), newest_segment.c_str());
  }

  void ApplyRetention() {
    const int64_t keep_from = log_->next_offset() / 2;
    const absl::Status status = runtime::AwaitStatus(
        loop_, [&](auto done) { log_->TruncatePrefix(keep_from, std::move(done)); });
    Require(status.ok(), absl::StrCat("retention: ", status.ToString()));
    std::printf(
        "%-28s asked to keep offsets >= %lld: log start offset is now %lld "
        "(whole segments deleted), %zu segment(s) left\n",
        "retention", static_cast<long long>(keep_from),
        static_cast<long long>(log_->first_offset()), log_->segment_count());
    Require(log_->first_offset() <= keep_from, "retention keeps what was asked for");
  }

  Flags flags_;
  net::AsioLoop loop_;
  net::PosixDisk disk_;
  log::LogOptions options_;
  std::unique_ptr<log::PartitionLog> log_;
  int64_t first_timestamp_ms_ = 0;
};

}  // namespace
}  // namespace eddy::demo

int main(int argc, char** argv) {
  eddy::demo::Demo demo(eddy::demo::ParseFlags(argc, argv));
  demo.Run();
  return 0;
}
