// Cancelling a request (Request::cancel) and its deadline (Request::deadline)
// in every phase, after Go's TestTransportCancelRequest,
// TestCancelRequestWhenSharingConnection and TestTransportDialCancelRace;
// the dial timeout with the real DialTcp; and what a cancel must never do:
// close a connection that serves another request, or send a request again.
//
// Each phase is forced, not hoped for: a dial hook that holds the dial, a
// MaxConnsPerHost slot held by a busy connection, a body source whose Read
// blocks, a server that has the request and does not answer, a server that
// sends half a body. The cancel fires from another thread only once the
// request is known to be in that phase (a test hook, the dial hook, a
// server-side event). No test sleeps to synchronise; the deadline tests wait
// for their deadlines, which is what they are about.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
#include "transport/thread_registry.h"
#include "transport/transport.h"

namespace h1 {
namespace {

using ::h1::testing::ExpectLiveThreadsAtMost;
using ::h1::testing::ExpectNothingLeaked;
using ::h1::testing::FakeConn;
using ::h1::testing::Fetch;
using ::h1::testing::Fetched;
using ::h1::testing::HeldBackBody;
using ::h1::testing::HookTable;
using ::h1::testing::kLeakWait;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testserver::AnswerEvery;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::SeenRequest;
using ::h1::testserver::TestServer;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------
// Helpers.

// Named events a server script reached ("arrived /stall", "closed /stall"),
// counted, for a test to wait on. Thread-safe.
class Events {
 public:
  void Note(const std::string& name) {
    absl::MutexLock lock(&mu_);
    ++counts_[name];
  }
  // Waits until `name` was noted `times` times; false after kLeakWait.
  bool Await(const std::string& name, int times = 1) const {
    absl::MutexLock lock(&mu_);
    const auto reached = [this, &name, times]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      const auto it = counts_.find(name);
      return it != counts_.end() && it->second >= times;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kLeakWait);
  }
  int Count(const std::string& name) const {
    absl::MutexLock lock(&mu_);
    const auto it = counts_.find(name);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
};

constexpr size_t kBigBody = 100000;  // More than the client's read buffer: streamed.

// What the routed server answers to `target`: the target itself, padded with
// '.' to kBigBody bytes for /big/..., so that a response can only be its
// own request's.
std::string ExpectedBody(const std::string& target) {
  std::string body = target;
  if (absl::StartsWith(target, "/big/")) body.resize(kBigBody, '.');
  return body;
}

// A keep-alive server whose behaviour each request's target chooses:
//   /upload...   notes "arrived", reads the body; if the client closes
//                before its end, notes "closed" and ends the connection;
//   /expect      (Expect: 100-continue) notes "arrived", never answers nor
//                reads the body; notes "closed" when the client closes;
//   /stall       notes "arrived" once the request is read, never answers;
//                notes "closed" when the client closes;
//   /partial     answers a head with Content-Length 10 and 5 body bytes,
//                then waits; notes "closed" when the client closes;
//   /drop        closes the connection without a response byte;
//   /gate/NAME   waits for gate NAME, then answers as below;
//   anything     answers 200 with ExpectedBody(target).
TestServer::Script Routed(Events& events) {
  return [&events](PeerConn& conn) {
    for (;;) {
      absl::StatusOr<wire::RequestHead> head = conn.ReadRequestHead();
      if (!head.ok()) return;
      const std::string target = head->target;
      if (absl::StartsWith(target, "/upload")) {
        events.Note("arrived " + target);
        const absl::StatusOr<uint64_t> skipped = conn.SkipBody();
        if (!skipped.ok() || !conn.body_done()) {
          events.Note("closed " + target);
          return;
        }
        if (!conn.Write(OkResponse("uploaded")).ok()) return;
        continue;
      }
      if (target == "/expect") {
        events.Note("arrived " + target);
        if (conn.AwaitClientClose(kLeakWait)) events.Note("closed " + target);
        return;
      }
      if (!conn.SkipBody().ok()) return;
      events.Note("arrived " + target);
      if (target == "/stall") {
        if (conn.AwaitClientClose(kLeakWait)) events.Note("closed " + target);
        return;
      }
      if (target == "/partial") {
        if (!conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello").ok()) return;
        if (conn.AwaitClientClose(kLeakWait)) events.Note("closed " + target);
        return;
      }
      if (target == "/drop") return;
      if (absl::StartsWith(target, "/gate/") && !conn.AwaitGate(target.substr(6))) return;
      if (!conn.Write(OkResponse(ExpectedBody(target))).ok()) return;
    }
  };
}

Request WithCancel(Request request, const CancelHandle& cancel) {
  request.cancel = cancel;
  return request;
}

Request WithDeadline(Request request, absl::Time deadline) {
  request.deadline = deadline;
  return request;
}

Request HeldBackPost(const std::string& url, uint64_t size,
                     std::shared_ptr<HeldBackBody::State> state) {
  Request post;
  post.method = "POST";
  post.url = url;
  post.content_length = size;
  post.body = HeldBackBody::Make(size, std::move(state));
  return post;
}

// A request's end: RoundTrip's error, or the body's read error, or the body.
struct Outcome {
  absl::Status status;
  std::string body;
  ConnInfo conn;
};

Outcome Perform(Transport& transport, Request request) {
  absl::StatusOr<Response> response = transport.RoundTrip(std::move(request));
  if (!response.ok()) return {response.status(), "", {}};
  Outcome outcome{absl::OkStatus(), "", response->conn};
  absl::StatusOr<std::string> body = response->body->ReadAll();
  if (body.ok()) {
    outcome.body = *std::move(body);
  } else {
    outcome.status = body.status();
  }
  return outcome;
}

// Performs a request on its own thread.
class Async {
 public:
  Async(Transport& transport, Request request)
      : thread_([this, &transport, request = std::move(request)]() mutable {
          outcome_ = Perform(transport, std::move(request));
          done_.Notify();
        }) {}
  ~Async() {
    if (thread_.joinable()) thread_.join();
  }
  bool AwaitDone(absl::Duration timeout) { return done_.WaitForNotificationWithTimeout(timeout); }
  const Outcome& Join() {
    if (thread_.joinable()) thread_.join();
    return outcome_;
  }

 private:
  Outcome outcome_;
  absl::Notification done_;
  std::thread thread_;
};

// Joins `request`, which must end within kLeakWait; if it does not, fails
// and runs `unblock` first, so that the test ends instead of hanging.
const Outcome& JoinPromptly(Async& request, const std::function<void()>& unblock) {
  if (!request.AwaitDone(kLeakWait)) {
    ADD_FAILURE() << "the request did not end within " << kLeakWait;
    unblock();
  }
  return request.Join();
}

// Cancels `cancel` `times` times on a new thread once `ready` returns (true,
// or false after its own timeout: then the test fails and cancels anyway, so
// that nothing hangs).
std::thread CancelWhen(std::function<bool()> ready, CancelHandle cancel, int times = 1) {
  return std::thread([ready = std::move(ready), cancel, times] {
    if (!ready()) ADD_FAILURE() << "the request never reached the phase; cancelling anyway";
    for (int i = 0; i < times; ++i) cancel.Cancel();
  });
}

std::function<bool()> Reached(absl::Notification& n) {
  return [&n] { return n.WaitForNotificationWithTimeout(kLeakWait); };
}

// Cancels `cancel` from another thread while the thread that reaches
// `point` (connection 1, request `seq`) is parked there; that thread goes on
// once Cancel has returned. Join before the hooks or the handle go away.
class CancelWhileParked {
 public:
  CancelWhileParked(HookTable& hooks, HookPoint point, uint64_t seq, CancelHandle cancel) {
    hooks.On(point, 1, seq, [this] {
      parked_.Notify();
      EXPECT_TRUE(cancelled_.WaitForNotificationWithTimeout(kLeakWait));
    });
    canceller_ = std::thread([this, cancel] {
      EXPECT_TRUE(parked_.WaitForNotificationWithTimeout(kLeakWait));
      cancel.Cancel();
      cancelled_.Notify();
    });
  }
  void Join() { canceller_.join(); }

 private:
  absl::Notification parked_;
  absl::Notification cancelled_;
  std::thread canceller_;
};

// Runs `f` when destroyed: releases what a failed assertion would leave
// blocked (a dial, a body source) before the objects it uses go away.
class Finally {
 public:
  explicit Finally(std::function<void()> f) : f_(std::move(f)) {}
  ~Finally() { f_(); }

 private:
  std::function<void()> f_;
};

// Waits until the connection thread `name` (e.g. "h1-dial-1") has exited;
// false after kLeakWait.
bool AwaitThreadGone(const std::string& name) {
  return ThreadRegistry::Global().WaitForNoneNamed(name, kLeakWait);
}

// Waits until no dial thread is alive; false after kLeakWait.
bool AwaitNoDialThreads() {
  return ThreadRegistry::Global().WaitForNoneNamed("h1-dial-", kLeakWait);
}

void NotifyOnce(absl::Notification& n) {
  if (!n.HasBeenNotified()) n.Notify();
}

std::string HostPort(const TestServer& server) { return absl::StrCat("127.0.0.1:", server.port()); }

// A Dial hook that holds the `hold`th dial to `port` (after recording its
// context) until Release(); other dials go straight to DialTcp. How the held
// dial treats its context:
//   kHonourContext: held, whatever happens, until Release(); then it fails
//     if its context was cancelled, as DialTcp would, and dials otherwise;
//   kIgnoreContext: held until Release(); then it dials regardless, as a
//     dial that cannot be interrupted;
//   kUntilCancelled: held until Release() or its context is cancelled; then
//     as kHonourContext.
class HeldDial {
 public:
  enum class Mode { kHonourContext, kIgnoreContext, kUntilCancelled };
  explicit HeldDial(Mode mode = Mode::kHonourContext, int hold = 1) : mode_(mode), hold_(hold) {}
  // Lets a held dial go, and waits for it to leave the hook, which uses
  // this object.
  ~HeldDial() {
    Release();
    if (entered.HasBeenNotified()) returned.WaitForNotificationWithTimeout(kLeakWait);
  }

  DialFunction Function(uint16_t port) {
    return [this, port](const std::string& host, uint16_t p,
                        const DialContext& context) -> absl::StatusOr<std::unique_ptr<NetConn>> {
      if (p != port || ++dials_to_port_ != hold_) return DialTcp(host, p, context);
      CancelHandle::Registration wake;
      if (mode_ == Mode::kUntilCancelled) {
        wake = context.cancel.OnCancel([this] {
          absl::MutexLock lock(&mu_);
          context_cancelled_ = true;
        });
      }
      {
        absl::MutexLock lock(&mu_);
        context_ = context;
      }
      entered.Notify();
      {
        absl::MutexLock lock(&mu_);
        const auto go = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return released_ || context_cancelled_;
        };
        if (!mu_.AwaitWithTimeout(absl::Condition(&go), kLeakWait)) {
          ADD_FAILURE() << "the held dial was never released";
        }
      }
      wake.Reset();
      absl::StatusOr<std::unique_ptr<NetConn>> conn =
          mode_ == Mode::kIgnoreContext ? DialTcp(host, p, DialContext{})
          : context.cancel.IsCancelled()
              ? absl::StatusOr<std::unique_ptr<NetConn>>(absl::CancelledError("dial cancelled"))
              : DialTcp(host, p, context);
      returned.Notify();
      return conn;
    };
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  DialContext context() const {
    absl::MutexLock lock(&mu_);
    return context_.value_or(DialContext{});
  }

  absl::Notification entered;
  absl::Notification returned;

 private:
  const Mode mode_;
  const int hold_;
  std::atomic<int> dials_to_port_{0};
  mutable absl::Mutex mu_;
  std::optional<DialContext> context_ ABSL_GUARDED_BY(mu_);
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  bool context_cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// ---------------------------------------------------------------------------
// TestTransportCancelRequest, phase by phase.

TEST(CancelTest, CancelBeforeRoundTripSendsNothing) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/warm")).conn.id, 1u);
    CancelHandle cancel;
    cancel.Cancel();
    const Outcome cancelled = Perform(transport, WithCancel(Get(server.Url("/x")), cancel));
    EXPECT_TRUE(absl::IsCancelled(cancelled.status)) << cancelled.status;
    EXPECT_EQ(cancelled.status.message(), "request cancelled before it was sent");
    // The idle connection was not touched.
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.reused);
    EXPECT_EQ(dialer.dials(), 1);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 0u);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(events.Count("arrived /x"), 0);
}

// MaxConnsPerHost = 1 and its one connection busy: two requests queue for
// the slot. Cancelling the first ends only its wait; the second gets the
// connection when it turns idle. Nothing is closed or dialled.
TEST(CancelTest, CancelWhileWaitingForASlot) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  Events queued_for_slot;
  HookTable hooks;
  hooks.On(HookPoint::kQueuedForSlot, 0, 0, [&] { queued_for_slot.Note("queued"); });
  {
    TransportOptions options = TestOptions(dialer);
    options.max_conns_per_host = 1;
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    Async busy(transport, Get(server.Url("/gate/busy")));
    ASSERT_TRUE(events.Await("arrived /gate/busy"));
    CancelHandle cancel;
    Async cancelled(transport, WithCancel(Get(server.Url("/x")), cancel));
    Async queued(transport, Get(server.Url("/queued")));
    ASSERT_TRUE(queued_for_slot.Await("queued", 2));  // Both wait for the slot.
    EXPECT_EQ(transport.Stats().waiting_for_slot, 2);
    cancel.Cancel();
    const Outcome& x = JoinPromptly(cancelled, [&] { server.OpenGate("busy"); });
    EXPECT_TRUE(absl::IsCancelled(x.status)) << x.status;
    EXPECT_EQ(x.status.message(),
              absl::StrCat("request cancelled while waiting for a connection slot "
                           "(MaxConnsPerHost) to ",
                           HostPort(server)));
    EXPECT_EQ(transport.Stats().waiting_for_slot, 1);

    server.OpenGate("busy");
    const Outcome& first = busy.Join();
    ASSERT_TRUE(first.status.ok()) << first.status;
    EXPECT_EQ(first.body, "/gate/busy");
    const Outcome& second = queued.Join();
    ASSERT_TRUE(second.status.ok()) << second.status;
    EXPECT_EQ(second.body, "/queued");
    EXPECT_EQ(second.conn.id, 1u);
    EXPECT_TRUE(second.conn.reused);

    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.waiting_for_slot, 0);
    EXPECT_EQ(stats.dials, 1u);
    EXPECT_EQ(stats.closed_by(CloseCause::kCancelled), 0u);
    EXPECT_EQ(stats.live_connections, 1);
    EXPECT_EQ(dialer.dials(), 1);
  }
  ExpectNothingLeaked(dialer);
  const std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/gate/busy");
  EXPECT_EQ(seen[1].target, "/queued");
  EXPECT_EQ(seen[1].connection, 1);
}

