// Cancels racing what a connection does next: the reader claiming the
// response (and the connection going to the next request), the body's end,
// a MaxConnsPerHost slot's release, and a dial to a black hole. From the
// adversarial review of issue 11, where they held. A race is forced where a
// hook exists, and otherwise repeated; run them under
// --config=tsan --runs_per_test=N.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transport_test_util.h"
#include "testserver/canned.h"
#include "testserver/test_server.h"
#include "transport/testing/fake_conn.h"
#include "transport/transport.h"

namespace h1 {
namespace {

using ::h1::testing::ExpectLiveThreadsAtMost;
using ::h1::testing::ExpectNothingLeaked;
using ::h1::testing::FakeConn;
using ::h1::testing::SharedFakeConn;
using ::h1::testing::Fetch;
using ::h1::testing::HookTable;
using ::h1::testing::kLeakWait;
using ::h1::testing::ReadBody;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::SeenRequest;
using ::h1::testserver::TestServer;
using ::testing::HasSubstr;

constexpr int kRounds = 200;

// Runs `a` and `b` on two threads released together.
void Together(const std::function<void()>& a, const std::function<void()>& b) {
  absl::Barrier* barrier = new absl::Barrier(2);
  std::thread t([&] {
    if (barrier->Block()) delete barrier;
    b();
  });
  if (barrier->Block()) delete barrier;
  a();
  t.join();
}

// Cancel races the response's arrival (the reader's claim, the pooling of
// the connection and its late binding to the next request). A cancelled
// request either gets its response or CANCELLED; the next request on the
// pooled connection is never disturbed (it would fail and be retried).
TEST(CancelRaceTest, CancelRacingTheResponseNeverTouchesTheNextRequest) {
  TransportOptions options;
  options.reuse_grace_period = absl::Hours(1);
  options.dial = [](const std::string&, uint16_t,
                    const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
    return std::make_unique<FakeConn>(
        [](FakeConn& peer, absl::string_view, int) { peer.Deliver(OkResponse("ok")); });
  };
  {
    Transport transport(options);
    int cancelled = 0;
    for (int i = 0; i < kRounds; ++i) {
      CancelHandle cancel;
      Request request = Get("http://peer.test/a");
      request.cancel = cancel;
      absl::StatusOr<Response> response;
      absl::StatusOr<Response> next;
      Together([&] { response = transport.RoundTrip(std::move(request)); },
               [&] { cancel.Cancel(); });
      if (response.ok()) {
        EXPECT_EQ(ReadBody(*response), "ok");
        cancel.Cancel();  // Twice, and after the body's end: harmless.
      } else {
        ++cancelled;
        EXPECT_TRUE(absl::IsCancelled(response.status())) << response.status();
      }
      const auto fetched = Fetch(transport, "http://peer.test/b");
      EXPECT_EQ(fetched.body, "ok");
    }
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.retries, 0u) << stats.ToString();
    EXPECT_EQ(stats.waiting_for_slot, 0);
    EXPECT_EQ(stats.dials_in_flight, 0);
  }
  ExpectLiveThreadsAtMost(0);
}

// Cancel races the last bytes of a streamed body: the body's end resets
// the cancel registration before the connection goes back, so a late
// cancel closes nothing that serves another request.
TEST(CancelRaceTest, CancelRacingTheBodysEndNeverTouchesTheNextRequest) {
  // Keeps each FakeConn alive for the test, which delivers to it while a
  // cancel may close (and release) its connection.
  struct Shared {
    absl::Mutex mu;
    std::shared_ptr<FakeConn> last ABSL_GUARDED_BY(mu);
  };
  auto shared = std::make_shared<Shared>();
  TransportOptions options;
  options.reuse_grace_period = absl::Hours(1);
  options.dial = [shared](const std::string&, uint16_t,
                          const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
    auto conn = std::make_shared<FakeConn>([](FakeConn& peer, absl::string_view bytes, int) {
      if (absl::StartsWith(bytes, "GET /stream"))
        peer.Deliver("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
      else
        peer.Deliver(OkResponse("ok"));
    });
    absl::MutexLock lock(&shared->mu);
    shared->last = conn;
    return std::unique_ptr<NetConn>(std::make_unique<SharedFakeConn>(conn));
  };
  {
    Transport transport(options);
    int completed = 0;
    for (int i = 0; i < kRounds; ++i) {
      CancelHandle cancel;
      Request request = Get("http://peer.test/stream");
      request.cancel = cancel;
      absl::StatusOr<Response> response = transport.RoundTrip(std::move(request));
      ASSERT_TRUE(response.ok()) << response.status();
      std::shared_ptr<FakeConn> conn;
      {
        absl::MutexLock lock(&shared->mu);
        conn = shared->last;  // Each stream's connection is the newest (closed ones go).
      }
      absl::StatusOr<std::string> body;
      std::thread rest([conn] { conn->Deliver("cd"); });
      Together([&] { body = response->body->ReadAll(); }, [&] { cancel.Cancel(); });
      rest.join();
      if (body.ok()) {
        EXPECT_EQ(*body, "abcd");
      } else {
        EXPECT_TRUE(absl::IsCancelled(body.status())) << body.status();
      }
      const auto fetched = Fetch(transport, "http://peer.test/b");
      EXPECT_EQ(fetched.body, "ok");
      if (body.ok()) ++completed;
    }
    EXPECT_GT(completed, 0);
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.retries, 0u) << stats.ToString();
  }
  ExpectLiveThreadsAtMost(0);
}

// Counts events; a test waits for a count.
class Counter {
 public:
  void Add() {
    absl::MutexLock lock(&mu_);
    ++n_;
  }
  bool AwaitAtLeast(int n) {
    absl::MutexLock lock(&mu_);
    const auto reached = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return n_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kLeakWait);
  }

