// See conn_waiter.h.
#include "transport/conn_waiter.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace h1 {

ConnWaiter::ConnWaiter(std::string pool_key, std::string host, uint16_t port)
    : pool_key(std::move(pool_key)), host(std::move(host)), port(port) {}

bool ConnWaiter::Deliver(const std::shared_ptr<Connection>& conn, bool via_pool) {
  absl::MutexLock lock(&mu_);
  if (done_) return false;
  done_ = true;
  served_ = true;
  conn_ = conn;
  via_pool_ = via_pool;
  return true;
}

void ConnWaiter::DialFailed(const absl::Status& error) {
  absl::MutexLock lock(&mu_);
  if (done_) return;
  done_ = true;
  error_ = error;
}

void ConnWaiter::QueuedForSlot() {
  absl::MutexLock lock(&mu_);
  phase_ = Phase::kQueuedForSlot;
}

void ConnWaiter::DialStarted(CancelHandle dial_cancel) {
  {
    absl::MutexLock lock(&mu_);
    phase_ = Phase::kDialling;
    const bool gave_up = done_ && !served_;
    if (!gave_up) {
      // Not kept once served: the dial goes on, for the idle pool.
      if (!done_) dial_cancel_ = std::move(dial_cancel);
      return;
    }
  }
  dial_cancel.Cancel();  // The waiter gave up before its dial started.
}

void ConnWaiter::Cancel() {
  std::optional<CancelHandle> dial;
  {
    absl::MutexLock lock(&mu_);
    if (done_) return;
    dial = GiveUpLocked(absl::StatusCode::kCancelled, "request cancelled");
  }
  if (dial.has_value()) dial->Cancel();
}

bool ConnWaiter::waiting() const {
  absl::MutexLock lock(&mu_);
  return !done_;
}

std::optional<CancelHandle> ConnWaiter::GiveUpLocked(absl::StatusCode code,
                                                     absl::string_view what) {
  done_ = true;
  const char* phase = phase_ == Phase::kDialling        ? " while dialling "
                      : phase_ == Phase::kQueuedForSlot ? " while waiting for a connection slot "
                                                          "(MaxConnsPerHost) to "
                                                        : " while waiting for a connection to ";
  error_ = absl::Status(code, absl::StrCat(what, phase, host, ":", port));
  return std::exchange(dial_cancel_, std::nullopt);
}

absl::StatusOr<ConnWaiter::Served> ConnWaiter::Await(absl::Time deadline) {
  std::optional<CancelHandle> dial;
  absl::StatusOr<Served> result;
  {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(&done_), deadline);
    if (!done_)
      dial = GiveUpLocked(absl::StatusCode::kDeadlineExceeded, "request deadline exceeded");
    if (served_) {
      // Moved out: the dial thread may hold the waiter long after, and must
      // not keep a connection that has closed meanwhile.
      result = Served{std::move(conn_), via_pool_};
    } else {
      result = error_;
    }
  }
  if (dial.has_value()) dial->Cancel();
  return result;
}

}  // namespace h1
