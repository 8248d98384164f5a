// See host_slots.h.
#include "transport/host_slots.h"

#include <algorithm>
#include <utility>

namespace h1 {

HostSlots::HostSlots(int max_per_host, std::shared_ptr<StatsRecorder> stats)
    : max_per_host_(max_per_host), stats_(std::move(stats)) {}

bool HostSlots::AcquireOrQueue(const std::shared_ptr<ConnWaiter>& waiter) {
  if (max_per_host_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  Host& host = hosts_[waiter->pool_key];
  if (host.conns < max_per_host_) {
    ++host.conns;
    return true;
  }
  waiter->QueuedForSlot();
  host.queue.push_back(waiter);
  ++waiting_;
  CountWaitingLocked();
  return false;
}

std::shared_ptr<ConnWaiter> HostSlots::Release(const std::string& pool_key) {
  if (max_per_host_ <= 0) return nullptr;
  absl::MutexLock lock(&mu_);
  const auto it = hosts_.find(pool_key);
  if (it == hosts_.end()) return nullptr;
  Host& host = it->second;
  while (!host.queue.empty()) {
    std::shared_ptr<ConnWaiter> next = std::move(host.queue.front());
    host.queue.pop_front();
    --waiting_;
    if (next->waiting()) {
      CountWaitingLocked();
      return next;  // The slot passes on: conns stays.
    }
  }
  CountWaitingLocked();
  if (--host.conns == 0) hosts_.erase(it);
  return nullptr;
}

void HostSlots::Forget(const ConnWaiter* waiter) {
  if (max_per_host_ <= 0) return;
  absl::MutexLock lock(&mu_);
  const auto it = hosts_.find(waiter->pool_key);
  if (it == hosts_.end()) return;
  auto& queue = it->second.queue;
  const auto found = std::find_if(queue.begin(), queue.end(),
                                  [waiter](const auto& w) { return w.get() == waiter; });
  if (found == queue.end()) return;
  queue.erase(found);
  --waiting_;
  CountWaitingLocked();
}

void HostSlots::CountWaitingLocked() { stats_->SetWaitingForSlot(waiting_); }

}  // namespace h1
