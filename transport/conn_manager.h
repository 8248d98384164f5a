// ConnManager: where a Transport's requests get their connections, a port
// of Go's Transport.getConn, queueForIdleConn and queueForDial. A request
// takes an idle connection for its host if there is one; otherwise it waits
// (ConnWaiter) for whichever comes first: a connection that turns idle, or
// the one dialled for it on a dial thread once MaxConnsPerHost allows. The
// caller never dials itself, so its cancel handle and its deadline end its
// wait at once, whatever the dial is doing; a dial that finishes for a
// request that no longer wants it gives its connection to the idle pool.
#ifndef H1_TRANSPORT_CONN_MANAGER_H_
#define H1_TRANSPORT_CONN_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/cancel.h"
#include "transport/conn_waiter.h"
#include "transport/connection.h"
#include "transport/host_slots.h"
#include "transport/idle_pool.h"
#include "transport/net_conn.h"
#include "transport/stats.h"

namespace h1 {

struct ConnManagerOptions {
  DialFunction dial;
  // Infinite: no limit.
  absl::Duration dial_timeout = absl::InfiniteDuration();
  int max_conns_per_host = 0;  // 0: no limit.
  int max_idle_conns_per_host = 2;
  int max_idle_conns = 100;
  ConnectionOptions connection;
};

// Thread-safe. Owned by shared_ptr: the Transport, its dial threads and
// (weakly) its connections hold it.
class ConnManager : public std::enable_shared_from_this<ConnManager> {
 public:
  static std::shared_ptr<ConnManager> Create(ConnManagerOptions options);
  ConnManager(const ConnManager&) = delete;
  ConnManager& operator=(const ConnManager&) = delete;

  struct Acquired {
    std::shared_ptr<Connection> conn;
    bool was_idle;             // Taken from the idle pool, or handed over as it turned idle.
    absl::Duration idle_time;  // How long it was idle, if taken from the pool.
  };
  // A connection for `host`:`port` (pool key `pool_key`). Fails with the
  // dial's error, or with CANCELLED or DEADLINE_EXCEEDED, naming the phase,
  // when `cancel` fires or `deadline` passes first.
  absl::StatusOr<Acquired> Get(const std::string& pool_key, const std::string& host, uint16_t port,
                               const std::optional<CancelHandle>& cancel, absl::Time deadline);

  // Gives back a connection that `Get` returned and that served nothing
  // (its request was cancelled first): to a waiting request, the idle pool,
  // or closed if the pool is full.
  void PutBack(const std::shared_ptr<Connection>& conn);

  // Closes the idle connections (and those whose reuse is being decided).
  void CloseIdle();
  // As CloseIdle, and no connection goes idle or is dialled any more; the
  // dials in flight are cancelled and waited for.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);
  int IdleCount() const { return pool_->size(); }
  TransportStats Stats() const { return stats_->Snapshot(); }
  StatsRecorder& stats() { return *stats_; }

 private:
  explicit ConnManager(ConnManagerOptions options);

  // Dials for `waiter` on a new thread, which holds a slot of its host.
  void StartDial(std::shared_ptr<ConnWaiter> waiter) ABSL_LOCKS_EXCLUDED(mu_);
  void Dial(const std::shared_ptr<ConnWaiter>& waiter, const CancelHandle& cancel);
  // The dial thread is done with the Dial hook and the options.
  void DialEnded(uint64_t dial_id) ABSL_LOCKS_EXCLUDED(mu_);
  // A connection of `pool_key` closed (or its dial failed): its slot passes on.
  void SlotFreed(const std::string& pool_key);

  const ConnManagerOptions options_;
  const std::shared_ptr<StatsRecorder> stats_;
  const std::shared_ptr<IdlePool> pool_;
  HostSlots slots_;
  std::atomic<uint64_t> next_connection_id_{1};
  std::atomic<uint64_t> next_dial_id_{1};
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // The cancel handles of the dials in flight, by dial id.
  std::map<uint64_t, CancelHandle> dials_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1

#endif  // H1_TRANSPORT_CONN_MANAGER_H_
