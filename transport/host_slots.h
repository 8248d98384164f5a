// HostSlots: MaxConnsPerHost, a port of Go's connsPerHost and
// connsPerHostWait. A host's connections (dialling, idle or serving) hold
// its slots; a request that finds none free waits in FIFO order, and the
// slot of a connection that closes (or a dial that fails) passes to the
// oldest request still waiting, which then dials.
#ifndef H1_TRANSPORT_HOST_SLOTS_H_
#define H1_TRANSPORT_HOST_SLOTS_H_

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "transport/conn_waiter.h"
#include "transport/stats.h"

namespace h1 {

// Thread-safe.
class HostSlots {
 public:
  // `max_per_host`: 0 means no limit.
  HostSlots(int max_per_host, std::shared_ptr<StatsRecorder> stats);

  // Takes a slot for `waiter`'s host and returns true (the caller dials),
  // or queues `waiter` and returns false.
  bool AcquireOrQueue(const std::shared_ptr<ConnWaiter>& waiter) ABSL_LOCKS_EXCLUDED(mu_);
  // A connection of `pool_key` closed, or its dial failed: passes the slot
  // to the oldest queued waiter still waiting, returned for the caller to
  // dial for; or frees it and returns null.
  std::shared_ptr<ConnWaiter> Release(const std::string& pool_key) ABSL_LOCKS_EXCLUDED(mu_);
  // Drops `waiter` from its queue, if it is there (it gave up).
  void Forget(const ConnWaiter* waiter) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Host {
    int conns = 0;
    std::deque<std::shared_ptr<ConnWaiter>> queue;
  };
  void CountWaitingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int max_per_host_;
  const std::shared_ptr<StatsRecorder> stats_;
  absl::Mutex mu_;
  std::map<std::string, Host> hosts_ ABSL_GUARDED_BY(mu_);
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace h1

#endif  // H1_TRANSPORT_HOST_SLOTS_H_
