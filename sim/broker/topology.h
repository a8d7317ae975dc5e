// Topology: the topics and partitions of a broker simulation as its admin client made them —
// what producers write to and what the final read covers. A topic whose deletion is asked
// leaves it for good (names are never reused), so a partition key names one partition ever.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/broker/data_checker.h"

namespace eddy::sim::broker {

class Topology {
 public:
  void AddTopic(const std::string& name, int32_t partitions) {
    if (deleted_.contains(name) || counts_.contains(name)) return;
    counts_[name] = 0;
    Grow(name, partitions);
  }
  // The topic has `total` partitions now (never fewer).
  void Grow(const std::string& name, int32_t total) {
    auto it = counts_.find(name);
    if (it == counts_.end()) return;
    for (int32_t p = it->second; p < total; ++p) live_.emplace_back(name, p);
    it->second = std::max(it->second, total);
  }
  // Its deletion was asked: nobody writes to it or reads it any more, whatever the answer.
  void Doom(const std::string& name) {
    if (counts_.erase(name) == 0) return;
    doomed_.insert(name);
    std::erase_if(live_, [&](const PartitionKey& k) { return k.first == name; });
  }
  // Its deletion was confirmed: no broker may list it or host it once healed.
  void Delete(const std::string& name) {
    Doom(name);
    if (doomed_.erase(name) > 0) deleted_.insert(name);
  }

  const std::vector<PartitionKey>& live() const { return live_; }
  bool Live(const PartitionKey& p) const { return counts_.contains(p.first); }
  const std::map<std::string, int32_t>& topics() const { return counts_; }
  const std::set<std::string>& doomed() const { return doomed_; }
  const std::set<std::string>& deleted() const { return deleted_; }

 private:
  std::vector<PartitionKey> live_;  // in creation order
  std::map<std::string, int32_t> counts_;
  std::set<std::string> doomed_;  // deletion asked, not confirmed
  std::set<std::string> deleted_;
};

}  // namespace eddy::sim::broker