TEST(CancelTest, DeadlineWhileWaitingForASlot) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.max_conns_per_host = 1;
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    Async busy(transport, Get(server.Url("/gate/busy")));
    ASSERT_TRUE(events.Await("arrived /gate/busy"));
    const absl::Time start = absl::Now();
    const Outcome x =
        Perform(transport, WithDeadline(Get(server.Url("/x")), start + absl::Milliseconds(50)));
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
    EXPECT_LT(absl::Now() - start, kLeakWait);  // Promptly.
    EXPECT_TRUE(absl::IsDeadlineExceeded(x.status)) << x.status;
    EXPECT_EQ(x.status.message(),
              absl::StrCat("request deadline exceeded while waiting for a connection slot "
                           "(MaxConnsPerHost) to ",
                           HostPort(server)));
    EXPECT_EQ(transport.Stats().waiting_for_slot, 0);
    server.OpenGate("busy");
    EXPECT_TRUE(busy.Join().status.ok());
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.reused);
    EXPECT_EQ(dialer.dials(), 1);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kTimeout), 0u);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(events.Count("arrived /x"), 0);
}

// The dial hook holds the dial: RoundTrip returns at once on the cancel,
// while the dial is still held; the dial's own context is cancelled too. A
// connection to another host, idle in the pool, is untouched.
TEST(CancelTest, CancelWhileDialling) {
  Events events;
  TestServer server(Routed(events));
  TestServer other(AnswerEvery(OkResponse("other")));
  HeldDial held;
  RecordingDialer dialer(held.Function(server.port()));
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, other.Url("/")).conn.id, 1u);
    CancelHandle cancel;
    std::thread canceller = CancelWhen(Reached(held.entered), cancel);
    const absl::Time sent = absl::Now();
    const Outcome x = Perform(transport, WithCancel(Get(server.Url("/x")), cancel));
    canceller.join();
    EXPECT_FALSE(held.returned.HasBeenNotified());  // Returned while the dial is held.
    EXPECT_THAT(ThreadRegistry::Global().LiveThreads(), Contains("h1-dial-2"));
    EXPECT_TRUE(absl::IsCancelled(x.status)) << x.status;
    EXPECT_EQ(x.status.message(),
              absl::StrCat("request cancelled while dialling ", HostPort(server)));
    const DialContext context = held.context();
    EXPECT_TRUE(context.cancel.IsCancelled());
    // TransportOptions::dial_timeout (30 s by default) is the dial's deadline.
    EXPECT_GE(context.deadline, sent + absl::Seconds(30));
    EXPECT_LE(context.deadline, absl::Now() + absl::Seconds(30));

    held.Release();
    ASSERT_TRUE(AwaitThreadGone("h1-dial-2"));
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.dials, 2u);
    EXPECT_EQ(stats.dial_failures, 1u);
    EXPECT_EQ(stats.live_connections, 1);
    EXPECT_EQ(stats.closed_by(CloseCause::kCancelled), 0u);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    const Fetched again = Fetch(transport, other.Url("/"));
    EXPECT_EQ(again.conn.id, 1u);
    EXPECT_TRUE(again.conn.reused);
    // The host's next request dials anew.
    const Fetched after = Fetch(transport, server.Url("/after"));
    EXPECT_EQ(after.body, "/after");
    EXPECT_EQ(after.conn.id, 2u);
    EXPECT_EQ(dialer.dials(), 3);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(events.Count("arrived /x"), 0);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(CancelTest, DeadlineWhileDialling) {
  Events events;
  TestServer server(Routed(events));
  HeldDial held;
  RecordingDialer dialer(held.Function(server.port()));
  {
    Transport transport(TestOptions(dialer));
    const absl::Time start = absl::Now();
    const Outcome x =
        Perform(transport, WithDeadline(Get(server.Url("/x")), start + absl::Milliseconds(50)));
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
    EXPECT_LT(absl::Now() - start, kLeakWait);  // Promptly.
    EXPECT_FALSE(held.returned.HasBeenNotified());
    EXPECT_TRUE(absl::IsDeadlineExceeded(x.status)) << x.status;
    EXPECT_EQ(x.status.message(),
              absl::StrCat("request deadline exceeded while dialling ", HostPort(server)));
    EXPECT_TRUE(held.context().cancel.IsCancelled());  // The dial is stopped too.
    held.Release();
    ExpectLiveThreadsAtMost(0);
    EXPECT_EQ(transport.Stats().dial_failures, 1u);
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(server.connections_accepted(), 0);
}

// The writer has sent the head and 9 of 10 body bytes and is blocked in the
// body source's Read for the last: the cancel closes the connection (the
// server sees the client close mid-body), the source is never read again.
TEST(CancelTest, CancelWhileWritingTheBody) {
  Events events;
  TestServer server(Routed(events));
  TestServer other(AnswerEvery(OkResponse("other")));
  RecordingDialer dialer;
  auto body_state = std::make_shared<HeldBackBody::State>();
  Finally release_body([&] { NotifyOnce(body_state->release); });
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, other.Url("/")).conn.id, 1u);
    CancelHandle cancel;
    std::thread canceller = CancelWhen(Reached(body_state->last_byte_requested), cancel);
    Async request(transport,
                  WithCancel(HeldBackPost(server.Url("/upload"), 10, body_state), cancel));
    const Outcome& x = JoinPromptly(request, [&] { NotifyOnce(body_state->release); });
    canceller.join();
    EXPECT_TRUE(absl::IsCancelled(x.status)) << x.status;
    EXPECT_EQ(x.status.message(), "request cancelled while writing the request body");
    EXPECT_TRUE(events.Await("closed /upload"));
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 1u);

    NotifyOnce(body_state->release);
    ASSERT_TRUE(body_state->destroyed.WaitForNotificationWithTimeout(kLeakWait));
    {
      absl::MutexLock lock(&body_state->mu);
      EXPECT_EQ(body_state->reads_after_last_byte, 0);
    }
    const Fetched after = Fetch(transport, server.Url("/after"));
    EXPECT_EQ(after.body, "/after");
    EXPECT_EQ(after.conn.id, 3u);  // Not connection 2: it was closed.
    EXPECT_FALSE(after.conn.reused);
    const Fetched again = Fetch(transport, other.Url("/"));
    EXPECT_EQ(again.conn.id, 1u);
    EXPECT_TRUE(again.conn.reused);
    EXPECT_EQ(dialer.dials(), 3);
  }
  ExpectNothingLeaked(dialer);
  const std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/upload");
  EXPECT_EQ(seen[0].body_bytes, 9u);
  EXPECT_TRUE(seen[0].client_closed_mid_body);
  EXPECT_EQ(seen[1].connection, 2);
}

