// When a connection is reused and when it is not: keep-alive, the ways
// either side asks to close, body framings, and idle connections that die.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::h1::testing::ReadBody;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testing::kLeakWait;
using ::h1::testserver::AnswerEvery;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::TestServer;
using ::testing::HasSubstr;

// Sends two GETs; returns the connection ids that served them.
std::pair<uint64_t, uint64_t> TwoGets(Transport& transport, const TestServer& server,
                                      const std::string& want_body) {
  const Fetched first = Fetch(transport, server.Url("/1"));
  const Fetched second = Fetch(transport, server.Url("/2"));
  EXPECT_EQ(first.body, want_body);
  EXPECT_EQ(second.body, want_body);
  return {first.conn.id, second.conn.id};
}

TEST(ReuseTest, TenGetsShareOneConnection) {
  TestServer server([](PeerConn& conn) {
    for (int i = 1;; ++i) {
      if (!conn.ReadRequest().ok()) return;
      ASSERT_TRUE(conn.Write(OkResponse(absl::StrCat("response ", i))).ok());
    }
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    for (int i = 1; i <= 10; ++i) {
      absl::StatusOr<Response> response =
          transport.RoundTrip(Get(server.Url(absl::StrCat("/get/", i))));
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_EQ(ReadBody(*response), absl::StrCat("response ", i));
      EXPECT_EQ(response->conn.id, 1u);
      EXPECT_EQ(response->conn.reused, i > 1);
      EXPECT_EQ(response->conn.was_idle, i > 1);
    }
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(server.connections_accepted(), 1);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(requests[i].connection, 1);
    EXPECT_EQ(requests[i].target, absl::StrCat("/get/", i + 1));
    EXPECT_EQ(requests[i].headers.Get("Host"), absl::StrCat("127.0.0.1:", server.port()));
  }
}

TEST(ReuseTest, ServerConnectionCloseIsHonoured) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    ASSERT_TRUE(conn.Write(OkResponse("x", "Connection: close\r\n")).ok());
    EXPECT_TRUE(conn.AwaitClientClose(absl::Seconds(10)));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(TwoGets(transport, server, "x"), std::make_pair(uint64_t{1}, uint64_t{2}));
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(ReuseTest, ClientConnectionCloseIsSentAndHonoured) {
  TestServer server(AnswerEvery(OkResponse("y")));
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    Request request = Get(server.Url("/"));
    request.headers.Add("Connection", "close");
    absl::StatusOr<Response> first = transport.RoundTrip(std::move(request));
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(ReadBody(*first), "y");
    absl::StatusOr<Response> second = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(ReadBody(*second), "y");
    EXPECT_EQ(second->conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].headers.Get("Connection"), "close");
}

TEST(ReuseTest, DisableKeepAlivesSendsCloseAndNeverReuses) {
  TestServer server(AnswerEvery(OkResponse("z")));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.disable_keep_alives = true;
    Transport transport(options);
    EXPECT_EQ(TwoGets(transport, server, "z"), std::make_pair(uint64_t{1}, uint64_t{2}));
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
  }
  ExpectNothingLeaked(dialer);
  for (const auto& request : server.requests()) {
    EXPECT_EQ(request.headers.Get("Connection"), "close");
  }
}

TEST(ReuseTest, Http10ResponseEndsTheConnection) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    ASSERT_TRUE(conn.Write("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok").ok());
    EXPECT_TRUE(conn.AwaitClientClose(absl::Seconds(10)));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(TwoGets(transport, server, "ok"), std::make_pair(uint64_t{1}, uint64_t{2}));
  }
  ExpectNothingLeaked(dialer);
}

