// Timeline: the events the timing fuzzer's server, client and request body
// sources wait on, in place of clocks: named gates (a request's head
// arrived, the client's writer reported it, the client finished it, the
// server served it), which connections the client has closed, which the
// server has finished, and how many times the server saw each request.
//
// Every wait a server thread or a body source makes also ends when the
// client closes the connection concerned, so a script never outlives it.
// The driver's waits have a watchdog: a wait that is not over after it
// means the transport is stuck, and the caller aborts with the story.
//
// Thread-safe.
#ifndef H1_FUZZ_TIMELINE_H_
#define H1_FUZZ_TIMELINE_H_

#include <map>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace h1::fuzz {

class Timeline {
 public:
  explicit Timeline(absl::Duration watchdog) : watchdog_(watchdog) {}

  void Open(const std::string& gate) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends every gate wait, now and later: the run is being torn down.
  void OpenAll() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until `gate` opens or the client closes connection `conn`;
  // returns whether the gate opened.
  bool AwaitGate(const std::string& gate, int conn) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until `gate` opens or the client closes any connection (a stalled
  // body source does not know its connection).
  void AwaitGateOrAnyClose(const std::string& gate) ABSL_LOCKS_EXCLUDED(mu_);
  // The driver's wait for `gate`: false if the watchdog fired.
  bool AwaitGateWithWatchdog(const std::string& gate) ABSL_LOCKS_EXCLUDED(mu_);

  void ClientClosed(int conn) ABSL_LOCKS_EXCLUDED(mu_);
  void ServerFinished(int conn) ABSL_LOCKS_EXCLUDED(mu_);
  // The server did something after which the client must close `conn`.
  void ExpectClientClose(int conn) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until every connection the client closed is finished by the
  // server, and every connection expected to close is closed by the
  // client; false if the watchdog fired.
  bool AwaitQuiet() ABSL_LOCKS_EXCLUDED(mu_);

  // Counts an attempt of `request` arriving at the server; returns which
  // one it is (from 1).
  int CountAttempt(int request) ABSL_LOCKS_EXCLUDED(mu_);
  int attempts(int request) const ABSL_LOCKS_EXCLUDED(mu_);

  // What a failed wait was stuck on.
  std::string Pending() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  bool QuietLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration watchdog_;
  mutable absl::Mutex mu_;
  bool all_open_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> gates_ ABSL_GUARDED_BY(mu_);
  std::set<int> client_closed_ ABSL_GUARDED_BY(mu_);
  std::set<int> server_finished_ ABSL_GUARDED_BY(mu_);
  std::set<int> must_close_ ABSL_GUARDED_BY(mu_);
  std::map<int, int> attempts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1::fuzz

#endif  // H1_FUZZ_TIMELINE_H_
