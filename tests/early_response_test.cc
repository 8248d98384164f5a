// The early-response rule (Go commit 6278a954, Go issues 7569 and 7620): a
// response that arrives before the request was completely written is
// delivered, but its connection is never reused, and nothing waits forever.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
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
using ::h1::testing::FirstThenFresh;
using ::h1::testing::HeldBackBody;
using ::h1::testing::HookTable;
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

// Sends `request`, which the peer answers early with "early", then a GET,
// which a fresh connection (answering "fresh") must carry.
void ExpectEarlyAnswerThenFreshConnection(Transport& transport, Request request) {
  absl::StatusOr<Response> early = transport.RoundTrip(std::move(request));
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(ReadBody(*early), "early");
  const Fetched next = Fetch(transport, "http://peer.test/next");
  EXPECT_EQ(next.body, "fresh");
  EXPECT_EQ(next.conn.id, 2u);
}

constexpr uint64_t kUploadSize = 256 * 1024;

// Seed scenario: a 256 KiB POST whose last byte the body source holds back.
// The server answers 200 "foo" with keep-alive and keeps discarding input.
TEST(EarlyResponseTest, ResponseIsDeliveredAndConnectionIsNeverReused) {
  absl::Notification first_connection_closed;
  auto body_state = std::make_shared<HeldBackBody::State>();
  TestServer server([&](PeerConn& conn) {
    if (conn.index() == 1) {
      ASSERT_TRUE(conn.ReadRequestHead().ok());
      // Answer once the client's writer is waiting for the held-back byte.
      body_state->last_byte_requested.WaitForNotification();
      ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfoo").ok());
      conn.DiscardUntilEof();
      first_connection_closed.Notify();
      return;
    }
    while (conn.ReadRequest().ok()) ASSERT_TRUE(conn.Write(OkResponse("bar")).ok());
  });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    // The decision must not depend on the grace timer: with an hour of grace,
    // waiting for it would hang this test.
    options.reuse_grace_period = absl::Hours(1);
    // Reusing the poisoned connection would queue the next request behind
    // the stuck writer (Go issue 7569); this turns that hang into a failure.
    options.response_header_timeout = absl::Seconds(10);
    Transport transport(options);

    Request post;
    post.method = "POST";
    post.url = server.Url("/upload");
    post.content_length = kUploadSize;
    post.body = HeldBackBody::Make(kUploadSize, body_state);
    absl::StatusOr<Response> first = transport.RoundTrip(std::move(post));
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->status, 200);
    EXPECT_EQ(ReadBody(*first), "foo");
    EXPECT_EQ(first->conn.id, 1u);
    EXPECT_FALSE(body_state->release.HasBeenNotified());

    absl::StatusOr<Response> second = transport.RoundTrip(Get(server.Url("/next")));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(ReadBody(*second), "bar");
    EXPECT_EQ(second->conn.id, 2u);  // A NEW connection.
    EXPECT_FALSE(second->conn.reused);
    EXPECT_FALSE(second->conn.was_idle);
    EXPECT_EQ(dialer.dials(), 2);

    // The poisoned connection was closed while its writer still waits on
    // the body source: only that writer and connection 2's threads live.
    first_connection_closed.WaitForNotification();
    ExpectLiveThreadsAtMost(3);
    EXPECT_THAT(ThreadRegistry::Global().LiveThreads(), ::testing::Contains("h1-writer-1"));

    // Releasing the last byte lets the writer finish: it writes nothing
    // more, never reads the source again, and releases it.
    body_state->release.Notify();
    body_state->destroyed.WaitForNotification();
    {
      absl::MutexLock lock(&body_state->mu);
      EXPECT_EQ(body_state->reads_after_last_byte, 0);
    }
    ExpectLiveThreadsAtMost(2);
    EXPECT_TRUE(dialer.AwaitOpenAtMost(1));
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
  }
  ExpectNothingLeaked(dialer);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].connection, 1);
  EXPECT_EQ(requests[0].target, "/upload");
  EXPECT_EQ(requests[1].connection, 2);
  EXPECT_EQ(requests[1].target, "/next");
}

