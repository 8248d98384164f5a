// MaxConnsPerHost (a FIFO queue of requests per host, a slot freed once per
// closed connection or failed dial), Go's late binding of a waiting request
// to the first connection that turns idle, the idle pool's limits and
// timeout, and the pool's Stats: after Go's tests of the same names.
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transport_test_util.h"
#include "testserver/canned.h"
#include "testserver/test_server.h"
#include "transport/thread_registry.h"
#include "transport/transport.h"

namespace h1 {
namespace {

using ::h1::testing::ExpectLiveThreadsAtMost;
using ::h1::testing::ExpectNothingLeaked;
using ::h1::testing::Fetch;
using ::h1::testing::Fetched;
using ::h1::testing::HeldBackBody;
using ::h1::testing::HookTable;
using ::h1::testing::kLeakWait;
using ::h1::testing::ReadBody;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testserver::AnswerEvery;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::SeenRequest;
using ::h1::testserver::TestServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Never reached unless the transport is broken: a request that would hang
// (a slot never freed, a late binding that never happens) fails instead.
constexpr absl::Duration kNoHang = absl::Seconds(30);

// Counts the sockets a Transport holds at once, from the start of each dial
// (a dial holds its host's slot) until the connection shuts its socket
// down, which Connection::Close does before it frees the slot, or releases
// it. Thread-safe; the sockets share its counts, so a socket that outlives
// it (in a failing test) is harmless.
class SocketGauge {
 public:
  DialFunction Wrap(DialFunction dial) {
    return [counts = counts_, dial = std::move(dial)](
               const std::string& host, uint16_t port,
               const DialContext& context) -> absl::StatusOr<std::unique_ptr<NetConn>> {
      counts->Opened();
      absl::StatusOr<std::unique_ptr<NetConn>> conn = dial(host, port, context);
      if (!conn.ok()) {
        counts->Closed();
        return conn.status();
      }
      return std::unique_ptr<NetConn>(std::make_unique<GaugedConn>(*std::move(conn), counts));
    };
  }
  int open() const {
    absl::MutexLock lock(&counts_->mu);
    return counts_->open;
  }
  // The most sockets (or dials) ever open at once.
  int max_open() const {
    absl::MutexLock lock(&counts_->mu);
    return counts_->max_open;
  }

 private:
  struct Counts {
    void Opened() {
      absl::MutexLock lock(&mu);
      if (++open > max_open) max_open = open;
    }
    void Closed() {
      absl::MutexLock lock(&mu);
      --open;
    }
    absl::Mutex mu;
    int open ABSL_GUARDED_BY(mu) = 0;
    int max_open ABSL_GUARDED_BY(mu) = 0;
  };

  class GaugedConn final : public ForwardingNetConn {
   public:
    GaugedConn(std::unique_ptr<NetConn> inner, std::shared_ptr<Counts> counts)
        : ForwardingNetConn(std::move(inner)), counts_(std::move(counts)) {}
    ~GaugedConn() override {
      CloseInner();
      Done();
    }
    void Shutdown() override {
      ForwardingNetConn::Shutdown();
      Done();
    }

   private:
    void Done() {
      if (!done_.exchange(true)) counts_->Closed();
    }
    const std::shared_ptr<Counts> counts_;
    std::atomic<bool> done_{false};
  };

  const std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();
};

// Holds back one dial, chosen by its order (from 1), until Release(), and
// tells when it has begun; it then fails with `result` unless that is OK.
// Every other dial goes through at once. Released when destroyed, so a
// failed test does not leave a dial thread blocked.
class HeldDial {
 public:
  explicit HeldDial(int index, absl::Status result = absl::OkStatus())
      : state_(std::make_shared<State>()) {
    state_->index = index;
    state_->result = std::move(result);
  }
  ~HeldDial() { Release(); }
  HeldDial(const HeldDial&) = delete;
  HeldDial& operator=(const HeldDial&) = delete;

  DialFunction Wrap(DialFunction dial) {
    return [state = state_, dial = std::move(dial)](
               const std::string& host, uint16_t port,
               const DialContext& context) -> absl::StatusOr<std::unique_ptr<NetConn>> {
      bool held;
      {
        absl::MutexLock lock(&state->mu);
        held = ++state->dials == state->index;
      }
      if (held) {
        state->started.Notify();
        state->release.WaitForNotificationWithTimeout(2 * kNoHang);
        if (!state->result.ok()) return state->result;
      }
      return dial(host, port, context);
    };
  }
  bool AwaitStarted() { return state_->started.WaitForNotificationWithTimeout(kNoHang); }
  void Release() {
    if (!state_->release.HasBeenNotified()) state_->release.Notify();
  }

 private:
  struct State {
    int index = 0;
    absl::Status result;
    absl::Mutex mu;
    int dials ABSL_GUARDED_BY(mu) = 0;
    absl::Notification started;
    absl::Notification release;
  };
  std::shared_ptr<State> state_;
};

// Counts events of a server script; a test waits for a count. The wait is
// re-checked each time a server thread releases the mutex.
class Arrivals {
 public:
  void Arrived() {
    absl::MutexLock lock(&mu_);
    ++count_;
  }
  bool AwaitAtLeast(int n) {
    absl::MutexLock lock(&mu_);
    const auto reached = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return count_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kNoHang);
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

// Counts the requests that joined a MaxConnsPerHost queue
// (HookPoint::kQueuedForSlot), so a test waits for them, not for time.
class SlotQueueWatch {
 public:
  TestHook Hook() {
    return [this](HookPoint point, uint64_t, uint64_t) {
      if (point != HookPoint::kQueuedForSlot) return;
      absl::MutexLock lock(&mu_);
      ++queued_;
    };
  }
  // Waits until `n` requests in all have joined a queue.
  bool AwaitQueued(int n) {
    absl::MutexLock lock(&mu_);
    const auto reached = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return queued_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kNoHang);
  }

