// See close_signal.h.
#include "transport/close_signal.h"

#include <algorithm>

namespace h1 {

bool CloseSignal::Fire() {
  absl::MutexLock lock(&mu_);
  if (firing_) return false;
  firing_ = true;
  fired_.Notify();
  // Waking under mu_ keeps a channel from unbinding (and being destroyed)
  // while it is woken. A channel never takes mu_ while holding its own lock.
  for (SignalWaiters* waiters : bound_) waiters->WakeWaiters();
  return true;
}

void CloseSignal::Bind(SignalWaiters* waiters) {
  absl::MutexLock lock(&mu_);
  bound_.push_back(waiters);
}

void CloseSignal::Unbind(SignalWaiters* waiters) {
  absl::MutexLock lock(&mu_);
  bound_.erase(std::remove(bound_.begin(), bound_.end(), waiters), bound_.end());
}

}  // namespace h1