Request HeldBackPost(const std::string& url, std::shared_ptr<HeldBackBody::State> state) {
  Request post;
  post.method = "POST";
  post.url = url;
  post.content_length = kUploadSize;
  post.body = HeldBackBody::Make(kUploadSize, std::move(state));
  return post;
}

// What one request's writer does must never count for the next (issue 8,
// defect 1). The writer (which writes every request here) is parked just
// after reporting a GET's write while
// the caller hands the same connection a POST, whose last byte is then held
// back while the server answers. That response is early, and must be seen
// as early at once: the reuse decision must not wait for the writer (if it
// did, this test lets the write complete inside the wait, and the server
// answers on the connection it was wrongly given back).
TEST(EarlyResponseTest, EarlyResponseOnAReusedConnectionIsDecidedAtOnce) {
  auto body_state = std::make_shared<HeldBackBody::State>();
  TestServer server([&](PeerConn& conn) {
    if (conn.index() == 1) {
      ASSERT_TRUE(conn.ReadRequest().ok());
      ASSERT_TRUE(conn.Write(OkResponse("first")).ok());
      absl::StatusOr<wire::RequestHead> post = conn.ReadRequestHead();
      ASSERT_TRUE(post.ok());
      body_state->last_byte_requested.WaitForNotification();
      ASSERT_TRUE(conn.Write(OkResponse("early")).ok());
      if (!conn.SkipBody().ok()) return;
    }
    AnswerEvery(OkResponse("next"))(conn);
  });
  absl::Notification post_handed_over;
  std::atomic<bool> decision_awaited_writer{false};
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 1,
           [&] { post_handed_over.WaitForNotificationWithTimeout(kLeakWait); });
  hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] { post_handed_over.Notify(); });
  hooks.On(HookPoint::kReuseAwaitsWriter, 1, 2, [&] {
    decision_awaited_writer = true;
    body_state->release.Notify();
  });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.dial = dialer.Dial(WriterThreadWritesAll);
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    EXPECT_EQ(Fetch(transport, server.Url("/first")).body, "first");

    absl::StatusOr<Response> early =
        transport.RoundTrip(HeldBackPost(server.Url("/upload"), body_state));
    ASSERT_TRUE(early.ok()) << early.status();
    EXPECT_EQ(ReadBody(*early), "early");
    EXPECT_EQ(early->conn.id, 1u);
    EXPECT_TRUE(early->conn.reused);
    EXPECT_FALSE(decision_awaited_writer);
    if (!body_state->release.HasBeenNotified()) body_state->release.Notify();

    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.body, "next");
    EXPECT_EQ(next.conn.id, 2u);
    EXPECT_FALSE(next.conn.reused);
  }
  ExpectNothingLeaked(dialer);
}

// Forwards every write; the first one returns only when `may_return` is
// notified, as if the writer were descheduled inside its last write call.
class SlowToReturnConn final : public ForwardingNetConn {
 public:
  SlowToReturnConn(std::unique_ptr<NetConn> inner, absl::Notification* may_return)
      : ForwardingNetConn(std::move(inner)), may_return_(may_return) {}
  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override {
    absl::Status status = ForwardingNetConn::Write(pieces, written);
    if (writes_++ == 0) may_return_->WaitForNotificationWithTimeout(kLeakWait);
    return status;
  }

 private:
  absl::Notification* const may_return_;
  int writes_ = 0;  // Only the writer thread writes.
};

