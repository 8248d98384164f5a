// Runs the h1fetch binary against a scripted loopback server and checks its
// JSON lines, its reuse of one transport, and its exit code.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testserver/canned.h"
#include "testserver/test_server.h"

namespace {

using ::h1::testserver::AnswerEvery;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::TestServer;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct RunResult {
  int exit_code = -1;
  std::vector<std::string> lines;
};

RunResult RunH1fetch(const std::vector<std::string>& args) {
  std::string command = absl::StrCat(std::getenv("TEST_SRCDIR"), "/",
                                     std::getenv("TEST_WORKSPACE"), "/tools/h1fetch/h1fetch");
  for (const std::string& arg : args) absl::StrAppend(&command, " '", arg, "'");
  RunResult result;
  FILE* out = popen(command.c_str(), "r");
  if (out == nullptr) return result;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), out)) > 0) text.append(buf, n);
  const int status = pclose(out);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return result;
}

TEST(H1fetchTest, RunsRequestsInOrderThroughOneTransport) {
  TestServer server([](PeerConn& conn) {
    if (conn.index() == 1) {
      ASSERT_TRUE(conn.ReadRequest().ok());
      ASSERT_TRUE(conn.Write(OkResponse("0123456789abcdefXYZ")).ok());
      absl::StatusOr<h1::testserver::SeenRequest> post = conn.ReadRequest();
      ASSERT_TRUE(post.ok());
      EXPECT_EQ(post->body, std::string(1000, 'x'));
      ASSERT_TRUE(conn.Write("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n"
                             "Connection: close\r\n\r\nok")
                      .ok());
    } else {
      ASSERT_TRUE(conn.ReadRequest().ok());
      ASSERT_TRUE(conn.Write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345").ok());
    }
    conn.CloseWrite();
  });
  int refused_port = 0;
  { TestServer gone([](PeerConn&) {}); refused_port = gone.port(); }

  const RunResult run = RunH1fetch({
      absl::StrCat("GET ", server.Url("/a")),
      absl::StrCat("POST ", server.Url("/b"), " body=1000"),
      absl::StrCat("GET ", server.Url("/c"), " sleep_before_ms=1"),
      absl::StrCat("GET http://127.0.0.1:", refused_port, "/"),
  });
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.lines.size(), 4u);
  EXPECT_EQ(run.lines[0],
            R"({"i":1,"method":"GET","status":200,"body_bytes":19,"body":"0123456789abcdef",)"
            R"("error":null,"conn":1,"reused":false})");
  EXPECT_EQ(run.lines[1],
            R"({"i":2,"method":"POST","status":201,"body_bytes":2,"body":"ok",)"
            R"("error":null,"conn":1,"reused":true})");
  EXPECT_THAT(run.lines[2], StartsWith(R"({"i":3,"method":"GET","status":200,"body_bytes":5,)"
                                       R"("body":"12345","error":")"));
  EXPECT_THAT(run.lines[2], HasSubstr("unexpected EOF: 5 of 10 body bytes"));
  EXPECT_THAT(run.lines[2], HasSubstr(R"("conn":2,"reused":false})"));
  EXPECT_THAT(run.lines[3], StartsWith(R"({"i":4,"method":"GET","status":null,"body_bytes":0,)"
                                       R"("body":"","error":")"));
  EXPECT_THAT(run.lines[3], HasSubstr(absl::StrCat("127.0.0.1:", refused_port)));
  EXPECT_THAT(run.lines[3], HasSubstr(R"("conn":null,"reused":false})"));
}

// Against Debian's nginx, started by `tools/run test` (tools/nginx/start.sh),
// which passes its URL in H1_NGINX_URL.
TEST(H1fetchTest, ReusesConnectionsToNginx) {
  const char* nginx = std::getenv("H1_NGINX_URL");
  if (nginx == nullptr || *nginx == '\0') {
    GTEST_SKIP() << "H1_NGINX_URL is not set; tools/run test sets it";
  }
  const RunResult run = RunH1fetch({
      absl::StrCat("GET ", nginx, "/small"),
      absl::StrCat("GET ", nginx, "/small"),
      absl::StrCat("POST ", nginx, "/upload body=1048576"),
      absl::StrCat("GET ", nginx, "/64k"),
  });
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.lines.size(), 4u);
  EXPECT_EQ(run.lines[0],
            R"({"i":1,"method":"GET","status":200,"body_bytes":17,)"
            R"("body":"hello from nginx","error":null,"conn":1,"reused":false})");
  EXPECT_EQ(run.lines[1],
            R"({"i":2,"method":"GET","status":200,"body_bytes":17,)"
            R"("body":"hello from nginx","error":null,"conn":1,"reused":true})");
  EXPECT_THAT(run.lines[2], StartsWith(R"({"i":3,"method":"POST","status":200,"body_bytes":9,)"
                                       R"("body":"uploaded\u000a","error":null,)"));
  EXPECT_THAT(run.lines[3], StartsWith(R"({"i":4,"method":"GET","status":200,)"
                                       R"("body_bytes":65536,"body":"nnnnnnnnnnnnnnnn","error":null,)"));
}

// As for the library, zero means no limit.
TEST(H1fetchTest, ZeroHeaderTimeoutMeansNoLimit) {
  TestServer server(AnswerEvery(OkResponse("fine")));
  const RunResult run =
      RunH1fetch({"--response_header_timeout=0", absl::StrCat("GET ", server.Url("/"))});
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_THAT(run.lines[0], HasSubstr(R"("status":200,"body_bytes":4,"body":"fine","error":null)"));
}

// As with curl: a bare URL is a GET; -v is --verbose.
TEST(H1fetchTest, ABareUrlIsAGetAndVIsVerbose) {
  TestServer server(AnswerEvery(OkResponse("bare")));
  const RunResult run = RunH1fetch({"-v", server.Url("/")});
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_THAT(run.lines[0], HasSubstr(R"("method":"GET","status":200,"body_bytes":4,"body":"bare")"));
  EXPECT_EQ(server.requests().at(0).method, "GET");
}

// --timeout is a deadline per request: a server that never answers ends it
// with DEADLINE_EXCEEDED naming the phase, and the next request goes on.
TEST(H1fetchTest, TimeoutIsADeadlinePerRequest) {
  TestServer server([](PeerConn& conn) {
    if (conn.index() == 1) {
      ASSERT_TRUE(conn.ReadRequest().ok());
      conn.AwaitClientClose(absl::Seconds(30));  // Never answers.
      return;
    }
    AnswerEvery(OkResponse("later"))(conn);
  });
  const RunResult run = RunH1fetch({"--timeout=0.2", absl::StrCat("GET ", server.Url("/stall")),
                                    absl::StrCat("GET ", server.Url("/"))});
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_THAT(run.lines[0], HasSubstr(R"("status":null,"body_bytes":0,"body":"","error":")"
                                      R"(DEADLINE_EXCEEDED: request deadline exceeded while )"
                                      R"(awaiting the response head")"));
  EXPECT_THAT(run.lines[1], HasSubstr(R"("status":200,"body_bytes":5,"body":"later","error":null,)"
                                      R"("conn":2,"reused":false})"));
}

// --expect_continue: a server that refuses after the head never gets the
// body, and its connection serves nothing more.
TEST(H1fetchTest, ExpectContinueSendsNoBodyToARefusal) {
  TestServer server([](PeerConn& conn) {
    if (conn.index() == 1) {
      absl::StatusOr<h1::wire::RequestHead> head = conn.ReadRequestHead();
      ASSERT_TRUE(head.ok());
      EXPECT_EQ(head->headers.Get("Expect").value_or(""), "100-continue");
      ASSERT_TRUE(
          conn.Write("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 2\r\n\r\nno").ok());
      conn.DiscardUntilEof();
      return;
    }
    AnswerEvery(OkResponse("fresh"))(conn);
  });
  const RunResult run =
      RunH1fetch({"--expect_continue", absl::StrCat("POST ", server.Url("/up"), " body=100000"),
                  absl::StrCat("GET ", server.Url("/"))});
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_EQ(run.lines[0], R"({"i":1,"method":"POST","status":417,"body_bytes":2,"body":"no",)"
                          R"("error":null,"conn":1,"reused":false})");
  EXPECT_EQ(run.lines[1], R"({"i":2,"method":"GET","status":200,"body_bytes":5,"body":"fresh",)"
                          R"("error":null,"conn":2,"reused":false})");
}

TEST(H1fetchTest, BadUsageExitsTwo) {
  EXPECT_EQ(RunH1fetch({"--response_header_timeout=-1", "GET http://127.0.0.1:1/"}).exit_code,
            2);
  for (const char* flag : {"--timeout=x", "--dial_timeout=-2", "--max_conns_per_host=-1",
                           "--max_conns_per_host=many"}) {
    EXPECT_EQ(RunH1fetch({flag, "GET http://127.0.0.1:1/"}).exit_code, 2) << flag;
  }
  EXPECT_EQ(RunH1fetch({}).exit_code, 2);
  EXPECT_EQ(RunH1fetch({"GET"}).exit_code, 2);
  EXPECT_EQ(RunH1fetch({"--no_such_flag", "GET http://127.0.0.1:1/"}).exit_code, 2);
  const RunResult help = RunH1fetch({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  ASSERT_FALSE(help.lines.empty());
  EXPECT_THAT(help.lines[0], HasSubstr("usage: h1fetch"));
}

}  // namespace
