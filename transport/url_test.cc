#include "transport/url.h"

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace h1 {
namespace {

using ::testing::HasSubstr;

TEST(UrlTest, ParsesHostPortAndTarget) {
  absl::StatusOr<HttpUrl> url = ParseHttpUrl("http://example.test:8080/a/b?c=d#frag");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "example.test");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/a/b?c=d");
  EXPECT_EQ(url->HostHeader(), "example.test:8080");
  EXPECT_EQ(url->PoolKey(), "http://example.test:8080");
}

TEST(UrlTest, DefaultsPortAndPath) {
  absl::StatusOr<HttpUrl> url = ParseHttpUrl("HTTP://127.0.0.1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(url->HostHeader(), "127.0.0.1");
  EXPECT_EQ(ParseHttpUrl("http://h?q=1")->target, "/?q=1");
}

TEST(UrlTest, ParsesIpv6Literals) {
  absl::StatusOr<HttpUrl> url = ParseHttpUrl("http://[::1]:81/x");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->HostHeader(), "[::1]:81");
}

TEST(UrlTest, RejectsWhatItCannotServe) {
  EXPECT_THAT(ParseHttpUrl("https://a/").status().message(), HasSubstr("unsupported scheme"));
  EXPECT_THAT(ParseHttpUrl("/relative").status().message(), HasSubstr("not absolute"));
  EXPECT_THAT(ParseHttpUrl("http://:80/").status().message(), HasSubstr("no host"));
  EXPECT_THAT(ParseHttpUrl("http://a:99999/").status().message(), HasSubstr("invalid port"));
  EXPECT_THAT(ParseHttpUrl("http://a:+1/").status().message(), HasSubstr("invalid port"));
  EXPECT_THAT(ParseHttpUrl("http://u@a/").status().message(), HasSubstr("userinfo"));
  EXPECT_THAT(ParseHttpUrl("http://[::1/").status().message(), HasSubstr("unclosed"));
}

// Nothing that SimpleAtoi would skip: a port is digits only, and the host
// part has no control byte or space.
TEST(UrlTest, RejectsControlBytesAndSpacesInTheHostPart) {
  for (const char* url : {"http://a:80\r\n/p", "http://a:80\t/p", "http://a:80\v/p",
                          "http://a:\t80/p", "http://a b/p", "http://a\x7f/p"}) {
    absl::StatusOr<HttpUrl> parsed = ParseHttpUrl(url);
    EXPECT_FALSE(parsed.ok()) << absl::CEscape(url);
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << absl::CEscape(url);
    EXPECT_THAT(parsed.status().message(), HasSubstr("control byte or space in its host"));
  }
}

}  // namespace
}  // namespace h1
