// The end of a streamed body (one that did not arrive with its head) is
// decided on the caller's thread, which holds the stream then: the reader
// only resumes. When the writer has not yet reported the request written,
// the caller leaves the decision to the reader, which waits for the report
// with the connection held in the pool, as for a whole response.
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
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
using ::h1::testing::Fetch;
using ::h1::testing::Fetched;
using ::h1::testing::FirstThenFresh;
using ::h1::testing::HookTable;
using ::h1::testing::kLeakWait;
using ::h1::testing::ReadBody;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testserver::PeerConn;
using ::h1::testserver::TestServer;

// The server sends each response's head and the first half of its body,
// then the rest once the gate "rest <n>" opens: every body is streamed.
TestServer::Script HalvesAfterGates() {
  return [](PeerConn& conn) {
    for (int n = 1;; ++n) {
      if (!conn.ReadRequest().ok()) return;
      if (!conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello").ok()) return;
      if (!conn.AwaitGate(absl::StrCat("rest ", n))) return;
      if (!conn.Write("world").ok()) return;
    }
  };
}

TEST(BodyEndTest, TheCallerPoolsTheConnectionAtTheEndOfAStreamedBody) {
  TestServer server(HalvesAfterGates());
  RecordingDialer dialer;
  std::thread::id pooled_on;
  HookTable hooks;
  hooks.On(HookPoint::kPooledBeforeDelivery, 1, 1, [&] { pooled_on = std::this_thread::get_id(); });
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    for (int n = 1; n <= 2; ++n) {
      absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/")));
      ASSERT_TRUE(response.ok()) << response.status();
      server.OpenGate(absl::StrCat("rest ", n));
      EXPECT_EQ(ReadBody(*response), "helloworld");
      EXPECT_EQ(response->conn.id, 1u);
      // Pooled when the body's last read returned.
      EXPECT_EQ(transport.IdleConnectionCount(), 1);
    }
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(pooled_on, std::this_thread::get_id());
  EXPECT_EQ(dialer.dials(), 1);
}

// The writer is held inside a GET's write (the FakeConn's peer answers from
// within it) until the caller has read the whole streamed body: the report
// is missing at the body's end, so the decision waits for it, in the pool.
// The write then returns: OK, and the connection serves the next request;
// an error, and it must not.
TEST(BodyEndTest, WithoutTheWritersReportTheDecisionWaitsForIt) {
  for (const bool write_fails : {false, true}) {
    SCOPED_TRACE(write_fails ? "write fails" : "write succeeds");
    absl::Notification write_may_return;
    absl::Notification awaited_writer;
    FakeConn* first = nullptr;
    int dials = 0;
    HookTable hooks;
    hooks.On(HookPoint::kReuseAwaitsWriter, 1, 1, [&] { awaited_writer.Notify(); });
    {
      TransportOptions options;
      options.reuse_grace_period = absl::Hours(1);
      options.test_hook = hooks.Hook();
      options.dial = FirstThenFresh(dials, [&]() -> std::unique_ptr<NetConn> {
        auto conn = std::make_unique<FakeConn>([&](FakeConn& peer, absl::string_view, int write) {
          if (write == 1) {
            if (write_fails) peer.FailWrites(absl::UnavailableError("write: Broken pipe"));
            peer.Deliver("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
            write_may_return.WaitForNotificationWithTimeout(kLeakWait);
          } else {
            peer.Deliver(testserver::OkResponse("reused"));
          }
        });
        first = conn.get();
        return conn;
      });
      Transport transport(options);
      absl::StatusOr<Response> response = transport.RoundTrip(Get("http://peer.test/"));
      ASSERT_TRUE(response.ok()) << response.status();
      first->Deliver("world");
      EXPECT_EQ(ReadBody(*response), "helloworld");
      EXPECT_TRUE(awaited_writer.WaitForNotificationWithTimeout(kLeakWait));
      write_may_return.Notify();
      const Fetched next = Fetch(transport, "http://peer.test/next");
      EXPECT_EQ(next.body, write_fails ? "fresh" : "reused");
      EXPECT_EQ(next.conn.id, write_fails ? 2u : 1u);
    }
    ExpectLiveThreadsAtMost(0);
  }
}

// Found by review: at the end of a streamed body the caller pools the
// connection first and only then tells the reader, parked on body_done,
// that the exchange ended. A request that takes the connection in between
// (here, while the caller is held at kPooledBeforeDelivery, which now runs
// on the caller's thread) has its whole response arrive and then its write
// fail, which closes the connection. That response must win over the
// write error (as in EarlyResponseTest.ResponseWinsOverAWriteError), but
// the close makes the caller's body_done send fail, and the reader, woken
// by the close instead, exits without reading it: the request fails with
// "connection closed before the response". And the reader must go on when
// it takes the caller's word only after that close.
TEST(BodyEndTest, ANextRequestsResponseWinsOverItsWriteErrorWhileTheReaderIsParked) {
  absl::Notification first_reported;
  absl::Notification second_reported;
  FakeConn* first = nullptr;
  int dials = 0;
  Transport* transport_for_next = nullptr;
  std::thread next;
  absl::StatusOr<std::string> next_body = absl::UnknownError("not fetched");
  ConnInfo next_conn;
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 1, [&] { first_reported.Notify(); });
  hooks.On(HookPoint::kWriterReported, 1, 2, [&] { second_reported.Notify(); });
  // The reader takes the caller's word only once the next request's write
  // has failed and closed the connection: it must still read the response.
  hooks.On(HookPoint::kReaderResumesAfterBody, 1, 1,
           [&] { EXPECT_TRUE(second_reported.WaitForNotificationWithTimeout(kLeakWait)); });
  hooks.On(HookPoint::kPooledBeforeDelivery, 1, 1, [&] {
    // Connection 1 is in the pool; the reader has not been told. The next
    // request takes it, is answered in full, and its write then fails.
    next = std::thread([&] {
      absl::StatusOr<Response> response =
          transport_for_next->RoundTrip(Get("http://peer.test/next"));
      if (!response.ok()) {
        next_body = response.status();
        return;
      }
      next_conn = response->conn;
      next_body = response->body->ReadAll();
    });
    EXPECT_TRUE(second_reported.WaitForNotificationWithTimeout(kLeakWait));
  });
  {
    TransportOptions options;
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    options.dial = FirstThenFresh(dials, [&]() -> std::unique_ptr<NetConn> {
      auto conn = std::make_unique<FakeConn>([](FakeConn& peer, absl::string_view, int write) {
        if (write == 1) {
          peer.Deliver("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
        } else {
          // The whole answer arrives, then the peer resets the write.
          peer.FailWrites(absl::UnavailableError("write: Connection reset by peer"));
          peer.Deliver(testserver::OkResponse("second"));
        }
      });
      first = conn.get();
      return conn;
    });
    Transport transport(options);
    transport_for_next = &transport;
    absl::StatusOr<Response> response = transport.RoundTrip(Get("http://peer.test/"));
    ASSERT_TRUE(response.ok()) << response.status();
    // The report is on writeErrCh: the caller decides at the body's end.
    ASSERT_TRUE(first_reported.WaitForNotificationWithTimeout(kLeakWait));
    first->Deliver("world");
    EXPECT_EQ(ReadBody(*response), "helloworld");
    ASSERT_TRUE(next.joinable());
    next.join();
    ASSERT_TRUE(next_body.ok()) << next_body.status();
    EXPECT_EQ(*next_body, "second");
    EXPECT_EQ(next_conn.id, 1u);
  }
  ExpectLiveThreadsAtMost(0);
}

}  // namespace
}  // namespace h1