 private:
  absl::Mutex mu_;
  int queued_ ABSL_GUARDED_BY(mu_) = 0;
};

// Waits until `n` requests in all have joined the queue, and checks that
// exactly `waiting` wait there now.
::testing::AssertionResult AwaitWaitingForSlot(SlotQueueWatch& watch, const Transport& transport,
                                               int n, int waiting) {
  if (!watch.AwaitQueued(n)) return ::testing::AssertionFailure() << n << " never queued";
  const TransportStats stats = transport.Stats();
  if (stats.waiting_for_slot != waiting) return ::testing::AssertionFailure() << stats.ToString();
  return ::testing::AssertionSuccess();
}

// What one request came to: its status, body and connection.
struct Outcome {
  absl::Status status;
  std::string body;
  ConnInfo conn;
};

Outcome Send(Transport& transport, Request request) {
  absl::StatusOr<Response> response = transport.RoundTrip(std::move(request));
  if (!response.ok()) return {response.status(), "", {}};
  absl::StatusOr<std::string> body = response->body->ReadAll();
  if (!body.ok()) return {body.status(), "", response->conn};
  return {absl::OkStatus(), *std::move(body), response->conn};
}

// A request sent, and its body read, on a thread of its own.
class Call {
 public:
  Call(Transport& transport, Request request)
      : thread_([this, &transport, request = std::move(request)]() mutable {
          outcome_ = Send(transport, std::move(request));
        }) {}
  ~Call() { Join(); }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  const Outcome& Join() {
    if (thread_.joinable()) thread_.join();
    return outcome_;
  }

