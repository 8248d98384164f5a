#include "tools/h1fetch/request_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace h1::fetch {
namespace {

using ::testing::HasSubstr;

TEST(RequestSpecTest, ParsesMethodUrlAndOptions) {
  absl::StatusOr<RequestSpec> spec =
      ParseRequestSpec("POST http://h:1/up body=1048576 sleep_before_ms=25");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->method, "POST");
  EXPECT_EQ(spec->url, "http://h:1/up");
  EXPECT_EQ(spec->body_bytes, 1048576u);
  EXPECT_EQ(spec->sleep_before, absl::Milliseconds(25));
  EXPECT_EQ(ParseRequestSpec("GET http://h/")->body_bytes, std::nullopt);
}

TEST(RequestSpecTest, ABareUrlIsAGet) {
  absl::StatusOr<RequestSpec> spec = ParseRequestSpec("http://h:1/small");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->method, "GET");
  EXPECT_EQ(spec->url, "http://h:1/small");
  absl::StatusOr<RequestSpec> with_options = ParseRequestSpec("http://h/ sleep_before_ms=5");
  ASSERT_TRUE(with_options.ok()) << with_options.status();
  EXPECT_EQ(with_options->method, "GET");
  EXPECT_EQ(with_options->sleep_before, absl::Milliseconds(5));
}

TEST(RequestSpecTest, RejectsMalformedWords) {
  EXPECT_THAT(ParseRequestSpec("GET").status().message(), HasSubstr("expected \"[METHOD] URL"));
  EXPECT_THAT(ParseRequestSpec("GET http://h/ body=ten").status().message(),
              HasSubstr("unknown or malformed word \"body=ten\""));
  EXPECT_THAT(ParseRequestSpec("GET http://h/ retries=3").status().message(),
              HasSubstr("\"retries=3\""));
}

TEST(RequestSpecTest, ClientArgsAreTheTimeoutAndTheRequests) {
  const char* argv[] = {"client", "--response_header_timeout=0.5", "GET http://h/a",
                        "POST http://h/b body=3"};
  absl::StatusOr<ClientArgs> args = ParseClientArgs(4, const_cast<char**>(argv));
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->response_header_timeout, absl::Milliseconds(500));
  ASSERT_EQ(args->requests.size(), 2u);
  EXPECT_EQ(args->requests[1].body_bytes, 3u);
  const char* bad[] = {"client", "--verbose"};
  EXPECT_THAT(ParseClientArgs(2, const_cast<char**>(bad)).status().message(),
              HasSubstr("unknown flag --verbose"));
}

TEST(RequestSpecTest, JsonLineMatchesTheContract) {
  Outcome ok{1, "GET", 200, 3, "foo", std::nullopt, 1, false};
  EXPECT_EQ(ToJsonLine(ok),
            R"({"i":1,"method":"GET","status":200,"body_bytes":3,"body":"foo","error":null,)"
            R"("conn":1,"reused":false})");
  Outcome failed{2, "POST", std::nullopt, 0, "", "UNAVAILABLE: \"x\"", std::nullopt, false};
  EXPECT_EQ(ToJsonLine(failed),
            R"({"i":2,"method":"POST","status":null,"body_bytes":0,"body":"",)"
            R"("error":"UNAVAILABLE: \"x\"","conn":null,"reused":false})");
}

TEST(RequestSpecTest, BodyBytesAreLatin1CodePoints) {
  Outcome o{1, "GET", 200, 4, std::string("a\n\xe9\\", 4), std::nullopt, 1, true};
  EXPECT_THAT(ToJsonLine(o), HasSubstr(R"("body":"a\u000a\u00e9\\")"));
}

TEST(RequestSpecTest, JsonLinesParseBackToTheirOutcome) {
  for (const Outcome& o : {Outcome{1, "GET", 200, 4, std::string("a\n\xe9\\", 4), std::nullopt, 7, true},
                           Outcome{2, "POST", std::nullopt, 0, "", "UNAVAILABLE: \"x\", y",
                                   std::nullopt, false}}) {
    absl::StatusOr<Outcome> parsed = ParseJsonLine(ToJsonLine(o));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(ToJsonLine(*parsed), ToJsonLine(o));
  }
  EXPECT_FALSE(ParseJsonLine("not json").ok());
  EXPECT_THAT(ParseJsonLine(R"({"i":1,"bogus":2})").status().message(),
              HasSubstr("unexpected JSON field \"bogus\""));
  EXPECT_FALSE(ParseJsonLine(R"({"body":"open)").ok());
}

}  // namespace
}  // namespace h1::fetch