// The whole response to a GET has arrived while the writer is still inside
// its write: the socket took every byte, the call has not returned. The
// server answered the whole head, so only the writer's report is missing.
// The response is delivered at once, never held back by the reuse decision
// nor lost to a header timeout; the decision follows, and the write having
// succeeded, the connection is kept.
TEST(EarlyResponseTest, ResponseIsDeliveredWhileTheReuseDecisionWaitsForTheWriter) {
  absl::Notification write_may_return;
  TestServer server(AnswerEvery(OkResponse("answer")));
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.dial = dialer.Dial([&](int index, std::unique_ptr<NetConn> conn) {
      if (index == 1) conn = std::make_unique<SlowToReturnConn>(std::move(conn), &write_may_return);
      return conn;
    });
    options.reuse_grace_period = absl::Hours(1);
    options.response_header_timeout = absl::Seconds(1);
    Transport transport(options);
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/first")));
    const bool writer_was_inside_its_write = !write_may_return.HasBeenNotified();
    write_may_return.Notify();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(writer_was_inside_its_write);
    EXPECT_EQ(ReadBody(*response), "answer");

    // The next request waits for the pending decision instead of dialing.
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.body, "answer");
    EXPECT_EQ(next.conn.id, 1u);
    EXPECT_TRUE(next.conn.reused);
    EXPECT_EQ(transport.IdleConnectionCount(), 1);
  }
  ExpectNothingLeaked(dialer);
}

// Yields a body `step` bytes per Read, so that it goes out in several writes.
class SteppedBody final : public BodySource {
 public:
  SteppedBody(std::string bytes, size_t step) : bytes_(std::move(bytes)), step_(step) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t count = std::min({n, step_, bytes_.size() - offset_});
    std::memcpy(buf, bytes_.data() + offset_, count);
    offset_ += count;
    return count;
  }

 private:
  const std::string bytes_;
  const size_t step_;
  size_t offset_ = 0;
};

// Holds the `which`th write on its socket before it sends a byte, as if the
// writer were descheduled just before its send.
class HoldWriteConn final : public ForwardingNetConn {
 public:
  HoldWriteConn(std::unique_ptr<NetConn> inner, int which, absl::Notification* entered,
                absl::Notification* may_send)
      : ForwardingNetConn(std::move(inner)), which_(which), entered_(entered), may_send_(may_send) {}
  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override {
    if (++writes_ == which_) {
      entered_->Notify();
      may_send_->WaitForNotificationWithTimeout(kLeakWait);
    }
    return ForwardingNetConn::Write(pieces, written);
  }

 private:
  const int which_;
  absl::Notification* const entered_;
  absl::Notification* const may_send_;
  int writes_ = 0;  // Only the writer thread writes.
};

// Inside the request's last write is not out of it: a POST's last piece has
// not reached the socket when the server, having read only the head and the
// first piece, answers in full and keeps the connection. That response is
// early; were the connection reused, the server would read the rest of the
// body as the start of the next request.
TEST(EarlyResponseTest, ResponseDuringTheLastWriteOfABodyIsEarly) {
  absl::Notification writer_in_last_write;
  absl::Notification may_send_last_piece;
  TestServer server([&](PeerConn& conn) {
    if (conn.index() == 1) {
      if (!conn.ReadRequestHead().ok()) return;
      writer_in_last_write.WaitForNotificationWithTimeout(kLeakWait);
      if (!conn.Write(OkResponse("early")).ok()) return;
    }
    AnswerEvery(OkResponse("next"))(conn);
  });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.dial = dialer.Dial([&](int index, std::unique_ptr<NetConn> conn) {
      if (index == 1) {
        conn = std::make_unique<HoldWriteConn>(std::move(conn), 2, &writer_in_last_write,
                                               &may_send_last_piece);
      }
      return conn;
    });
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    Request post;
    post.method = "POST";
    post.url = server.Url("/upload");
    post.content_length = 10;
    post.body = std::make_unique<SteppedBody>("0123456789", 5);
    absl::StatusOr<Response> early = transport.RoundTrip(std::move(post));
    may_send_last_piece.Notify();
    ASSERT_TRUE(early.ok()) << early.status();
    EXPECT_EQ(ReadBody(*early), "early");
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.body, "next");
    EXPECT_EQ(next.conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

// Yields `first`, then, once `release` is notified, `rest`.
class TwoPartBody final : public BodySource {
 public:
  TwoPartBody(std::string first, std::string rest, absl::Notification* release)
      : parts_{std::move(first), std::move(rest)}, release_(release) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (parts_[0].empty() && !parts_[1].empty()) release_->WaitForNotification();
    std::string& part = parts_[0].empty() ? parts_[1] : parts_[0];
    const size_t count = std::min(n, part.size());
    part.copy(buf, count);
    part.erase(0, count);
    return count;
  }

 private:
  std::string parts_[2];
  absl::Notification* const release_;
};