 private:
  Outcome outcome_;
  std::thread thread_;  // Last: started once outcome_ exists.
};

// A GET that fails rather than hangs if the transport never serves it.
Request GetWithin(std::string url) {
  Request request = Get(std::move(url));
  request.deadline = absl::Now() + kNoHang;
  return request;
}

// (connection, target) of every request the server saw, in arrival order.
std::vector<std::pair<int, std::string>> ServerLog(const TestServer& server) {
  std::vector<std::pair<int, std::string>> log;
  for (const SeenRequest& request : server.requests()) {
    log.emplace_back(request.connection, request.target);
  }
  return log;
}

// Answers every request with its target as the body.
void AnswerTargets(PeerConn& conn) {
  for (;;) {
    absl::StatusOr<SeenRequest> request = conn.ReadRequest();
    if (!request.ok()) return;
    if (!conn.Write(OkResponse(request->target)).ok()) return;
  }
}

// --- MaxConnsPerHost -------------------------------------------------------

// Go's TestTransportMaxConnsPerHost. Each round, `cap` requests hold their
// connections (the server answers them once the test opens their gates)
// while three more queue for a slot; then the server closes every
// connection (Go's CloseClientConnections), which must free each slot
// exactly once: each round dials exactly `cap` connections, never more
// sockets are open at once, and the queued requests are served by late
// binding on the held connections once those turn idle.
void ExpectMaxConnsPerHost(int cap) {
  constexpr int kQueued = 3;
  constexpr int kRounds = 3;
  Arrivals held;
  TestServer server([&held](PeerConn& conn) {
    for (;;) {
      absl::StatusOr<SeenRequest> request = conn.ReadRequest();
      if (!request.ok()) return;
      if (absl::StartsWith(request->target, "/held/")) {
        held.Arrived();
        if (!conn.AwaitGate(request->target)) return;
      }
      if (!conn.Write(OkResponse(request->target)).ok()) return;
    }
  });
  SocketGauge gauge;
  RecordingDialer dialer(gauge.Wrap(DialTcp));
  SlotQueueWatch watch;  // Outlives the Transport's threads.
  {
    TransportOptions options = TestOptions(dialer);
    options.max_conns_per_host = cap;
    options.test_hook = watch.Hook();
    options.max_idle_conns_per_host = cap;
    // Reuse must not depend on the grace timer under load.
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    for (int round = 1; round <= kRounds; ++round) {
      SCOPED_TRACE(absl::StrCat("round ", round));
      if (round > 1) {
        server.CloseClientConnections();
        ASSERT_TRUE(dialer.AwaitOpenAtMost(0));
        const TransportStats closed = transport.Stats();
        EXPECT_EQ(closed.closed_by(CloseCause::kPeerClosed),
                  static_cast<uint64_t>(cap * (round - 1)))
            << closed.ToString();
        EXPECT_EQ(closed.live_connections, 0);
        EXPECT_EQ(transport.IdleConnectionCount(), 0);
      }
      const uint64_t first_id = cap * (round - 1) + 1;
      std::vector<std::string> held_targets;
      std::vector<std::unique_ptr<Call>> holders;
      for (int i = 0; i < cap; ++i) {
        held_targets.push_back(absl::StrCat("/held/", round, "/", i));
        holders.push_back(
            std::make_unique<Call>(transport, GetWithin(server.Url(held_targets.back()))));
      }
      ASSERT_TRUE(held.AwaitAtLeast(cap * round));
      std::vector<std::unique_ptr<Call>> queued;
      for (int i = 0; i < kQueued; ++i) {
        queued.push_back(std::make_unique<Call>(
            transport, GetWithin(server.Url(absl::StrCat("/queued/", round, "/", i)))));
      }
      ASSERT_TRUE(AwaitWaitingForSlot(watch, transport, kQueued * round, kQueued));
      const TransportStats waiting = transport.Stats();
      EXPECT_EQ(waiting.dials, static_cast<uint64_t>(cap * round)) << waiting.ToString();
      EXPECT_EQ(waiting.dials_in_flight, 0);
      EXPECT_EQ(waiting.live_connections, cap);
      EXPECT_EQ(gauge.open(), cap);

      for (const std::string& target : held_targets) server.OpenGate(target);
      std::set<uint64_t> holder_ids;
      for (int i = 0; i < cap; ++i) {
        const Outcome& outcome = holders[i]->Join();
        ASSERT_TRUE(outcome.status.ok()) << outcome.status;
        EXPECT_EQ(outcome.body, held_targets[i]);
        EXPECT_FALSE(outcome.conn.reused);
        EXPECT_FALSE(outcome.conn.was_idle);
        holder_ids.insert(outcome.conn.id);
      }
      std::set<uint64_t> want_ids;
      for (int i = 0; i < cap; ++i) want_ids.insert(first_id + i);
      EXPECT_EQ(holder_ids, want_ids);
      for (int i = 0; i < kQueued; ++i) {
        const Outcome& outcome = queued[i]->Join();
        ASSERT_TRUE(outcome.status.ok()) << outcome.status;
        EXPECT_EQ(outcome.body, absl::StrCat("/queued/", round, "/", i));
        EXPECT_EQ(want_ids.count(outcome.conn.id), 1u) << outcome.conn.id;
        EXPECT_TRUE(outcome.conn.reused);
        EXPECT_TRUE(outcome.conn.was_idle);
      }
      const TransportStats served = transport.Stats();
      EXPECT_EQ(served.dials, static_cast<uint64_t>(cap * round)) << served.ToString();
      EXPECT_EQ(served.reuses, static_cast<uint64_t>(kQueued * round));
      EXPECT_EQ(served.waiting_for_slot, 0);
      EXPECT_EQ(served.dials_in_flight, 0);
      EXPECT_EQ(transport.IdleConnectionCount(), cap);
    }
    EXPECT_EQ(gauge.max_open(), cap);
    EXPECT_EQ(dialer.dials(), cap * kRounds);
    EXPECT_EQ(server.connections_accepted(), cap * kRounds);
    EXPECT_EQ(server.requests().size(), static_cast<size_t>((cap + kQueued) * kRounds));
    EXPECT_EQ(transport.Stats().dial_failures, 0u);
  }
  ExpectNothingLeaked(dialer);
}

TEST(ConnsPerHostTest, TestTransportMaxConnsPerHost) {
  for (int cap : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("max_conns_per_host ", cap));
    ExpectMaxConnsPerHost(cap);
  }
}

// Go's TestTransportMaxConnsPerHostIncludeDialInProgress: a dial holds its
// host's slot before it has a connection, so a second request queues
// rather than dials, and is served by the first connection once it turns
// idle.
TEST(ConnsPerHostTest, TestTransportMaxConnsPerHostIncludeDialInProgress) {
  TestServer server(AnswerTargets);
  HeldDial held(1);
  SocketGauge gauge;
  RecordingDialer dialer(gauge.Wrap(held.Wrap(DialTcp)));
  SlotQueueWatch watch;  // Outlives the Transport's threads.
  {
    TransportOptions options = TestOptions(dialer);
    options.max_conns_per_host = 1;
    options.test_hook = watch.Hook();
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    Call a(transport, GetWithin(server.Url("/a")));
    ASSERT_TRUE(held.AwaitStarted());
    Call b(transport, GetWithin(server.Url("/b")));
    ASSERT_TRUE(AwaitWaitingForSlot(watch, transport, 1, 1));
    const TransportStats dialling = transport.Stats();
    EXPECT_EQ(dialling.dials, 1u) << dialling.ToString();
    EXPECT_EQ(dialling.dials_in_flight, 1);
    EXPECT_EQ(dialling.live_connections, 0);
    held.Release();
    const Outcome& first = a.Join();
    ASSERT_TRUE(first.status.ok()) << first.status;
    EXPECT_EQ(first.body, "/a");
    EXPECT_EQ(first.conn.id, 1u);
    EXPECT_FALSE(first.conn.was_idle);
    const Outcome& second = b.Join();
    ASSERT_TRUE(second.status.ok()) << second.status;
    EXPECT_EQ(second.body, "/b");
    EXPECT_EQ(second.conn.id, 1u);
    EXPECT_TRUE(second.conn.reused);
    EXPECT_TRUE(second.conn.was_idle);
    const TransportStats done = transport.Stats();
    EXPECT_EQ(done.dials, 1u) << done.ToString();
    EXPECT_EQ(done.waiting_for_slot, 0);
    EXPECT_EQ(done.dials_in_flight, 0);
    EXPECT_EQ(gauge.max_open(), 1);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_THAT(ServerLog(server), ElementsAre(Pair(1, "/a"), Pair(1, "/b")));
}

// A failed dial frees its slot, once: the request queued behind it dials.
TEST(ConnsPerHostTest, TestTransportMaxConnsPerHostFailedDialFreesItsSlot) {
  TestServer server(AnswerTargets);
  HeldDial held(1, absl::UnavailableError("dial refused by the test"));
  SocketGauge gauge;
  RecordingDialer dialer(gauge.Wrap(held.Wrap(DialTcp)));
  SlotQueueWatch watch;  // Outlives the Transport's threads.
  {
    TransportOptions options = TestOptions(dialer);
    options.max_conns_per_host = 1;
    options.test_hook = watch.Hook();
    Transport transport(options);
    Call a(transport, GetWithin(server.Url("/a")));
    ASSERT_TRUE(held.AwaitStarted());
    Call b(transport, GetWithin(server.Url("/b")));
    ASSERT_TRUE(AwaitWaitingForSlot(watch, transport, 1, 1));
    held.Release();
    const Outcome& failed = a.Join();
    EXPECT_TRUE(absl::IsUnavailable(failed.status)) << failed.status;
    EXPECT_THAT(failed.status.message(), HasSubstr("dial refused by the test"));
    const Outcome& served = b.Join();
    ASSERT_TRUE(served.status.ok()) << served.status;
    EXPECT_EQ(served.body, "/b");
    EXPECT_EQ(served.conn.id, 1u);  // The first connection made.
    EXPECT_FALSE(served.conn.reused);
    EXPECT_FALSE(served.conn.was_idle);
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.dials, 2u) << stats.ToString();
    EXPECT_EQ(stats.dial_failures, 1u);
    EXPECT_EQ(stats.waiting_for_slot, 0);
    EXPECT_EQ(stats.dials_in_flight, 0);
    EXPECT_EQ(stats.live_connections, 1);
    EXPECT_EQ(gauge.max_open(), 1);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_THAT(ServerLog(server), ElementsAre(Pair(1, "/b")));
}

// With one slot: "/0" holds the connection (the server answers it when the
// test opens its gate) while "/a", "/b" and "/c" queue, in that order; "/b"
// is then cancelled. "/a" then "/c" must be served, in that order, and "/b"
// never dialled for nor sent. With `close_each`, every response says
// "Connection: close": each close passes the one slot to the oldest
// request still waiting, which dials (HostSlots' queue). Without, the
// connection turns idle and goes to the oldest waiting request instead
// (the idle pool's queue).
void ExpectFifo(bool close_each) {
  absl::Notification zero_arrived;
  TestServer server([&](PeerConn& conn) {
    for (;;) {
      absl::StatusOr<SeenRequest> request = conn.ReadRequest();
      if (!request.ok()) return;
      if (request->target == "/0") {
        zero_arrived.Notify();
        if (!conn.AwaitGate("/0")) return;
      }
      if (!conn.Write(OkResponse(request->target, close_each ? "Connection: close\r\n" : ""))
               .ok()) {
        return;
      }
      if (close_each) {
        conn.AwaitClientClose(kNoHang);
        return;
      }
    }
  });
  SocketGauge gauge;
  RecordingDialer dialer(gauge.Wrap(DialTcp));
  SlotQueueWatch watch;  // Outlives the Transport's threads.
  {
    TransportOptions options = TestOptions(dialer);
    options.max_conns_per_host = 1;
    options.test_hook = watch.Hook();
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    Call zero(transport, GetWithin(server.Url("/0")));
    ASSERT_TRUE(zero_arrived.WaitForNotificationWithTimeout(kNoHang));
    Call a(transport, GetWithin(server.Url("/a")));
    ASSERT_TRUE(AwaitWaitingForSlot(watch, transport, 1, 1));
    CancelHandle cancel_b;
    Request request_b = GetWithin(server.Url("/b"));
    request_b.cancel = cancel_b;
    Call b(transport, std::move(request_b));
    ASSERT_TRUE(AwaitWaitingForSlot(watch, transport, 2, 2));
    Call c(transport, GetWithin(server.Url("/c")));
    ASSERT_TRUE(AwaitWaitingForSlot(watch, transport, 3, 3));
    EXPECT_EQ(transport.Stats().dials, 1u);

    cancel_b.Cancel();
    const Outcome& cancelled = b.Join();
    EXPECT_TRUE(absl::IsCancelled(cancelled.status)) << cancelled.status;
    EXPECT_THAT(cancelled.status.message(),
                HasSubstr("while waiting for a connection slot (MaxConnsPerHost)"));
    EXPECT_EQ(transport.Stats().waiting_for_slot, 2);

    server.OpenGate("/0");
    const std::vector<std::pair<const char*, Call*>> served = {
        {"/0", &zero}, {"/a", &a}, {"/c", &c}};
    for (size_t i = 0; i < served.size(); ++i) {
      SCOPED_TRACE(served[i].first);
      const Outcome& outcome = served[i].second->Join();
      ASSERT_TRUE(outcome.status.ok()) << outcome.status;
      EXPECT_EQ(outcome.body, served[i].first);
      EXPECT_EQ(outcome.conn.id, close_each ? i + 1 : 1u);
      EXPECT_EQ(outcome.conn.reused, !close_each && i > 0);
      EXPECT_EQ(outcome.conn.was_idle, !close_each && i > 0);
    }
    if (close_each) ASSERT_TRUE(dialer.AwaitOpenAtMost(0));
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.dials, close_each ? 3u : 1u) << stats.ToString();
    EXPECT_EQ(stats.dial_failures, 0u);
    EXPECT_EQ(stats.reuses, close_each ? 0u : 2u);
    EXPECT_EQ(stats.closed_by(CloseCause::kNotReusable), close_each ? 3u : 0u);
    EXPECT_EQ(stats.live_connections, close_each ? 0 : 1);
    EXPECT_EQ(stats.waiting_for_slot, 0);
    EXPECT_EQ(stats.dials_in_flight, 0);
    EXPECT_EQ(gauge.max_open(), 1);
  }
  ExpectNothingLeaked(dialer);
  const int second = close_each ? 2 : 1;
  const int third = close_each ? 3 : 1;
  EXPECT_THAT(ServerLog(server), ElementsAre(Pair(1, "/0"), Pair(second, "/a"), Pair(third, "/c")));
}

TEST(ConnsPerHostTest, TestTransportMaxConnsPerHostFifoWhenConnectionsClose) { ExpectFifo(true); }

TEST(ConnsPerHostTest, TestTransportMaxConnsPerHostFifoWhenConnectionsTurnIdle) {
  ExpectFifo(false);
}

// --- Late binding ----------------------------------------------------------

// Answers "/b" with the first of its two body bytes, and the second once
// gate "finish /b" opens; every other request with its target.
void LateBindingScript(PeerConn& conn) {
  for (;;) {
    absl::StatusOr<SeenRequest> request = conn.ReadRequest();
    if (!request.ok()) return;
    if (request->target == "/b") {
      if (!conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nb").ok()) return;
      if (!conn.AwaitGate("finish /b")) return;
      if (!conn.Write("b").ok()) return;
    } else if (!conn.Write(OkResponse(request->target)).ok()) {
      return;
    }
  }
}

// Go's TestTransportSocketLateBinding, up to its turning point: request B
// holds connection 1 (its body is still arriving) while request A's dial,
// the second, is held back; B's end makes connection 1 idle, and A must
// take it then, with its own dial still held.
void ServeByLateBinding(Transport& transport, TestServer& server, HeldDial& held) {
  absl::StatusOr<Response> b = transport.RoundTrip(Get(server.Url("/b")));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->conn.id, 1u);
  Call a(transport, GetWithin(server.Url("/a")));
  ASSERT_TRUE(held.AwaitStarted());
  const TransportStats dialling = transport.Stats();
  EXPECT_EQ(dialling.dials, 2u) << dialling.ToString();
  EXPECT_EQ(dialling.dials_in_flight, 1);
  EXPECT_EQ(dialling.live_connections, 1);
  server.OpenGate("finish /b");
  EXPECT_EQ(ReadBody(*b), "bb");
  const Outcome& served = a.Join();
  ASSERT_TRUE(served.status.ok()) << served.status;
  EXPECT_EQ(served.body, "/a");
  EXPECT_EQ(served.conn.id, 1u);
  EXPECT_TRUE(served.conn.was_idle);
  EXPECT_TRUE(served.conn.reused);
  EXPECT_EQ(transport.Stats().dials_in_flight, 1);  // Its own dial is still held.
  // Settles connection 1's reuse decision (pending if its writer's report
  // lags), so that it is idle before connection 2 arrives.
  EXPECT_EQ(transport.IdleConnectionCount(), 1);
}

// The connection dialled for A arrives after A was served: it goes to the
// idle pool, and the next request takes it (most recently used), fresh.
TEST(ConnsPerHostTest, TestTransportSocketLateBinding) {
  TestServer server(LateBindingScript);
  HeldDial held(2);
  RecordingDialer dialer(held.Wrap(DialTcp));
  absl::Notification second_started;
  HookTable hooks;
  hooks.On(HookPoint::kConnectionStarted, 2, 0, [&] { second_started.Notify(); });
  {
    TransportOptions options = TestOptions(dialer);
    options.max_idle_conns_per_host = 2;
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    ASSERT_NO_FATAL_FAILURE(ServeByLateBinding(transport, server, held));
    held.Release();
    ASSERT_TRUE(second_started.WaitForNotificationWithTimeout(kNoHang));
    // Connection 2's threads are registered; its dial thread exits once the
    // connection is pooled: two connections' readers and writers remain.
    ExpectLiveThreadsAtMost(4);
    EXPECT_EQ(transport.IdleConnectionCount(), 2);
    const TransportStats pooled = transport.Stats();
    EXPECT_EQ(pooled.dials, 2u) << pooled.ToString();
    EXPECT_EQ(pooled.dials_in_flight, 0);
    EXPECT_EQ(pooled.live_connections, 2);
    EXPECT_EQ(pooled.live_threads, 4);
    EXPECT_EQ(pooled.reuses, 1u);
    for (int cause = 0; cause < kCloseCauses; ++cause) EXPECT_EQ(pooled.closed[cause], 0u);

    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.body, "/next");
    EXPECT_EQ(next.conn.id, 2u);
    EXPECT_TRUE(next.conn.was_idle);
    EXPECT_FALSE(next.conn.reused);
    EXPECT_EQ(dialer.dials(), 2);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_THAT(ServerLog(server), ElementsAre(Pair(1, "/b"), Pair(1, "/a"), Pair(2, "/next")));
}

// As above with room for one idle connection per host: connection 1 is
// there when connection 2 arrives, which is closed (kPoolFull).
TEST(ConnsPerHostTest, TestTransportSocketLateBindingIntoAFullPool) {
  TestServer server(LateBindingScript);
  HeldDial held(2);
  RecordingDialer dialer(held.Wrap(DialTcp));
  absl::Notification second_started;
  HookTable hooks;
  hooks.On(HookPoint::kConnectionStarted, 2, 0, [&] { second_started.Notify(); });
  {
    TransportOptions options = TestOptions(dialer);
    options.max_idle_conns_per_host = 1;
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    ASSERT_NO_FATAL_FAILURE(ServeByLateBinding(transport, server, held));
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    held.Release();
    ASSERT_TRUE(second_started.WaitForNotificationWithTimeout(kNoHang));
    // The dial thread and connection 2's threads exit.
    ExpectLiveThreadsAtMost(2);
    EXPECT_TRUE(dialer.AwaitOpenAtMost(1));
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.closed_by(CloseCause::kPoolFull), 1u) << stats.ToString();
    EXPECT_EQ(stats.dials, 2u);
    EXPECT_EQ(stats.dials_in_flight, 0);
    EXPECT_EQ(stats.live_connections, 1);

    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.body, "/next");
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.reused);
    EXPECT_EQ(dialer.dials(), 2);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_THAT(ServerLog(server), ElementsAre(Pair(1, "/b"), Pair(1, "/a"), Pair(1, "/next")));
}

