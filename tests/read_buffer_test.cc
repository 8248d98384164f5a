// The connection's read buffer (TransportOptions::read_buffer_size): heads
// are read through it, and a body read at least that large goes from the
// socket straight into the caller's buffer, with no copy through it.
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
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
using ::h1::testserver::AnswerEvery;
using ::h1::testserver::OkResponse;
using ::h1::testserver::TestServer;

// Records where each socket read was asked to put its bytes, and how many.
class ReadLog {
 public:
  struct Read {
    const char* buf;
    size_t n;
  };
  void Add(const char* buf, size_t n) {
    absl::MutexLock lock(&mu_);
    reads_.push_back({buf, n});
  }
  std::vector<Read> reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Read> reads_ ABSL_GUARDED_BY(mu_);
};

class LoggedReadsConn final : public ForwardingNetConn {
 public:
  LoggedReadsConn(std::unique_ptr<NetConn> inner, ReadLog* log)
      : ForwardingNetConn(std::move(inner)), log_(log) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    log_->Add(buf, n);
    return ForwardingNetConn::Read(buf, n);
  }
  absl::StatusOr<size_t> TryWrite(absl::Span<const absl::string_view> pieces) override {
    return ForwardTryWrite(pieces);
  }

 private:
  ReadLog* const log_;
};

TEST(ReadBufferTest, ALargeBodyIsReadStraightIntoTheCallersBuffer) {
  constexpr size_t kBody = 256 * 1024;
  TestServer server(AnswerEvery(OkResponse(std::string(kBody, 'b'))));
  RecordingDialer dialer;
  ReadLog log;
  std::vector<char> buffer(kBody);
  size_t total = 0;
  {
    TransportOptions options = TestOptions(dialer);
    options.read_buffer_size = 1024;
    options.dial = dialer.Dial([&log](int, std::unique_ptr<NetConn> conn) {
      return std::make_unique<LoggedReadsConn>(std::move(conn), &log);
    });
    Transport transport(options);
    absl::StatusOr<Response> response = transport.RoundTrip(Get(server.Url("/large")));
    ASSERT_TRUE(response.ok()) << response.status();
    for (;;) {
      absl::StatusOr<size_t> n = response->body->Read(buffer.data() + total, kBody - total);
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) break;
      total += *n;
    }
  }
  ExpectNothingLeaked(dialer);
  EXPECT_EQ(total, kBody);
  EXPECT_EQ(std::string(buffer.data(), total), std::string(kBody, 'b'));
  const std::vector<ReadLog::Read> reads = log.reads();
  ASSERT_FALSE(reads.empty());
  // The head's read goes through the 1 KiB buffer; most of the body's
  // bytes land where the caller asked for them.
  EXPECT_LE(reads.front().n, 1024u);
  size_t straight = 0;
  for (const ReadLog::Read& read : reads) {
    if (read.buf >= buffer.data() && read.buf < buffer.data() + kBody) ++straight;
  }
  EXPECT_GT(straight, 0u);
  for (const ReadLog::Read& read : reads) {
    const bool into_caller = read.buf >= buffer.data() && read.buf < buffer.data() + kBody;
    if (!into_caller) EXPECT_LE(read.n, 1024u);
  }
}

}  // namespace
}  // namespace h1
