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
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
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
using ::h1::testing::k408;
using ::h1::testing::kLeakWait;
using ::h1::testing::ReadBody;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testing::WriterThreadWritesAll;
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
// it closes, or times the connection out with a 408 first. The writer
// (which writes every request here) is parked just after the previous
// request, so the POST is still queued.
// Whatever arrived cannot answer a request not one byte of which was
// written: the writer never reads its body for a closed connection, and
// the POST goes, whole, to a new connection; the caller never sees a 408.
TEST(RetryTest, RequestQueuedWhenTheServerEndsTheConnectionGoesWholeElsewhere) {
  for (const std::string& last_words : {std::string(), std::string(k408)}) {
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
      options.dial = dialer.Dial(WriterThreadWritesAll);
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

// Go's TestRetryRequestsOnError, with an exact log of what happened per case.
// Connection 1 of the server answers its first requests, then reads the
// next request whole and closes without a response byte (Go's
// errServerClosedIdle race, as a server that times out a kept-alive
// connection just as a request arrives). Every other connection answers
// every request with "conn N". The log holds, in order: "dial N" (the Dial
// hook), "write N: <request line>" (each write on socket N, logged before
// its bytes reach the socket), "close 1" (the server, before it closes),
// and "get_body" (the request's body factory).
namespace retry_on_error {

using ::h1::testserver::SeenRequest;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// Thread-safe.
class EventLog {
 public:
  void Add(std::string event) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

// Logs every write on dialed socket `index`: its request line ("GET /a"),
// or for a write that carries only body bytes, how many.
class LoggedWritesConn final : public ForwardingNetConn {
 public:
  LoggedWritesConn(std::unique_ptr<NetConn> inner, int index, EventLog* log)
      : ForwardingNetConn(std::move(inner)), index_(index), log_(log) {}
  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override {
    std::string bytes;
    for (absl::string_view piece : pieces) bytes.append(piece.data(), piece.size());
    const size_t line_end = bytes.find("\r\n");
    absl::string_view line(bytes.data(), line_end == std::string::npos ? 0 : line_end);
    const bool request_line = absl::ConsumeSuffix(&line, " HTTP/1.1");
    log_->Add(
        absl::StrCat("write ", index_, ": ",
                     request_line ? std::string(line) : absl::StrCat(bytes.size(), " body bytes")));
    return ForwardingNetConn::Write(pieces, written);
  }

 private:
  const int index_;
  EventLog* const log_;
};

// What one run saw.
struct StaleRun {
  std::vector<std::string> events;
  absl::Status status;  // The request's outcome.
  std::string body;     // Its response body, if it succeeded.
  uint64_t conn_id = 0;
  TransportStats stats;
  std::vector<SeenRequest> seen;  // The server's log.
  int dials = 0;
};

// Sends `make(url, log)` for path /b after `warm_up` GETs of /a on
// connection 1, whose server closes on the request after those. A request
// with "Expect: 100-continue" is sent 100 Continue, except the one the
// server closes on, whose body it never asks for.
StaleRun SendWhereConnectionOneGoesStale(
    int warm_up, std::function<Request(std::string url, EventLog& log)> make) {
  EventLog log;
  TestServer server([&](PeerConn& conn) {
    for (int seq = 1;; ++seq) {
      absl::StatusOr<wire::RequestHead> head = conn.ReadRequestHead();
      if (!head.ok()) return;
      const bool close_now = conn.index() == 1 && seq == warm_up + 1;
      if (head->headers.HasToken("Expect", "100-continue")) {
        if (close_now) {
          log.Add("close 1");
          return;
        }
        if (!conn.Write("HTTP/1.1 100 Continue\r\n\r\n").ok()) return;
      }
      if (!conn.ReadBody().ok()) return;
      if (close_now) {
        log.Add("close 1");
        return;
      }
      const std::string body = absl::StrCat("conn ", conn.index());
      const std::string answer = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                                              "\r\n\r\n", head->method == "HEAD" ? "" : body);
      if (!conn.Write(answer).ok()) return;
    }
  });
  RecordingDialer dialer;
  StaleRun run;
  {
    TransportOptions options = TestOptions(dialer);
    options.dial = dialer.Dial([&](int index, std::unique_ptr<NetConn> conn) {
      log.Add(absl::StrCat("dial ", index));
      return std::make_unique<LoggedWritesConn>(std::move(conn), index, &log);
    });
    // Connection 1 is kept after each warm-up GET however late its writer
    // reports: a decision never times out into a dial of its own.
    options.reuse_grace_period = absl::Hours(1);
    // Only 100 Continue, or the server's close, ends the wait of a request
    // that expects it (the request's deadline bounds it).
    options.expect_continue_timeout = absl::Hours(1);
    Transport transport(options);
    for (int i = 0; i < warm_up; ++i) {
      const Fetched warm = Fetch(transport, server.Url("/a"));
      EXPECT_EQ(warm.body, "conn 1");
      EXPECT_EQ(warm.conn.id, 1u);
    }
    absl::StatusOr<Response> response = transport.RoundTrip(make(server.Url("/b"), log));
    run.status = response.status();
    if (response.ok()) {
      run.body = ReadBody(*response);
      run.conn_id = response->conn.id;
    }
    run.stats = transport.Stats();
  }
  ExpectNothingLeaked(dialer);
  run.events = log.events();
  run.seen = server.requests();
  run.dials = dialer.dials();
  return run;
}

// `request`, whose get_body (if any) logs "get_body" before it makes the body.
Request LoggingGetBody(Request request, EventLog& log) {
  if (request.get_body) {
    request.get_body = [&log, make = std::move(request.get_body)] {
      log.Add("get_body");
      return make();
    };
  }
  return request;
}

Request WithMethod(std::string url, std::string method) {
  Request request = Get(std::move(url));
  request.method = std::move(method);
  return request;
}

TEST(RetryTest, RetryRequestsOnErrorIdempotentMethodsGoAgainOnANewConnection) {
  for (const std::string method : {"GET", "HEAD", "OPTIONS", "TRACE"}) {
    SCOPED_TRACE(method);
    const StaleRun run = SendWhereConnectionOneGoesStale(
        1, [&](std::string url, EventLog&) { return WithMethod(url, method); });
    EXPECT_THAT(run.events, ElementsAreArray<std::string>(
                                {"dial 1", "write 1: GET /a", "write 1: " + method + " /b",
                                 "close 1", "dial 2", "write 2: " + method + " /b"}));
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.body, method == "HEAD" ? "" : "conn 2");
    EXPECT_EQ(run.conn_id, 2u);
    EXPECT_EQ(run.stats.retries, 1u);
    EXPECT_EQ(run.dials, 2);
    ASSERT_EQ(run.seen.size(), 3u);
    EXPECT_EQ(run.seen[1].connection, 1);
    EXPECT_EQ(run.seen[2].connection, 2);
    EXPECT_EQ(run.seen[2].method, method);
  }
}

// A request that is not idempotent, whose bytes reached the server, is
// never sent twice: not a POST with a replayable body, nor a DELETE or a
// PUT (which Go, too, does not count as replayable without a key).
TEST(RetryTest, RetryRequestsOnErrorNeverSendsANonIdempotentRequestTwice) {
  for (const std::string method : {"POST", "PUT", "DELETE"}) {
    SCOPED_TRACE(method);
    const StaleRun run = SendWhereConnectionOneGoesStale(1, [&](std::string url, EventLog& log) {
      Request request = method == "DELETE" ? WithMethod(url, method) : Post(url, "payload");
      request.method = method;
      return LoggingGetBody(std::move(request), log);
    });
    EXPECT_THAT(run.events,
                ElementsAreArray<std::string>(
                    {"dial 1", "write 1: GET /a", "write 1: " + method + " /b", "close 1"}));
    ASSERT_FALSE(run.status.ok());
    EXPECT_EQ(run.status.code(), absl::StatusCode::kUnavailable) << run.status;
    EXPECT_THAT(run.status.message(),
                HasSubstr("server closed the connection before sending a response"));
    EXPECT_EQ(run.stats.retries, 0u);
    EXPECT_EQ(run.dials, 1);
    ASSERT_EQ(run.seen.size(), 2u);
    EXPECT_EQ(run.seen[1].body, method == "DELETE" ? "" : "payload");
  }
}

// An Idempotency-Key (or X-Idempotency-Key) makes a POST replayable: it is
// sent again on a new connection with a fresh body from get_body, and the
// server sees the whole body on both.
TEST(RetryTest, RetryRequestsOnErrorReplaysAPostWithAnIdempotencyKey) {
  for (const std::string key : {"Idempotency-Key", "X-Idempotency-Key"}) {
    SCOPED_TRACE(key);
    const StaleRun run = SendWhereConnectionOneGoesStale(1, [&](std::string url, EventLog& log) {
      Request post = Post(url, "payload");
      post.headers.Add(key, "order-17");
      return LoggingGetBody(std::move(post), log);
    });
    EXPECT_THAT(run.events, ElementsAre("dial 1", "write 1: GET /a", "write 1: POST /b", "close 1",
                                        "get_body", "dial 2", "write 2: POST /b"));
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.body, "conn 2");
    EXPECT_EQ(run.conn_id, 2u);
    EXPECT_EQ(run.stats.retries, 1u);
    ASSERT_EQ(run.seen.size(), 3u);
    for (int i : {1, 2}) {
      EXPECT_EQ(run.seen[i].connection, i);
      EXPECT_EQ(run.seen[i].method, "POST");
      EXPECT_EQ(run.seen[i].body, "payload");
      EXPECT_EQ(run.seen[i].headers.Get(key), "order-17");
    }
  }
}

// The same with "Expect: 100-continue": the server closes after the head,
// before it asks for the body, which was never sent. The replay on the new
// connection waits for its 100 Continue and then sends the fresh body.
TEST(RetryTest, RetryRequestsOnErrorReplaysAnExpectingPostClosedAfterItsHead) {
  const StaleRun run = SendWhereConnectionOneGoesStale(1, [](std::string url, EventLog& log) {
    Request post = Post(url, "payload");
    post.headers.Add("Idempotency-Key", "order-18");
    post.headers.Add("Expect", "100-continue");
    post.deadline = absl::Now() + kLeakWait;
    return LoggingGetBody(std::move(post), log);
  });
  EXPECT_THAT(run.events,
              ElementsAre("dial 1", "write 1: GET /a", "write 1: POST /b", "close 1", "get_body",
                          "dial 2", "write 2: POST /b", "write 2: 7 body bytes"));
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.body, "conn 2");
  EXPECT_EQ(run.stats.retries, 1u);
  ASSERT_EQ(run.seen.size(), 3u);
  EXPECT_EQ(run.seen[1].body_bytes, 0u);
  EXPECT_EQ(run.seen[2].body, "payload");
}