// An HTTP/1.0 server that says keep-alive keeps its connection, as in Go.
TEST(ReuseTest, Http10KeepAliveResponseIsReused) {
  TestServer server(
      AnswerEvery("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"));
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(TwoGets(transport, server, "ok"), std::make_pair(uint64_t{1}, uint64_t{1}));
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(ReuseTest, BodyReadToEofEndsTheConnection) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\n\r\nuntil the end").ok());
    conn.CloseWrite();
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(TwoGets(transport, server, "until the end"),
              std::make_pair(uint64_t{1}, uint64_t{2}));
  }
  ExpectNothingLeaked(dialer);
}

TEST(ReuseTest, HeadResponseIsReused) {
  TestServer server([](PeerConn& conn) {
    absl::StatusOr<testserver::SeenRequest> head = conn.ReadRequest();
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->method, "HEAD");
    ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").ok());
    ASSERT_TRUE(conn.ReadRequest().ok());
    ASSERT_TRUE(conn.Write(OkResponse("after head")).ok());
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    Request head = Get(server.Url("/"));
    head.method = "HEAD";
    absl::StatusOr<Response> first = transport.RoundTrip(std::move(head));
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->content_length, 1000u);
    EXPECT_EQ(ReadBody(*first), "");
    absl::StatusOr<Response> second = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(ReadBody(*second), "after head");
    EXPECT_EQ(second->conn.id, 1u);
    EXPECT_TRUE(second->conn.reused);
  }
  ExpectNothingLeaked(dialer);
}

// The rest of the body arrives only after the caller has read its start:
// the body is streamed to the caller, and the connection is still reused.
TEST(ReuseTest, ChunkedBodyArrivingInPiecesIsStreamedThenReused) {
  absl::Notification caller_read_first_chunk;
  TestServer server([&](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nchun\r\n")
                    .ok());
    caller_read_first_chunk.WaitForNotification();
    ASSERT_TRUE(conn.Write("3\r\nked\r\n0\r\nX-Checksum: 42\r\n\r\n").ok());
    AnswerEvery(OkResponse("second"))(conn);
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> first = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(first.ok()) << first.status();
    char buf[4];
    ASSERT_EQ(*first->body->Read(buf, sizeof(buf)), 4u);
    EXPECT_EQ(std::string(buf, 4), "chun");
    caller_read_first_chunk.Notify();
    EXPECT_EQ(ReadBody(*first), "ked");
    EXPECT_EQ(first->body->trailers().Get("x-checksum"), "42");
    const Fetched second = Fetch(transport, server.Url("/"));
    EXPECT_EQ(second.body, "second");
    EXPECT_EQ(second.conn.id, 1u);
  }
  ExpectNothingLeaked(dialer);
}

