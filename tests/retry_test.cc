// When a request is sent again on a new connection, and when never (Go's
// shouldRetryRequest): only after a failure on a reused connection, and only
// if none of the request reached the socket, or if the server closed the
// connection before a single response byte and the request is idempotent
// with no body. A request is never sent twice otherwise, and never without
// its body.
#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/synchronization/notification.h"
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
  for (const std::string& last_words :
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

constexpr absl::string_view k408 =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

// Peers for the tests below: connection 1 answers its first request with
// "first" (and runs `later` on later writes), every other connection
// answers "fresh". `first` is set to connection 1's peer.
DialFunction PeersAnsweringFirstThenFresh(
    FakeConn** first, std::function<void(FakeConn&, int write)> later = nullptr) {
  auto dials = std::make_shared<int>(0);
  return [first, later, dials](const std::string&, uint16_t,
                               const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
    if (++*dials == 1) {
      auto conn = std::make_unique<FakeConn>([later](FakeConn& peer, absl::string_view, int write) {
        if (write == 1) {
          peer.Deliver(OkResponse("first"));
        } else if (later) {
          later(peer, write);
        }
      });
      *first = conn.get();
      return conn;
    }
    return std::make_unique<FakeConn>(
        [](FakeConn& peer, absl::string_view, int) { peer.Deliver(OkResponse("fresh")); });
  };
}

// The server times a pooled connection out (a 408 and a close, or just a
// close) as soon as it is pooled, before the caller can take it again; the
// reader does not look at the socket again before the caller takes the
// connection for a GET. What arrived before the GET was taken
// cannot answer it: it goes, whole, to a new connection.
TEST(RetryTest, AnAnswerThatArrivedWhileIdleAnswersNoLaterRequest) {
  for (const std::string& last_words : {std::string(k408), std::string()}) {
    SCOPED_TRACE(last_words.empty() ? "close" : "408, then close");
    absl::Notification next_handed_over;
    FakeConn* first = nullptr;
    const auto server_gives_up = [&] {
      first->Deliver(last_words);
      first->PeerClose();
    };
    HookTable hooks;
    // Pooled at once, or once the writer has reported: either way, before
    // the caller can take the connection.
    hooks.On(HookPoint::kPooledBeforeDelivery, 1, 1, server_gives_up);
    hooks.On(HookPoint::kReuseAwaitsWriter, 1, 1, server_gives_up);
    hooks.On(HookPoint::kReaderBeforeNextRead, 1, 1,
             [&] { next_handed_over.WaitForNotificationWithTimeout(kLeakWait); });
    hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] { next_handed_over.Notify(); });
    {
      TransportOptions options;
      options.test_hook = hooks.Hook();
      options.dial = PeersAnsweringFirstThenFresh(&first);
      Transport transport(options);
      EXPECT_EQ(Fetch(transport, "http://peer.test/first").body, "first");
      const Fetched next = Fetch(transport, "http://peer.test/next");
      EXPECT_EQ(next.body, "fresh");
      EXPECT_EQ(next.conn.id, 2u);
    }
    ExpectLiveThreadsAtMost(0);
  }
}

// A response whose first bytes arrive while the request is still queued
// (the writer is parked just after the previous request) answers something
// else, however the rest of it arrives: the request goes, whole, to a new
// connection, and the stray answer never pools its connection.
TEST(RetryTest, AResponseBegunBeforeTheRequestWasTakenDoesNotAnswerIt) {
  absl::Notification next_handed_over;
  FakeConn* first = nullptr;
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 1,
           [&] { next_handed_over.WaitForNotificationWithTimeout(kLeakWait); });
  hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] {
    first->Deliver("HTTP/1.1 200 OK\r\n");
    next_handed_over.Notify();
  });
  {
    TransportOptions options;
    options.test_hook = hooks.Hook();
    options.dial = PeersAnsweringFirstThenFresh(&first, [](FakeConn& peer, int) {
      peer.Deliver("Content-Length: 5\r\n\r\nstale");
    });
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, "http://peer.test/first").body, "first");
    const Fetched next = Fetch(transport, "http://peer.test/next");
    EXPECT_EQ(next.body, "fresh");
    EXPECT_EQ(next.conn.id, 2u);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    EXPECT_EQ(Fetch(transport, "http://peer.test/third").conn.id, 2u);
  }
  ExpectLiveThreadsAtMost(0);
}

