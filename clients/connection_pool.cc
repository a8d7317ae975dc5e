#include "clients/connection_pool.h"

#include <utility>

#include "core/base/check.h"

namespace eddy::clients {

ConnectionPool::ConnectionPool(runtime::ClientRuntime& runtime,
                               std::vector<runtime::Address> bootstrap,
                               ConnectionOptions options)
    : runtime_(runtime), bootstrap_(std::move(bootstrap)), options_(std::move(options)) {
  EDDY_CHECK(!bootstrap_.empty());
}

void ConnectionPool::Retire(std::unique_ptr<BrokerConnection> connection) {
  if (connection == nullptr) return;
  connection->Close();
  retired_.push_back(std::move(connection));
}

BrokerConnection& ConnectionPool::To(int32_t id, const runtime::Address& address) {
  auto it = by_broker_.find(id);
  if (it != by_broker_.end() && it->second->open() && it->second->address() == address) {
    return *it->second;
  }
  if (it != by_broker_.end()) {
    // Out of the map before closing: the failed requests' callbacks may come back here.
    std::unique_ptr<BrokerConnection> old = std::move(it->second);
    by_broker_.erase(it);
    Retire(std::move(old));
  }
  auto connection = std::make_unique<BrokerConnection>(runtime_, address, options_);
  return *by_broker_.emplace(id, std::move(connection)).first->second;
}

BrokerConnection& ConnectionPool::Any(const std::vector<runtime::Address>& known) {
  if (any_ != nullptr && any_->open()) return *any_;
  Retire(std::move(any_));
  std::vector<runtime::Address> targets = bootstrap_;
  targets.insert(targets.end(), known.begin(), known.end());
  const runtime::Address& address = targets[any_turn_++ % targets.size()];
  any_ = std::make_unique<BrokerConnection>(runtime_, address, options_);
  return *any_;
}

void ConnectionPool::Close(int32_t id) {
  auto it = by_broker_.find(id);
  if (it == by_broker_.end()) return;
  std::unique_ptr<BrokerConnection> old = std::move(it->second);
  by_broker_.erase(it);
  Retire(std::move(old));
}

void ConnectionPool::CloseAny() { Retire(std::move(any_)); }

void ConnectionPool::CloseAll() {
  CloseAny();
  while (!by_broker_.empty()) Close(by_broker_.begin()->first);
}

}  // namespace eddy::clients