 private:
  absl::Mutex mu_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
};

// Requests queued by MaxConnsPerHost = 1 are cancelled while the slot's
// connection closes (Connection: close): no slot leaks (a final request is
// served), none is released twice (never two sockets at once).
TEST(CancelRaceTest, CancelRacingTheSlotsReleaseLeaksNoSlot) {
  Counter holds;
  TestServer server([&](PeerConn& conn) {
    absl::StatusOr<SeenRequest> request = conn.ReadRequest();
    if (request.ok()) {
      if (absl::StartsWith(request->target, "/hold/")) {
        holds.Add();
        conn.AwaitGate(absl::StrCat("go ", request->target));
      }
      conn.Write(OkResponse("x", "Connection: close\r\n")).IgnoreError();
      conn.AwaitClientClose(kLeakWait);
    }
  });
  // Client side: a socket counts from its dial until it is shut down
  // (Connection::Close shuts it down before it frees the slot).
  struct Gauge {
    absl::Mutex mu;
    int open ABSL_GUARDED_BY(mu) = 0;
    int max_open ABSL_GUARDED_BY(mu) = 0;
  };
  auto gauge = std::make_shared<Gauge>();
  class GaugedConn final : public ForwardingNetConn {
   public:
    GaugedConn(std::unique_ptr<NetConn> inner, std::shared_ptr<Gauge> gauge)
        : ForwardingNetConn(std::move(inner)), gauge_(std::move(gauge)) {}
    ~GaugedConn() override { Done(); }
    void Shutdown() override {
      ForwardingNetConn::Shutdown();
      Done();
    }

   private:
    void Done() {
      if (done_.exchange(true)) return;
      absl::MutexLock lock(&gauge_->mu);
      --gauge_->open;
    }
    std::shared_ptr<Gauge> gauge_;
    std::atomic<bool> done_{false};
  };
  RecordingDialer dialer(
      [gauge](const std::string& host, uint16_t port,
              const DialContext& context) -> absl::StatusOr<std::unique_ptr<NetConn>> {
        {
          absl::MutexLock lock(&gauge->mu);
          gauge->max_open = std::max(gauge->max_open, ++gauge->open);
        }
        absl::StatusOr<std::unique_ptr<NetConn>> conn = DialTcp(host, port, context);
        if (!conn.ok()) {
          absl::MutexLock lock(&gauge->mu);
          --gauge->open;
          return conn.status();
        }
        return std::unique_ptr<NetConn>(std::make_unique<GaugedConn>(*std::move(conn), gauge));
      });
  Counter queued_count;
  {
    TransportOptions options = TestOptions(dialer);
    options.max_conns_per_host = 1;
    options.test_hook = [&](HookPoint point, uint64_t, uint64_t) {
      if (point == HookPoint::kQueuedForSlot) queued_count.Add();
    };
    Transport transport(options);
    for (int i = 0; i < 50; ++i) {
      CancelHandle cancel;
      Request queued = Get(server.Url("/queued"));
      queued.cancel = cancel;
      queued.deadline = absl::Now() + kLeakWait;
      const std::string target = absl::StrCat("/hold/", i);
      Request hold = Get(server.Url(target));
      hold.deadline = absl::Now() + kLeakWait;
      absl::StatusOr<Response> held;
      std::thread holder([&] {
        held = transport.RoundTrip(std::move(hold));
        if (held.ok()) ReadBody(*held);
      });
      ASSERT_TRUE(holds.AwaitAtLeast(i + 1))
          << "round " << i << ": " << transport.Stats().ToString() << "; idle "
          << transport.IdleConnectionCount();
      absl::StatusOr<Response> got;
      std::thread waiter([&] { got = transport.RoundTrip(std::move(queued)); });
      ASSERT_TRUE(queued_count.AwaitAtLeast(i + 1));
      Together([&] { server.OpenGate(absl::StrCat("go ", target)); }, [&] { cancel.Cancel(); });
      holder.join();
      waiter.join();
      if (got.ok()) ReadBody(*got);
      EXPECT_TRUE(got.ok() || absl::IsCancelled(got.status())) << got.status();
    }
    Request last = Get(server.Url("/last"));
    last.deadline = absl::Now() + kLeakWait;
    absl::StatusOr<Response> final_response = transport.RoundTrip(std::move(last));
    ASSERT_TRUE(final_response.ok()) << final_response.status();
    ReadBody(*final_response);
    ASSERT_TRUE(dialer.AwaitOpenAtMost(0));
    EXPECT_EQ(transport.Stats().waiting_for_slot, 0);
    EXPECT_EQ(transport.Stats().live_connections, 0);
  }
  ExpectNothingLeaked(dialer);
  absl::MutexLock lock(&gauge->mu);
  EXPECT_LE(gauge->max_open, 1);
}

