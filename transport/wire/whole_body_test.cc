// Tests of TakeWholeBody: it takes exactly a body that is buffered in full,
// and nothing at all otherwise.
#include "transport/wire/whole_body.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/byte_source.h"

namespace h1::wire {
namespace {

constexpr size_t kTrailerLimit = 1024;
const BodyFraming kChunked{BodyFraming::Kind::kChunked};

BodyFraming ContentLength(uint64_t length) {
  return BodyFraming{BodyFraming::Kind::kContentLength, length};
}

// A reader whose buffer holds exactly `bytes`, as after one read of a socket.
class Buffered {
 public:
  explicit Buffered(std::string bytes) : source_(std::move(bytes)), in_(&source_) {
    EXPECT_TRUE(in_.Peek().ok());
  }
  BufferedReader& in() { return in_; }

 private:
  ScriptedByteSource source_;
  BufferedReader in_;
};

TEST(WholeBodyTest, TakesAContentLengthBodyAndLeavesWhatFollows) {
  Buffered buffered("helloNEXT");
  std::optional<WholeBody> whole = TakeWholeBody(buffered.in(), ContentLength(5), kTrailerLimit);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->bytes, "hello");
  EXPECT_TRUE(whole->trailers.fields().empty());
  EXPECT_EQ(buffered.in().buffered_bytes(), "NEXT");
  EXPECT_EQ(buffered.in().consumed(), 5u);
}

TEST(WholeBodyTest, TakesAChunkedBodyWithExtensionsAndTrailers) {
  Buffered buffered("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\nNEXT");
  std::optional<WholeBody> whole = TakeWholeBody(buffered.in(), kChunked, kTrailerLimit);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->bytes, "hello world");
  EXPECT_EQ(whole->trailers.Get("x-sum"), "42");
  EXPECT_EQ(buffered.in().buffered_bytes(), "NEXT");
}

TEST(WholeBodyTest, TakesNothingFromABodyCutShortAtAnyByte) {
  const std::string chunked = "5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n";
  for (size_t cut = 1; cut < chunked.size(); ++cut) {
    Buffered buffered(chunked.substr(0, cut));
    EXPECT_FALSE(TakeWholeBody(buffered.in(), kChunked, kTrailerLimit).has_value()) << cut;
    EXPECT_EQ(buffered.in().buffered(), cut);
    EXPECT_EQ(buffered.in().consumed(), 0u);
  }
  Buffered short_body("hell");
  EXPECT_FALSE(TakeWholeBody(short_body.in(), ContentLength(5), kTrailerLimit).has_value());
  EXPECT_EQ(short_body.in().buffered(), 4u);
}

TEST(WholeBodyTest, LeavesMalformedAndOversizedBodiesToTheStreamingReader) {
  Buffered malformed("zz\r\nhello\r\n0\r\n\r\n");
  EXPECT_FALSE(TakeWholeBody(malformed.in(), kChunked, kTrailerLimit).has_value());
  EXPECT_EQ(malformed.in().consumed(), 0u);
  Buffered long_trailer("0\r\nX-Big: " + std::string(100, 't') + "\r\n\r\n");
  EXPECT_FALSE(TakeWholeBody(long_trailer.in(), kChunked, 50).has_value());
  EXPECT_EQ(long_trailer.in().consumed(), 0u);
}

TEST(WholeBodyTest, NoBodyIsAnEmptyWholeBody) {
  Buffered buffered("NEXT");
  std::optional<WholeBody> whole = TakeWholeBody(buffered.in(), BodyFraming{}, kTrailerLimit);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->bytes, "");
  EXPECT_EQ(buffered.in().buffered_bytes(), "NEXT");
}

TEST(WholeBodyTest, NeverTakesABodyThatEndsWithTheStream) {
  Buffered buffered("all of it");
  EXPECT_FALSE(TakeWholeBody(buffered.in(), BodyFraming{BodyFraming::Kind::kUntilClose},
                             kTrailerLimit)
                   .has_value());
  EXPECT_EQ(buffered.in().buffered(), 9u);
}

}  // namespace
}  // namespace h1::wire
