// Tests of the test server itself, driven by a raw socket so that the bytes
// on the wire are exactly the test's: handler mode and its framing, chunked
// request bodies, Hijack with bytes still buffered, the request log, gates,
// CloseClientConnections, destruction with live connections, and sockets
// handed over without a listener.
#include "testserver/test_server.h"

#include <dirent.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testserver/canned.h"
#include "transport/net_conn.h"

namespace h1::testserver {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(10);

// A raw client socket.
class Client {
 public:
  explicit Client(std::unique_ptr<NetConn> conn) : conn_(std::move(conn)) {}
  explicit Client(const TestServer& server) {
    absl::StatusOr<std::unique_ptr<NetConn>> conn = DialTcp("127.0.0.1", server.port(), {});
    EXPECT_TRUE(conn.ok()) << conn.status();
    if (conn.ok()) conn_ = *std::move(conn);
  }
  void Send(absl::string_view bytes) {
    size_t written = 0;
    ASSERT_TRUE(conn_->Write({bytes}, written).ok());
  }
  // Reads until `n` bytes have arrived or the server closes.
  std::string Receive(size_t n) {
    std::string got;
    char buf[4096];
    while (got.size() < n) {
      absl::StatusOr<size_t> r = conn_->Read(buf, std::min(sizeof(buf), n - got.size()));
      if (!r.ok() || *r == 0) break;
      got.append(buf, *r);
    }
    return got;
  }
  // Reads until the server closes.
  std::string ReceiveAll() { return Receive(std::string::npos); }
  void Close() { conn_.reset(); }

 private:
  std::unique_ptr<NetConn> conn_;
};

int ThreadsInProcess() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/task");
  while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count;
}

TEST(TestServerTest, HandlerAnswersAreFramedAndTheConnectionKeptAlive) {
  TestServer server([](ServerRequest& request, ResponseWriter& w) {
    if (request.target() == "/small") {
      w.headers().Add("X-Kind", "small");
      ASSERT_TRUE(w.Write("hello").ok());
    } else if (request.target() == "/streamed") {
      ASSERT_TRUE(w.Write("part one, ").ok());
      ASSERT_TRUE(w.Flush().ok());
      ASSERT_TRUE(w.Write("part two").ok());
    } else {
      w.WriteHeader(204);
    }
  });
  Client client(server);
  client.Send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string small = "HTTP/1.1 200 OK\r\nX-Kind: small\r\nContent-Length: 5\r\n\r\nhello";
  EXPECT_EQ(client.Receive(small.size()), small);
  client.Send("GET /streamed HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string streamed =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\npart one, \r\n8\r\npart two\r\n"
      "0\r\n\r\n";
  EXPECT_EQ(client.Receive(streamed.size()), streamed);
  client.Send("GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.ReceiveAll(), "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(server.connections_accepted(), 1);
  const auto log = server.requests();
  ASSERT_EQ(log.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(log[i].connection, 1);
    EXPECT_EQ(log[i].sequence, i + 1);
  }
}

TEST(TestServerTest, Http10ClientGetsABodyUntilClose) {
  TestServer server([](ServerRequest&, ResponseWriter& w) {
    ASSERT_TRUE(w.Write("early").ok());
    ASSERT_TRUE(w.Flush().ok());
  });
  Client client(server);
  client.Send("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(client.ReceiveAll(), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nearly");
}

TEST(TestServerTest, HandlerReadsChunkedAndContentLengthBodies) {
  TestServer server([](ServerRequest& request, ResponseWriter& w) {
    absl::StatusOr<std::string> body = request.ReadAll();
    ASSERT_TRUE(body.ok()) << body.status();
    ASSERT_TRUE(w.Write(absl::StrCat("got ", *body)).ok());
  });
  Client client(server);
  client.Send(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nfg");
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ngot abcde";
  const std::string second = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ngot fg";
  EXPECT_EQ(client.Receive(first.size() + second.size()), first + second);
  const auto log = server.requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].body, "abcde");
  EXPECT_EQ(log[0].body_bytes, 5u);
  EXPECT_EQ(log[1].body, "fg");
}

// A body the handler leaves unread is drained, so the next request on the
// connection is read from the right place.
TEST(TestServerTest, UnreadRequestBodyIsDrainedBeforeTheNextRequest) {
  TestServer server([](ServerRequest& request, ResponseWriter& w) {
    ASSERT_TRUE(w.Write(request.target()).ok());
  });
  Client client(server);
  client.Send("POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
              "GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string want = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n/first"
                           "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n/second";
  EXPECT_EQ(client.Receive(want.size()), want);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].body_bytes, 4u);
}

// Hijack hands over the connection with the bytes the client already sent:
// here the rest of the first body and the whole next request.
TEST(TestServerTest, HijackMidBodyKeepsTheBufferedBytes) {
  TestServer server([](ServerRequest& request, ResponseWriter& w) {
    char first[3];
    ASSERT_EQ(*request.Read(first, sizeof(first)), 3u);
    PeerConn& conn = w.Hijack();
    absl::StatusOr<std::string> rest = conn.ReadBody();
    ASSERT_TRUE(rest.ok());
    absl::StatusOr<SeenRequest> next = conn.ReadRequest();
    ASSERT_TRUE(next.ok());
    ASSERT_TRUE(conn.Write(absl::StrCat("raw: ", std::string(first, 3), "|", *rest, "|",
                                        next->target))
                    .ok());
  });
  Client client(server);
  client.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabcdef"
              "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.ReceiveAll(), "raw: abc|def|/after");
  const auto log = server.requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].body, "abcdef");
  EXPECT_EQ(log[1].target, "/after");
  EXPECT_EQ(log[1].sequence, 2);
}

