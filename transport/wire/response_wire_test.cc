// Table-driven tests of response parsing: every accepted and every rejected
// form, each fed whole, split at every byte, and one byte at a time.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/byte_source.h"
#include "transport/wire/message_head.h"

namespace h1::wire {
namespace {

using ::testing::HasSubstr;

// What one response parses to; `error` non-empty means it must fail with a
// message containing it.
struct Outcome {
  int status = 0;
  std::string body;
  bool reusable = false;
  std::string rest;  // Bytes left in the stream after the message.
  std::string error;
};

struct Case {
  std::string name;
  std::string method;
  std::string bytes;
  Outcome want;
};

Outcome Parse(const std::string& method, ByteSource& source, size_t max_header_bytes) {
  BufferedReader in(&source, 16);  // A small buffer exercises refills.
  Outcome out;
  absl::StatusOr<ResponseHead> head = ReadFinalResponseHead(in, max_header_bytes);
  if (!head.ok()) {
    out.error = std::string(head.status().message());
    return out;
  }
  out.status = head->status;
  absl::StatusOr<BodyFraming> framing = ResponseBodyFraming(*head, method);
  if (!framing.ok()) {
    out.error = std::string(framing.status().message());
    return out;
  }
  BodyReader body(&in, *framing);
  absl::StatusOr<std::string> all = ReadToEnd(body);
  if (!all.ok()) {
    out.error = std::string(all.status().message());
    return out;
  }
  out.body = *all;
  out.reusable = ResponseAllowsReuse(*head, *framing);
  char c;
  while (in.Read(&c, 1).value_or(0) == 1) out.rest += c;
  return out;
}

void ExpectOutcome(const Outcome& got, const Outcome& want, const std::string& context) {
  SCOPED_TRACE(context);
  if (!want.error.empty()) {
    EXPECT_THAT(got.error, HasSubstr(want.error));
    return;
  }
  EXPECT_EQ(got.error, "");
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.body, want.body);
  EXPECT_EQ(got.reusable, want.reusable);
  EXPECT_EQ(got.rest, want.rest);
}

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      // Accepted forms.
      {"content_length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfoo",
       {200, "foo", true}},
      {"content_length_zero", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
       {200, "", true}},
      {"bare_lf_lines", "GET", "HTTP/1.1 200 OK\nContent-Length: 3\n\nfoo", {200, "foo", true}},
      {"no_reason", "GET", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", {404, "", true}},
      {"case_insensitive_names", "GET", "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 2\r\n\r\nhi",
       {200, "hi", true}},
      {"duplicate_equal_content_length", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", {200, "hi", true}},
      {"content_length_list", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nhi",
       {200, "hi", true}},
      {"next_message_stays_in_stream", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfooHTTP/1.1",
       {200, "foo", true, "HTTP/1.1"}},
      {"chunked", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nfoo\r\n3\r\nbar\r\n0\r\n\r\n",
       {200, "foobar", true}},
      {"chunked_extensions_and_trailers", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3;ext=1\r\nfoo\r\nA ; x=\"y\"\r\n0123456789\r\n0;last\r\nX-Trailer: t\r\n\r\n",
       {200, "foo0123456789", true}},
      {"chunked_any_case", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n1\r\nz\r\n0\r\n\r\n",
       {200, "z", true}},
      {"close_delimited", "GET", "HTTP/1.1 200 OK\r\n\r\nuntil the end", {200, "until the end", false}},
      {"connection_close", "GET",
       "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", {200, "x", false}},
      {"connection_close_token", "GET",
       "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\nx",
       {200, "x", false}},
      {"http10", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", {200, "x", false}},
      {"http10_keep_alive", "GET",
       "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
       {200, "x", true}},
      // Close wins over keep-alive, in one field or two (Go's shouldClose).
      {"http10_keep_alive_and_close", "GET",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n"
       "Content-Length: 1\r\n\r\nx",
       {200, "x", false}},
      {"http10_keep_alive_close_token", "GET",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\nx",
       {200, "x", false}},
      {"http10_keep_alive_no_content", "GET",
       "HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n", {204, "", true}},
      {"http10_keep_alive_until_close", "GET",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nall", {200, "all", false}},
      // Transfer-Encoding is HTTP/1.1: in an HTTP/1.0 message the framing is
      // suspect (RFC 9112 6.1), so the connection ends after it.
      {"http10_keep_alive_chunked", "GET",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
       "1\r\nz\r\n0\r\n\r\n",
       {200, "z", false}},
      {"head_reports_no_body", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
       {200, "", true}},
      {"no_content", "GET", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1", {204, "", true, "HTTP/1.1"}},
      {"not_modified_ignores_length", "GET",
       "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", {304, "", true}},
      {"interim_responses_skipped", "POST",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
       "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
       {201, "ok", true}},
      {"repeated_headers_kept", "GET",
       "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
       {200, "", true}},
      // Rejected forms.
      {"empty_stream", "GET", "", {.error = "connection closed before any byte"}},
      {"eof_in_status_line", "GET", "HTTP/1.1 20", {.error = "unexpected EOF inside the message head"}},
      {"eof_in_headers", "GET", "HTTP/1.1 200 OK\r\nContent-Le",
       {.error = "unexpected EOF inside the message head"}},
      {"garbage", "GET", "SSH-2.0-OpenSSH\r\n\r\n", {.error = "malformed status line"}},
      {"http2_preface", "GET", "PRI * HTTP/2.0\r\n\r\n", {.error = "malformed HTTP version"}},
      {"bad_status", "GET", "HTTP/1.1 2x0 OK\r\n\r\n", {.error = "malformed status line"}},
      {"status_below_100", "GET", "HTTP/1.1 099 Low\r\n\r\n", {.error = "malformed status code"}},
      {"switching_protocols", "GET", "HTTP/1.1 101 Switching Protocols\r\n\r\n",
       {.error = "101"}},
      {"too_many_interim_responses", "GET",
       "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
       "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
       "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
       {.error = "more than 5 interim 1xx responses"}},
      {"eof_after_interim", "GET", "HTTP/1.1 100 Continue\r\n\r\n",
       {.error = "after an interim 1xx response"}},
      {"space_before_colon", "GET", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx",
       {.error = "malformed header name"}},
      {"no_colon", "GET", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", {.error = "malformed header"}},
      {"obs_fold", "GET", "HTTP/1.1 200 OK\r\nX: a\r\n  b\r\n\r\n",
       {.error = "obsolete line folding"}},
      {"nul_in_value", "GET", std::string("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 27),
       {.error = "malformed header value"}},
      // Every control byte but HTAB, as Go's textproto and both Node parsers
      // check (found by //fuzz:response_differential_fuzzer).
      {"vertical_tab_in_value", "GET", "HTTP/1.1 200 OK\r\nX: a\vb\r\n\r\n",
       {.error = "malformed header value"}},
      {"del_in_value", "GET", "HTTP/1.1 200 OK\r\nX: a\x7f\r\nContent-Length: 0\r\n\r\n",
       {.error = "malformed header value"}},
      // Only SP and HTAB are trimmed from a value: a control byte at its
      // edge, a bare CR before the line's CRLF included, is refused too.
      {"vertical_tab_ending_value", "GET", "HTTP/1.1 200 OK\r\nX: a\v\r\n\r\n",
       {.error = "malformed header value"}},
      {"bare_cr_ending_value", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\r\n\r\nx", {.error = "malformed header value"}},
      {"bare_cr_starting_value", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: \r1\r\n\r\nx", {.error = "malformed header value"}},
      {"control_byte_in_trailer", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \x01\r\n\r\n",
       {.error = "chunked trailer: malformed header value"}},
      // A 1xx head's framing fields are checked as a final head's, as Go does
      // (found by //fuzz:response_differential_fuzzer).
      {"interim_with_invalid_content_length", "GET",
       "HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\n"
       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
       {.error = "invalid Content-Length"}},
      {"interim_with_unsupported_transfer_encoding", "GET",
       "HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: gzip\r\n\r\n"
       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
       {.error = "unsupported Transfer-Encoding"}},
      {"conflicting_content_length", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi",
       {.error = "conflicting Content-Length values 2 and 3"}},
      {"conflicting_content_length_list", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nhi",
       {.error = "conflicting Content-Length"}},
      {"negative_content_length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
       {.error = "invalid Content-Length"}},
      {"huge_content_length", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
       {.error = "invalid Content-Length"}},
      {"content_length_and_chunked", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nfoo\r\n0\r\n\r\n",
       {.error = "both Content-Length and Transfer-Encoding"}},
      {"content_length_and_chunked_on_head", "HEAD",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       {.error = "both Content-Length and Transfer-Encoding"}},
      {"unsupported_transfer_encoding", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", {.error = "unsupported Transfer-Encoding"}},
      // Only exactly "chunked" (RFC 9112 6.1; Go does the same): a coding
      // before it would hand the caller undecoded bytes, and chunked twice
      // would hand it the inner chunk framing as body bytes.
      {"chunked_after_gzip", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
       {.error = "unsupported Transfer-Encoding \"gzip, chunked\""}},
      {"chunked_twice", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
       "6\r\n1\r\nz\r\n\r\n0\r\n\r\n",
       {.error = "unsupported Transfer-Encoding \"chunked, chunked\""}},
      {"chunked_in_two_fields", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
       "6\r\n1\r\nz\r\n\r\n0\r\n\r\n",
       {.error = "unsupported Transfer-Encoding \"chunked, chunked\""}},
      {"short_body", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345",
       {.error = "unexpected EOF: 5 of 10 body bytes"}},
      {"bad_chunk_size", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       {.error = "malformed chunk-size line"}},
      {"chunk_without_crlf", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nfooX\r\n0\r\n\r\n",
       {.error = "no CRLF after chunk data"}},
      // CRLF is required in chunked framing (RFC 9112 7.1); the bare-LF
      // allowance covers only the start line and header fields.
      {"bare_lf_after_chunk_size", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
       {.error = "chunk-size line not ended by CRLF"}},
      {"bare_lf_after_chunk_data", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
       {.error = "no CRLF after chunk data"}},
      {"bare_lf_after_last_chunk", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\n\r\n",
       {.error = "chunk-size line not ended by CRLF"}},
      {"bare_lf_ending_the_chunked_body", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\n",
       {.error = "chunked trailer: line not ended by CRLF"}},
      {"bare_lf_after_a_trailer", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\n\r\n",
       {.error = "chunked trailer: line not ended by CRLF"}},
      {"eof_in_chunk", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
       {.error = "unexpected EOF in chunked body after 2 body bytes"}},
      {"eof_before_last_chunk", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n",
       {.error = "unexpected EOF in chunked body after 1 body bytes"}},
      {"bad_trailer", "GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n",
       {.error = "chunked trailer: malformed header"}},
  };
  return *cases;
}

TEST(ResponseWireTest, EveryCaseWhole) {
  for (const Case& c : Cases()) {
    ScriptedByteSource source(c.bytes);
    ExpectOutcome(Parse(c.method, source, kDefaultMaxHeaderBytes), c.want, c.name);
  }
}

TEST(ResponseWireTest, EveryCaseSplitAtEveryByte) {
  for (const Case& c : Cases()) {
    for (size_t split = 0; split <= c.bytes.size(); ++split) {
      ScriptedByteSource source(c.bytes, {split});
      ExpectOutcome(Parse(c.method, source, kDefaultMaxHeaderBytes), c.want,
                    absl::StrCat(c.name, " split at ", split));
    }
  }
}

TEST(ResponseWireTest, EveryCaseOneByteAtATime) {
  for (const Case& c : Cases()) {
    ScriptedByteSource source(c.bytes, std::vector<size_t>(c.bytes.size(), 1));
    ExpectOutcome(Parse(c.method, source, kDefaultMaxHeaderBytes), c.want,
                  absl::StrCat(c.name, " byte by byte"));
  }
}

TEST(ResponseWireTest, HeaderSizeLimitIsEnforcedWithAClearError) {
  const std::string head = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(200, 'a') +
                           "\r\nContent-Length: 0\r\n\r\n";
  ScriptedByteSource fits(head);
  EXPECT_EQ(Parse("GET", fits, head.size()).status, 200);
  ScriptedByteSource too_big(head);
  EXPECT_EQ(Parse("GET", too_big, head.size() - 1).error,
            absl::StrCat("message head exceeds the limit of ", head.size() - 1, " bytes"));
}

// Interim responses share the final head's size limit: a server cannot
// stretch it with a stream of small 1xx heads.
TEST(ResponseWireTest, InterimHeadsCountAgainstTheHeaderLimit) {
  const std::string interim = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n";
  const std::string final_head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  const std::string bytes = interim + interim + final_head;
  ScriptedByteSource fits(bytes);
  EXPECT_EQ(Parse("GET", fits, bytes.size()).status, 200);
  ScriptedByteSource too_big(bytes);
  EXPECT_EQ(Parse("GET", too_big, bytes.size() - 1).error,
            absl::StrCat("message head exceeds the limit of ", bytes.size() - 1, " bytes"));
}

TEST(ResponseWireTest, DefaultLimitRejectsAnEndlessHeader) {
  std::string head = "HTTP/1.1 200 OK\r\nX: ";
  head.append(kDefaultMaxHeaderBytes, 'a');
  ScriptedByteSource source(head);
  EXPECT_THAT(Parse("GET", source, kDefaultMaxHeaderBytes).error,
              HasSubstr("message head exceeds the limit of 1048576 bytes"));
}

TEST(ResponseWireTest, HeadersAndTrailersAreExposed) {
  ScriptedByteSource source(
      "HTTP/1.1 200 Fine\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n"
      "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-Sum: 7\r\n\r\n");
  BufferedReader in(&source);
  absl::StatusOr<ResponseHead> head = ReadFinalResponseHead(in);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->reason, "Fine");
  EXPECT_EQ(head->headers.GetAll("SET-COOKIE"), (std::vector<std::string>{"a=1", "b=2"}));
  BodyReader body(&in, *ResponseBodyFraming(*head, "GET"));
  EXPECT_EQ(*ReadToEnd(body), "x");
  EXPECT_TRUE(body.done());
  EXPECT_EQ(body.trailers().Get("x-sum"), "7");
}

TEST(ResponseWireTest, HeadResponseStillReportsContentLength) {
  ScriptedByteSource source("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  BufferedReader in(&source);
  absl::StatusOr<ResponseHead> head = ReadFinalResponseHead(in);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(**ParseContentLength(head->headers), 1000u);
  EXPECT_EQ(ResponseBodyFraming(*head, "HEAD")->kind, BodyFraming::Kind::kNone);
}

}  // namespace
}  // namespace h1::wire
