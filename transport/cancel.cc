// See cancel.h.
#include "transport/cancel.h"

#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace h1 {

struct CancelHandle::State {
  absl::Mutex mu;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  uint64_t next_id ABSL_GUARDED_BY(mu) = 1;
  std::map<uint64_t, std::function<void()>> callbacks ABSL_GUARDED_BY(mu);
  // The callback Cancel is running, 0 if none.
  uint64_t running ABSL_GUARDED_BY(mu) = 0;
};

CancelHandle::CancelHandle() : state_(std::make_shared<State>()) {}

void CancelHandle::Cancel() const {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  if (s.cancelled) return;
  s.cancelled = true;
  // One at a time, outside the lock: a callback closes connections, which
  // takes other locks, and may register or withdraw other callbacks.
  while (!s.callbacks.empty()) {
    auto first = s.callbacks.begin();
    std::function<void()> callback = std::move(first->second);
    s.running = first->first;
    s.callbacks.erase(first);
    s.mu.Unlock();
    callback();
    s.mu.Lock();
    s.running = 0;
  }
}

bool CancelHandle::IsCancelled() const {
  absl::MutexLock lock(&state_->mu);
  return state_->cancelled;
}

CancelHandle::Registration CancelHandle::OnCancel(std::function<void()> on_cancel) const {
  {
    absl::MutexLock lock(&state_->mu);
    if (!state_->cancelled) {
      const uint64_t id = state_->next_id++;
      state_->callbacks.emplace(id, std::move(on_cancel));
      return Registration(state_, id);
    }
  }
  on_cancel();
  return Registration();
}

CancelHandle::Registration::Registration(Registration&& other) noexcept
    : state_(std::move(other.state_)), id_(std::exchange(other.id_, 0)) {}

CancelHandle::Registration& CancelHandle::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    Reset();
    state_ = std::move(other.state_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void CancelHandle::Registration::Reset() {
  if (state_ == nullptr) return;
  State& s = *state_;
  {
    absl::MutexLock lock(&s.mu);
    s.callbacks.erase(id_);
    const uint64_t id = id_;
    const auto returned = [&s, id]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.running != id; };
    s.mu.Await(absl::Condition(&returned));
  }
  state_.reset();
  id_ = 0;
}

}  // namespace h1