// Early counts from the head's arrival: the server starts its answer after
// reading only the request head, and finishes it only after the request
// body has been written and reported. Judged at the response's end alone,
// the write report is clean; the connection must still never be reused (a
// server that never read the body would see it before the next request).
TEST(EarlyResponseTest, AResponseThatStartedBeforeTheBodyWasWrittenIsEarly) {
  absl::Notification release_rest;
  absl::Notification reported;
  absl::Notification finish_response;
  TestServer server([&](PeerConn& conn) {
    if (conn.index() == 1) {
      if (!conn.ReadRequestHead().ok()) return;
      if (!conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nearly").ok()) return;
      finish_response.WaitForNotificationWithTimeout(kLeakWait);
      if (!conn.Write("-body").ok()) return;
    }
    AnswerEvery(OkResponse("next"))(conn);
  });
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 1, [&] { reported.Notify(); });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.test_hook = hooks.Hook();
    Transport transport(options);
    Request post;
    post.method = "POST";
    post.url = server.Url("/upload");
    post.content_length = 10;
    post.body = std::make_unique<TwoPartBody>("01234", "56789", &release_rest);
    absl::StatusOr<Response> early = transport.RoundTrip(std::move(post));
    release_rest.Notify();
    ASSERT_TRUE(early.ok()) << early.status();
    ASSERT_TRUE(reported.WaitForNotificationWithTimeout(kLeakWait));
    finish_response.Notify();
    EXPECT_EQ(ReadBody(*early), "early-body");
    const Fetched next = Fetch(transport, server.Url("/next"));
    EXPECT_EQ(next.body, "next");
    EXPECT_EQ(next.conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

// Early counts from the answer's first byte: its status line arrives while
// only the head and half the body of a POST are written, the rest of its
// head after the whole body is. The server chose its answer before it
// could have read the body: the connection is never reused.
TEST(EarlyResponseTest, AnAnswerWhoseFirstBytesCameDuringTheBodyIsEarly) {
  FakeConn* first = nullptr;
  int dials = 0;
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 1,
           [&] { first->Deliver("Content-Length: 5\r\n\r\nearly"); });
  {
    TransportOptions options;
    options.test_hook = hooks.Hook();
    options.reuse_grace_period = absl::Hours(1);
    options.dial = FirstThenFresh(dials, [&] {
      auto conn = std::make_unique<FakeConn>([](FakeConn& peer, absl::string_view, int write) {
        if (write == 1) peer.Deliver("HTTP/1.1 200 OK\r\n");  // Head and half the body.
        if (write > 2) peer.Deliver(OkResponse("reused"));
      });
      first = conn.get();
      return conn;
    });
    Transport transport(options);
    Request post;
    post.method = "POST";
    post.url = "http://peer.test/upload";
    post.content_length = 10;
    post.body = std::make_unique<SteppedBody>("0123456789", 5);
    ExpectEarlyAnswerThenFreshConnection(transport, std::move(post));
  }
  ExpectLiveThreadsAtMost(0);
}

// Bytes that arrive while the reuse decision waits for the writer lie
// behind the response: the decision must see them, or they would become the
// next request's response. The peer is a FakeConn, so the stale bytes are
// in place before the writer returns; the reader is then held back from
// the socket until the next request is on its way, which lets a connection
// wrongly kept hand the stale bytes to it.
TEST(EarlyResponseTest, BytesArrivingWhileTheDecisionWaitsPoisonTheConnection) {
  absl::Notification write_may_return;
  absl::Notification next_handed_over;
  FakeConn* first = nullptr;
  int dials = 0;
  HookTable hooks;
  hooks.On(HookPoint::kReuseAwaitsWriter, 1, 1, [&] {
    first->Deliver(OkResponse("stale"));
    write_may_return.Notify();
  });
  hooks.On(HookPoint::kReaderBeforeNextRead, 1, 1,
           [&] { next_handed_over.WaitForNotificationWithTimeout(kLeakWait); });
  hooks.On(HookPoint::kRequestHandedOver, 1, 2, [&] { next_handed_over.Notify(); });
  {
    TransportOptions options;
    options.reuse_grace_period = absl::Hours(1);
    options.test_hook = hooks.Hook();
    options.dial = FirstThenFresh(dials, [&] {
      auto conn = std::make_unique<FakeConn>([&](FakeConn& peer, absl::string_view, int) {
        peer.Deliver(OkResponse("first"));
        write_may_return.WaitForNotificationWithTimeout(kLeakWait);  // Inside its write.
      });
      first = conn.get();
      return conn;
    });
    Transport transport(options);
    const Fetched first_fetch = Fetch(transport, "http://peer.test/first");
    EXPECT_EQ(first_fetch.body, "first");
    const Fetched next = Fetch(transport, "http://peer.test/next");
    EXPECT_EQ(next.body, "fresh");
    EXPECT_EQ(next.conn.id, 2u);
  }
  ExpectLiveThreadsAtMost(0);
}

// The server answers 413 without reading a large body; the writer is stuck
// in a socket write, not even at its last one. The connection is closed at
// once (an hour of grace would hang the test) and the writer is released.
TEST(EarlyResponseTest, EarlyReplyWhileWriterIsBlockedInTheSocket) {
  absl::Notification done;
  TestServer server([&](PeerConn& conn) {
    if (conn.index() == 1) {
      ASSERT_TRUE(conn.ReadRequestHead().ok());
      ASSERT_TRUE(conn.Write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n").ok());
      done.WaitForNotification();  // Never reads the body.
      return;
    }
    while (conn.ReadRequest().ok()) ASSERT_TRUE(conn.Write(OkResponse("ok")).ok());
  });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.reuse_grace_period = absl::Hours(1);
    Transport transport(options);
    // Far more than the socket buffers of both ends hold.
    absl::StatusOr<Response> rejected =
        transport.RoundTrip(Post(server.Url("/big"), std::string(32 << 20, 'y')));
    ASSERT_TRUE(rejected.ok()) << rejected.status();
    EXPECT_EQ(rejected->status, 413);
    EXPECT_EQ(ReadBody(*rejected), "");

    absl::StatusOr<Response> next = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(ReadBody(*next), "ok");
    EXPECT_EQ(next->conn.id, 2u);
    // Connection 1's writer left its blocked write when the socket closed.
    ExpectLiveThreadsAtMost(2);
    done.Notify();
  }
  ExpectNothingLeaked(dialer);
}

// Takes the first bytes the reader reads from the socket, then stalls the
// reader until `resume`, as a reader thread preempted right after its recv.
class ReaderStallsAfterTakingBytes final : public ForwardingNetConn {
 public:
  ReaderStallsAfterTakingBytes(std::unique_ptr<NetConn> inner, absl::Notification* taken,
                               absl::Notification* resume)
      : ForwardingNetConn(std::move(inner)), taken_(taken), resume_(resume) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    absl::StatusOr<size_t> got = ForwardingNetConn::Read(buf, n);
    if (got.ok() && *got > 0 && !taken_->HasBeenNotified()) {
      taken_->Notify();
      resume_->WaitForNotificationWithTimeout(kLeakWait);
    }
    return got;
  }

 private:
  absl::Notification* const taken_;
  absl::Notification* const resume_;
};