// The request's deadline passes while the writer is blocked in the body
// source: the caller is held (kRequestHandedOver) until the writer is in
// that Read, so the deadline can only find it writing the body.
TEST(CancelTest, DeadlineWhileWritingTheBody) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  auto body_state = std::make_shared<HeldBackBody::State>();
  Finally release_body([&] { NotifyOnce(body_state->release); });
  HookTable hooks;
  hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] {
    EXPECT_TRUE(body_state->last_byte_requested.WaitForNotificationWithTimeout(kLeakWait));
  });
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/warm")).conn.id, 1u);
    const absl::Time start = absl::Now();
    Async request(transport, WithDeadline(HeldBackPost(server.Url("/upload"), 10, body_state),
                                          start + absl::Milliseconds(50)));
    const Outcome& x = JoinPromptly(request, [&] { NotifyOnce(body_state->release); });
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
    EXPECT_LT(absl::Now() - start, kLeakWait);  // Promptly.
    EXPECT_TRUE(absl::IsDeadlineExceeded(x.status)) << x.status;
    EXPECT_EQ(x.status.message(), "request deadline exceeded while writing the request body");
    EXPECT_TRUE(events.Await("closed /upload"));
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kTimeout), 1u);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 0u);
    NotifyOnce(body_state->release);
    ASSERT_TRUE(body_state->destroyed.WaitForNotificationWithTimeout(kLeakWait));
    EXPECT_EQ(Fetch(transport, server.Url("/after")).conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

// "Expect: 100-continue": the head is out, the writer waits for 100
// Continue (an hour), the body is never sent.
TEST(CancelTest, CancelWhileAwaiting100Continue) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  absl::Notification awaiting;
  HookTable hooks;
  hooks.On(HookPoint::kAwaitingContinue, 1, 1, [&] { awaiting.Notify(); });
  {
    TransportOptions options = TestOptions(dialer);
    options.expect_continue_timeout = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    CancelHandle cancel;
    std::thread canceller = CancelWhen(
        [&] {
          return awaiting.WaitForNotificationWithTimeout(kLeakWait) &&
                 events.Await("arrived /expect");
        },
        cancel);
    Request post = Post(server.Url("/expect"), "data");
    post.headers.Add("Expect", "100-continue");
    const Outcome x = Perform(transport, WithCancel(std::move(post), cancel));
    canceller.join();
    EXPECT_TRUE(absl::IsCancelled(x.status)) << x.status;
    EXPECT_EQ(x.status.message(), "request cancelled while awaiting 100 Continue");
    EXPECT_TRUE(events.Await("closed /expect"));
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 1u);
    EXPECT_EQ(Fetch(transport, server.Url("/after")).conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
  const std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].body_bytes, 0u);
}

