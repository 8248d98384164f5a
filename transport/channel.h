// Channel<T>: a bounded FIFO hand-off between threads, like a buffered Go
// channel, bound to a CloseSignal so that no sender or receiver can block
// forever: every blocking call returns as soon as the signal fires.
//
// A connection uses capacity-1 channels for its request hand-offs and for
// writeErrCh, on which the writer reports each request's write result.
//
// Items already queued stay receivable after the signal fires (a result sent
// just before the close is not lost); sends fail once it has fired.
//
// Thread-safe: any number of senders and receivers. The CloseSignal must
// outlive the channel.
#ifndef H1_TRANSPORT_CHANNEL_H_
#define H1_TRANSPORT_CHANNEL_H_

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "transport/close_signal.h"

namespace h1 {

template <typename T>
class Channel final : private SignalWaiters {
 public:
  // `capacity` must be at least 1.
  Channel(size_t capacity, CloseSignal& closed) : capacity_(capacity), closed_(closed) {
    assert(capacity >= 1);
    closed_.Bind(this);
  }
  ~Channel() { closed_.Unbind(this); }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Blocks while the channel is full. Returns false, dropping `value`, if the
  // close signal fires first.
  bool Send(T value) {
    absl::MutexLock lock(&mu_);
    AwaitLocked(absl::Condition(this, &Channel::CanSendOrClosed));
    if (closed_.HasFired()) return false;
    PushLocked(std::move(value));
    return true;
  }

  // Never blocks. Moves from `value` only when it returns true; returns false
  // if the channel is full or the signal has fired.
  bool TrySend(T&& value) {
    absl::MutexLock lock(&mu_);
    if (closed_.HasFired() || items_.size() >= capacity_) return false;
    PushLocked(std::move(value));
    return true;
  }

  // Blocks until an item is available. Returns nullopt once the channel is
  // empty and the close signal has fired.
  std::optional<T> Recv() {
    absl::MutexLock lock(&mu_);
    AwaitLocked(absl::Condition(this, &Channel::CanRecvOrClosed));
    return PopLocked();
  }

  // As Recv, but also returns nullopt after `timeout`.
  std::optional<T> RecvWithTimeout(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    AwaitLocked(absl::Condition(this, &Channel::CanRecvOrClosed), timeout);
    return PopLocked();
  }

  // As RecvWithTimeout, but first spins, for at most `spin` (and within
  // `timeout`), until an item is there or the signal fires, without the
  // lock: a thread that sleeps must be woken, which on an idle virtual CPU
  // costs tens of microseconds, while an item due in less saves both.
  std::optional<T> SpinThenRecvWithTimeout(absl::Duration spin, absl::Duration timeout) {
    if (spin > absl::ZeroDuration()) {
      const absl::Time start = absl::Now();
      const absl::Time spin_end = start + std::min(spin, timeout);
      for (int i = 1; size_.load(std::memory_order_acquire) == 0 && !closed_.HasFired(); ++i) {
        Pause();
        if (i % 64 == 0 && absl::Now() >= spin_end) break;
      }
      timeout -= absl::Now() - start;
    }
    return RecvWithTimeout(timeout);
  }

  // Never blocks: the oldest item, or nullopt if there is none.
  std::optional<T> TryRecv() {
    absl::MutexLock lock(&mu_);
    return PopLocked();
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

  // Test hook: returns once at least `n` callers are blocked in Send, Recv or
  // RecvWithTimeout, so a test can fire the signal at a known moment.
  void WaitUntilBlockedForTesting(int n) const {
    absl::MutexLock lock(&mu_);
    const auto enough_blocked = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return blocked_ >= n;
    };
    mu_.Await(absl::Condition(&enough_blocked));
  }

 private:
  // Taking and releasing mu_ makes absl::Mutex re-evaluate every waiter's
  // condition, which now sees the fired signal.
  void WakeWaiters() override { absl::MutexLock lock(&mu_); }

  void AwaitLocked(const absl::Condition& condition,
                   absl::Duration timeout = absl::InfiniteDuration())
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++blocked_;
    mu_.AwaitWithTimeout(condition, timeout);
    --blocked_;
  }

  bool CanSendOrClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return items_.size() < capacity_ || closed_.HasFired();
  }
  bool CanRecvOrClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !items_.empty() || closed_.HasFired();
  }
  void PushLocked(T&& value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    items_.push_back(std::move(value));
    size_.store(items_.size(), std::memory_order_release);
  }
  std::optional<T> PopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    size_.store(items_.size(), std::memory_order_release);
    return item;
  }
  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  const size_t capacity_;
  CloseSignal& closed_;
  mutable absl::Mutex mu_;
  std::deque<T> items_ ABSL_GUARDED_BY(mu_);
  // items_.size(), for SpinThenRecvWithTimeout to watch without the lock.
  std::atomic<size_t> size_{0};
  int blocked_ ABSL_GUARDED_BY(mu_) = 0;  // Callers inside a wait.
};

}  // namespace h1

#endif  // H1_TRANSPORT_CHANNEL_H_