TEST(TestServerTest, LogRecordsAClientThatClosedMidBody) {
  absl::Notification done;
  TestServer server([&](PeerConn& conn) {
    ASSERT_TRUE(conn.ReadRequestHead().ok());
    EXPECT_FALSE(conn.ReadBody().ok());
    done.Notify();
  });
  Client client(server);
  client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1234");
  client.Close();
  done.WaitForNotification();
  const auto log = server.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].body, "1234");
  EXPECT_EQ(log[0].body_bytes, 4u);
  EXPECT_TRUE(log[0].client_closed_mid_body);
}

// Waiting for the client to close must leave the bytes of its next request.
TEST(TestServerTest, AwaitClientCloseLeavesTheNextRequestUnread) {
  TestServer server([](PeerConn& conn) {
    EXPECT_FALSE(conn.AwaitClientClose(kWait));
    absl::StatusOr<SeenRequest> request = conn.ReadRequest();
    ASSERT_TRUE(request.ok()) << request.status();
    ASSERT_TRUE(conn.Write(OkResponse(request->target)).ok());
    EXPECT_TRUE(conn.AwaitClientClose(kWait));
  });
  Client client(server);
  client.Send("GET /whole HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string want = OkResponse("/whole");
  EXPECT_EQ(client.Receive(want.size()), want);
  client.Close();
  EXPECT_TRUE(server.AwaitConnectionsDone(kWait));
}

TEST(TestServerTest, GatesHoldAScriptUntilTheTestOpensThem) {
  TestServer server([](PeerConn& conn) {
    ASSERT_TRUE(conn.AwaitGate("go"));
    ASSERT_TRUE(conn.Write("after the gate").ok());
  });
  Client client(server);
  client.Send("x");  // The connection is surely accepted once this arrives.
  server.OpenGate("go");
  EXPECT_EQ(client.ReceiveAll(), "after the gate");
}

// Destruction wakes scripts blocked on a socket and on a gate, and joins
// every thread the server started.
TEST(TestServerTest, DestructionWithLiveConnectionsLeavesNoThread) {
  const int threads_before = ThreadsInProcess();
  std::unique_ptr<Client> reading;
  std::unique_ptr<Client> gated;
  {
    absl::BlockingCounter in_scripts(2);
    TestServer server([&](PeerConn& conn) {
      in_scripts.DecrementCount();
      if (conn.index() == 1) {
        conn.DiscardUntilEof();
      } else {
        EXPECT_FALSE(conn.AwaitGate("never"));
      }
    });
    reading = std::make_unique<Client>(server);
    gated = std::make_unique<Client>(server);
    in_scripts.Wait();
  }
  EXPECT_EQ(ThreadsInProcess(), threads_before);
}

TEST(TestServerTest, CloseClientConnectionsEndsEveryConnection) {
  TestServer server(AnswerEvery(OkResponse("ok")));
  Client first(server);
  Client second(server);
  first.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(first.Receive(OkResponse("ok").size()), OkResponse("ok"));
  second.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(second.Receive(OkResponse("ok").size()), OkResponse("ok"));
  server.CloseClientConnections();
  EXPECT_EQ(first.ReceiveAll(), "");
  EXPECT_EQ(second.ReceiveAll(), "");
  EXPECT_TRUE(server.AwaitConnectionsDone(kWait));
}

// Without a listener the server serves the sockets it is given, in the
// order given, like accepted ones.
TEST(TestServerTest, ServesSocketsHandedToItWithoutListening) {
  TestServerOptions options;
  options.listen = false;
  TestServer server(AnswerEvery(OkResponse("ok")), options);
  EXPECT_EQ(server.port(), 0);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 2; ++i) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    server.Serve(fds[1]);
    clients.push_back(std::make_unique<Client>(NetConnFromFd(fds[0])));
  }
  clients[1]->Send("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(clients[1]->Receive(OkResponse("ok").size()), OkResponse("ok"));
  clients[0]->Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(clients[0]->Receive(OkResponse("ok").size()), OkResponse("ok"));
  const std::vector<SeenRequest> log = server.requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].target, "/second");
  EXPECT_EQ(log[0].connection, 2);
  EXPECT_EQ(log[1].target, "/first");
  EXPECT_EQ(log[1].connection, 1);
  clients.clear();
  EXPECT_TRUE(server.AwaitConnectionsDone(kWait));
}

TEST(TestServerTest, MalformedRequestGetsA400AndTheConnectionCloses) {
  TestServer server([](ServerRequest&, ResponseWriter&) { ADD_FAILURE() << "not a request"; });
  Client client(server);
  client.Send("GET / HTTP/1.1\r\nBad Header\r\n\r\n");
  EXPECT_THAT(client.ReceiveAll(), HasSubstr("HTTP/1.1 400 Bad Request\r\n"));
}

}  // namespace
}  // namespace h1::testserver