// The server has the whole request and does not answer. Another request to
// the same host is in flight on its own connection meanwhile: it is not
// disturbed, and its connection is reused afterwards.
TEST(CancelTest, CancelWhileAwaitingTheHead) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  absl::Notification written;
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 2, 1, [&] { written.Notify(); });
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    Async bystander(transport, Get(server.Url("/gate/bystander")));
    ASSERT_TRUE(events.Await("arrived /gate/bystander"));
    CancelHandle cancel;
    std::thread canceller = CancelWhen(
        [&] {
          return written.WaitForNotificationWithTimeout(kLeakWait) &&
                 events.Await("arrived /stall");
        },
        cancel);
    const Outcome x = Perform(transport, WithCancel(Get(server.Url("/stall")), cancel));
    canceller.join();
    EXPECT_TRUE(absl::IsCancelled(x.status)) << x.status;
    EXPECT_EQ(x.status.message(), "request cancelled while awaiting the response head");
    EXPECT_TRUE(events.Await("closed /stall"));
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 1u);

    server.OpenGate("bystander");
    const Outcome& other = bystander.Join();
    ASSERT_TRUE(other.status.ok()) << other.status;
    EXPECT_EQ(other.body, "/gate/bystander");
    EXPECT_EQ(other.conn.id, 1u);
    const Fetched after = Fetch(transport, server.Url("/after"));
    EXPECT_EQ(after.conn.id, 1u);
    EXPECT_TRUE(after.conn.reused);
    EXPECT_EQ(dialer.dials(), 2);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 1u);
  }
  ExpectNothingLeaked(dialer);
  const std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].target, "/stall");
  EXPECT_EQ(seen[1].connection, 2);
  EXPECT_EQ(seen[2].target, "/after");
  EXPECT_EQ(seen[2].connection, 1);
}

// The caller is held (kRequestHandedOver) until the writer has reported the
// request written and the server has it, so the deadline finds it awaiting
// the head.
TEST(CancelTest, DeadlineWhileAwaitingTheHead) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  absl::Notification written;
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 2, [&] { written.Notify(); });
  hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] {
    EXPECT_TRUE(written.WaitForNotificationWithTimeout(kLeakWait));
    EXPECT_TRUE(events.Await("arrived /stall"));
  });
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/warm")).conn.id, 1u);
    const absl::Time start = absl::Now();
    const Outcome x =
        Perform(transport, WithDeadline(Get(server.Url("/stall")), start + absl::Milliseconds(50)));
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
    EXPECT_LT(absl::Now() - start, kLeakWait);  // Promptly.
    EXPECT_TRUE(absl::IsDeadlineExceeded(x.status)) << x.status;
    EXPECT_EQ(x.status.message(), "request deadline exceeded while awaiting the response head");
    EXPECT_TRUE(events.Await("closed /stall"));
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kTimeout), 1u);
    EXPECT_EQ(Fetch(transport, server.Url("/after")).conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

// Tells when the caller's next socket Read begins, once armed.
struct ReadWatch {
  std::atomic<bool> armed{false};
  absl::Notification entered;
};

class WatchedConn final : public ForwardingNetConn {
 public:
  WatchedConn(std::unique_ptr<NetConn> inner, ReadWatch* watch)
      : ForwardingNetConn(std::move(inner)), watch_(watch) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (watch_->armed.exchange(false)) watch_->entered.Notify();
    return ForwardingNetConn::Read(buf, n);
  }

 private:
  ReadWatch* const watch_;
};

// The server sent the head and 5 of 10 body bytes; the caller has read them
// and is blocked reading the rest when the cancel fires: the Read returns
// CANCELLED, the connection is closed, an idle one to another host is not.
TEST(CancelTest, CancelWhileReadingTheBody) {
  Events events;
  TestServer server(Routed(events));
  TestServer other(AnswerEvery(OkResponse("other")));
  RecordingDialer dialer;
  ReadWatch watch;
  {
    TransportOptions options = TestOptions(dialer);
    options.dial = dialer.Dial([&](int index, std::unique_ptr<NetConn> conn) {
      if (index == 2) conn = std::make_unique<WatchedConn>(std::move(conn), &watch);
      return conn;
    });
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, other.Url("/")).conn.id, 1u);
    CancelHandle cancel;
    absl::StatusOr<Response> response =
        transport.RoundTrip(WithCancel(Get(server.Url("/partial")), cancel));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->conn.id, 2u);
    EXPECT_EQ(response->content_length.value_or(0), 10u);
    std::string got;
    char buf[64];
    while (got.size() < 5) {
      absl::StatusOr<size_t> n = response->body->Read(buf, sizeof(buf));
      ASSERT_TRUE(n.ok()) << n.status();
      ASSERT_GT(*n, 0u);
      got.append(buf, *n);
    }
    EXPECT_EQ(got, "hello");
    watch.armed = true;
    std::thread canceller = CancelWhen(Reached(watch.entered), cancel);
    absl::StatusOr<size_t> blocked = response->body->Read(buf, sizeof(buf));
    canceller.join();
    ASSERT_FALSE(blocked.ok());
    EXPECT_TRUE(absl::IsCancelled(blocked.status())) << blocked.status();
    EXPECT_EQ(blocked.status().message(), "request cancelled while reading the response body");
    absl::StatusOr<size_t> again = response->body->Read(buf, sizeof(buf));
    EXPECT_EQ(again.status(), blocked.status());
    EXPECT_TRUE(events.Await("closed /partial"));
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 1u);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kProtocolError), 0u);

    const Fetched after = Fetch(transport, server.Url("/after"));
    EXPECT_EQ(after.conn.id, 3u);
    const Fetched again_other = Fetch(transport, other.Url("/"));
    EXPECT_EQ(again_other.conn.id, 1u);
    EXPECT_TRUE(again_other.conn.reused);
  }
  ExpectNothingLeaked(dialer);
}

