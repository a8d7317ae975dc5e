#include "sim/broker/data_checker.h"

#include "absl/strings/str_cat.h"

namespace eddy::sim::broker {
namespace {

std::string Name(const PartitionKey& p) { return absl::StrCat(p.first, "-", p.second); }

// What was read and acknowledged near `offset`, for a violation's message.
std::string Around(const std::map<int64_t, std::string>& found,
                   const std::map<int64_t, std::string>& acked, int64_t offset) {
  std::string out;
  for (int64_t o = offset - 3; o <= offset + 3; ++o) {
    auto f = found.find(o);
    auto a = acked.find(o);
    absl::StrAppend(&out, " ", o, "=", f == found.end() ? "-" : f->second, "/",
                    a == acked.end() ? "-" : a->second);
  }
  return out;
}

}  // namespace

void DataChecker::Produced(const std::vector<std::string>& values) {
  produced_.insert(values.begin(), values.end());
}

void DataChecker::ProducedInOrder(int producer, const PartitionKey& partition,
                                  const std::vector<std::string>& values) {
  uint64_t& place = next_place_[{producer, partition}];
  for (const std::string& v : values) ordered_[v] = {producer, place++};
}

void DataChecker::Deleted(const std::string& topic) {
  deleted_topics_.insert(topic);
  for (auto it = by_partition_.begin(); it != by_partition_.end();) {
    if (it->first.first != topic) {
      ++it;
      continue;
    }
    for (const auto& [offset, value] : it->second) acked_.erase(value);
    it = by_partition_.erase(it);
  }
}

std::optional<std::string> DataChecker::Acked(const PartitionKey& partition, int64_t base_offset,
                                              const std::vector<std::string>& values) {
  if (deleted_topics_.contains(partition.first)) return std::nullopt;
  ++acked_batches_;
  std::map<int64_t, std::string>& offsets = by_partition_[partition];
  for (size_t i = 0; i < values.size(); ++i) {
    const int64_t offset = base_offset + static_cast<int64_t>(i);
    auto [it, inserted] = offsets.emplace(offset, values[i]);
    if (!inserted && it->second != values[i]) {
      return absl::StrCat("two acknowledged records at ", Name(partition), "@", offset, ": ",
                          it->second, " and ", values[i]);
    }
    acked_[values[i]] = {partition, offset};
  }
  return std::nullopt;
}

std::optional<std::string> DataChecker::CheckRead(const PartitionKey& partition,
                                                  const std::vector<ReadRecord>& read,
                                                  bool* complete) {
  std::map<int64_t, std::string> found;
  std::set<std::string> seen;
  std::map<int, std::pair<uint64_t, int64_t>> last_place;  // producer -> (place, offset)
  int64_t expected = read.empty() ? 0 : read.front().offset;
  for (const ReadRecord& r : read) {
    if (r.offset != expected) {
      return absl::StrCat("offsets not dense in ", Name(partition), ": ", r.offset, " after ",
                          expected - 1);
    }
    ++expected;
    if (!produced_.contains(r.value)) {
      return absl::StrCat("a record nobody produced in ", Name(partition), "@", r.offset, ": ",
                          r.value);
    }
    if (!seen.insert(r.value).second) {
      return absl::StrCat("value ", r.value, " twice in ", Name(partition));
    }
    if (auto o = ordered_.find(r.value); o != ordered_.end()) {
      auto [producer, place] = o->second;
      auto last = last_place.find(producer);
      if (last != last_place.end() && last->second.first >= place) {
        return absl::StrCat("producer ", producer, "'s order broken in ", Name(partition), ": ",
                            r.value, " at ", r.offset, " after a later record at ",
                            last->second.second);
      }
      last_place[producer] = {place, r.offset};
    }
    found[r.offset] = r.value;
  }
  *complete = true;
  auto it = by_partition_.find(partition);
  if (it == by_partition_.end()) return std::nullopt;
  for (const auto& [offset, value] : it->second) {
    auto f = found.find(offset);
    if (f == found.end()) {
      *complete = false;  // not readable yet (a new leader's high watermark may lag)
      continue;
    }
    if (f->second != value) {
      int64_t elsewhere = -1;
      for (const auto& [o, v] : found) {
        if (v == value) elsewhere = o;
      }
      auto other = acked_.find(f->second);
      return absl::StrCat(
          "acknowledged ", value, " at ", Name(partition), "@", offset, " reads back as ",
          f->second,
          other == acked_.end()
              ? std::string(" (never acknowledged)")
              : absl::StrCat(" (acknowledged at ", Name(other->second.first), "@",
                             other->second.second, ")"),
          elsewhere < 0 ? std::string("; the acknowledged record is gone")
                        : absl::StrCat("; the acknowledged record is at ", elsewhere),
          "; read ", read.size(), " records up to ", read.empty() ? -1 : read.back().offset,
          ", around it:", Around(found, it->second, offset));
    }
  }
  return std::nullopt;
}

}  // namespace eddy::sim::broker
