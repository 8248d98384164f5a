#include "transport/wire/chunk_size_line.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace h1::wire {
namespace {

using ::testing::HasSubstr;

TEST(ChunkSizeLineTest, AcceptsHexSizes) {
  EXPECT_EQ(*ParseChunkSizeLine("0"), 0u);
  EXPECT_EQ(*ParseChunkSizeLine("a"), 10u);
  EXPECT_EQ(*ParseChunkSizeLine("Ff"), 255u);
  EXPECT_EQ(*ParseChunkSizeLine("0010"), 16u);
}

TEST(ChunkSizeLineTest, IgnoresExtensions) {
  EXPECT_EQ(*ParseChunkSizeLine("5;name=value"), 5u);
  EXPECT_EQ(*ParseChunkSizeLine("5 ;name=\"quoted\""), 5u);
  EXPECT_EQ(*ParseChunkSizeLine("5\t;a;b=c"), 5u);
}

TEST(ChunkSizeLineTest, RejectsMissingDigits) {
  auto size = ParseChunkSizeLine("");
  ASSERT_FALSE(size.ok());
  EXPECT_THAT(size.status().message(), HasSubstr("no hex digits"));
  EXPECT_FALSE(ParseChunkSizeLine(";ext").ok());
  EXPECT_FALSE(ParseChunkSizeLine("-1").ok());
  EXPECT_FALSE(ParseChunkSizeLine("0x10").ok());
}

TEST(ChunkSizeLineTest, RejectsTrailingGarbage) {
  auto size = ParseChunkSizeLine("12 34");
  ASSERT_FALSE(size.ok());
  EXPECT_THAT(size.status().message(), HasSubstr("unexpected byte after chunk size"));
}

TEST(ChunkSizeLineTest, RejectsOverflow) {
  auto size = ParseChunkSizeLine("ffffffffffffffffff");
  ASSERT_FALSE(size.ok());
  EXPECT_THAT(size.status().message(), HasSubstr("too large"));
  EXPECT_EQ(*ParseChunkSizeLine("10000000000"), kMaxChunkSize);
}

TEST(ChunkSizeLineTest, RejectsControlBytesInExtension) {
  EXPECT_FALSE(ParseChunkSizeLine(std::string("5;a\0b", 5)).ok());
  EXPECT_FALSE(ParseChunkSizeLine("5;a\rb").ok());
}

}  // namespace
}  // namespace h1::wire