// The deadline bounds the body's reads too. It must not pass before the
// response head arrives (from a warm connection, at once), so it is a
// second away: this test waits that second.
TEST(CancelTest, DeadlineWhileReadingTheBody) {
  constexpr absl::Duration kDeadline = absl::Seconds(1);
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/warm")).conn.id, 1u);
    const absl::Time start = absl::Now();
    absl::StatusOr<Response> response =
        transport.RoundTrip(WithDeadline(Get(server.Url("/partial")), start + kDeadline));
    ASSERT_TRUE(response.ok()) << response.status();
    absl::StatusOr<std::string> body = response->body->ReadAll();
    EXPECT_GE(absl::Now() - start, kDeadline);
    EXPECT_LT(absl::Now() - start, kLeakWait);  // Promptly.
    ASSERT_FALSE(body.ok());
    EXPECT_TRUE(absl::IsDeadlineExceeded(body.status())) << body.status();
    EXPECT_THAT(body.status().message(), HasSubstr("request deadline exceeded"));
    EXPECT_TRUE(events.Await("closed /partial"));
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kTimeout), 1u);
    EXPECT_EQ(Fetch(transport, server.Url("/after")).conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

// The cancel fires after the reader has claimed the response and put the
// connection back in the pool, before the caller has it (the reader is
// parked at kPooledBeforeDelivery until Cancel returned): the response is
// returned, and the connection, which may already serve another request,
// stays open.
TEST(CancelTest, ACancelAfterTheResponseWasClaimedReturnsIt) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  HookTable hooks;
  // The server answers once the writer has reported, so that the reuse
  // decision is made at once (not pending) and the reader parks below.
  hooks.On(HookPoint::kWriterReported, 1, 1, [&] { server.OpenGate("claimed"); });
  CancelHandle cancel;
  CancelWhileParked canceller(hooks, HookPoint::kPooledBeforeDelivery, 1, cancel);
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    const Outcome x = Perform(transport, WithCancel(Get(server.Url("/gate/claimed")), cancel));
    canceller.Join();
    ASSERT_TRUE(x.status.ok()) << x.status;
    EXPECT_EQ(x.body, "/gate/claimed");
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.reused);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 0u);
  }
  ExpectNothingLeaked(dialer);
}

// ---------------------------------------------------------------------------
// Cancelling twice, and after the body's end.

// Cancelled twice while awaiting the head: one connection closed, its own;
// an idle one is reused next.
TEST(CancelTest, CancellingTwiceClosesOnlyItsOwnConnection) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  // Until the writer reports, the request counts as being written.
  absl::Notification written;
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 2, [&] { written.Notify(); });
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    // Two connections, both idle, 1 the most recently used (the pool hands
    // that one out first). IdleConnectionCount waits for 2's reuse decision
    // (it may await its writer's report), so that 1 goes back after it.
    Async first(transport, Get(server.Url("/gate/a")));
    ASSERT_TRUE(events.Await("arrived /gate/a"));
    const Fetched b = Fetch(transport, server.Url("/b"));
    EXPECT_EQ(b.conn.id, 2u);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    server.OpenGate("a");
    EXPECT_TRUE(first.Join().status.ok());
    EXPECT_EQ(first.Join().conn.id, 1u);
    ASSERT_EQ(transport.IdleConnectionCount(), 2);

    CancelHandle cancel;
    std::thread canceller = CancelWhen(
        [&] {
          return written.WaitForNotificationWithTimeout(kLeakWait) &&
                 events.Await("arrived /stall");
        },
        cancel, /*times=*/2);
    const Outcome x = Perform(transport, WithCancel(Get(server.Url("/stall")), cancel));
    canceller.join();
    cancel.Cancel();  // And once more, after RoundTrip returned.
    EXPECT_TRUE(absl::IsCancelled(x.status)) << x.status;
    EXPECT_EQ(x.status.message(), "request cancelled while awaiting the response head");
    EXPECT_TRUE(events.Await("closed /stall"));
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 1u);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.conn.id, 2u);  // /stall went on 1 and closed it.
    EXPECT_TRUE(next.conn.reused);
    EXPECT_EQ(dialer.dials(), 2);
  }
  ExpectNothingLeaked(dialer);
}

// The first request's body is read to its end (its Response kept); its
// connection then serves a second request, in flight on the server, when
// the first request's handle is cancelled, twice: nothing is closed, the
// second request gets its response on that connection.
void ExpectCancelAfterTheEndIsHarmless(const std::string& path) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    CancelHandle cancel;
    absl::StatusOr<Response> first = transport.RoundTrip(WithCancel(Get(server.Url(path)), cancel));
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<std::string> first_body = first->body->ReadAll();
    ASSERT_TRUE(first_body.ok()) << first_body.status();
    EXPECT_EQ(*first_body, ExpectedBody(path));
    EXPECT_EQ(first->conn.id, 1u);
    Async second(transport, Get(server.Url("/gate/second")));
    ASSERT_TRUE(events.Await("arrived /gate/second"));
    cancel.Cancel();
    cancel.Cancel();
    server.OpenGate("second");
    const Outcome& next = second.Join();
    ASSERT_TRUE(next.status.ok()) << next.status;
    EXPECT_EQ(next.body, "/gate/second");
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.reused);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    const Fetched third = Fetch(transport, server.Url("/third"));
    EXPECT_EQ(third.conn.id, 1u);
    EXPECT_TRUE(third.conn.reused);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 0u);
    EXPECT_EQ(dialer.dials(), 1);
  }
  ExpectNothingLeaked(dialer);
  for (const SeenRequest& seen : server.requests()) EXPECT_EQ(seen.connection, 1) << seen.target;
}

TEST(CancelTest, CancelAfterTheEndOfABodyThatCameWithItsHeadIsHarmless) {
  ExpectCancelAfterTheEndIsHarmless("/small");
}

TEST(CancelTest, CancelAfterTheEndOfAStreamedBodyIsHarmless) {
  ExpectCancelAfterTheEndIsHarmless("/big/streamed");
}

// ---------------------------------------------------------------------------
// TestCancelRequestWhenSharingConnection: many callers, one host, few idle
// connections kept, so a connection passes from caller to caller at once.
// A third of the requests are cancelled after their body was read (twice),
// a third are cancelled by a racing thread at whatever point they are, a
// third are left alone. A cancel after the end must never close the
// connection that another request now uses: every request not cancelled
// mid-flight succeeds with its own body; the others succeed or are
// CANCELLED, nothing else.
TEST(CancelTest, CancelRequestWhenSharingConnection) {
  constexpr int kThreads = 8;
  constexpr int kEach = 24;
  // Request i of thread t. Those cancelled after their end (i % 3 == 1)
  // have streamed bodies, whose cancel registration lives as long as the
  // body is read; the others have streamed or small bodies in turn.
  const auto PathFor = [](int t, int i) {
    return absl::StrCat(i % 3 == 1 || i % 2 == 0 ? "/big/" : "/", t, "/", i);
  };
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  std::atomic<int> left_alone_ok{0};
  std::atomic<int> cancelled_after_end_ok{0};
  std::atomic<int> raced{0};
  std::atomic<int> raced_cancelled{0};
  {
    TransportOptions options = TestOptions(dialer);
    options.max_idle_conns_per_host = 1;
    Transport transport(options);
    std::vector<std::thread> callers;
    for (int t = 0; t < kThreads; ++t) {
      callers.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const std::string path = PathFor(t, i);
          CancelHandle cancel;
          Request request = WithCancel(Get(server.Url(path)), cancel);
          switch (i % 3) {
            case 0: {
              const Outcome o = Perform(transport, std::move(request));
              EXPECT_TRUE(o.status.ok()) << path << ": " << o.status;
              EXPECT_EQ(o.body, ExpectedBody(path));
              if (o.status.ok() && o.body == ExpectedBody(path)) ++left_alone_ok;
              break;
            }
            case 1: {  // The Response is kept while its handle is cancelled.
              absl::StatusOr<Response> response = transport.RoundTrip(std::move(request));
              ASSERT_TRUE(response.ok()) << path << ": " << response.status();
              absl::StatusOr<std::string> body = response->body->ReadAll();
              cancel.Cancel();
              cancel.Cancel();
              ASSERT_TRUE(body.ok()) << path << ": " << body.status();
              EXPECT_EQ(*body, ExpectedBody(path));
              if (*body == ExpectedBody(path)) ++cancelled_after_end_ok;
              break;
            }
            default: {
              ++raced;
              std::thread racer([cancel] { cancel.Cancel(); });
              const Outcome o = Perform(transport, std::move(request));
              racer.join();
              if (o.status.ok()) {
                EXPECT_EQ(o.body, ExpectedBody(path));
              } else {
                ++raced_cancelled;
                EXPECT_TRUE(absl::IsCancelled(o.status)) << path << ": " << o.status;
                EXPECT_THAT(o.status.message(), StartsWith("request cancelled ")) << path;
              }
            }
          }
        }
      });
    }
    for (std::thread& caller : callers) caller.join();
    const TransportStats stats = transport.Stats();
    // Only a request cancelled mid-flight may have closed a connection.
    EXPECT_LE(stats.closed_by(CloseCause::kCancelled), static_cast<uint64_t>(raced.load()));
    EXPECT_EQ(stats.closed_by(CloseCause::kProtocolError), 0u);
    EXPECT_EQ(stats.closed_by(CloseCause::kWriteError), 0u);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(left_alone_ok, kThreads * kEach / 3);
  EXPECT_EQ(cancelled_after_end_ok, kThreads * kEach / 3);
  // Every request left alone or cancelled after its end reached the server.
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      if (i % 3 == 2) continue;
      const std::string path = PathFor(t, i);
      EXPECT_EQ(events.Count("arrived " + path), 1) << path;
    }
  }
  RecordProperty("raced_cancelled", raced_cancelled.load());
}

