// The caller's thread writes a bodiless request itself when the writer is
// idle and the socket takes the head without blocking (NetConn::TryWrite):
// it reports the write on writeErrCh as the writer would. What the socket
// does not take, or all of it after an error, the writer writes; a request
// whose connection's answer has already begun is not written there at all.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transport_test_util.h"
#include "testserver/canned.h"
#include "testserver/test_server.h"
#include "transport/transport.h"

namespace h1 {
namespace {

using ::h1::testing::ExpectNothingLeaked;
using ::h1::testing::Fetch;
using ::h1::testing::Fetched;
using ::h1::testing::HookTable;
using ::h1::testing::k408;
using ::h1::testing::kLeakWait;
using ::h1::testing::ReadBody;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testserver::AnswerEvery;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::TestServer;

// Records which thread reported each request of connection 1 written.
class ReportingThreads {
 public:
  void Register(HookTable& hooks, int requests) {
    for (int seq = 1; seq <= requests; ++seq) {
      hooks.On(HookPoint::kWriterReported, 1, seq, [this] {
        absl::MutexLock lock(&mu_);
        threads_.push_back(std::this_thread::get_id());
      });
    }
  }
  std::vector<std::thread::id> threads() const {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

// A socket whose TryWrite takes at most `limit` bytes, or fails if `fail`.
class LimitedTryWriteConn final : public ForwardingNetConn {
 public:
  LimitedTryWriteConn(std::unique_ptr<NetConn> inner, size_t limit, bool fail)
      : ForwardingNetConn(std::move(inner)), limit_(limit), fail_(fail) {}
  absl::StatusOr<size_t> TryWrite(absl::Span<const absl::string_view> pieces) override {
    if (fail_) return absl::UnavailableError("write: Resource temporarily unavailable");
    absl::string_view first = pieces.empty() ? absl::string_view() : pieces[0];
    return ForwardTryWrite({first.substr(0, limit_)});
  }

 private:
  const size_t limit_;
  const bool fail_;
};

TEST(CallerWriteTest, ABodilessRequestIsWrittenAndReportedOnTheCallersThread) {
  TestServer server(AnswerEvery(OkResponse("answer")));
  RecordingDialer dialer;
  HookTable hooks;
  ReportingThreads reporting;
  reporting.Register(hooks, 3);
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    for (int i = 0; i < 3; ++i) {
      const Fetched fetched = Fetch(transport, server.Url("/get"));
      EXPECT_EQ(fetched.body, "answer");
      EXPECT_EQ(fetched.conn.id, 1u);
    }
  }
  ExpectNothingLeaked(dialer);
  EXPECT_THAT(reporting.threads(), ::testing::Each(std::this_thread::get_id()));
  EXPECT_EQ(reporting.threads().size(), 3u);
  EXPECT_EQ(server.requests().size(), 3u);
}

// The socket takes part of the head (`limit` bytes), none, or fails: the
// writer writes the rest, or the whole head, exactly once, and the
// connection is kept.
TEST(CallerWriteTest, WhatTheSocketDoesNotTakeTheWriterWrites) {
  struct Case {
    const char* name;
    size_t limit;
    bool fail;
  };
  for (const Case& c : {Case{"part", 7, false}, Case{"none", 0, false}, Case{"error", 0, true}}) {
    SCOPED_TRACE(c.name);
    TestServer server(AnswerEvery(OkResponse("answer")));
    RecordingDialer dialer;
    HookTable hooks;
    ReportingThreads reporting;
    reporting.Register(hooks, 2);
    {
      TransportOptions options = TestOptions(dialer);
      options.reuse_grace_period = absl::Hours(1);
      options.test_hook = hooks.Hook();
      options.dial = dialer.Dial([&c](int, std::unique_ptr<NetConn> conn) {
        return std::make_unique<LimitedTryWriteConn>(std::move(conn), c.limit, c.fail);
      });
      Transport transport(options);
      for (const char* path : {"/one", "/two"}) {
        const Fetched fetched = Fetch(transport, server.Url(path));
        EXPECT_EQ(fetched.body, "answer");
        EXPECT_EQ(fetched.conn.id, 1u);
      }
    }
    ExpectNothingLeaked(dialer);
    EXPECT_EQ(dialer.dials(), 1);
    const auto threads = reporting.threads();
    ASSERT_EQ(threads.size(), 2u);
    EXPECT_NE(threads[0], std::this_thread::get_id());
    EXPECT_NE(threads[1], std::this_thread::get_id());
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].target, "/one");
    EXPECT_EQ(requests[1].target, "/two");
    EXPECT_EQ(requests[1].connection, 1);
    EXPECT_EQ(requests[1].sequence, 2);
  }
}

// Connection 1 answers its first request with "first"; once `gate` opens,
// it times the idle connection out with a 408, notifies `timed_out`, and
// logs any request still written to it (none is, if the next one was
// withdrawn). Every other connection answers "fresh".
TestServer::Script FirstThen408AtGate(std::string gate, absl::Notification* timed_out) {
  return [gate = std::move(gate), timed_out](PeerConn& conn) {
    if (conn.index() == 1) {
      if (!conn.ReadRequest().ok()) return;
      ASSERT_TRUE(conn.Write(OkResponse("first")).ok());
      ASSERT_TRUE(conn.AwaitGate(gate));
      ASSERT_TRUE(conn.Write(k408).ok());
      timed_out->Notify();
      (void)conn.ReadRequestHead();
      return;
    }
    AnswerEvery(OkResponse("fresh"))(conn);
  };
}

// The request after the 408 was answered "fresh" on connection 2.
void ExpectFreshOnConnectionTwo(absl::StatusOr<Response>& next) {
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(ReadBody(*next), "fresh");
  EXPECT_EQ(next->conn.id, 2u);
}

// The server saw /next on connection 2 only.
void ExpectNextOnlyOnConnectionTwo(const TestServer& server) {
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target, "/next");
  EXPECT_EQ(requests[1].connection, 2);
}

