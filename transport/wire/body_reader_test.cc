// Tests of BodyReader::SkipRestIfBuffered: it ends a body only when all of
// the rest is buffered within the data allowance, consumes exactly that rest,
// and otherwise consumes nothing. (Decoding itself is tested, split at every
// byte, in response_wire_test.)
#include "transport/wire/body_reader.h"

#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/byte_source.h"

namespace h1::wire {
namespace {

constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();
const BodyFraming kChunked{BodyFraming::Kind::kChunked};

// A body reader over a stream whose first read returns `first` and whose
// second returns `second`: the first read fills the buffer.
class Stream {
 public:
  Stream(std::string first, std::string second, BodyFraming framing)
      : source_(first + second, {first.size()}), in_(&source_), body_(&in_, framing) {}
  BufferedReader& in() { return in_; }
  BodyReader& body() { return body_; }
  std::string Read(size_t n) {
    std::string out(n, '\0');
    absl::StatusOr<size_t> got = body_.Read(out.data(), n);
    EXPECT_TRUE(got.ok()) << got.status();
    out.resize(got.value_or(0));
    return out;
  }

 private:
  ScriptedByteSource source_;
  BufferedReader in_;
  BodyReader body_;
};

TEST(BodyReaderTest, ContentLengthEndsWithItsLastByte) {
  Stream stream("abcdefNEXT", "", BodyFraming{BodyFraming::Kind::kContentLength, 6});
  EXPECT_EQ(stream.Read(3), "abc");
  EXPECT_FALSE(stream.body().SkipRestIfBuffered(0));
  EXPECT_EQ(stream.Read(3), "def");
  EXPECT_TRUE(stream.body().done());
  EXPECT_TRUE(stream.body().SkipRestIfBuffered(0));
  EXPECT_EQ(stream.in().buffered_bytes(), "NEXT");
}

TEST(BodyReaderTest, SkipsABufferedRestWithinTheAllowance) {
  Stream stream("abcdefNEXT", "", BodyFraming{BodyFraming::Kind::kContentLength, 6});
  EXPECT_EQ(stream.Read(2), "ab");
  EXPECT_FALSE(stream.body().SkipRestIfBuffered(3));
  EXPECT_EQ(stream.in().buffered_bytes(), "cdefNEXT");
  EXPECT_TRUE(stream.body().SkipRestIfBuffered(4));
  EXPECT_TRUE(stream.body().done());
  EXPECT_EQ(stream.body().bytes_read(), 6u);
  EXPECT_EQ(stream.in().buffered_bytes(), "NEXT");
}

TEST(BodyReaderTest, NeverSkipsWhatHasNotArrived) {
  Stream stream("abc", "def", BodyFraming{BodyFraming::Kind::kContentLength, 6});
  EXPECT_EQ(stream.Read(1), "a");
  EXPECT_FALSE(stream.body().SkipRestIfBuffered(kNoLimit));
  EXPECT_EQ(stream.Read(10), "bc");
  EXPECT_EQ(stream.Read(10), "def");
}

TEST(BodyReaderTest, ChunkedEndsWithItsLastDataWhenTheTerminatorArrived) {
  Stream stream("3\r\nabc\r\n0\r\nX-Sum: 3\r\n\r\nNEXT", "", kChunked);
  EXPECT_EQ(stream.Read(3), "abc");
  EXPECT_TRUE(stream.body().SkipRestIfBuffered(0));
  EXPECT_TRUE(stream.body().done());
  EXPECT_EQ(stream.body().trailers().Get("x-sum"), "3");
  EXPECT_EQ(stream.in().buffered_bytes(), "NEXT");
}

TEST(BodyReaderTest, ChunkedWithMoreDataIsNotEndedWithoutAnAllowance) {
  Stream stream("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT", "", kChunked);
  EXPECT_EQ(stream.Read(3), "abc");
  EXPECT_FALSE(stream.body().SkipRestIfBuffered(1));
  EXPECT_EQ(stream.Read(10), "de");
  EXPECT_TRUE(stream.body().SkipRestIfBuffered(0));
  EXPECT_EQ(stream.in().buffered_bytes(), "NEXT");
}

TEST(BodyReaderTest, ChunkedCutAtAnyByteConsumesNothing) {
  const std::string rest = "\r\n4\r\nmore\r\n0\r\nX-Sum: 7\r\n\r\n";
  for (size_t cut = 0; cut < rest.size(); ++cut) {
    Stream stream("3\r\nabc" + rest.substr(0, cut), rest.substr(cut), kChunked);
    EXPECT_EQ(stream.Read(3), "abc");
    EXPECT_FALSE(stream.body().SkipRestIfBuffered(kNoLimit)) << cut;
    EXPECT_EQ(stream.in().buffered(), cut) << cut;
    EXPECT_EQ(*ReadToEnd(stream.body()), "more") << cut;
  }
}

TEST(BodyReaderTest, MalformedRestIsLeftForTheReadThatReportsIt) {
  Stream stream("3\r\nabc\nzz\r\n", "", kChunked);
  EXPECT_EQ(stream.Read(3), "abc");
  EXPECT_FALSE(stream.body().SkipRestIfBuffered(kNoLimit));
  char c;
  EXPECT_FALSE(stream.body().Read(&c, 1).ok());
}

TEST(BodyReaderTest, UntilCloseIsNeverSkipped) {
  Stream stream("all of it", "", BodyFraming{BodyFraming::Kind::kUntilClose});
  EXPECT_EQ(stream.Read(3), "all");
  EXPECT_FALSE(stream.body().SkipRestIfBuffered(kNoLimit));
  EXPECT_EQ(stream.in().buffered_bytes(), " of it");
}

}  // namespace
}  // namespace h1::wire
