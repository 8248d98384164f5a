// See conn_manager.h.
#include "transport/conn_manager.h"

#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/thread_registry.h"

namespace h1 {

std::shared_ptr<ConnManager> ConnManager::Create(ConnManagerOptions options) {
  return std::shared_ptr<ConnManager>(new ConnManager(std::move(options)));
}

ConnManager::ConnManager(ConnManagerOptions options)
    : options_(std::move(options)),
      stats_(std::make_shared<StatsRecorder>()),
      pool_(std::make_shared<IdlePool>(options_.max_idle_conns_per_host, options_.max_idle_conns)),
      slots_(options_.max_conns_per_host, stats_) {}

absl::StatusOr<ConnManager::Acquired> ConnManager::Get(const std::string& pool_key,
                                                       const std::string& host, uint16_t port,
                                                       const std::optional<CancelHandle>& cancel,
                                                       absl::Time deadline) {
  auto waiter = std::make_shared<ConnWaiter>(pool_key, host, port);
  absl::StatusOr<ConnWaiter::Served> served;
  {
    CancelHandle::Registration registration;
    if (cancel.has_value()) {
      registration = cancel->OnCancel([this, &waiter] {
        waiter->Cancel();
        pool_->WakeWaiters();  // It may wait in TakeOrQueue.
      });
    }
    if (std::shared_ptr<Connection> idle = pool_->TakeOrQueue(waiter, deadline)) {
      const absl::Duration idle_time = idle->MarkTaken(absl::Now());
      return Acquired{std::move(idle), /*was_idle=*/true, idle_time};
    }
    // A waiter cancelled, or past its deadline, during TakeOrQueue's wait
    // neither dials nor queues: Await says why.
    if (waiter->waiting() && absl::Now() < deadline) {
      if (slots_.AcquireOrQueue(waiter)) {
        StartDial(waiter);
      } else if (options_.connection.test_hook) {
        options_.connection.test_hook(HookPoint::kQueuedForSlot, 0, 0);
      }
    }
    served = waiter->Await(deadline);
  }
  pool_->Forget(waiter.get());
  slots_.Forget(waiter.get());
  if (!served.ok()) return served.status();
  return Acquired{std::move(served->conn), served->via_pool, absl::ZeroDuration()};
}

void ConnManager::StartDial(std::shared_ptr<ConnWaiter> waiter) {
  CancelHandle cancel;
  const uint64_t dial_id = next_dial_id_++;
  bool shut_down;
  {
    absl::MutexLock lock(&mu_);
    shut_down = shut_down_;
    if (!shut_down) dials_.emplace(dial_id, cancel);
  }
  if (shut_down) {
    waiter->DialFailed(absl::CancelledError("transport destroyed"));
    SlotFreed(waiter->pool_key);
    return;
  }
  waiter->DialStarted(cancel);
  stats_->DialStarted();
  ThreadRegistry::Scoped registration(absl::StrCat("h1-dial-", dial_id));
  StatsRecorder::LiveThread live(stats_);
  std::thread([registration = std::move(registration), live = std::move(live),
               self = shared_from_this(), waiter = std::move(waiter), cancel = std::move(cancel),
               dial_id]() mutable {
    // Released in reverse order: the registration last.
    auto scoped = std::move(registration);
    auto counted = std::move(live);
    auto owner = std::move(self);
    owner->Dial(waiter, cancel);
    waiter.reset();
    owner->DialEnded(dial_id);
    owner.reset();
  }).detach();
}

void ConnManager::DialEnded(uint64_t dial_id) {
  absl::MutexLock lock(&mu_);
  dials_.erase(dial_id);
}

void ConnManager::Dial(const std::shared_ptr<ConnWaiter>& waiter, const CancelHandle& cancel) {
  DialContext context{absl::InfiniteFuture(), cancel};
  if (options_.dial_timeout != absl::InfiniteDuration()) {
    context.deadline = absl::Now() + options_.dial_timeout;
  }
  absl::StatusOr<std::unique_ptr<NetConn>> socket =
      options_.dial(waiter->host, waiter->port, context);
  stats_->DialEnded(socket.ok());
  if (!socket.ok()) {
    absl::Status error = socket.status();
    if (absl::IsDeadlineExceeded(error) && options_.dial_timeout != absl::InfiniteDuration()) {
      error = absl::DeadlineExceededError(absl::StrCat(
          error.message(), " (dial timeout ", absl::FormatDuration(options_.dial_timeout), ")"));
    }
    waiter->DialFailed(error);
    SlotFreed(waiter->pool_key);
    return;
  }
  std::weak_ptr<ConnManager> manager = weak_from_this();
  std::shared_ptr<Connection> conn =
      Connection::Start(next_connection_id_++, waiter->pool_key, *std::move(socket),
                        options_.connection, pool_, stats_, [manager, key = waiter->pool_key] {
                          if (std::shared_ptr<ConnManager> m = manager.lock()) m->SlotFreed(key);
                        });
  if (options_.connection.test_hook) {
    options_.connection.test_hook(HookPoint::kConnectionStarted, conn->id(), 0);
  }
  // Late binding: if the request took another connection, or gave up, this
  // one goes to the idle pool (or to the next request waiting there).
  if (!waiter->Deliver(conn, /*via_pool=*/false)) PutBack(conn);
}

void ConnManager::PutBack(const std::shared_ptr<Connection>& conn) {
  if (absl::Status pooled = pool_->Put(conn); !pooled.ok())
    conn->Close(pooled, RefusalCause(pooled));
}

void ConnManager::SlotFreed(const std::string& pool_key) {
  if (std::shared_ptr<ConnWaiter> next = slots_.Release(pool_key)) StartDial(std::move(next));
}

void ConnManager::CloseIdle() {
  pool_->CloseAll(absl::CancelledError("idle connections closed by the transport"));
}

void ConnManager::Shutdown() {
  std::vector<CancelHandle> dials;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    for (const auto& [id, cancel] : dials_) dials.push_back(cancel);
  }
  pool_->Shutdown(absl::CancelledError("transport destroyed"));
  // A dial outlives no Transport: each is cancelled, and its thread has
  // used the Dial hook and the test hook for the last time once it leaves
  // dials_ (a connection it made closes, as the pool refuses it).
  for (const CancelHandle& cancel : dials) cancel.Cancel();
  absl::MutexLock lock(&mu_);
  const auto dials_ended = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return dials_.empty(); };
  mu_.Await(absl::Condition(&dials_ended));
}

}  // namespace h1
