// When a request is sent again on a new connection, and when never (Go's
// shouldRetryRequest): only after a failure on a reused connection, and only
// if none of the request reached the socket, or if the server closed the
// connection before a single response byte and the request is idempotent
// with no body. A request is never sent twice otherwise, and never without
// its body.
#include <memory>
#include <string>
#include <utility>

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
using ::h1::testing::kLeakWait;
using ::h1::testing::ReadBody;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testserver::AnswerEvery;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::TestServer;
using ::testing::HasSubstr;

// The server closes a kept-alive connection just as the next request is
// sent (Go's errServerClosedIdle race): it reads the request's head and
// closes without a response byte. Later connections answer every request.
TestServer::Script AnswerOnceThenCloseOnNextRequest() {
  return [](PeerConn& conn) {
    if (conn.index() == 1) {
      if (!conn.ReadRequest().ok()) return;
      ASSERT_TRUE(conn.Write(OkResponse("ok")).ok());
      ASSERT_TRUE(conn.ReadRequestHead().ok());
      return;
    }
    AnswerEvery(OkResponse("ok"))(conn);
  };
}

TEST(RetryTest, IdempotentRequestIsRetriedAfterStaleConnection) {
  TestServer server(AnswerOnceThenCloseOnNextRequest());
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(Fetch(transport, server.Url("/1")).conn.id, 1u);
    const Fetched retried = Fetch(transport, server.Url("/2"));
    EXPECT_EQ(retried.body, "ok");
    EXPECT_EQ(retried.conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(dialer.dials(), 2);
}

TEST(RetryTest, PostIsNeverSilentlyRetried) {
  TestServer server(AnswerOnceThenCloseOnNextRequest());
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(Fetch(transport, server.Url("/")).body, "ok");
    absl::StatusOr<Response> post = transport.RoundTrip(Post(server.Url("/"), "data"));
    ASSERT_FALSE(post.ok());
    EXPECT_THAT(post.status().message(),
                HasSubstr("server closed the connection before sending a response"));
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(dialer.dials(), 1);
  EXPECT_EQ(server.connections_accepted(), 1);
}

// Issue 8, defect 2: a GET with a chunked body is not replayable. It used
// to be judged after its body had been handed to the writer, so it looked
// bodiless and was sent again: its head still said chunked, and no body
// followed. Here a second connection would answer such a head at once.
TEST(RetryTest, GetWithAChunkedBodyIsNeverRetried) {
  TestServer server([](PeerConn& conn) {
    if (conn.index() == 1) {
      AnswerOnceThenCloseOnNextRequest()(conn);
      return;
    }
    if (conn.ReadRequestHead().ok()) conn.Write(OkResponse("sent without its body")).IgnoreError();
    conn.AwaitClientClose(kLeakWait);
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(Fetch(transport, server.Url("/")).body, "ok");
    Request get = Get(server.Url("/search"));
    get.body = StringBody("query");  // No content_length: sent chunked.
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(get));
    ASSERT_FALSE(response.ok()) << "retried: " << ReadBody(*response);
    EXPECT_THAT(response.status().message(),
                HasSubstr("server closed the connection before sending a response"));
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(dialer.dials(), 1);
  EXPECT_EQ(server.connections_accepted(), 1);
}

// Issue 8, defect 3: a retry is safe only if not a single response byte
// arrived. The server sends part of a head and resets the connection.
TEST(RetryTest, GetIsNotRetriedAfterPartOfAResponse) {
  TestServer server([](PeerConn& conn) {
    if (conn.index() == 1) {
      if (!conn.ReadRequest().ok()) return;
      ASSERT_TRUE(conn.Write(OkResponse("ok")).ok());
      ASSERT_TRUE(conn.ReadRequest().ok());
      ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\nContent-Le").ok());
      conn.Reset();
      return;
    }
    AnswerEvery(OkResponse("sent twice"))(conn);
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(Fetch(transport, server.Url("/")).body, "ok");
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/again")));
    ASSERT_FALSE(response.ok()) << "retried: " << ReadBody(*response);
    EXPECT_THAT(response.status().message(), HasSubstr("Connection reset by peer"));
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(dialer.dials(), 1);
}

// Fails the second write on its socket without the socket taking a byte,
// as a write to a connection the peer has already reset does.
class SecondWriteFailsConn final : public ForwardingNetConn {
 public:
  using ForwardingNetConn::ForwardingNetConn;
  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override {
    if (++writes_ == 2) {
      written = 0;
      return absl::UnavailableError("write: Broken pipe");
    }
    return ForwardingNetConn::Write(pieces, written);
  }

 private:
  int writes_ = 0;  // Only the writer thread writes.
};

// Go's nothingWrittenError: on a reused connection, a request of which the
// socket took not one byte may go again whatever its method, with its whole
// body.
TEST(RetryTest, PostIsRetriedWhenNotOneByteWasWritten) {
  TestServer server(AnswerEvery(OkResponse("stored")));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.dial = dialer.Dial([](int index, std::unique_ptr<NetConn> conn) {
      if (index == 1) conn = std::make_unique<SecondWriteFailsConn>(std::move(conn));
      return conn;
    });
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/first")).conn.id, 1u);
    absl::StatusOr<Response> post = transport.RoundTrip(Post(server.Url("/store"), "payload"));
    ASSERT_TRUE(post.ok()) << post.status();
    EXPECT_EQ(ReadBody(*post), "stored");
    EXPECT_EQ(post->conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].connection, 2);
  EXPECT_EQ(requests[1].body, "payload");
}

// The server ends the idle connection just as the caller hands it a POST:
// it closes, or times the connection out with a 408 first. The writer is
// parked just after the previous request, so the POST is still queued.
// Whatever arrived cannot answer a request not one byte of which was
// written: the writer never reads its body for a closed connection, and
// the POST goes, whole, to a new connection; the caller never sees a 408.
TEST(RetryTest, RequestQueuedWhenTheServerEndsTheConnectionGoesWholeElsewhere) {
  for (const std::string last_words :
       {"", "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"}) {
    SCOPED_TRACE(last_words.empty() ? "close" : "408, then close");
    absl::Notification post_handed_over;
    absl::Notification post_returned;
    TestServer server([&](PeerConn& conn) {
      if (conn.index() == 1) {
        if (!conn.ReadRequest().ok()) return;
        ASSERT_TRUE(conn.Write(OkResponse("first")).ok());
        post_handed_over.WaitForNotificationWithTimeout(kLeakWait);
        conn.Write(last_words).IgnoreError();
        return;
      }
      AnswerEvery(OkResponse("stored"))(conn);
    });
    HookTable hooks;
    hooks.On(HookPoint::kWriterReported, 1, 1,
             [&] { post_returned.WaitForNotificationWithTimeout(kLeakWait); });
    hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] { post_handed_over.Notify(); });
    RecordingDialer dialer;
    {
      TransportOptions options = TestOptions(dialer);
      options.test_hook = hooks.Hook();
      Transport transport(options);
      EXPECT_EQ(Fetch(transport, server.Url("/first")).body, "first");
      absl::StatusOr<Response> post = transport.RoundTrip(Post(server.Url("/store"), "payload"));
      post_returned.Notify();
      ASSERT_TRUE(post.ok()) << post.status();
      EXPECT_EQ(post->status, 200);
      EXPECT_EQ(ReadBody(*post), "stored");
      EXPECT_EQ(post->conn.id, 2u);
    }
    ExpectNothingLeaked(dialer);
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[1].connection, 2);
    EXPECT_EQ(requests[1].body, "payload");
  }
}

}  // namespace
}  // namespace h1