// The server answers a POST after its first write. The reader takes the
// answer's bytes out of the socket and is preempted before it does anything
// with them; then the writer comes to its last write. The answer is in
// neither place the writer looks unless the reader noted it before taking
// it: the request would pass for complete before the answer, and the
// connection, whose server never read the body, would be reused.
TEST(EarlyResponseTest, AnswerTakenFromTheSocketBeforeTheLastWriteIsEarly) {
  absl::Notification taken;
  absl::Notification reported;
  HookTable hooks;
  hooks.On(HookPoint::kBeforeLastWrite, 1, 1,
           [&] { taken.WaitForNotificationWithTimeout(kLeakWait); });
  hooks.On(HookPoint::kWriterReported, 1, 1, [&] { reported.Notify(); });
  int dials = 0;
  {
    TransportOptions options;
    options.test_hook = hooks.Hook();
    options.dial = FirstThenFresh(dials, [&] {
      // Writes 1 and 2 are the POST's; a reused connection answers later ones.
      auto first = std::make_unique<FakeConn>([](FakeConn& peer, absl::string_view, int write) {
        if (write == 1) peer.Deliver(OkResponse("early"));
        if (write > 2) peer.Deliver(OkResponse("reused"));
      });
      return std::make_unique<ReaderStallsAfterTakingBytes>(std::move(first), &taken, &reported);
    });
    Transport transport(options);
    // Larger than one write: the head goes with the first 64 KiB.
    ExpectEarlyAnswerThenFreshConnection(
        transport, Post("http://peer.test/", std::string(100 * 1024, 'z')));
  }
  ExpectLiveThreadsAtMost(0);
}

