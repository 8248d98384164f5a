// Tests for Headers, the ordered, case-insensitive field list.
#include "transport/wire/headers.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace h1::wire {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(HeadersTest, SetReplacesEveryFieldOfTheNameWhereTheFirstWas) {
  Headers headers{{"A", "1"}, {"x-tag", "a"}, {"B", "2"}, {"X-Tag", "b"}};
  headers.Set("X-Tag", "c");
  EXPECT_THAT(headers.fields(),
              ElementsAre(Pair("A", "1"), Pair("X-Tag", "c"), Pair("B", "2")));
  headers.Set("New", "n");
  EXPECT_THAT(headers.fields().back(), Pair("New", "n"));
}

TEST(HeadersTest, DelRemovesEveryFieldOfTheName) {
  Headers headers{{"A", "1"}, {"x-tag", "a"}, {"X-TAG", "b"}};
  headers.Del("X-Tag");
  EXPECT_THAT(headers.fields(), ElementsAre(Pair("A", "1")));
  headers.Del("absent");
  EXPECT_EQ(headers.size(), 1u);
}

TEST(HeadersTest, GetGetAllHasAndIterationKeepOrder) {
  Headers headers;
  headers.Add("Accept", "text/html");
  headers.Add("accept", "text/plain");
  EXPECT_EQ(headers.Get("ACCEPT"), "text/html");
  EXPECT_THAT(headers.GetAll("Accept"), ElementsAre("text/html", "text/plain"));
  EXPECT_TRUE(headers.Has("accept"));
  EXPECT_FALSE(headers.Has("Accept-Encoding"));
  std::vector<std::pair<std::string, std::string>> seen;
  for (const auto& [name, value] : headers) seen.emplace_back(name, value);
  EXPECT_THAT(seen, ElementsAre(Pair("Accept", "text/html"), Pair("accept", "text/plain")));
}

}  // namespace
}  // namespace h1::wire