// DialTcp's non-blocking connect ends at once when its context is cancelled:
// a listener whose accept queue is full drops SYNs, so a connect to it
// hangs in SYN_SENT.
TEST(CancelRaceTest, DialTcpToABlackHoleEndsOnCancel) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t size = sizeof(address);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size), 0);
  const uint16_t port = ntohs(address.sin_port);
  // Fill the accept queue.
  std::vector<std::unique_ptr<NetConn>> fillers;
  for (int i = 0; i < 3; ++i) {
    DialContext quick{absl::Now() + absl::Milliseconds(200), CancelHandle()};
    absl::StatusOr<std::unique_ptr<NetConn>> conn = DialTcp("127.0.0.1", port, quick);
    if (conn.ok()) fillers.push_back(*std::move(conn));
  }
  CancelHandle cancel;
  DialContext context{absl::Now() + absl::Seconds(20), cancel};
  // Whether the cancel comes before the connect or during its wait, the
  // dial ends with CANCELLED at once (the wait is woken by the shutdown).
  std::thread canceller([&] { cancel.Cancel(); });
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<NetConn>> conn = DialTcp("127.0.0.1", port, context);
  canceller.join();
  EXPECT_TRUE(absl::IsCancelled(conn.status())) << conn.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  ::close(listener);
}

}  // namespace
}  // namespace h1