// A socket whose peer takes the first `writes_taken` writes, answers as soon
// as a byte of the request has arrived, and resets every later write: the
// response must win over the write error, and the connection must not be
// reused. Like Linux, it still hands out received bytes after a shutdown.
class AnswerThenResetConn final : public NetConn {
 public:
  AnswerThenResetConn(std::string response, int writes_taken)
      : response_(std::move(response)), writes_left_(writes_taken) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&request_arrived_));
    if (!response_.empty()) {
      const size_t count = std::min(n, response_.size());
      response_.copy(buf, count);
      response_.erase(0, count);
      return count;
    }
    mu_.Await(absl::Condition(&shut_down_));
    return 0;
  }
  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override {
    absl::MutexLock lock(&mu_);
    written = 0;
    if (writes_left_-- <= 0) return absl::UnavailableError("write: Connection reset by peer");
    for (absl::string_view piece : pieces) written += piece.size();
    request_arrived_ = true;
    return absl::OkStatus();
  }
  bool InputPending() override {
    absl::MutexLock lock(&mu_);
    return InputPendingLocked();
  }
  absl::Status AwaitInput(absl::Duration) override {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &AnswerThenResetConn::InputPendingLocked));
    return absl::OkStatus();
  }
  void Shutdown() override {
    absl::MutexLock lock(&mu_);
    request_arrived_ = true;  // Wakes a reader waiting for the request.
    shut_down_ = true;
  }

 private:
  bool InputPendingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return (request_arrived_ && !response_.empty()) || shut_down_;
  }

  absl::Mutex mu_;
  std::string response_ ABSL_GUARDED_BY(mu_);
  int writes_left_ ABSL_GUARDED_BY(mu_);
  bool request_arrived_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