TEST(ReuseTest, ChunkedResponseIsReusedAndTrailersKept) {
  TestServer server(AnswerEvery(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\nchun\r\n3\r\nked\r\n0\r\nX-Checksum: 42\r\n\r\n"));
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> first = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(ReadBody(*first), "chunked");
    EXPECT_EQ(first->body->trailers().Get("x-checksum"), "42");
    EXPECT_EQ(first->content_length, std::nullopt);
    absl::StatusOr<Response> second = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(ReadBody(*second), "chunked");
    EXPECT_EQ(second->conn.id, 1u);
  }
  ExpectNothingLeaked(dialer);
}

TEST(ReuseTest, ClosingABodyEarlyClosesTheConnection) {
  absl::Notification client_closed_first;
  TestServer server([&](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    if (conn.index() == 1) {
      // Larger than the socket buffers: the rest cannot be sent.
      conn.Write(OkResponse(std::string(16 << 20, 'b'))).IgnoreError();
      conn.DiscardUntilEof();
      client_closed_first.Notify();
      return;
    }
    ASSERT_TRUE(conn.Write(OkResponse("small")).ok());
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> big = transport.RoundTrip(Get(server.Url("/big")));
    ASSERT_TRUE(big.ok()) << big.status();
    char buf[100];
    ASSERT_EQ(*big->body->Read(buf, sizeof(buf)), sizeof(buf));
    big->body->Close();
    // Never a clean end after Close: the body was cut short.
    absl::StatusOr<std::string> rest = big->body->ReadAll();
    EXPECT_FALSE(rest.ok());
    EXPECT_THAT(rest.status().message(), HasSubstr("read on a closed response body"));
    client_closed_first.WaitForNotification();
    absl::StatusOr<Response> next = transport.RoundTrip(Get(server.Url("/small")));
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(ReadBody(*next), "small");
    EXPECT_EQ(next->conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

// A body that arrived whole with its head (the common small response, or
// none at all) needs nothing more from the connection: it goes back to the
// pool at once, as Go pools bodiless responses, and the caller may read the
// body, stop early or drop it without costing the connection.
TEST(ReuseTest, ABodyThatArrivedWholeReturnsItsConnectionAtOnce) {
  TestServer server(AnswerEvery(OkResponse("small")));
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> first = transport.RoundTrip(Get(server.Url("/1")));
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(transport.IdleConnectionCount(), 1);

    absl::StatusOr<Response> second = transport.RoundTrip(Get(server.Url("/2")));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(second->conn.id, 1u);
    char buf[2];
    ASSERT_EQ(*second->body->Read(buf, sizeof(buf)), sizeof(buf));
    second->body->Close();
    EXPECT_FALSE(second->body->ReadAll().ok());  // Closed, whatever it held.
    EXPECT_EQ(ReadBody(*first), "small");  // Still readable.

    const Fetched third = Fetch(transport, server.Url("/3"));
    EXPECT_EQ(third.body, "small");
    EXPECT_EQ(third.conn.id, 1u);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(ReuseTest, EmptyBodyDroppedUnreadKeepsItsConnection) {
  TestServer server(AnswerEvery("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    {
      absl::StatusOr<Response> unread = transport.RoundTrip(Get(server.Url("/1")));
      ASSERT_TRUE(unread.ok()) << unread.status();
    }
    const Fetched next = Fetch(transport, server.Url("/2"));
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.reused);
  }
  ExpectNothingLeaked(dialer);
}

// A script whose first connection answers its first request with `head`
// and `start`, waits for `gate`, sends `rest`, then answers "next" to every
// request; later connections answer "next" at once.
TestServer::Script AnswerInTwoParts(std::string head_and_start, std::string rest,
                                        absl::Notification* gate) {
  return [=](PeerConn& conn) {
    if (conn.index() == 1) {
      if (!conn.ReadRequest().ok()) return;
      ASSERT_TRUE(conn.Write(head_and_start).ok());
      gate->WaitForNotification();
      ASSERT_TRUE(conn.Write(rest).ok());
    }
    AnswerEvery(OkResponse("next"))(conn);
  };
}

TEST(ReuseTest, DestroyingABodyStillArrivingClosesTheConnection) {
  TestServer server([&](PeerConn& conn) {
    if (conn.index() == 1) {
      if (!conn.ReadRequest().ok()) return;
      ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345").ok());
      conn.AwaitClientClose(absl::Seconds(10));
      return;
    }
    AnswerEvery(OkResponse("next"))(conn);
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    {
      absl::StatusOr<Response> unread = transport.RoundTrip(Get(server.Url("/")));
      ASSERT_TRUE(unread.ok()) << unread.status();
    }
    EXPECT_TRUE(dialer.AwaitOpenAtMost(0));
    const Fetched next = Fetch(transport, server.Url("/"));
    EXPECT_EQ(next.body, "next");
    EXPECT_EQ(next.conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

// As Go's body reader returns EOF together with the last bytes, the Read
// that delivers a body's last bytes ends the exchange when the body's end
// has arrived with them (always so with Content-Length): a caller that stops
// there, without the Read that returns 0, keeps the connection.
TEST(ReuseTest, ReadingTheLastBytesOfAStreamedBodyEndsTheExchange) {
  struct Case {
    std::string name;
    std::string head_and_start;  // Ends with "abc"; the rest begins with "def".
    std::string rest;
  };
  for (const Case& c : std::vector<Case>{
           {"content_length", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc", "def"},
           {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            "3\r\ndef\r\n0\r\nX-Sum: 6\r\n\r\n"}}) {
    SCOPED_TRACE(c.name);
    absl::Notification caller_read_start;
    TestServer server(AnswerInTwoParts(c.head_and_start, c.rest, &caller_read_start));
    RecordingDialer dialer;
    {
      Transport transport(TestOptions(dialer));
      absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/")));
      ASSERT_TRUE(response.ok()) << response.status();
      char buf[3];
      ASSERT_EQ(*response->body->Read(buf, sizeof(buf)), 3u);
      caller_read_start.Notify();
      ASSERT_EQ(*response->body->Read(buf, sizeof(buf)), 3u);
      EXPECT_EQ(std::string(buf, 3), "def");
      if (c.name == "chunked") EXPECT_EQ(response->body->trailers().Get("X-Sum"), "6");
      response->body->Close();
      const Fetched next = Fetch(transport, server.Url("/"));
      EXPECT_EQ(next.body, "next");
      EXPECT_EQ(next.conn.id, 1u);
    }
    ExpectNothingLeaked(dialer);
  }
}

// A streamed body whose remaining bytes have all arrived can be closed
// without costing the connection: the rest is skipped.
TEST(ReuseTest, ClosingAStreamedBodyWhoseRestHasArrivedKeepsTheConnection) {
  absl::Notification caller_has_head;
  TestServer server(AnswerInTwoParts("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
                                         std::string(100, 'r'), &caller_has_head));
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(response.ok()) << response.status();
    caller_has_head.Notify();
    char buf[10];
    ASSERT_EQ(*response->body->Read(buf, sizeof(buf)), sizeof(buf));
    response->body->Close();
    const Fetched next = Fetch(transport, server.Url("/"));
    EXPECT_EQ(next.body, "next");
    EXPECT_EQ(next.conn.id, 1u);
  }
  ExpectNothingLeaked(dialer);
}

TEST(ReuseTest, IdleConnectionClosedByServerIsNotTaken) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    ASSERT_TRUE(conn.Write(OkResponse("once")).ok());
    conn.CloseWrite();  // Keep-alive was promised, then the server hangs up.
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> first = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(ReadBody(*first), "once");
    // The idle reader sees EOF and removes the connection from the pool.
    EXPECT_TRUE(dialer.AwaitOpenAtMost(0));
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
    absl::StatusOr<Response> second = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(ReadBody(*second), "once");
    EXPECT_EQ(second->conn.id, 2u);
    EXPECT_FALSE(second->conn.reused);
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(dialer.dials(), 2);
}

TEST(ReuseTest, UnsolicitedBytesPoisonAnIdleConnection) {
  absl::Notification client_done;
  TestServer server([&](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    ASSERT_TRUE(conn.Write(OkResponse("first")).ok());
    if (conn.index() == 1) {
      client_done.WaitForNotification();
      ASSERT_TRUE(conn.Write("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n").ok());
    }
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> first = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(ReadBody(*first), "first");
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
    client_done.Notify();
    EXPECT_TRUE(dialer.AwaitOpenAtMost(0));
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
    absl::StatusOr<Response> second = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(second->status, 200);
    EXPECT_EQ(ReadBody(*second), "first");
    EXPECT_EQ(second->conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

// Bytes already in the socket right behind a response (here a stale second
// response in its own segment, which the reader has not read yet) poison
// the connection before it is pooled: they must never become the next
// request's response. The reader is held back from the socket until the
// next request is on its way, so a connection wrongly pooled would hand
// them over.
TEST(ReuseTest, BytesRightBehindAResponseInTheSocketPoisonTheConnection) {
  absl::Notification next_handed_over;
  int dials = 0;
  HookTable hooks;
  hooks.On(HookPoint::kReaderBeforeNextRead, 1, 1,
           [&] { next_handed_over.WaitForNotificationWithTimeout(kLeakWait); });
  hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] { next_handed_over.Notify(); });
  {
    TransportOptions options;
    options.test_hook = hooks.Hook();
    options.dial = [&](const std::string&, uint16_t,
                       const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
      const bool first = ++dials == 1;
      return std::make_unique<FakeConn>([first](FakeConn& peer, absl::string_view, int) {
        peer.Deliver(OkResponse(first ? "first" : "fresh"));
        if (first) peer.Deliver(OkResponse("stale"));
      });
    };
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, "http://peer.test/1").body, "first");
    const Fetched next = Fetch(transport, "http://peer.test/2");
    EXPECT_EQ(next.body, "fresh");
    EXPECT_EQ(next.conn.id, 2u);
  }
  ExpectLiveThreadsAtMost(0);
}

// A 204, or the answer to a HEAD, with stray bytes behind it in the same
// segment: they never become the next response.
TEST(ReuseTest, BytesBehindABodilessResponseNeverBecomeTheNextResponse) {
  for (const std::string method : {"GET", "HEAD"}) {
    SCOPED_TRACE(method);
    TestServer server([&](PeerConn& conn) {
      if (conn.index() == 1) {
        if (!conn.ReadRequest().ok()) return;
        const std::string bodiless = method == "HEAD"
                                         ? "HTTP/1.1 200 OK\r\nContent-Length: 38\r\n\r\n"
                                         : "HTTP/1.1 204 No Content\r\n\r\n";
        if (!conn.Write(bodiless + OkResponse("stale")).ok()) return;
      }
      AnswerEvery(OkResponse("fresh"))(conn);
    });
    RecordingDialer dialer;
    {
      Transport transport(TestOptions(dialer));
      Request first = Get(server.Url("/"));
      first.method = method;
      absl::StatusOr<Response> response = transport.RoundTrip(std::move(first));
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_EQ(ReadBody(*response), "");
      const Fetched next = Fetch(transport, server.Url("/"));
      EXPECT_EQ(next.body, "fresh");
      EXPECT_EQ(next.conn.id, 2u);
    }
    ExpectNothingLeaked(dialer);
  }
}

// A server script can wait for a point in the client: here it answers only
// once the client's writer has reported the request written, so the reuse
// decision finds the report already there, every time.
TEST(ReuseTest, AServerGateOpenedByAClientHook) {
  TestServer server([](PeerConn& conn) {
    while (conn.ReadRequest().ok()) {
      if (!conn.AwaitGate("reported") || !conn.Write(OkResponse("after the report")).ok()) return;
    }
  });
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 1, [&] { server.OpenGate("reported"); });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/1")).body, "after the report");
    const Fetched second = Fetch(transport, server.Url("/2"));
    EXPECT_EQ(second.body, "after the report");
    EXPECT_EQ(second.conn.id, 1u);
  }
  ExpectNothingLeaked(dialer);
}

TEST(ReuseTest, ShortBodyIsAnErrorAndClosesTheConnection) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    if (conn.index() == 1) {
      ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345").ok());
      conn.CloseWrite();
      return;
    }
    ASSERT_TRUE(conn.Write(OkResponse("fine")).ok());
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> short_body = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(short_body.ok()) << short_body.status();
    absl::StatusOr<std::string> body = short_body->body->ReadAll();
    ASSERT_FALSE(body.ok());
    EXPECT_THAT(body.status().message(), HasSubstr("unexpected EOF: 5 of 10 body bytes"));
    absl::StatusOr<Response> next = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(ReadBody(*next), "fine");
    EXPECT_EQ(next->conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

TEST(ReuseTest, ExtraBodyBytesPoisonTheConnection) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfoobar").ok());
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    EXPECT_EQ(TwoGets(transport, server, "foo"), std::make_pair(uint64_t{1}, uint64_t{2}));
  }
  ExpectNothingLeaked(dialer);
}

}  // namespace
}  // namespace h1
