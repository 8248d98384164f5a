// Tests of the scripted server's own request handling, driven by a raw
// socket so that the bytes on the wire are exactly the test's.
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "testserver/scripted_server.h"
#include "transport/net_conn.h"

namespace h1::testserver {
namespace {

TEST(ScriptedServerTest, SkipRequestBodyDropsTheBodyAndLogsNothing) {
  uint64_t skipped = 0;
  ScriptedServer server([&skipped](PeerConn& conn) {
    absl::StatusOr<wire::RequestHead> head = conn.ReadRequestHead();
    ASSERT_TRUE(head.ok()) << head.status();
    absl::StatusOr<uint64_t> n = conn.SkipRequestBody(*head);
    ASSERT_TRUE(n.ok()) << n.status();
    skipped = *n;
    ASSERT_TRUE(conn.ReadRequest().ok());  // The next request on the stream.
    ASSERT_TRUE(conn.Write(OkResponse("ok")).ok());
  });
  absl::StatusOr<std::unique_ptr<NetConn>> client = DialTcp("127.0.0.1", server.port());
  ASSERT_TRUE(client.ok()) << client.status();
  const absl::string_view post =
      "POST /skip HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  const absl::string_view get = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
  size_t written = 0;
  ASSERT_TRUE((*client)->Write({post, get}, written).ok());
  EXPECT_EQ(written, post.size() + get.size());
  const std::string want = OkResponse("ok");
  std::string got(want.size(), '\0');
  for (size_t at = 0; at < want.size();) {
    absl::StatusOr<size_t> n = (*client)->Read(got.data() + at, got.size() - at);
    ASSERT_TRUE(n.ok() && *n > 0) << "response cut short after " << at << " bytes";
    at += *n;
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(skipped, 5u);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/next");
}

}  // namespace
}  // namespace h1::testserver