// A connection that served a request by late binding releases its socket
// when it closes and its threads exit, like any other, even while the dial
// made for that request is still held (a slow dial may last as long as the
// dial timeout, or without one, for ever).
//
// Fails at the time of writing: ConnWaiter keeps the connection that served
// it (Await copies conn_ out), and the dial thread holds the ConnWaiter
// until its dial ends, so the closed connection, its socket descriptor and
// buffers live on until then.
TEST(ConnsPerHostTest, TestTransportSocketLateBindingReleasesAClosedConnectionWhileItsDialIsHeld) {
  TestServer server(LateBindingScript);
  HeldDial held(2);
  RecordingDialer dialer(held.Wrap(DialTcp));
  absl::Notification second_started;
  HookTable hooks;
  hooks.On(HookPoint::kConnectionStarted, 2, 0, [&] { second_started.Notify(); });
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    ASSERT_NO_FATAL_FAILURE(ServeByLateBinding(transport, server, held));
    transport.CloseIdleConnections();  // Connection 1 closes.
    ExpectLiveThreadsAtMost(1);        // Only the held dial's thread remains.
    const TransportStats closed = transport.Stats();
    EXPECT_EQ(closed.closed_by(CloseCause::kTransportClosed), 1u) << closed.ToString();
    EXPECT_EQ(closed.live_connections, 0);
    EXPECT_EQ(closed.dials_in_flight, 1);
    EXPECT_TRUE(dialer.AwaitOpenAtMost(0))
        << "connection 1 closed, its threads exited, but its socket is still open";
    held.Release();
    ASSERT_TRUE(second_started.WaitForNotificationWithTimeout(kNoHang));
    ExpectLiveThreadsAtMost(2);  // Connection 2, pooled.
    EXPECT_TRUE(dialer.AwaitOpenAtMost(1));
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
  }
  ExpectNothingLeaked(dialer);
}

