// Bad input and adversarial servers: every failure is an absl::Status that
// names its cause; nothing crashes, hangs, or reuses a poisoned connection.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::h1::testing::ReadBody;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::TestServer;
using ::testing::HasSubstr;

TEST(ErrorsTest, InvalidRequestsFailBeforeAnyDial) {
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    const auto error_of = [&](Request request) {
      absl::StatusOr<Response> response = transport.RoundTrip(std::move(request));
      EXPECT_FALSE(response.ok());
      return std::string(response.status().message());
    };
    Request injected = Get("http://127.0.0.1:1/");
    injected.headers.Add("X-Evil", "a\r\nInjected: yes");
    EXPECT_THAT(error_of(std::move(injected)), HasSubstr("header X-Evil contains a control byte"));
    Request bad_method = Get("http://127.0.0.1:1/");
    bad_method.method = "GET\n";
    EXPECT_THAT(error_of(std::move(bad_method)), HasSubstr("method is not a token"));
    EXPECT_THAT(error_of(Get(std::string("http://127.0.0.1:1/a\0b", 22))),
                HasSubstr("path contains a control byte"));
    EXPECT_THAT(error_of(Get("http://127.0.0.1:1/a\tb")), HasSubstr("path contains a control byte"));
    Request vertical_tab = Get("http://127.0.0.1:1/");
    vertical_tab.headers.Add("X-Vt", "a\vb");
    EXPECT_THAT(error_of(std::move(vertical_tab)), HasSubstr("header X-Vt contains a control byte"));
    Request del = Get("http://127.0.0.1:1/");
    del.headers.Add("X-Del", "a\x7f");
    EXPECT_THAT(error_of(std::move(del)), HasSubstr("header X-Del contains a control byte"));
    EXPECT_THAT(error_of(Get("https://127.0.0.1:1/")), HasSubstr("unsupported scheme \"https\""));
    Request derived = Get("http://127.0.0.1:1/");
    derived.headers.Add("Content-Length", "5");
    EXPECT_THAT(error_of(std::move(derived)), HasSubstr("do not set the Content-Length header"));
    Request host_header = Get("http://127.0.0.1:1/");
    host_header.headers.Add("Host", "other.test");
    EXPECT_THAT(error_of(std::move(host_header)), HasSubstr("set Request::host"));
    // What Go's ValidHostHeader refuses (found by review: a space went out
    // as an empty Host line).
    for (const char* host : {"a.test\r\nInjected: yes", " ", "\t", "a.test b.test", "a.test/evil",
                             "a.test\\x", "a.test\x80", "a.test\x7f"}) {
      Request bad_host = Get("http://127.0.0.1:1/");
      bad_host.host = host;
      EXPECT_THAT(error_of(std::move(bad_host)), HasSubstr("is not a Host value")) << host;
    }
  }
  EXPECT_EQ(dialer.dials(), 0);
  ExpectNothingLeaked(dialer);
}

TEST(ErrorsTest, DialFailureNamesTheAddress) {
  int port = 0;
  { TestServer closed_again([](PeerConn&) {}); port = closed_again.port(); }
  Transport transport;
  absl::StatusOr<Response> response =
      transport.RoundTrip(Get(absl::StrCat("http://127.0.0.1:", port, "/")));
  ASSERT_FALSE(response.ok());
  EXPECT_THAT(response.status().message(), HasSubstr(absl::StrCat("127.0.0.1:", port)));
}

// Each malformed response fails with a message naming the problem, and the
// connection is never reused.
struct BadResponse {
  std::string name;
  std::string bytes;
  std::string error;
};

class BadResponseTest : public ::testing::TestWithParam<BadResponse> {};

