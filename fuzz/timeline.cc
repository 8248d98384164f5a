// See timeline.h.
#include "fuzz/timeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace h1::fuzz {

void Timeline::Open(const std::string& gate) {
  absl::MutexLock lock(&mu_);
  gates_.insert(gate);
}

void Timeline::OpenAll() {
  absl::MutexLock lock(&mu_);
  all_open_ = true;
}

bool Timeline::AwaitGate(const std::string& gate, int conn) {
  absl::MutexLock lock(&mu_);
  const auto over = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return all_open_ || gates_.count(gate) > 0 || client_closed_.count(conn) > 0;
  };
  mu_.Await(absl::Condition(&over));
  return all_open_ || gates_.count(gate) > 0;
}

void Timeline::AwaitGateOrAnyClose(const std::string& gate) {
  absl::MutexLock lock(&mu_);
  const size_t closed_before = client_closed_.size();
  const auto over = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return all_open_ || gates_.count(gate) > 0 || client_closed_.size() > closed_before;
  };
  mu_.Await(absl::Condition(&over));
}

bool Timeline::AwaitGateWithWatchdog(const std::string& gate) {
  absl::MutexLock lock(&mu_);
  const auto open = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return gates_.count(gate) > 0; };
  return mu_.AwaitWithTimeout(absl::Condition(&open), watchdog_);
}

void Timeline::ClientClosed(int conn) {
  absl::MutexLock lock(&mu_);
  client_closed_.insert(conn);
}

void Timeline::ServerFinished(int conn) {
  absl::MutexLock lock(&mu_);
  server_finished_.insert(conn);
}

void Timeline::ExpectClientClose(int conn) {
  absl::MutexLock lock(&mu_);
  must_close_.insert(conn);
}

bool Timeline::QuietLocked() const {
  return std::includes(server_finished_.begin(), server_finished_.end(), client_closed_.begin(),
                       client_closed_.end()) &&
         std::includes(client_closed_.begin(), client_closed_.end(), must_close_.begin(),
                       must_close_.end());
}

bool Timeline::AwaitQuiet() {
  absl::MutexLock lock(&mu_);
  const auto quiet = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return QuietLocked(); };
  return mu_.AwaitWithTimeout(absl::Condition(&quiet), watchdog_);
}

int Timeline::CountAttempt(int request) {
  absl::MutexLock lock(&mu_);
  return ++attempts_[request];
}

int Timeline::attempts(int request) const {
  absl::MutexLock lock(&mu_);
  auto it = attempts_.find(request);
  return it == attempts_.end() ? 0 : it->second;
}

std::string Timeline::Pending() const {
  absl::MutexLock lock(&mu_);
  return absl::StrCat("gates open: ", absl::StrJoin(gates_, " "),
                      "; client closed: ", absl::StrJoin(client_closed_, " "),
                      "; server finished: ", absl::StrJoin(server_finished_, " "),
                      "; client must close: ", absl::StrJoin(must_close_, " "));
}

}  // namespace h1::fuzz
