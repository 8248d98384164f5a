// CloseSignal: the one-shot "this connection is closed" event of a connection,
// an absl::Notification plus the channels whose waiters it must wake.
//
// A thread blocked in a Channel cannot also block on a Notification, and
// absl::Notification has no callback. So Fire() notifies and then wakes the
// waiters of every channel bound to this signal itself: no waiter polls, and
// every wait bound to the signal ends when it fires.
//
// Thread-safe. A CloseSignal must outlive the channels bound to it.
#ifndef H1_TRANSPORT_CLOSE_SIGNAL_H_
#define H1_TRANSPORT_CLOSE_SIGNAL_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace h1 {

// Implemented by Channel<T>: re-evaluates the conditions its waiters sleep on.
// Thread-safe: WakeWaiters is called from whichever thread fires the signal.
class SignalWaiters {
 public:
  virtual void WakeWaiters() = 0;

 protected:
  ~SignalWaiters() = default;
};

class CloseSignal {
 public:
  CloseSignal() = default;
  CloseSignal(const CloseSignal&) = delete;
  CloseSignal& operator=(const CloseSignal&) = delete;

  // Fires the signal and wakes every bound channel's waiters. Only the first
  // call fires; it returns true, every later call returns false.
  bool Fire();

  bool HasFired() const { return fired_.HasBeenNotified(); }
  void Wait() const { fired_.WaitForNotification(); }
  // Returns true if the signal fired within `timeout`.
  bool WaitWithTimeout(absl::Duration timeout) const {
    return fired_.WaitForNotificationWithTimeout(timeout);
  }

  // Called by Channel's constructor and destructor.
  void Bind(SignalWaiters* waiters);
  void Unbind(SignalWaiters* waiters);

 private:
  absl::Mutex mu_;
  bool firing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<SignalWaiters*> bound_ ABSL_GUARDED_BY(mu_);
  absl::Notification fired_;
};

}  // namespace h1

#endif  // H1_TRANSPORT_CLOSE_SIGNAL_H_