// The server times the idle connection out (a 408, then its close) just
// before the caller hands it a GET; the reader is held back, so the bytes
// wait in the socket. The caller must not write the GET there: the 408
// would be taken as its answer. It goes, whole, to a new connection.
TEST(CallerWriteTest, NoWriteOnTheCallersThreadOnceAnAnswerHasBegun) {
  absl::Notification timed_out;
  TestServer server(FirstThen408AtGate("time out", &timed_out));
  absl::Notification next_handed_over;
  HookTable hooks;
  hooks.On(HookPoint::kReaderBeforeNextRead, 1, 1,
           [&] { next_handed_over.WaitForNotificationWithTimeout(kLeakWait); });
  hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] { next_handed_over.Notify(); });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/first")).body, "first");
    server.OpenGate("time out");
    // On loopback, bytes a send has returned from are in the peer's socket.
    ASSERT_TRUE(timed_out.WaitForNotificationWithTimeout(kLeakWait));
    absl::StatusOr<Response> next = transport.RoundTrip(Get(server.Url("/next")));
    ExpectFreshOnConnectionTwo(next);
  }
  ExpectNothingLeaked(dialer);
  ExpectNextOnlyOnConnectionTwo(server);
}

// Holds the caller's look into the socket (AnswerHasBegun's InputPending),
// once armed, until the reader has taken the server's stray answer out of
// the socket: a caller preempted between its two looks for an answer
// begun, the flag input_seen_ and the socket. The stray answer is sent from
// inside that look, so the flag was still clear when the caller read it.
class CallerPreemptedBetweenItsLooks final : public ForwardingNetConn {
 public:
  struct Control {
    std::thread::id caller;  // Set before the Transport starts.
    std::atomic<bool> armed{false};
    std::atomic<bool> held{false};
    std::function<void()> send_stray;
    absl::Notification taken;
  };
  CallerPreemptedBetweenItsLooks(std::unique_ptr<NetConn> inner, Control& control)
      : ForwardingNetConn(std::move(inner)), control_(control) {}
  absl::StatusOr<size_t> TryWrite(absl::Span<const absl::string_view> pieces) override {
    return ForwardTryWrite(pieces);
  }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    absl::StatusOr<size_t> got = ForwardingNetConn::Read(buf, n);
    if (control_.held.load() && got.ok() && *got > 0 && !control_.taken.HasBeenNotified()) {
      control_.taken.Notify();
    }
    return got;
  }
  bool InputPending() override {
    if (control_.armed.load() && std::this_thread::get_id() == control_.caller &&
        !control_.held.exchange(true)) {
      control_.send_stray();
      EXPECT_TRUE(control_.taken.WaitForNotificationWithTimeout(kLeakWait));
    }
    return ForwardingNetConn::InputPending();
  }

 private:
  Control& control_;
};

// The server answers nothing (a 408 on an idle connection, not closed yet)
// just as the caller, about to write a GET itself, looks for an answer
// begun: after it has found input_seen_ clear, before it polls the socket.
// The reader wakes, notes the input and takes the bytes, then waits for the
// exchange, which the caller holds while it writes. The answer began before
// a byte of the request was written: it answers nothing, and the GET must
// go, whole, to a new connection; it must never be written here, nor the
// 408 be taken as its answer.
TEST(CallerWriteTest, AnAnswerTakenByTheReaderBetweenTheCallersLooksAnswersNothing) {
  absl::Notification sent;
  TestServer server(FirstThen408AtGate("stray", &sent));
  CallerPreemptedBetweenItsLooks::Control control;
  control.caller = std::this_thread::get_id();
  control.send_stray = [&server] { server.OpenGate("stray"); };
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.dial = dialer.Dial([&control](int index, std::unique_ptr<NetConn> conn) {
      if (index != 1) return conn;
      return std::unique_ptr<NetConn>(
          std::make_unique<CallerPreemptedBetweenItsLooks>(std::move(conn), control));
    });
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/first")).body, "first");
    control.armed = true;
    absl::StatusOr<Response> next = transport.RoundTrip(Get(server.Url("/next")));
    ExpectFreshOnConnectionTwo(next);
  }
  ExpectNothingLeaked(dialer);
  ExpectNextOnlyOnConnectionTwo(server);
}

}  // namespace
}  // namespace h1
