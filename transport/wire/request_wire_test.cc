#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/byte_source.h"
#include "transport/wire/message_head.h"
#include "transport/wire/request_head.h"

namespace h1::wire {
namespace {

using ::testing::HasSubstr;

RequestHead Head(std::string method, std::string target, Headers headers = {}) {
  RequestHead head;
  head.method = std::move(method);
  head.target = std::move(target);
  head.headers = std::move(headers);
  return head;
}

TEST(RequestWireTest, SerializesHeadInOrder) {
  EXPECT_EQ(SerializeRequestHead(Head("GET", "/a?b=c", {{"Host", "x:1"}, {"X-A", "1"}})),
            "GET /a?b=c HTTP/1.1\r\nHost: x:1\r\nX-A: 1\r\n\r\n");
}

// A receiver drops whitespace around a field value (RFC 9110 5.5), so it is
// not sent, as Go's Header.Write trims it: what is written is what the
// server reads.
TEST(RequestWireTest, SerializesValuesWithoutSurroundingWhitespace) {
  EXPECT_EQ(SerializeRequestHead(Head("GET", "/", {{"X-A", " \t1 \t2\t "}, {"X-B", "\t"}})),
            "GET / HTTP/1.1\r\nX-A: 1 \t2\r\nX-B: \r\n\r\n");
}

TEST(RequestWireTest, RejectsControlBytesBeforeWriting) {
  EXPECT_THAT(ValidateRequestHead(Head("GE\rT", "/")).message(),
              HasSubstr("method is not a token: \"GE\\rT\""));
  EXPECT_THAT(ValidateRequestHead(Head("GET", "/a\nb")).message(),
              HasSubstr("path contains a control byte: \"/a\\nb\""));
  EXPECT_THAT(ValidateRequestHead(Head("GET", std::string("/a\0b", 4))).message(),
              HasSubstr("path contains a control byte"));
  EXPECT_THAT(ValidateRequestHead(Head("GET", "/", {{"X-Evil", "a\r\nInjected: 1"}})).message(),
              HasSubstr("header X-Evil contains a control byte"));
  EXPECT_THAT(ValidateRequestHead(Head("GET", "/", {{"X\nY", "1"}})).message(),
              HasSubstr("header name is not a token"));
  EXPECT_THAT(ValidateRequestHead(Head("G T", "/")).message(), HasSubstr("not a token"));
  EXPECT_THAT(ValidateRequestHead(Head("GET", "/a b")).message(), HasSubstr("contains a space"));
  EXPECT_TRUE(ValidateRequestHead(Head("GET", "/", {{"X", "ok value"}})).ok());
}

// Every control byte, as Go rejects them: in the target even a tab; in a
// header value all but tab, which is field whitespace.
TEST(RequestWireTest, RejectsEveryControlByteButTabInValues) {
  for (int byte = 0; byte < 0x80; ++byte) {
    const char c = static_cast<char>(byte);
    const bool control = byte < 0x20 || byte == 0x7f;
    SCOPED_TRACE(byte);
    EXPECT_EQ(ValidateRequestHead(Head("GET", std::string("/a") + c)).ok(), !control && c != ' ');
    EXPECT_EQ(ValidateRequestHead(Head("GET", "/", {{"X", std::string("a") + c + "b"}})).ok(),
              !control || c == '\t');
  }
  EXPECT_TRUE(ValidateRequestHead(Head("GET", "/caf\xc3\xa9", {{"X", "caf\xc3\xa9"}})).ok());
}

TEST(RequestWireTest, ChunkEncodingRoundTripsThroughTheDecoder) {
  const auto chunk = [](const std::string& data) {
    return absl::StrCat(ChunkSizeLine(data.size()), data, kChunkEnd);
  };
  const std::string wire = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                           chunk("hello ") + chunk(std::string(300, 'z')) +
                           std::string(kLastChunk);
  ScriptedByteSource source(wire);
  BufferedReader in(&source);
  absl::StatusOr<RequestHead> head = ReadRequestHead(in);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->method, "POST");
  EXPECT_EQ(head->target, "/up");
  absl::StatusOr<BodyFraming> framing = RequestBodyFraming(*head);
  ASSERT_TRUE(framing.ok());
  BodyReader body(&in, *framing);
  EXPECT_EQ(*ReadToEnd(body), "hello " + std::string(300, 'z'));
}

TEST(RequestWireTest, RequestWithoutFramingHasNoBody) {
  ScriptedByteSource source("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET");
  BufferedReader in(&source);
  absl::StatusOr<RequestHead> head = ReadRequestHead(in);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(RequestBodyFraming(*head)->kind, BodyFraming::Kind::kNone);
  EXPECT_EQ(in.buffered(), 3u);
}

TEST(RequestWireTest, RejectsMalformedRequestLines) {
  for (const char* line : {"GET /\r\n\r\n", " / HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n",
                           "G(T / HTTP/1.1\r\n\r\n"}) {
    ScriptedByteSource source(line);
    BufferedReader in(&source);
    EXPECT_FALSE(ReadRequestHead(in).ok()) << line;
  }
}

}  // namespace
}  // namespace h1::wire