TEST_P(BadResponseTest, FailsClearlyAndClosesTheConnection) {
  const BadResponse& bad = GetParam();
  TestServer server([&](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    if (conn.index() == 1) {
      ASSERT_TRUE(conn.Write(bad.bytes).ok());
      conn.CloseWrite();
      return;
    }
    ASSERT_TRUE(conn.Write(OkResponse("good")).ok());
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/")));
    absl::Status status = response.status();
    if (response.ok()) status = response->body->ReadAll().status();
    EXPECT_THAT(status.message(), HasSubstr(bad.error));
    absl::StatusOr<Response> next = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(ReadBody(*next), "good");
    EXPECT_EQ(next->conn.id, 2u);
  }
  ExpectNothingLeaked(dialer);
}

INSTANTIATE_TEST_SUITE_P(
    Adversarial, BadResponseTest,
    ::testing::Values(
        BadResponse{"Garbage", "SSH-2.0-OpenSSH_9.2\r\n", "malformed status line"},
        BadResponse{"EmptyReply", "", "server closed the connection before sending a response"},
        BadResponse{"TruncatedHead", "HTTP/1.1 200 OK\r\nContent-Len",
                    "unexpected EOF inside the message head"},
        BadResponse{"ConflictingLengths",
                    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                    "conflicting Content-Length values 3 and 4"},
        BadResponse{"LengthAndChunked",
                    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n0\r\n\r\n",
                    "both Content-Length and Transfer-Encoding"},
        BadResponse{"SwitchingProtocols", "HTTP/1.1 101 Switching Protocols\r\n\r\n",
                    "server switched protocols (101)"},
        BadResponse{"BadChunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
                    "malformed chunk-size line"},
        BadResponse{"ChunkedCutShort",
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                    "unexpected EOF in chunked body after 2 body bytes"}),
    [](const ::testing::TestParamInfo<BadResponse>& info) { return info.param.name; });

TEST(ErrorsTest, OversizedHeaderIsRejectedAtTheLimit) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    conn.Write("HTTP/1.1 200 OK\r\nX-Huge: " + std::string(64 * 1024, 'h') + "\r\n\r\n")
        .IgnoreError();
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.max_response_header_bytes = 16 * 1024;
    Transport transport(options);
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_FALSE(response.ok());
    EXPECT_THAT(response.status().message(), HasSubstr("exceeds the limit of 16384 bytes"));
  }
  ExpectNothingLeaked(dialer);
}

TEST(ErrorsTest, InterimResponsesAreSkipped) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    ASSERT_TRUE(conn.Write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" +
                           OkResponse("final"))
                    .ok());
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> response = transport.RoundTrip(Post(server.Url("/"), "body"));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(ReadBody(*response), "final");
  }
  ExpectNothingLeaked(dialer);
}

// A server cannot hold a request forever with interim responses: after
// five, the sixth is an error, even with no header timeout set.
TEST(ErrorsTest, EndlessInterimResponsesAreAnError) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequest().ok()) return;
    for (int i = 0; i < 6; ++i) {
      if (!conn.Write("HTTP/1.1 102 Processing\r\n\r\n").ok()) return;
    }
    conn.AwaitClientClose(absl::Seconds(10));
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_FALSE(response.ok());
    EXPECT_THAT(response.status().message(), HasSubstr("more than 5 interim 1xx responses"));
  }
  ExpectNothingLeaked(dialer);
}

TEST(ErrorsTest, ServerResetDuringRequestIsAnError) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequestHead().ok()) return;
    conn.Reset();
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> response =
        transport.RoundTrip(Post(server.Url("/"), std::string(1 << 20, 'r')));
    ASSERT_FALSE(response.ok());
    EXPECT_THAT(response.status().message(),
                ::testing::AnyOf(HasSubstr("reset"), HasSubstr("closed"), HasSubstr("Broken pipe")));
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(dialer.dials(), 1);  // A POST is never sent again.
}

class FailingBody final : public BodySource {
 public:
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (calls_++ == 0) {
      buf[0] = 'a';
      return 1;
    }
    return absl::DataLossError("disk read failed");
  }

 private:
  int calls_ = 0;
};

TEST(ErrorsTest, BodySourceErrorAbortsTheRequest) {
  absl::Notification server_saw_close;
  TestServer server([&](PeerConn& conn) {
    if (!conn.ReadRequestHead().ok()) return;
    conn.DiscardUntilEof();
    server_saw_close.Notify();
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    Request post = Post(server.Url("/"), "");
    post.body = std::make_unique<FailingBody>();
    post.content_length = 10;
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(post));
    ASSERT_FALSE(response.ok());
    EXPECT_THAT(response.status().message(),
                HasSubstr("reading request body: disk read failed"));
    server_saw_close.WaitForNotification();
  }
  ExpectNothingLeaked(dialer);
}

