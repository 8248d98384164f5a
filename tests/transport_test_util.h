// Helpers for the transport's integration tests: a Dial hook that records
// every dial and close (like Go's makeTestDial), a leak check that names
// leaked connection threads (like Go's afterTest), and scripted body sources.
#ifndef H1_TESTS_TRANSPORT_TEST_UTIL_H_
#define H1_TESTS_TRANSPORT_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "transport/net_conn.h"
#include "transport/request.h"
#include "transport/test_hook.h"
#include "transport/testing/recording_dialer.h"
#include "transport/transport.h"

namespace h1::testing {

// How long a leak check waits for threads and sockets to go: long enough for
// a loaded sanitizer run, and only ever spent when something leaked.
inline constexpr absl::Duration kLeakWait = absl::Seconds(10);

// A server timing an idle connection out: 408, then its close.
inline constexpr absl::string_view k408 =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

// Transport options with `dialer` as the Dial hook.
TransportOptions TestOptions(RecordingDialer& dialer);
// A Dial hook whose first connection is `first()`; every later one is a
// FakeConn answering "fresh" to each request. `dials` counts the dials.
DialFunction FirstThenFresh(int& dials, std::function<std::unique_ptr<NetConn>()> first);
// A RecordingDialer wrap that hides the socket's TryWrite: the connection's
// writer thread writes every request, so a test can park it there.
std::unique_ptr<NetConn> WriterThreadWritesAll(int index, std::unique_ptr<NetConn> conn);

// Routes each test hook point to the handler a test registered for it (by
// point, connection id and request sequence number); other points pass.
// Register every handler before the Transport starts; then thread-safe.
class HookTable {
 public:
  void On(HookPoint point, uint64_t conn_id, uint64_t seq, std::function<void()> handler);
  // The TestHook to put in TransportOptions; the table must outlive it.
  TestHook Hook() const;

 private:
  struct Entry {
    HookPoint point;
    uint64_t conn_id;
    uint64_t seq;
    std::function<void()> handler;
  };
  std::vector<Entry> entries_;
};

// Fails the test, naming the threads, unless at most `threads` connection
// threads remain alive once a short wait is over.
void ExpectLiveThreadsAtMost(int threads);

// Checks, at the end of a test, that every socket was closed and every
// connection thread has exited.
void ExpectNothingLeaked(const RecordingDialer& dialer);

// Reads a response body to its end, failing the test on error.
std::string ReadBody(Response& response);

// What a GET fetched: its body read to the end, and the connection's facts.
struct Fetched {
  std::string body;
  ConnInfo conn;
};
// GETs `url` and reads the body, failing the test on any error.
Fetched Fetch(Transport& transport, const std::string& url);

// A body of `size` bytes of 'x' whose last byte is held back until
// release() is called. Records what happened to it. Thread-safe.
class HeldBackBody {
 public:
  struct State {
    absl::Notification release;
    absl::Notification last_byte_requested;
    absl::Notification destroyed;
    absl::Mutex mu;
    uint64_t bytes_given ABSL_GUARDED_BY(mu) = 0;
    int reads_after_last_byte ABSL_GUARDED_BY(mu) = 0;
  };
  static std::unique_ptr<BodySource> Make(uint64_t size, std::shared_ptr<State> state);
};

}  // namespace h1::testing

#endif  // H1_TESTS_TRANSPORT_TEST_UTIL_H_
