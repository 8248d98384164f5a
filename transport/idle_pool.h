// IdlePool: the Transport's idle connections, keyed by "http://host:port",
// with a per-host cap and a least-recently-used cap across hosts.
//
// A connection can also wait in the pool for its reuse decision: its
// response has arrived and was delivered, but the writer has not yet
// reported the request written (it is in its last write, or just out of
// it). Until the connection's reader settles it, at most the reuse grace
// period later, a request for its host waits for the decision rather than
// dial a new connection, and IdleConnectionCount waits too: the pool never
// hands out or counts an undecided connection.
//
// Requests waiting for a connection (dialling, or queued by MaxConnsPerHost)
// wait here too, per host, oldest first: a connection that turns idle goes
// to the oldest of them instead of the pool (Go's late binding).
#ifndef H1_TRANSPORT_IDLE_POOL_H_
#define H1_TRANSPORT_IDLE_POOL_H_

#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/conn_waiter.h"
#include "transport/stats.h"

namespace h1 {

class Connection;

// Why a connection the pool refused (Put, PutPending, Settle) is closed:
// its host's or the pool's limit (RESOURCE_EXHAUSTED), or the Transport is
// gone.
inline CloseCause RefusalCause(const absl::Status& refusal) {
  return absl::IsResourceExhausted(refusal) ? CloseCause::kPoolFull : CloseCause::kTransportClosed;
}

// Thread-safe. Connections close outside the pool's lock (Close calls back
// into Remove).
class IdlePool {
 public:
  // `max_per_host`: idle connections kept per key (0 keeps none).
  // `max_total`: across all keys; 0 means no limit. Over it, the least
  // recently used idle connection is closed.
  IdlePool(int max_per_host, int max_total);
  // Shuts the pool down.
  ~IdlePool();
  IdlePool(const IdlePool&) = delete;
  IdlePool& operator=(const IdlePool&) = delete;

  // Hands `conn` to the oldest request waiting for its host, or adds it as
  // most recently used. Fails, naming why, if it is closed or its host
  // already has max_per_host connections here.
  absl::Status Put(std::shared_ptr<Connection> conn) ABSL_LOCKS_EXCLUDED(mu_);
  // Holds a place for `conn` while its reuse decision waits for its writer.
  // Fails as Put does.
  absl::Status PutPending(std::shared_ptr<Connection> conn) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the wait of a pending `conn`: if `reusable`, it becomes idle and
  // most recently used (failing, naming why, if it was closed meanwhile);
  // otherwise it leaves the pool.
  absl::Status Settle(const Connection* conn, bool reusable) ABSL_LOCKS_EXCLUDED(mu_);
  // The most recently used idle connection for `waiter`'s host; or null,
  // and `waiter` is queued for the next connection that turns idle there.
  // While a connection for the host is pending and none is idle, waits for
  // the decisions pending when it was called, until `deadline` or until
  // `waiter` gives up (whoever cancels it then calls WakeWaiters); then it
  // returns null without queueing.
  std::shared_ptr<Connection> TakeOrQueue(const std::shared_ptr<ConnWaiter>& waiter,
                                          absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes TakeOrQueue look at its waiter again.
  void WakeWaiters() ABSL_LOCKS_EXCLUDED(mu_);
  // Drops `waiter` from the queue, if it is there.
  void Forget(const ConnWaiter* waiter) ABSL_LOCKS_EXCLUDED(mu_);
  // Drops `conn` if it is here and idle; false if it is not (a caller took
  // it, or it is pending). Go's closeConnIfStillIdle: only a connection the
  // pool still holds may time out as idle.
  bool RemoveIfIdle(const Connection* conn) ABSL_LOCKS_EXCLUDED(mu_);
  // Drops `conn` if it is here, idle or pending (called when it closes).
  void Remove(const Connection* conn) ABSL_LOCKS_EXCLUDED(mu_);
  // Closes every connection here, idle or pending, with `reason`.
  void CloseAll(const absl::Status& reason) ABSL_LOCKS_EXCLUDED(mu_);
  // As CloseAll, and the pool takes no connection any more (its Transport
  // is gone): a connection that ends its exchange later closes instead.
  void Shutdown(const absl::Status& reason) ABSL_LOCKS_EXCLUDED(mu_);
  // The idle connections, once the decisions pending when it was called
  // are made.
  int size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::shared_ptr<Connection> conn;
    bool pending;
  };
  using Entries = std::list<Entry>;

  absl::Status Add(std::shared_ptr<Connection> conn, bool pending) ABSL_LOCKS_EXCLUDED(mu_);
  // Unless pending, hands `conn` to the oldest waiter for its host; else
  // adds `conn` most recently used; over max_total, moves the least recently
  // used idle connection (never `conn`, never a pending one) to `*evicted`.
  absl::Status AddLocked(std::shared_ptr<Connection> conn, bool pending,
                         std::shared_ptr<Connection>* evicted) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Entries::iterator FindLocked(const Connection* conn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The connections pending now, for `key` (every host if null).
  std::vector<const Connection*> PendingLocked(const std::string* key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether any of `waited` is still pending.
  bool StillPendingLocked(const std::vector<const Connection*>& waited) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes `evicted`, if any, for MaxIdleConns.
  static void CloseEvicted(const std::shared_ptr<Connection>& evicted);

  const int max_per_host_;
  const int max_total_;
  mutable absl::Mutex mu_;
  // Least recently used first.
  Entries entries_ ABSL_GUARDED_BY(mu_);
  // Oldest first; some may have been served or given up meanwhile.
  std::list<std::shared_ptr<ConnWaiter>> waiters_ ABSL_GUARDED_BY(mu_);
  // Set by Shutdown: why no connection may be added.
  absl::Status shut_down_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1

#endif  // H1_TRANSPORT_IDLE_POOL_H_