TEST(ErrorsTest, BodyShorterThanContentLengthIsAnError) {
  TestServer server([](PeerConn& conn) {
    if (!conn.ReadRequestHead().ok()) return;
    conn.DiscardUntilEof();  // Waits for the rest of the body, in vain.
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    Request post = Post(server.Url("/"), "abc");
    post.content_length = 10;
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(post));
    ASSERT_FALSE(response.ok());
    EXPECT_THAT(response.status().message(),
                HasSubstr("request body ended after 3 of 10 bytes (Content-Length)"));
  }
  ExpectNothingLeaked(dialer);
}

// A source that yields more than content_length bytes is a broken request,
// as in Go ("ContentLength=3 with Body length 6"): it fails, and the server
// never receives a complete request that the caller did not mean.
TEST(ErrorsTest, BodyLongerThanContentLengthIsAnError) {
  absl::Notification server_saw_close;
  TestServer server([&](PeerConn& conn) {
    conn.ReadRequest().IgnoreError();  // Logs the request if it arrives whole.
    conn.DiscardUntilEof();
    server_saw_close.Notify();
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    Request post = Post(server.Url("/"), "abcdef");
    post.content_length = 3;
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(post));
    ASSERT_FALSE(response.ok());
    EXPECT_THAT(response.status().message(),
                HasSubstr("request body longer than its Content-Length of 3 bytes"));
    server_saw_close.WaitForNotification();
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(dialer.dials(), 1);
  EXPECT_TRUE(server.requests().empty());
}

TEST(ErrorsTest, ChunkedUploadWhenLengthIsUnknown) {
  TestServer server([](PeerConn& conn) {
    while (conn.ReadRequest().ok()) ASSERT_TRUE(conn.Write(OkResponse("got it")).ok());
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    Request post = Post(server.Url("/"), std::string(200 * 1024, 'c'));
    post.content_length.reset();
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(post));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(ReadBody(*response), "got it");
  }
  ExpectNothingLeaked(dialer);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].headers.Get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(server.requests()[0].body, std::string(200 * 1024, 'c'));
}

// Go's Request.Host: sent instead of the URL's host[:port]; the connection
// still goes to the URL's address.
TEST(ErrorsTest, RequestHostIsSentAsTheHostHeader) {
  TestServer server([](PeerConn& conn) {
    while (conn.ReadRequest().ok()) ASSERT_TRUE(conn.Write(OkResponse("hi")).ok());
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    Request request = Get(server.Url("/vhost"));
    request.host = "virtual.test:8443";
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(request));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(ReadBody(*response), "hi");
  }
  ExpectNothingLeaked(dialer);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].headers.GetAll("Host"),
            std::vector<std::string>{"virtual.test:8443"});
}

// ReadAll's limit: a body at the limit is read; one byte more fails, and
// says so.
TEST(ErrorsTest, ReadAllFailsPastItsLimit) {
  TestServer server([](PeerConn& conn) {
    while (conn.ReadRequest().ok()) ASSERT_TRUE(conn.Write(OkResponse("0123456789")).ok());
  });
  RecordingDialer dialer;
  {
    Transport transport(TestOptions(dialer));
    absl::StatusOr<Response> at_limit = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(at_limit.ok()) << at_limit.status();
    EXPECT_EQ(at_limit->body->ReadAll(10).value_or("failed"), "0123456789");
    absl::StatusOr<Response> over = transport.RoundTrip(Get(server.Url("/")));
    ASSERT_TRUE(over.ok()) << over.status();
    absl::StatusOr<std::string> body = over->body->ReadAll(9);
    ASSERT_FALSE(body.ok());
    EXPECT_TRUE(absl::IsResourceExhausted(body.status())) << body.status();
    EXPECT_THAT(body.status().message(), HasSubstr("body longer than the limit of 9 bytes"));
  }
  ExpectNothingLeaked(dialer);
}

}  // namespace
}  // namespace h1
