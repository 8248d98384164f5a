// IdlePool: the Transport's idle connections, keyed by "http://host:port",
// with a per-host cap and a least-recently-used cap across hosts.
#ifndef H1_TRANSPORT_IDLE_POOL_H_
#define H1_TRANSPORT_IDLE_POOL_H_

#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace h1 {

class Connection;

// Thread-safe. Connections close outside the pool's lock (Close calls back
// into Remove).
class IdlePool {
 public:
  // `max_per_host`: idle connections kept per key (0 keeps none).
  // `max_total`: across all keys; 0 means no limit. Over it, the least
  // recently used idle connection is closed.
  IdlePool(int max_per_host, int max_total);
  // Closes every connection still idle.
  ~IdlePool();
  IdlePool(const IdlePool&) = delete;
  IdlePool& operator=(const IdlePool&) = delete;

  // Adds `conn` as most recently used. Fails, naming why, if it is closed or
  // its host already has max_per_host idle connections.
  absl::Status Put(std::shared_ptr<Connection> conn);
  // The most recently used idle connection for `key`, or null.
  std::shared_ptr<Connection> Take(const std::string& key);
  // Drops `conn` if it is idle here (called when it closes).
  void Remove(const Connection* conn);
  // Closes every idle connection with `reason`.
  void CloseAll(const absl::Status& reason);
  int size() const;

 private:
  const int max_per_host_;
  const int max_total_;
  mutable absl::Mutex mu_;
  // Least recently used first.
  std::list<std::shared_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1

#endif  // H1_TRANSPORT_IDLE_POOL_H_