// ---------------------------------------------------------------------------
// TestTransportDialCancelRace.

// A racing thread cancels each request while it dials (the pool is emptied
// before each): the request succeeds or fails with CANCELLED, never hangs;
// every dialled connection ends in the idle pool or closed.
TEST(CancelTest, TransportDialCancelRace) {
  constexpr int kRounds = 40;
  TestServer server(AnswerEvery(OkResponse("raced")));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.max_idle_conns_per_host = 1;
    Transport transport(options);
    std::vector<std::string> log;
    for (int i = 0; i < kRounds; ++i) {
      transport.CloseIdleConnections();
      CancelHandle cancel;
      std::thread racer([cancel] { cancel.Cancel(); });
      const Outcome o = Perform(transport, WithCancel(Get(server.Url("/race")), cancel));
      racer.join();
      log.push_back(absl::StrCat(i, ": ", o.status.ToString(), " conn=", o.conn.id, " ",
                                 transport.Stats().ToString()));
      if (o.status.ok()) {
        EXPECT_EQ(o.body, "raced");
      } else {
        EXPECT_TRUE(absl::IsCancelled(o.status)) << o.status;
        EXPECT_THAT(o.status.message(), StartsWith("request cancelled ")) << o.status;
      }
    }
    // Once every dial thread is gone (a dial that ended still hands its
    // connection over), no connection is held outside the pool.
    ASSERT_TRUE(AwaitNoDialThreads());
    ExpectLiveThreadsAtMost(2);
    const TransportStats stats = transport.Stats();
    const int idle = transport.IdleConnectionCount();
    EXPECT_LE(idle, 1);
    EXPECT_EQ(stats.live_connections, idle)
        << stats.ToString() << "\n"
        << absl::StrJoin(ThreadRegistry::Global().LiveThreads(), ",") << "\n"
        << absl::StrJoin(log, "\n");
    EXPECT_TRUE(dialer.AwaitOpenAtMost(idle));
    EXPECT_EQ(stats.dials, static_cast<uint64_t>(dialer.dials()));
  }
  ExpectNothingLeaked(dialer);
}

// The cancel fires while the dial hook is held, and the dial ignores its
// context: RoundTrip returns at once; released, the dial's connection goes
// to the idle pool, where the next request finds it.
TEST(CancelTest, ACancelledDialThatCompletesGoesToTheIdlePool) {
  TestServer server(AnswerEvery(OkResponse("late")));
  HeldDial held(HeldDial::Mode::kIgnoreContext);
  RecordingDialer dialer(held.Function(server.port()));
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    CancelHandle cancel;
    std::thread canceller = CancelWhen(Reached(held.entered), cancel);
    const Outcome x = Perform(transport, WithCancel(Get(server.Url("/x")), cancel));
    canceller.join();
    EXPECT_FALSE(held.returned.HasBeenNotified());
    EXPECT_TRUE(absl::IsCancelled(x.status)) << x.status;
    EXPECT_EQ(x.status.message(),
              absl::StrCat("request cancelled while dialling ", HostPort(server)));
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
    held.Release();
    // The dial thread has handed the connection over, and exited.
    ASSERT_TRUE(AwaitThreadGone("h1-dial-1"));
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    EXPECT_EQ(transport.Stats().live_connections, 1);
    EXPECT_EQ(transport.Stats().dial_failures, 0u);
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.body, "late");
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.was_idle);
    EXPECT_FALSE(next.conn.reused);  // It had served nothing.
    EXPECT_EQ(dialer.dials(), 1);
  }
  ExpectNothingLeaked(dialer);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/next");
}

// The cancel fires just as the dial completes: the connection is started
// (kConnectionStarted, on the dial thread, parked until Cancel returned)
// and not yet handed to the request.
TEST(CancelTest, CancelJustAsTheDialCompletes) {
  TestServer server(AnswerEvery(OkResponse("late")));
  RecordingDialer dialer;
  HookTable hooks;
  CancelHandle cancel;
  CancelWhileParked canceller(hooks, HookPoint::kConnectionStarted, 0, cancel);
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    const Outcome x = Perform(transport, WithCancel(Get(server.Url("/x")), cancel));
    canceller.Join();
    EXPECT_TRUE(absl::IsCancelled(x.status)) << x.status;
    EXPECT_EQ(x.status.message(),
              absl::StrCat("request cancelled while dialling ", HostPort(server)));
    ASSERT_TRUE(AwaitThreadGone("h1-dial-1"));
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.was_idle);
    EXPECT_EQ(dialer.dials(), 1);
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kCancelled), 0u);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(server.requests().size(), 1u);
}

// ~Transport cancels the dials in flight and waits for their threads. The
// dial left in flight here has no request any more: its request was served
// by a connection that turned idle meanwhile (late binding), which does not
// cancel the dial. Held until its context is cancelled, the dial ends when
// the Transport is destroyed, and nothing is left behind.
TEST(CancelTest, DestroyingTheTransportCancelsADialInFlight) {
  Events events;
  TestServer server(Routed(events));
  HeldDial held(HeldDial::Mode::kUntilCancelled, /*hold=*/2);
  RecordingDialer dialer(held.Function(server.port()));
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    Async busy(transport, Get(server.Url("/gate/busy")));
    ASSERT_TRUE(events.Await("arrived /gate/busy"));
    Async late(transport, Get(server.Url("/late")));
    ASSERT_TRUE(held.entered.WaitForNotificationWithTimeout(kLeakWait));
    server.OpenGate("busy");
    EXPECT_TRUE(busy.Join().status.ok());
    const Outcome& served = late.Join();
    ASSERT_TRUE(served.status.ok()) << served.status;
    EXPECT_EQ(served.body, "/late");
    EXPECT_EQ(served.conn.id, 1u);  // Late binding: the dial's request went elsewhere.
    EXPECT_TRUE(served.conn.reused);
    EXPECT_FALSE(held.context().cancel.IsCancelled());
    EXPECT_FALSE(held.returned.HasBeenNotified());
  }
  // The destructor returned: the dial was cancelled and has ended.
  EXPECT_TRUE(held.context().cancel.IsCancelled());
  EXPECT_TRUE(held.returned.HasBeenNotified());
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(dialer.dials(), 2);
  EXPECT_EQ(server.connections_accepted(), 1);
}