TEST(EarlyResponseTest, ResponseWinsOverAWriteError) {
  int dials = 0;
  {
    TransportOptions options;
    options.dial = [&](const std::string&, uint16_t,
                       const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
      ++dials;
      return std::make_unique<AnswerThenResetConn>(
          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfoo", /*writes_taken=*/1);
    };
    Transport transport(options);
    absl::StatusOr<Response> response =
        transport.RoundTrip(Post("http://peer.test/", std::string(kUploadSize, 'z')));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(ReadBody(*response), "foo");
    EXPECT_EQ(transport.IdleConnectionCount(), 0);
    EXPECT_EQ(dials, 1);
  }
  ExpectLiveThreadsAtMost(0);
}

// Holds the reader once its first wait for input has ended, until
// `resume`: a reader that poll() woke but that has not run yet, so has
// neither flagged the input nor looked at the exchange.
class ReaderHeldAfterWaking final : public ForwardingNetConn {
 public:
  ReaderHeldAfterWaking(std::unique_ptr<NetConn> inner, absl::Notification& resume)
      : ForwardingNetConn(std::move(inner)), resume_(resume) {}
  absl::Status AwaitInput(absl::Duration timeout) override {
    absl::Status ready = ForwardingNetConn::AwaitInput(timeout);
    if (ready.ok() && !held_) {
      held_ = true;
      resume_.WaitForNotification();
    }
    return ready;
  }

 private:
  absl::Notification& resume_;
  bool held_ = false;  // Only the reader waits for input.
};

// Found by review: a POST in two writes, answered while its last write is
// in flight; the reader, woken, runs only after the writer has returned and
// reported. The writer looks for the answer after its last write too, so
// the answer is early however late the reader runs.
TEST(EarlyResponseTest, AnswerDuringTheLastWriteIsEarlyHoweverLateTheReaderRuns) {
  absl::Notification reported;
  HookTable hooks;
  hooks.On(HookPoint::kWriterReported, 1, 1, [&] { reported.Notify(); });
  int dials = 0;
  {
    TransportOptions options;
    options.test_hook = hooks.Hook();
    options.dial = FirstThenFresh(dials, [&] {
      auto fake = std::make_unique<FakeConn>([](FakeConn& peer, absl::string_view, int write) {
        if (write == 2) peer.Deliver(OkResponse("early"));  // Inside the last write.
        if (write > 2) peer.Deliver(OkResponse("reused"));
      });
      return std::make_unique<ReaderHeldAfterWaking>(std::move(fake), reported);
    });
    Transport transport(options);
    ExpectEarlyAnswerThenFreshConnection(
        transport, Post("http://peer.test/", std::string(100 * 1024, 'z')));
    EXPECT_EQ(dials, 2);
  }
  ExpectLiveThreadsAtMost(0);
}

// Gives `first` bytes, then fails once `fail` is notified.
class FailingLaterBody final : public BodySource {
 public:
  FailingLaterBody(std::string first, absl::Notification& fail)
      : first_(std::move(first)), fail_(fail) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (!first_.empty()) {
      const size_t count = first_.copy(buf, n);
      first_.erase(0, count);
      return count;
    }
    fail_.WaitForNotification();
    return absl::DataLossError("the body source failed");
  }

 private:
  std::string first_;
  absl::Notification& fail_;
};

// Found by the timing fuzzer: an early answer whose body the server
// delimits by closing, and the request's body source fails while it is
// read. The writer's error closes the connection, and the end of stream
// that our own shutdown makes must not pass for the server's close: the
// body was cut short, and reading it fails.
TEST(EarlyResponseTest, OurCloseDoesNotEndABodyDelimitedByThePeersClose) {
  absl::Notification fail;
  absl::Notification writer_reported;
  {
    TransportOptions options;
    options.dial = [](const std::string&, uint16_t,
                      const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
      return std::make_unique<FakeConn>([](FakeConn& conn, absl::string_view, int write) {
        if (write == 1) conn.Deliver("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\nfirst");
      });
    };
    options.test_hook = [&](HookPoint point, uint64_t, uint64_t) {
      if (point == HookPoint::kWriterReported) writer_reported.Notify();
    };
    Transport transport(options);
    Request post;
    post.method = "POST";
    post.url = "http://peer.test/upload";
    post.body = std::make_unique<FailingLaterBody>("part of the upload", fail);
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(post));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 403);
    fail.Notify();
    writer_reported.WaitForNotification();
    absl::StatusOr<std::string> body = response->body->ReadAll();
    ASSERT_FALSE(body.ok()) << "a cut body passed as whole: \"" << *body << "\"";
    EXPECT_THAT(body.status().message(), HasSubstr("the body source failed"));
  }
  ExpectLiveThreadsAtMost(0);
}

// A write error with no response at all is reported as the write error.
TEST(EarlyResponseTest, WriteErrorWithoutResponseNamesTheWrite) {
  {
    TransportOptions options;
    options.dial = [](const std::string&, uint16_t,
                      const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
      return std::make_unique<AnswerThenResetConn>("", /*writes_taken=*/0);
    };
    options.response_header_timeout = absl::Hours(1);
    Transport transport(options);
    Request post = Post("http://peer.test/", "payload");
    // The peer never answers and never closes: only the write error ends it.
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(post));
    ASSERT_FALSE(response.ok());
    EXPECT_THAT(response.status().message(), HasSubstr("Connection reset by peer"));
  }
  ExpectLiveThreadsAtMost(0);
}

}  // namespace
}  // namespace h1
