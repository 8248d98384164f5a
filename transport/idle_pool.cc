// See idle_pool.h.
#include "transport/idle_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/connection.h"

namespace h1 {

IdlePool::IdlePool(int max_per_host, int max_total)
    : max_per_host_(max_per_host), max_total_(max_total) {}

IdlePool::~IdlePool() { CloseAll(absl::CancelledError("transport destroyed")); }

absl::Status IdlePool::Put(std::shared_ptr<Connection> conn) {
  std::shared_ptr<Connection> evicted;
  {
    absl::MutexLock lock(&mu_);
    if (conn->IsClosed()) return conn->close_reason();
    const auto same_host = std::count_if(idle_.begin(), idle_.end(), [&](const auto& c) {
      return c->pool_key() == conn->pool_key();
    });
    if (same_host >= max_per_host_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "idle pool already holds ", max_per_host_, " connections for ", conn->pool_key()));
    }
    conn->MarkIdle(absl::Now());
    idle_.push_back(std::move(conn));
    if (max_total_ > 0 && static_cast<int>(idle_.size()) > max_total_) {
      evicted = std::move(idle_.front());
      idle_.pop_front();
    }
  }
  if (evicted != nullptr) {
    evicted->Close(absl::ResourceExhaustedError("evicted from the idle pool (MaxIdleConns)"));
  }
  return absl::OkStatus();
}

std::shared_ptr<Connection> IdlePool::Take(const std::string& key) {
  absl::MutexLock lock(&mu_);
  for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
    if ((*it)->pool_key() == key && !(*it)->IsClosed()) {
      std::shared_ptr<Connection> conn = std::move(*it);
      idle_.erase(std::next(it).base());
      return conn;
    }
  }
  return nullptr;
}

void IdlePool::Remove(const Connection* conn) {
  std::shared_ptr<Connection> removed;  // Released outside the lock.
  absl::MutexLock lock(&mu_);
  auto it = std::find_if(idle_.begin(), idle_.end(),
                         [conn](const auto& c) { return c.get() == conn; });
  if (it != idle_.end()) {
    removed = std::move(*it);
    idle_.erase(it);
  }
}

void IdlePool::CloseAll(const absl::Status& reason) {
  std::list<std::shared_ptr<Connection>> closing;
  {
    absl::MutexLock lock(&mu_);
    closing.swap(idle_);
  }
  for (const auto& conn : closing) conn->Close(reason);
}

int IdlePool::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(idle_.size());
}

}  // namespace h1