// ---------------------------------------------------------------------------
// The dial timeout, and a request's deadline or cancel, against a connect
// that hangs: a loopback listener with a backlog of 0 whose accept queue is
// full, so that the kernel drops further SYNs.

class HangingListener {
 public:
  HangingListener() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(listen_fd_, 0) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
    // The first connection completes and fills the accept queue (it is never
    // accepted); the second's SYN is dropped, as every later one will be.
    const int first = Connect(address);
    pollfd p{first, POLLOUT, 0};
    int error = -1;
    socklen_t error_size = sizeof(error);
    if (first >= 0 && ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(kLeakWait))) == 1) {
      ::getsockopt(first, SOL_SOCKET, SO_ERROR, &error, &error_size);
    }
    filled_ = error == 0;
    Connect(address);
  }
  ~HangingListener() {
    for (int fd : fillers_) ::close(fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  bool filled() const { return filled_; }
  uint16_t port() const { return port_; }
  std::string HostPort() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string Url() const { return absl::StrCat("http://", HostPort(), "/"); }

 private:
  int Connect(const sockaddr_in& address) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    fillers_.push_back(fd);
    ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    return fd;
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  bool filled_ = false;
  std::vector<int> fillers_;
};

TEST(DialTimeoutTest, DialTimeoutEndsAHangingConnect) {
  HangingListener listener;
  ASSERT_TRUE(listener.filled());
  RecordingDialer dialer;  // The real DialTcp.
  {
    TransportOptions options = TestOptions(dialer);
    options.dial_timeout = absl::Milliseconds(100);
    Transport transport(options);
    const absl::Time start = absl::Now();
    const Outcome o = Perform(transport, Get(listener.Url()));
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
    EXPECT_LT(absl::Now() - start, kLeakWait);  // Promptly.
    EXPECT_TRUE(absl::IsDeadlineExceeded(o.status)) << o.status;
    EXPECT_EQ(o.status.message(),
              absl::StrCat("dial ", listener.HostPort(), ": dial timed out (dial timeout 100ms)"));
    ExpectLiveThreadsAtMost(0);
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.dials, 1u);
    EXPECT_EQ(stats.dial_failures, 1u);
    EXPECT_EQ(stats.live_connections, 0);
  }
  EXPECT_EQ(dialer.dials(), 1);
  ExpectNothingLeaked(dialer);
}

// What the real DialTcp returned, and when it was entered.
struct DialRecord {
  absl::Notification entered;
  absl::Mutex mu;
  absl::Status status ABSL_GUARDED_BY(mu) = absl::UnknownError("no dial returned");
};

// Shared with the dial thread, which (were the dial not stopped) could
// outlive the test.
DialFunction RecordDialTcp(std::shared_ptr<DialRecord> record) {
  return [record](const std::string& host, uint16_t port, const DialContext& context) {
    record->entered.Notify();  // These tests dial once.
    absl::StatusOr<std::unique_ptr<NetConn>> conn = DialTcp(host, port, context);
    absl::MutexLock lock(&record->mu);
    record->status = conn.status();
    return conn;
  };
}

// The request's deadline ends the hanging dial long before the 30 s dial
// timeout: the dial thread exits within the leak check's wait.
TEST(DialTimeoutTest, RequestDeadlineEndsAHangingConnect) {
  HangingListener listener;
  ASSERT_TRUE(listener.filled());
  auto record = std::make_shared<DialRecord>();
  RecordingDialer dialer(RecordDialTcp(record));
  {
    Transport transport(TestOptions(dialer));
    const absl::Time start = absl::Now();
    const Outcome o =
        Perform(transport, WithDeadline(Get(listener.Url()), start + absl::Milliseconds(100)));
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
    EXPECT_LT(absl::Now() - start, kLeakWait);  // Promptly.
    EXPECT_TRUE(absl::IsDeadlineExceeded(o.status)) << o.status;
    EXPECT_EQ(o.status.message(),
              absl::StrCat("request deadline exceeded while dialling ", listener.HostPort()));
    ExpectLiveThreadsAtMost(0);
  }
  {
    absl::MutexLock lock(&record->mu);
    EXPECT_TRUE(absl::IsCancelled(record->status)) << record->status;
    EXPECT_EQ(record->status.message(),
              absl::StrCat("dial ", listener.HostPort(), ": dial cancelled"));
  }
  ExpectNothingLeaked(dialer);
}

TEST(DialTimeoutTest, CancelEndsAHangingConnect) {
  HangingListener listener;
  ASSERT_TRUE(listener.filled());
  auto record = std::make_shared<DialRecord>();
  RecordingDialer dialer(RecordDialTcp(record));
  {
    Transport transport(TestOptions(dialer));
    CancelHandle cancel;
    std::thread canceller = CancelWhen(Reached(record->entered), cancel);
    const Outcome o = Perform(transport, WithCancel(Get(listener.Url()), cancel));
    canceller.join();
    EXPECT_TRUE(absl::IsCancelled(o.status)) << o.status;
    EXPECT_EQ(o.status.message(),
              absl::StrCat("request cancelled while dialling ", listener.HostPort()));
    ExpectLiveThreadsAtMost(0);
  }
  {
    absl::MutexLock lock(&record->mu);
    EXPECT_TRUE(absl::IsCancelled(record->status)) << record->status;
    EXPECT_EQ(record->status.message(),
              absl::StrCat("dial ", listener.HostPort(), ": dial cancelled"));
  }
  ExpectNothingLeaked(dialer);
}

// ---------------------------------------------------------------------------
// Regressions: transport bugs found while these tests were written. The
// first two tests fail against 845b468 (fixed by b8e8863), the third
// against 07225b5 (fixed by ffca3c4). The comment of each says what went
// wrong.

// Holds the first Shutdown of the socket (the reader's Close after it has
// claimed a failed response head) until the test lets it go.
struct ShutdownGate {
  std::atomic<bool> armed{false};
  absl::Notification entered;
  absl::Notification may_go;
};

class GatedShutdownConn final : public ForwardingNetConn {
 public:
  GatedShutdownConn(std::unique_ptr<NetConn> inner, ShutdownGate* gate)
      : ForwardingNetConn(std::move(inner)), gate_(gate) {}
  void Shutdown() override {
    if (gate_->armed.exchange(false)) {
      gate_->entered.Notify();
      EXPECT_TRUE(gate_->may_go.WaitForNotificationWithTimeout(kLeakWait));
    }
    ForwardingNetConn::Shutdown();
  }

 private:
  ShutdownGate* const gate_;
};

