// ConnWaiter: one request's wait for a connection, a port of Go's wantConn.
// Whichever comes first serves it: a connection that turns idle for its
// host (late binding), or the connection dialled for it. It fails with its
// dial's error, or gives up when its request is cancelled or its deadline
// passes. A connection that arrives after it was served or gave up is not
// taken: its deliverer puts it in the idle pool instead.
#ifndef H1_TRANSPORT_CONN_WAITER_H_
#define H1_TRANSPORT_CONN_WAITER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/cancel.h"

namespace h1 {

class Connection;

// Thread-safe. Shared by the waiting caller, the idle pool's and the host
// slots' queues, and the dial made for it.
class ConnWaiter {
 public:
  ConnWaiter(std::string pool_key, std::string host, uint16_t port);
  ConnWaiter(const ConnWaiter&) = delete;
  ConnWaiter& operator=(const ConnWaiter&) = delete;

  const std::string pool_key;
  const std::string host;
  const uint16_t port;

  // What served the waiter.
  struct Served {
    std::shared_ptr<Connection> conn;
    bool via_pool;  // It turned idle (or was idle); else it was dialled for this waiter.
  };

  // Hands `conn` over if the waiter still waits; false if it does not (the
  // caller keeps `conn`).
  bool Deliver(const std::shared_ptr<Connection>& conn, bool via_pool) ABSL_LOCKS_EXCLUDED(mu_);
  // The dial made for it failed: the waiter fails with `error` if it still
  // waits.
  void DialFailed(const absl::Status& error) ABSL_LOCKS_EXCLUDED(mu_);
  // MaxConnsPerHost queued it for a slot.
  void QueuedForSlot() ABSL_LOCKS_EXCLUDED(mu_);
  // A dial starts for it; `dial_cancel` is fired if the waiter gives up
  // before that dial ends (at once, if it has already given up).
  void DialStarted(CancelHandle dial_cancel) ABSL_LOCKS_EXCLUDED(mu_);
  // The request was cancelled: gives up with CANCELLED, naming the phase.
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);
  bool waiting() const ABSL_LOCKS_EXCLUDED(mu_);

  // Caller: waits until served, failed or cancelled, or `deadline`, when it
  // gives up with DEADLINE_EXCEEDED naming the phase.
  absl::StatusOr<Served> Await(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class Phase { kAwaitingIdle, kQueuedForSlot, kDialling };

  // Gives up with `code`, naming the phase; returns the dial to cancel.
  std::optional<CancelHandle> GiveUpLocked(absl::StatusCode code, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kAwaitingIdle;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool served_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<Connection> conn_ ABSL_GUARDED_BY(mu_);  // Until Await takes it.
  bool via_pool_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::optional<CancelHandle> dial_cancel_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1

#endif  // H1_TRANSPORT_CONN_WAITER_H_