// --- Leaks -------------------------------------------------------------------

// Go's TestTransportPersistConnLeak: 25 requests at once, each on its own
// connection (the server answers none before all have arrived). The pool
// keeps two; CloseIdleConnections closes those; then no thread, socket or
// live connection remains.
TEST(ConnsPerHostTest, TestTransportPersistConnLeak) {
  constexpr int kRequests = 25;
  Arrivals arrived;
  TestServer server([&](PeerConn& conn) {
    while (conn.ReadRequest().ok()) {
      arrived.Arrived();
      if (!arrived.AwaitAtLeast(kRequests)) return;
      if (!conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok()) return;
    }
  });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.max_idle_conns_per_host = 2;
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    {
      std::vector<std::unique_ptr<Call>> calls;
      for (int i = 0; i < kRequests; ++i) {
        calls.push_back(
            std::make_unique<Call>(transport, GetWithin(server.Url(absl::StrCat("/", i)))));
      }
      for (auto& call : calls) {
        const Outcome& outcome = call->Join();
        EXPECT_TRUE(outcome.status.ok()) << outcome.status;
        EXPECT_EQ(outcome.body, "");
        EXPECT_FALSE(outcome.conn.reused);
      }
    }
    EXPECT_EQ(dialer.dials(), kRequests);
    EXPECT_EQ(server.connections_accepted(), kRequests);
    EXPECT_EQ(transport.IdleConnectionCount(), 2);
    ExpectLiveThreadsAtMost(4);  // The two idle connections' readers and writers.
    EXPECT_TRUE(dialer.AwaitOpenAtMost(2));
    const TransportStats kept = transport.Stats();
    EXPECT_EQ(kept.dials, static_cast<uint64_t>(kRequests)) << kept.ToString();
    EXPECT_EQ(kept.closed_by(CloseCause::kPoolFull), static_cast<uint64_t>(kRequests - 2));
    EXPECT_EQ(kept.live_connections, 2);
    EXPECT_EQ(kept.live_threads, 4);
    EXPECT_EQ(kept.waiting_for_slot, 0);
    EXPECT_EQ(kept.dials_in_flight, 0);

    transport.CloseIdleConnections();
    ASSERT_TRUE(ThreadRegistry::Global().WaitForAtMost(0, kLeakWait))
        << ::testing::PrintToString(ThreadRegistry::Global().LiveThreads());
    EXPECT_TRUE(dialer.AwaitOpenAtMost(0));
    const TransportStats closed = transport.Stats();
    EXPECT_EQ(closed.live_connections, 0) << closed.ToString();
    EXPECT_EQ(closed.live_threads, 0);
    EXPECT_EQ(closed.closed_by(CloseCause::kTransportClosed), 2u);
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
  }
  ExpectNothingLeaked(dialer);
}

