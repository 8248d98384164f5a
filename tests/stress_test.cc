// Many callers on one Transport against servers that frame their answers
// every way they can, end bodies every way a caller can, and race header
// timers against the responses: whatever the interleaving, every response
// carries exactly its own request's body, and nothing is left behind.
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/transport_test_util.h"
#include "testserver/canned.h"
#include "testserver/test_server.h"
#include "transport/transport.h"

namespace h1 {
namespace {

using ::h1::testing::ExpectNothingLeaked;
using ::h1::testing::RecordingDialer;
using ::h1::testing::TestOptions;
using ::h1::testserver::OkResponse;
using ::h1::testserver::PeerConn;
using ::h1::testserver::TestServer;

// The answer to a request for /KIND/ID, whose body names ID.
std::string AnswerFor(const std::string& target) {
  const std::string id = target.substr(target.rfind('/') + 1);
  const std::string body = absl::StrCat("body-", id);
  if (absl::StartsWith(target, "/chunked/")) {
    return absl::StrCat("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        absl::Hex(body.size()), "\r\n", body, "\r\n0\r\nX-Id: ", id, "\r\n\r\n");
  }
  if (absl::StartsWith(target, "/big/")) return OkResponse(body + std::string(200000, 'z'));
  if (absl::StartsWith(target, "/empty/")) return "HTTP/1.1 204 No Content\r\n\r\n";
  if (absl::StartsWith(target, "/close/")) return OkResponse(body, "Connection: close\r\n");
  return OkResponse(body);
}

// Answers every request in two writes split at a varying point, so that
// bodies arrive whole, streamed, or cut between head and body.
TestServer::Script AnswerInTwoWrites() {
  return [](PeerConn& conn) {
    for (int step = 0;; ++step) {
      absl::StatusOr<testserver::SeenRequest> seen = conn.ReadRequest();
      if (!seen.ok()) return;
      const std::string answer = AnswerFor(seen->target);
      const size_t split = std::min(answer.size(), answer.size() / 2 + step % 7);
      if (!conn.Write(answer.substr(0, split)).ok()) return;
      if (!conn.Write(answer.substr(split)).ok()) return;
      if (absl::StartsWith(seen->target, "/close/")) return;
    }
  };
}

TEST(StressTest, NoBodyIsEverHandedToAnotherRequest) {
  TestServer server(AnswerInTwoWrites());
  RecordingDialer dialer;
  {
    TransportOptions options = TestOptions(dialer);
    options.max_idle_conns_per_host = 3;
    Transport transport(options);
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&, t] {
        std::mt19937 rng(t * 7919 + 1);
        for (int i = 0; i < 150; ++i) {
          static const char* const kKinds[] = {"length", "chunked", "big", "empty", "close", "post"};
          const std::string kind = kKinds[rng() % 6];
          const std::string id = absl::StrCat(t, "-", i);
          const std::string url = server.Url(absl::StrCat("/", kind, "/", id));
          absl::StatusOr<Response> response = transport.RoundTrip(
              kind == "post" ? Post(url, std::string(rng() % 5000, 'p')) : Get(url));
          ASSERT_TRUE(response.ok()) << id << ": " << response.status();
          if (kind == "empty") {
            EXPECT_EQ(response->status, 204);
            continue;
          }
          const std::string want = absl::StrCat("body-", id);
          switch (rng() % 4) {
            case 0:  // Dropped unread, on another thread.
              std::thread([body = std::move(response->body)]() mutable { body.reset(); }).join();
              continue;
            case 1: {  // A few bytes, then closed.
              char buf[3];
              absl::StatusOr<size_t> n = response->body->Read(buf, sizeof(buf));
              ASSERT_TRUE(n.ok()) << id << ": " << n.status();
              EXPECT_EQ(std::string(buf, *n), want.substr(0, *n)) << id;
              response->body->Close();
              continue;
            }
            default: {
              absl::StatusOr<std::string> body = response->body->ReadAll();
              ASSERT_TRUE(body.ok()) << id << ": " << body.status();
              EXPECT_EQ(body->substr(0, want.size()), want) << id;
              EXPECT_EQ(body->size(), want.size() + (kind == "big" ? 200000 : 0)) << id;
              if (kind == "chunked") EXPECT_EQ(response->body->trailers().Get("X-Id"), id);
              if (i % 10 == 0) transport.CloseIdleConnections();
            }
          }
        }
      });
    }
    for (std::thread& caller : callers) caller.join();
  }
  ExpectNothingLeaked(dialer);
}

// Header timers around the response latency: a request may time out, but a
// body never goes to another request.
TEST(StressTest, HeaderTimersNearTheLatencyNeverMixUpResponses) {
  TestServer server([](PeerConn& conn) {
    for (;;) {
      absl::StatusOr<testserver::SeenRequest> seen = conn.ReadRequest();
      if (!seen.ok() || !conn.Write(OkResponse(absl::StrCat("for ", seen->target))).ok()) return;
    }
  });
  RecordingDialer dialer;
  std::atomic<int> answered{0};
  {
    std::vector<std::unique_ptr<Transport>> transports;
    for (int micros : {15, 60, 250, 5000}) {
      TransportOptions options = TestOptions(dialer);
      options.response_header_timeout = absl::Microseconds(micros);
      transports.push_back(std::make_unique<Transport>(options));
    }
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&, t] {
        for (int i = 0; i < 300; ++i) {
          Transport& transport = *transports[(t + i) % transports.size()];
          const std::string target = absl::StrCat("/", t, "/", i);
          absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url(target)));
          if (!response.ok()) {
            EXPECT_TRUE(absl::IsDeadlineExceeded(response.status()) ||
                        absl::IsUnavailable(response.status()) ||
                        absl::IsCancelled(response.status()))
                << response.status();
            continue;
          }
          absl::StatusOr<std::string> body = response->body->ReadAll();
          ASSERT_TRUE(body.ok()) << body.status();
          EXPECT_EQ(*body, absl::StrCat("for ", target));
          ++answered;
        }
      });
    }
    for (std::thread& caller : callers) caller.join();
  }
  ExpectNothingLeaked(dialer);
  EXPECT_GT(answered.load(), 0);
}

}  // namespace
}  // namespace h1