// An idempotent request whose body cannot be made again (no get_body) is
// not replayed: the body went to the failed connection.
TEST(RetryTest, RetryRequestsOnErrorDoesNotReplayABodyWithoutGetBody) {
  for (const std::string method : {"PUT", "GET"}) {
    SCOPED_TRACE(method);
    const StaleRun run = SendWhereConnectionOneGoesStale(1, [&](std::string url, EventLog&) {
      Request request = WithMethod(url, method);
      request.headers.Add("Idempotency-Key", "order-19");
      request.content_length = 7;
      request.body = StringBody("payload");
      return request;
    });
    EXPECT_THAT(run.events,
                ElementsAreArray<std::string>(
                    {"dial 1", "write 1: GET /a", "write 1: " + method + " /b", "close 1"}));
    ASSERT_FALSE(run.status.ok());
    EXPECT_THAT(run.status.message(),
                HasSubstr("server closed the connection before sending a response"));
    EXPECT_EQ(run.stats.retries, 0u);
    EXPECT_EQ(run.dials, 1);
  }
}

// A get_body that fails ends the request with the first failure, saying why
// it was not retried.
TEST(RetryTest, RetryRequestsOnErrorAFailingGetBodyEndsTheRequest) {
  const StaleRun run = SendWhereConnectionOneGoesStale(1, [](std::string url, EventLog& log) {
    Request post = Post(url, "payload");
    post.headers.Add("Idempotency-Key", "order-20");
    post.get_body = [&log]() -> absl::StatusOr<std::unique_ptr<BodySource>> {
      log.Add("get_body");
      return absl::DataLossError("the upload was deleted");
    };
    return post;
  });
  EXPECT_THAT(run.events,
              ElementsAre("dial 1", "write 1: GET /a", "write 1: POST /b", "close 1", "get_body"));
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.status.code(), absl::StatusCode::kUnavailable) << run.status;
  EXPECT_EQ(run.status.message(),
            "server closed the connection before sending a response; not retried: get_body "
            "failed: the upload was deleted");
  EXPECT_EQ(run.stats.retries, 0u);
  EXPECT_EQ(run.dials, 1);
}

// A failure on a fresh connection is never retried, however replayable the
// request: the server refuses the request itself, and a retry could loop.
TEST(RetryTest, RetryRequestsOnErrorNeverRetriesOnAFreshConnection) {
  for (const bool post : {false, true}) {
    SCOPED_TRACE(post ? "POST with an Idempotency-Key" : "GET");
    const StaleRun run = SendWhereConnectionOneGoesStale(0, [&](std::string url, EventLog& log) {
      if (!post) return Get(url);
      Request request = Post(url, "payload");
      request.headers.Add("Idempotency-Key", "order-21");
      return LoggingGetBody(std::move(request), log);
    });
    EXPECT_THAT(run.events,
                ElementsAreArray<std::string>(
                    {"dial 1", post ? "write 1: POST /b" : "write 1: GET /b", "close 1"}));
    ASSERT_FALSE(run.status.ok());
    EXPECT_THAT(run.status.message(),
                HasSubstr("server closed the connection before sending a response"));
    EXPECT_EQ(run.stats.retries, 0u);
    EXPECT_EQ(run.dials, 1);
  }
}

}  // namespace retry_on_error
}  // namespace
}  // namespace h1