// --- Idle timeout --------------------------------------------------------------

// Go's TestTransportIdleConnTimeout: an idle connection closes by itself
// once the timeout passes; the next request dials anew.
TEST(ConnsPerHostTest, TestTransportIdleConnTimeout) {
  TestServer server(AnswerTargets);
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.idle_conn_timeout = absl::Milliseconds(50);
    Transport transport(options);
    const Fetched first = Fetch(transport, server.Url("/1"));
    EXPECT_EQ(first.body, "/1");
    EXPECT_EQ(first.conn.id, 1u);
    EXPECT_TRUE(dialer.AwaitOpenAtMost(0));  // Closed by the idle timeout.
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
    const TransportStats timed_out = transport.Stats();
    EXPECT_EQ(timed_out.closed_by(CloseCause::kTimeout), 1u) << timed_out.ToString();
    EXPECT_EQ(timed_out.live_connections, 0);
    const Fetched second = Fetch(transport, server.Url("/2"));
    EXPECT_EQ(second.body, "/2");
    EXPECT_EQ(second.conn.id, 2u);
    EXPECT_FALSE(second.conn.reused);
    EXPECT_FALSE(second.conn.was_idle);
    EXPECT_EQ(transport.Stats().dials, 2u);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_THAT(ServerLog(server), ElementsAre(Pair(1, "/1"), Pair(2, "/2")));
}

