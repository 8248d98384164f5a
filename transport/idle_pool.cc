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

IdlePool::~IdlePool() { Shutdown(absl::CancelledError("transport destroyed")); }

absl::Status IdlePool::AddLocked(std::shared_ptr<Connection> conn, bool pending,
                                 std::shared_ptr<Connection>* evicted) {
  if (!shut_down_.ok()) return shut_down_;
  if (conn->IsClosed()) return conn->close_reason();
  if (!pending) {
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if ((*it)->pool_key != conn->pool_key()) {
        ++it;
        continue;
      }
      const bool taken = (*it)->Deliver(conn, /*via_pool=*/true);
      it = waiters_.erase(it);
      if (taken) return absl::OkStatus();
    }
  }
  const auto same_host = std::count_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.conn->pool_key() == conn->pool_key();
  });
  if (same_host >= max_per_host_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "idle pool already holds ", max_per_host_, " connections for ", conn->pool_key()));
  }
  if (!pending) conn->MarkIdle(absl::Now());
  entries_.push_back({std::move(conn), pending});
  if (max_total_ > 0 && static_cast<int>(entries_.size()) > max_total_) {
    // Never the one just added, nor a pending one: while the others are all
    // pending, the pool stays over the limit until one of them settles.
    const auto newest = std::prev(entries_.end());
    const auto lru = std::find_if(entries_.begin(), newest,
                                  [](const Entry& e) { return !e.pending; });
    if (lru != newest) {
      *evicted = std::move(lru->conn);
      entries_.erase(lru);
    }
  }
  return absl::OkStatus();
}

void IdlePool::CloseEvicted(const std::shared_ptr<Connection>& evicted) {
  if (evicted != nullptr) {
    evicted->Close(absl::ResourceExhaustedError("evicted from the idle pool (MaxIdleConns)"),
                   CloseCause::kPoolFull);
  }
}

absl::Status IdlePool::Put(std::shared_ptr<Connection> conn) {
  return Add(std::move(conn), /*pending=*/false);
}

absl::Status IdlePool::PutPending(std::shared_ptr<Connection> conn) {
  return Add(std::move(conn), /*pending=*/true);
}

absl::Status IdlePool::Add(std::shared_ptr<Connection> conn, bool pending) {
  std::shared_ptr<Connection> evicted;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = AddLocked(std::move(conn), pending, &evicted);
  }
  CloseEvicted(evicted);
  return status;
}

absl::Status IdlePool::Settle(const Connection* conn, bool reusable) {
  std::shared_ptr<Connection> settled;  // Released outside the lock.
  std::shared_ptr<Connection> evicted;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    const auto it = FindLocked(conn);
    if (it == entries_.end()) {
      // It closed meanwhile, or the Transport is closing every connection.
      return conn->IsClosed() ? conn->close_reason()
                              : absl::CancelledError("removed from the idle pool");
    }
    settled = std::move(it->conn);
    entries_.erase(it);
    if (reusable) status = AddLocked(std::move(settled), /*pending=*/false, &evicted);
  }
  CloseEvicted(evicted);
  return status;
}

std::shared_ptr<Connection> IdlePool::TakeOrQueue(const std::shared_ptr<ConnWaiter>& waiter,
                                                  absl::Time deadline) {
  const std::string& key = waiter->pool_key;
  absl::MutexLock lock(&mu_);
  const auto idle = [this, &key]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    // Most recently used first.
    return std::find_if(entries_.rbegin(), entries_.rend(), [&key](const Entry& e) {
      return !e.pending && e.conn->pool_key() == key && !e.conn->IsClosed();
    });
  };
  // Only the decisions pending now are waited for: under load, others may
  // keep coming, and each ends within the reuse grace period.
  const std::vector<const Connection*> pending = PendingLocked(&key);
  const auto ready = [this, &idle, &pending, &waiter]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return idle() != entries_.rend() || !StillPendingLocked(pending) || !waiter->waiting();
  };
  mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  const auto it = idle();
  if (it == entries_.rend()) {
    if (shut_down_.ok() && waiter->waiting()) waiters_.push_back(waiter);
    return nullptr;
  }
  std::shared_ptr<Connection> conn = std::move(it->conn);
  entries_.erase(std::next(it).base());
  return conn;
}

void IdlePool::WakeWaiters() { absl::MutexLock lock(&mu_); }

void IdlePool::Forget(const ConnWaiter* waiter) {
  absl::MutexLock lock(&mu_);
  waiters_.remove_if([waiter](const auto& w) { return w.get() == waiter; });
}

bool IdlePool::RemoveIfIdle(const Connection* conn) {
  std::shared_ptr<Connection> removed;  // Released outside the lock.
  absl::MutexLock lock(&mu_);
  const auto it = FindLocked(conn);
  if (it == entries_.end() || it->pending) return false;
  removed = std::move(it->conn);
  entries_.erase(it);
  return true;
}

void IdlePool::Remove(const Connection* conn) {
  std::shared_ptr<Connection> removed;  // Released outside the lock.
  absl::MutexLock lock(&mu_);
  const auto it = FindLocked(conn);
  if (it != entries_.end()) {
    removed = std::move(it->conn);
    entries_.erase(it);
  }
}

void IdlePool::CloseAll(const absl::Status& reason) {
  Entries closing;
  {
    absl::MutexLock lock(&mu_);
    closing.swap(entries_);
  }
  for (const Entry& entry : closing) entry.conn->Close(reason, CloseCause::kTransportClosed);
}

void IdlePool::Shutdown(const absl::Status& reason) {
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = reason;
  }
  CloseAll(reason);
}

int IdlePool::size() const {
  absl::MutexLock lock(&mu_);
  const std::vector<const Connection*> pending = PendingLocked(nullptr);
  const auto settled = [this, &pending]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return !StillPendingLocked(pending);
  };
  mu_.Await(absl::Condition(&settled));
  return static_cast<int>(
      std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return !e.pending; }));
}

IdlePool::Entries::iterator IdlePool::FindLocked(const Connection* conn) {
  return std::find_if(entries_.begin(), entries_.end(),
                      [conn](const Entry& e) { return e.conn.get() == conn; });
}

std::vector<const Connection*> IdlePool::PendingLocked(const std::string* key) const {
  std::vector<const Connection*> pending;
  for (const Entry& e : entries_) {
    if (e.pending && (key == nullptr || e.conn->pool_key() == *key)) pending.push_back(e.conn.get());
  }
  return pending;
}

bool IdlePool::StillPendingLocked(const std::vector<const Connection*>& waited) const {
  return std::any_of(entries_.begin(), entries_.end(), [&waited](const Entry& e) {
    return e.pending && std::find(waited.begin(), waited.end(), e.conn.get()) != waited.end();
  });
}

}  // namespace h1