// A NetConn that tells a test when the transport shuts it down.
class ShutdownNotifyingConn final : public ForwardingNetConn {
 public:
  ShutdownNotifyingConn(std::unique_ptr<NetConn> inner, absl::Notification* shut_down)
      : ForwardingNetConn(std::move(inner)), shut_down_(shut_down) {}
  void Shutdown() override {
    ForwardingNetConn::Shutdown();
    if (!shut_down_->HasBeenNotified()) shut_down_->Notify();
  }

 private:
  absl::Notification* const shut_down_;
};

// A body whose first Read runs `on_first_read` (on the writer thread, before
// a byte of the request is written) and returns only after `go`.
class FirstReadWaitsBody final : public BodySource {
 public:
  FirstReadWaitsBody(std::string bytes, std::function<void()> on_first_read,
                     absl::Notification* go)
      : bytes_(std::move(bytes)), on_first_read_(std::move(on_first_read)), go_(go) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (offset_ == 0) {
      on_first_read_();
      go_->WaitForNotificationWithTimeout(kLeakWait);
    }
    const size_t count = std::min(n, bytes_.size() - offset_);
    std::memcpy(buf, bytes_.data() + offset_, count);
    offset_ += count;
    return count;
  }

 private:
  const std::string bytes_;
  const std::function<void()> on_first_read_;
  absl::Notification* const go_;
  size_t offset_ = 0;
};

// The server ends a pooled connection (a close, or a 408 and a close) while
// the writer has taken a POST but is still in its body's first Read: not a
// byte of it is written. The request is withdrawn; the caller waits for the
// writer to give the body back (its Read returns once the connection is
// shut down) and sends the POST, whole, on a new connection.
TEST(RetryTest, ConnectionEndingWhileTheWriterReadsTheBodyGivesTheRequestBackWhole) {
  for (const std::string& last_words : {std::string(k408), std::string()}) {
    SCOPED_TRACE(last_words.empty() ? "close" : "408, then close");
    absl::Notification shut_down;
    FakeConn* first = nullptr;
    std::string second_received;
    int dials = 0;
    {
      TransportOptions options;
      options.dial = [&](const std::string&, uint16_t,
                         const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
        if (++dials == 1) {
          auto conn = std::make_unique<FakeConn>(
              [](FakeConn& peer, absl::string_view, int) { peer.Deliver(OkResponse("first")); });
          first = conn.get();
          return std::make_unique<ShutdownNotifyingConn>(std::move(conn), &shut_down);
        }
        return std::make_unique<FakeConn>([&](FakeConn& peer, absl::string_view bytes, int) {
          second_received.append(bytes.data(), bytes.size());
          peer.Deliver(OkResponse("stored"));
        });
      };
      Transport transport(options);
      EXPECT_EQ(Fetch(transport, "http://peer.test/first").body, "first");
      Request post;
      post.method = "POST";
      post.url = "http://peer.test/store";
      post.content_length = 7;
      post.body = std::make_unique<FirstReadWaitsBody>(
          "payload",
          [&] {
            first->Deliver(last_words);
            first->PeerClose();
          },
          &shut_down);
      absl::StatusOr<Response> response = transport.RoundTrip(std::move(post));
      EXPECT_TRUE(response.ok()) << response.status();
      if (response.ok()) {
        EXPECT_EQ(response->status, 200);
        EXPECT_EQ(ReadBody(*response), "stored");
        EXPECT_EQ(response->conn.id, 2u);
      }
    }
    ExpectLiveThreadsAtMost(0);
    EXPECT_EQ(dials, 2);
    EXPECT_THAT(second_received, ::testing::EndsWith("\r\n\r\npayload"));
  }
}

}  // namespace
}  // namespace h1