// The late-binding scenario with a short idle timeout: connection 2,
// dialled for A but parked fresh in the pool, gets the idle timeout there
// and closes by itself, as connection 1 does.
TEST(ConnsPerHostTest, TestTransportIdleConnTimeoutOfALateBoundConnection) {
  TestServer server(LateBindingScript);
  HeldDial held(2);
  RecordingDialer dialer(held.Wrap(DialTcp));
  absl::Notification second_started;
  absl::Notification a_handed_over;
  HookTable hooks;
  hooks.On(HookPoint::kConnectionStarted, 2, 0, [&] { second_started.Notify(); });
  // Connection 1's idle wait after B's response must not begin before A's
  // request is on it: else a slow caller could lose it to the idle timer,
  // and A would be retried elsewhere. (Not what this test is about.)
  hooks.On(HookPoint::kReaderBeforeNextRead, 1, 1,
           [&] { a_handed_over.WaitForNotificationWithTimeout(kNoHang); });
  hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] { a_handed_over.Notify(); });
  {
    TransportOptions options = TestOptions(dialer);
    options.idle_conn_timeout = absl::Milliseconds(50);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    ASSERT_NO_FATAL_FAILURE(ServeByLateBinding(transport, server, held));
    // Connection 1 times out first: its reader and writer exit, and only the
    // held dial's thread remains. (Its socket is released only once that
    // dial ends: see ...ReleasesAClosedConnectionWhileItsDialIsHeld.)
    ExpectLiveThreadsAtMost(1);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kTimeout), 1u);
    EXPECT_EQ(transport.Stats().live_connections, 0);
    held.Release();
    ASSERT_TRUE(second_started.WaitForNotificationWithTimeout(kNoHang));
    // Connection 2's threads are registered, so this waits for its close.
    ExpectLiveThreadsAtMost(0);
    EXPECT_TRUE(dialer.AwaitOpenAtMost(0));
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.closed_by(CloseCause::kTimeout), 2u) << stats.ToString();
    EXPECT_EQ(stats.dials, 2u);
    EXPECT_EQ(stats.dials_in_flight, 0);
    EXPECT_EQ(stats.live_connections, 0);
    EXPECT_EQ(stats.live_threads, 0);

    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.body, "/next");
    EXPECT_EQ(next.conn.id, 3u);
    EXPECT_FALSE(next.conn.was_idle);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_THAT(ServerLog(server), ElementsAre(Pair(1, "/b"), Pair(1, "/a"), Pair(3, "/next")));
}

// --- MaxIdleConns --------------------------------------------------------------

// Go's TestTransportMaxIdleConns, with three hosts and room for two idle
// connections: the least recently used idle connection is evicted (not the
// oldest: a reused connection counts from its last use).
TEST(ConnsPerHostTest, TestTransportMaxIdleConns) {
  TestServer a(AnswerEvery(OkResponse("a")));
  TestServer b(AnswerEvery(OkResponse("b")));
  TestServer c(AnswerEvery(OkResponse("c")));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.max_idle_conns = 2;
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    const auto fetch = [&](const TestServer& server, const std::string& body, uint64_t id,
                           bool reused) {
      SCOPED_TRACE(absl::StrCat(body, " on connection ", id));
      const Fetched fetched = Fetch(transport, server.Url("/"));
      // Waits out a pending reuse decision (a response that came during the
      // writer's only write): a pending connection is never evicted, so the
      // eviction order would depend on the writer's timing.
      transport.IdleConnectionCount();
      EXPECT_EQ(fetched.body, body);
      EXPECT_EQ(fetched.conn.id, id);
      EXPECT_EQ(fetched.conn.reused, reused);
    };
    fetch(a, "a", 1, false);
    fetch(b, "b", 2, false);
    fetch(c, "c", 3, false);  // Evicts a's connection: idle are b (2), c (3).
    EXPECT_EQ(transport.IdleConnectionCount(), 2);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kPoolFull), 1u);
    EXPECT_TRUE(dialer.AwaitOpenAtMost(2));

    fetch(b, "b", 2, true);   // Idle, least recently used first: c (3), b (2).
    fetch(a, "a", 4, false);  // Evicts c's connection, though b's is older.
    EXPECT_EQ(transport.IdleConnectionCount(), 2);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kPoolFull), 2u);
    EXPECT_TRUE(dialer.AwaitOpenAtMost(2));
    fetch(b, "b", 2, true);   // b's survived: idle are a (4), b (2).
    fetch(c, "c", 5, false);  // c's did not; evicts a's (4).
    EXPECT_EQ(transport.IdleConnectionCount(), 2);
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.closed_by(CloseCause::kPoolFull), 3u) << stats.ToString();
    EXPECT_EQ(stats.dials, 5u);
    EXPECT_EQ(stats.reuses, 2u);
    EXPECT_TRUE(dialer.AwaitOpenAtMost(2));
    EXPECT_EQ(transport.Stats().live_connections, 2);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(a.connections_accepted(), 2);
  EXPECT_EQ(b.connections_accepted(), 1);
  EXPECT_EQ(c.connections_accepted(), 2);
}

