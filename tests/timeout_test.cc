// The response header timeout: what it counts (from the end of the request
// write, as in Go), what zero means (no limit), and what it may close (only
// a connection still serving its own request). These scenarios are about a
// timeout, so they wait on the wall clock.
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transport_test_util.h"
#include "testserver/canned.h"
#include "testserver/test_server.h"
#include "transport/thread_registry.h"
#include "transport/transport.h"

namespace h1 {
namespace {

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
using ::h1::testserver::TestServer;
using ::testing::HasSubstr;

constexpr absl::Duration kHeaderTimeout = absl::Milliseconds(300);

// An upload that takes three times the header timeout to a server that
// answers as soon as it has the whole request: the timer starts when the
// request is written, so a slow upload to a healthy server succeeds.
TEST(TimeoutTest, HeaderTimeoutCountsFromTheEndOfTheRequestWrite) {
  TestServer server(AnswerEvery(OkResponse("uploaded")));
  RecordingDialer dialer;
  auto body_state = std::make_shared<HeldBackBody::State>();
  {
    TransportOptions options = TestOptions(dialer);
    options.response_header_timeout = kHeaderTimeout;
    Transport transport(options);
    Request post;
    post.method = "POST";
    post.url = server.Url("/slow");
    post.content_length = 1000;
    post.body = HeldBackBody::Make(1000, body_state);
    std::thread slow_source([&] {
      body_state->last_byte_requested.WaitForNotification();
      absl::SleepFor(3 * kHeaderTimeout);
      body_state->release.Notify();
    });
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(post));
    slow_source.join();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(ReadBody(*response), "uploaded");
  }
  ExpectNothingLeaked(dialer);
}

// A server that never answers still hits the timer once the request is out.
TEST(TimeoutTest, StalledServerHitsTheResponseHeaderTimeout) {
  absl::Notification client_gave_up;
  TestServer server([&](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    if (conn.AwaitClientClose(absl::Seconds(30))) client_gave_up.Notify();
  });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.response_header_timeout = absl::Milliseconds(50);
    Transport transport(options);
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_FALSE(response.ok());
    EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
    EXPECT_THAT(response.status().message(),
                HasSubstr("timeout awaiting response headers after 50ms"));
    client_gave_up.WaitForNotification();
  }
  ExpectNothingLeaked(dialer);
}

// As in Go, a zero duration means no limit, for the header timeout and for
// the idle timeout alike.
TEST(TimeoutTest, ZeroMeansNoLimit) {
  TestServer server(AnswerEvery(OkResponse("fine")));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.response_header_timeout = absl::ZeroDuration();
    options.idle_conn_timeout = absl::ZeroDuration();
    Transport transport(options);
    const Fetched first = Fetch(transport, server.Url("/1"));
    const Fetched second = Fetch(transport, server.Url("/2"));
    EXPECT_EQ(first.body, "fine");
    EXPECT_EQ(second.body, "fine");
    EXPECT_EQ(second.conn.id, 1u);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
  }
  ExpectNothingLeaked(dialer);
}

// Issue 8: once the reader has put the connection back in the pool for a
// response, that response is the caller's, and the connection no longer
// serves its request. The reader is parked between the two while the
// caller's timer runs out: the caller still gets its response, and the
// pooled connection stays open for the next request.
TEST(TimeoutTest, ATimerThatFiresAfterTheResponseWasPooledClosesNothing) {
  TestServer server(AnswerEvery("HTTP/1.1 204 No Content\r\n\r\n"));
  HookTable hooks;
  hooks.On(HookPoint::kPooledBeforeDelivery, 1, 1,
           [] { absl::SleepFor(3 * kHeaderTimeout); });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.response_header_timeout = kHeaderTimeout;
    options.test_hook = hooks.Hook();
    Transport transport(options);
    absl::StatusOr<Response> first = transport.RoundTrip(Get(server.Url("/1")));
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->status, 204);
    absl::StatusOr<Response> second = transport.RoundTrip(Get(server.Url("/2")));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(second->conn.id, 1u);
    EXPECT_TRUE(second->conn.reused);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(server.connections_accepted(), 1);
}

// The header timer runs out just as the reader claims a response and, the
// connection being closed after it, exits. The response is queued for the
// caller: it must be delivered, not reported as a connection closed before
// the response.
TEST(TimeoutTest, AResponseClaimedAsTheTimerFiresIsDelivered) {
  absl::Notification timer_fired;
  TestServer server([&](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    timer_fired.WaitForNotificationWithTimeout(kLeakWait);
    ASSERT_TRUE(conn.Write(OkResponse("just in time", "Connection: close\r\n")).ok());
    conn.AwaitClientClose(kLeakWait);
  });
  HookTable hooks;
  hooks.On(HookPoint::kHeaderTimerFired, 1, 1, [&] {
    timer_fired.Notify();
    // The reader reads the response, delivers it and exits, as does the
    // writer once the connection has closed.
    ThreadRegistry::Global().WaitForAtMost(0, kLeakWait);
  });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.response_header_timeout = absl::Milliseconds(50);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(ReadBody(*response), "just in time");
  }
  ExpectNothingLeaked(dialer);
}

}  // namespace
}  // namespace h1
