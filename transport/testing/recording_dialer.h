// RecordingDialer: a Dial hook that counts the sockets a Transport dials and
// closes (like Go's makeTestDial), so a test or a harness can prove that no
// socket outlives its connection; a test can also put its own NetConn
// around a chosen socket.
#ifndef H1_TRANSPORT_TESTING_RECORDING_DIALER_H_
#define H1_TRANSPORT_TESTING_RECORDING_DIALER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/net_conn.h"

namespace h1::testing {

// Thread-safe.
class RecordingDialer {
 public:
  // Lets a test put its own NetConn around the `index`th dialed socket
  // (from 1), e.g. to fail a chosen write.
  using Wrap = std::function<std::unique_ptr<NetConn>(int index, std::unique_ptr<NetConn>)>;

  // Records the sockets `dial` opens (TCP by default).
  explicit RecordingDialer(DialFunction dial = DialTcp) : dial_(std::move(dial)) {}

  // A DialFunction dialing and recording into this object, which must
  // outlive every connection dialed through it.
  DialFunction Dial(Wrap wrap = nullptr);
  int dials() const;
  int open() const;
  // Waits until at most `n` dialed sockets are still open; the default wait
  // is long enough for a loaded sanitizer run, and only spent on a leak.
  bool AwaitOpenAtMost(int n, absl::Duration timeout = absl::Seconds(10)) const;

 private:
  class RecordedConn;
  const DialFunction dial_;
  mutable absl::Mutex mu_;
  int dials_ ABSL_GUARDED_BY(mu_) = 0;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace h1::testing

#endif  // H1_TRANSPORT_TESTING_RECORDING_DIALER_H_