// --- Stats -------------------------------------------------------------------

// Every figure of Stats() after a known sequence: three requests on one
// connection, a fourth that the server drops unanswered (retried on a new
// connection), an early response, a fresh connection reused once, and a
// dial that fails. Zero pending when idle.
TEST(ConnsPerHostTest, StatsCountWhatThePoolDid) {
  constexpr uint64_t kUploadSize = 64 * 1024;
  auto upload = std::make_shared<HeldBackBody::State>();
  TestServer server([&](PeerConn& conn) {
    if (conn.index() == 1) {
      for (int i = 0; i < 3; ++i) {
        absl::StatusOr<SeenRequest> request = conn.ReadRequest();
        if (!request.ok()) return;
        if (!conn.Write(OkResponse(request->target)).ok()) return;
      }
      conn.ReadRequest().IgnoreError();  // "/4": dropped unanswered.
      return;
    }
    if (conn.index() == 2) {
      absl::StatusOr<SeenRequest> retried = conn.ReadRequest();
      if (!retried.ok()) return;
      if (!conn.Write(OkResponse(retried->target)).ok()) return;
      if (!conn.ReadRequestHead().ok()) return;  // The POST; its body is not read.
      upload->last_byte_requested.WaitForNotification();
      if (!conn.Write(OkResponse("early")).ok()) return;
      conn.DiscardUntilEof();
      return;
    }
    AnswerTargets(conn);
  });
  RecordingDialer dialer(
      [](const std::string& host, uint16_t port,
         const DialContext& context) -> absl::StatusOr<std::unique_ptr<NetConn>> {
        if (host == "refused.test")
          return absl::UnavailableError("refused.test refused by the test");
        return DialTcp(host, port, context);
      });
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    const TransportStats fresh = transport.Stats();
    EXPECT_EQ(fresh.ToString(), TransportStats().ToString());

    for (int i = 1; i <= 3; ++i) {
      const Fetched fetched = Fetch(transport, server.Url(absl::StrCat("/", i)));
      EXPECT_EQ(fetched.conn.id, 1u);
    }
    const Fetched retried = Fetch(transport, server.Url("/4"));
    EXPECT_EQ(retried.body, "/4");
    EXPECT_EQ(retried.conn.id, 2u);
    EXPECT_FALSE(retried.conn.reused);

    Request post;
    post.method = "POST";
    post.url = server.Url("/5");
    post.content_length = kUploadSize;
    post.body = HeldBackBody::Make(kUploadSize, upload);
    absl::StatusOr<Response> early = transport.RoundTrip(std::move(post));
    ASSERT_TRUE(early.ok()) << early.status();
    EXPECT_EQ(ReadBody(*early), "early");
    EXPECT_EQ(early->conn.id, 2u);
    EXPECT_TRUE(early->conn.reused);
    upload->release.Notify();
    ASSERT_TRUE(upload->destroyed.WaitForNotificationWithTimeout(kNoHang));

    EXPECT_EQ(Fetch(transport, server.Url("/6")).conn.id, 3u);
    const Fetched reused = Fetch(transport, server.Url("/7"));
    EXPECT_EQ(reused.conn.id, 3u);
    EXPECT_TRUE(reused.conn.reused);

    absl::StatusOr<Response> refused = transport.RoundTrip(Get("http://refused.test/"));
    EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();

    // Connections 1 and 2 are gone; their threads and the dial threads too.
    EXPECT_TRUE(dialer.AwaitOpenAtMost(1));
    ExpectLiveThreadsAtMost(2);
    const TransportStats stats = transport.Stats();
    SCOPED_TRACE(stats.ToString());
    EXPECT_EQ(stats.dials, 4u);
    EXPECT_EQ(stats.dial_failures, 1u);
    EXPECT_EQ(stats.reuses, 5u);  // "/2", "/3", "/4" (first try), the POST, "/7".
    EXPECT_EQ(stats.retries, 1u);
    EXPECT_EQ(stats.closed_by(CloseCause::kPeerClosed), 1u);
    EXPECT_EQ(stats.closed_by(CloseCause::kEarlyResponse), 1u);
    uint64_t closes = 0;
    for (uint64_t n : stats.closed) closes += n;
    EXPECT_EQ(closes, 2u);
    EXPECT_EQ(stats.waiting_for_slot, 0);
    EXPECT_EQ(stats.dials_in_flight, 0);
    EXPECT_EQ(stats.live_connections, 1);
    EXPECT_EQ(stats.live_threads, 2);

    transport.CloseIdleConnections();
    ExpectLiveThreadsAtMost(0);
    const TransportStats closed = transport.Stats();
    EXPECT_EQ(closed.closed_by(CloseCause::kTransportClosed), 1u) << closed.ToString();
    EXPECT_EQ(closed.live_connections, 0);
    EXPECT_EQ(closed.live_threads, 0);
    EXPECT_EQ(closed.waiting_for_slot, 0);
    EXPECT_EQ(closed.dials_in_flight, 0);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_THAT(ServerLog(server),
              ElementsAre(Pair(1, "/1"), Pair(1, "/2"), Pair(1, "/3"), Pair(1, "/4"), Pair(2, "/4"),
                          Pair(2, "/5"), Pair(3, "/6"), Pair(3, "/7")));
}

}  // namespace
}  // namespace h1