// Was: a cancelled request was sent again. The server closes a reused
// connection after reading the request, without a response byte; the reader
// claims that failure, and the cancel fires before the caller has it (the
// reader is parked in the socket's Shutdown until Cancel returned). The
// failure is returned to Transport::RoundTrip as kClosedBeforeResponse, and
// its retry loop checked the cancel handle only once, before the first
// attempt, so it sent the GET again: ConnManager::Get takes an idle
// connection without looking at the handle, Connection::RoundTrip hands the
// request to its writer and only then registers the cancel, which fired at
// once and closed that healthy connection too (retries=1,
// closed_by(kCancelled)=1; the request may be on the wire by then). Go
// checks ctx.Done() at the top of every attempt.
TEST(CancelRegressionTest, ACancelledRequestIsNeverSentAgain) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  ShutdownGate gate;
  {
    TransportOptions options = TestOptions(dialer);
    options.dial = dialer.Dial([&](int index, std::unique_ptr<NetConn> conn) {
      if (index == 1) conn = std::make_unique<GatedShutdownConn>(std::move(conn), &gate);
      return conn;
    });
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    // Two idle connections, 1 the most recently used (the pool hands that
    // one out first; see CancellingTwiceClosesOnlyItsOwnConnection).
    Async first(transport, Get(server.Url("/gate/a")));
    ASSERT_TRUE(events.Await("arrived /gate/a"));
    EXPECT_EQ(Fetch(transport, server.Url("/b")).conn.id, 2u);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    server.OpenGate("a");
    EXPECT_EQ(first.Join().conn.id, 1u);
    ASSERT_EQ(transport.IdleConnectionCount(), 2);

    gate.armed = true;
    CancelHandle cancel;
    std::thread canceller([&] {
      EXPECT_TRUE(gate.entered.WaitForNotificationWithTimeout(kLeakWait));
      cancel.Cancel();
      gate.may_go.Notify();
    });
    const Outcome x = Perform(transport, WithCancel(Get(server.Url("/drop")), cancel));
    canceller.join();
    ASSERT_FALSE(x.status.ok());
    // Either the failure that was on its way, or CANCELLED; never a retry.
    EXPECT_TRUE(absl::IsCancelled(x.status) || absl::IsUnavailable(x.status)) << x.status;
    const TransportStats stats = transport.Stats();
    EXPECT_EQ(stats.retries, 0u);
    EXPECT_EQ(stats.closed_by(CloseCause::kCancelled), 0u);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);  // Connection 2 untouched.
    EXPECT_EQ(dialer.dials(), 2);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(events.Count("arrived /drop"), 1);
}

// Was: a request whose deadline had already passed was sent, and closed a
// healthy idle connection. Transport::RoundTrip refused a request whose
// handle was cancelled ("request cancelled before it was sent") but had no
// such check for the deadline, and ConnManager::Get returns an idle
// connection without looking at it: the request was handed to the writer,
// then Connection::AwaitResponse found the deadline passed and closed the
// connection (CloseCause::kTimeout). Go returns ctx.Err() before any
// attempt when the context is done.
TEST(CancelRegressionTest, ARequestPastItsDeadlineIsNeverSent) {
  Events events;
  TestServer server(Routed(events));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/warm")).conn.id, 1u);
    const Outcome x =
        Perform(transport, WithDeadline(Get(server.Url("/late")), absl::Now() - absl::Seconds(1)));
    EXPECT_TRUE(absl::IsDeadlineExceeded(x.status)) << x.status;
    EXPECT_EQ(transport.Stats().closed_by(CloseCause::kTimeout), 0u);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.reused);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(events.Count("arrived /late"), 0);
}

// A request whose deadline passes while it waits for a pending reuse
// decision: connection 1 (a FakeConn) has answered a GET while its writer
// is held inside the write, so the decision waits for the writer's report
// (grace period: an hour, as in pool_test); a second GET, with a deadline
// 100 ms away, must wait for that decision rather than dial. The writer is
// let go once the second request has ended, or after kLeakWait.
struct PendingDecisionRun {
  Outcome outcome;
  absl::Duration took;  // From RoundTrip to its end.
  int dials = 0;        // Calls of the Dial hook, all threads gone.
};

PendingDecisionRun RunADeadlineDuringAPendingDecision() {
  PendingDecisionRun run;
  absl::Notification write_may_return;
  absl::Notification pending;
  Finally release_writer([&] { NotifyOnce(write_may_return); });
  HookTable hooks;
  hooks.On(HookPoint::kReuseAwaitsWriter, 1, 1, [&] { pending.Notify(); });
  std::atomic<int> dials{0};
  TransportOptions options;
  options.reuse_grace_period = absl::Hours(1);
  options.test_hook = hooks.Hook();
  options.dial = [&](const std::string&, uint16_t,
                     const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
    const bool first = ++dials == 1;
    return std::make_unique<FakeConn>([&, first](FakeConn& peer, absl::string_view, int) {
      peer.Deliver(OkResponse("answer"));
      if (first) write_may_return.WaitForNotificationWithTimeout(2 * kLeakWait);
    });
  };
  {
    Transport transport(options);
    absl::StatusOr<Response> response = transport.RoundTrip(Get("http://a.test/first"));
    EXPECT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(pending.WaitForNotificationWithTimeout(kLeakWait));
    const absl::Time start = absl::Now();
    Async late(transport,
               WithDeadline(Get("http://a.test/second"), start + absl::Milliseconds(100)));
    EXPECT_TRUE(late.AwaitDone(kLeakWait))
        << "RoundTrip outlived its deadline while a reuse decision was pending";
    NotifyOnce(write_may_return);
    run.outcome = late.Join();
    run.took = absl::Now() - start;
    if (response.ok()) EXPECT_EQ(h1::testing::ReadBody(*response), "answer");
  }
  ExpectLiveThreadsAtMost(0);  // ~Transport has also waited for every dial.
  run.dials = dials;
  return run;
}

// Was: a request's deadline (and its cancel handle) did not end its wait
// for a pending reuse decision. IdlePool::TakeOrQueue blocks the next
// request of the host until the decision is made, for up to
// reuse_grace_period; that wait ignored the deadline, and ConnManager::Get
// registered the cancel callback only after TakeOrQueue returned: the
// request returned only when the test let the write return, 10 s later.
TEST(CancelRegressionTest, ADeadlineEndsTheWaitForAPendingReuseDecision) {
  const PendingDecisionRun run = RunADeadlineDuringAPendingDecision();
  EXPECT_LT(run.took, kLeakWait);
  EXPECT_GE(run.took, absl::Milliseconds(100));
  EXPECT_TRUE(absl::IsDeadlineExceeded(run.outcome.status)) << run.outcome.status;
  EXPECT_THAT(run.outcome.status.message(), StartsWith("request deadline exceeded while "));
}

// ---------------------------------------------------------------------------
// Transport bugs still open. The tests here FAIL against the transport at
// ffca3c4.

// BUG: a deadline that passes while the request waits for a pending reuse
// decision makes the request dial, and its error names the wrong phase.
// Since ffca3c4, IdlePool::TakeOrQueue returns null at the deadline, but
// without the waiter giving up; ConnManager::Get then checks only
// waiter->waiting() (false only after a cancel), so it takes a slot and
// StartDial()s for a request already past its deadline (DialStarted moves
// the phase to kDialling); only then does ConnWaiter::Await find the
// deadline passed and fail with "request deadline exceeded while dialling
// a.test:80". The dial is cancelled at once, but a Dial hook that completes
// leaves a connection nobody asked for in the pool (here: 2 dials, not 1).
// Expected: the wait ends as a cancel does, with "request deadline exceeded
// while waiting for a connection to a.test:80", and nothing is dialled (in
// Get: give up with DEADLINE_EXCEEDED when TakeOrQueue returns null at or
// after the deadline, before AcquireOrQueue/StartDial).
TEST(CancelRegressionTest, ADeadlinePassedWhileAwaitingAPendingDecisionDialsNothing) {
  const PendingDecisionRun run = RunADeadlineDuringAPendingDecision();
  EXPECT_TRUE(absl::IsDeadlineExceeded(run.outcome.status)) << run.outcome.status;
  EXPECT_EQ(run.outcome.status.message(),
            "request deadline exceeded while waiting for a connection to a.test:80");
  EXPECT_EQ(run.dials, 1);
}

}  // namespace
}  // namespace h1
