// The scenario library: what hostile and broken servers do, and what a
// correct client makes of it. Each expectation is the safe outcome, as the
// transport's rules (README, "Behaviour worth knowing") and Go's define it.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "testserver/scenario.h"

namespace h1::testserver {
namespace {

constexpr uint64_t kBigUpload = 32 << 20;  // Far more than socket buffers hold.
constexpr uint64_t kBigDownload = 64 << 20;

ClientRequest Get() { return {}; }
ClientRequest Head() { return {"HEAD"}; }
ClientRequest Post(uint64_t bytes) { return {"POST", bytes}; }
ClientRequest After(ClientRequest request, absl::Duration delay) {
  request.delay_before = delay;
  return request;
}

// A whole response: `body` read to its end.
Outcome Got(int status, const std::string& body) {
  return {status, body.size(), body.substr(0, 16), false};
}
Outcome GotRepeated(int status, char byte, uint64_t count) {
  return {status, count, std::string(16, byte), false};
}
// A response head, then a body that fails after `partial`.
Outcome Cut(int status, const std::string& partial) {
  return {status, partial.size(), partial.substr(0, 16), true};
}
// No response head at all.
Outcome Failed() { return {0, 0, "", true}; }

const std::vector<Step> kAnswerNext = {AnswerEvery(Ok("next"))};

// A first connection that answers one request with `response` and then
// keeps the connection open; later ones answer "next".
std::vector<std::vector<Step>> AnswerOnce(const std::string& response) {
  return {{ReadRequest(), Write(response), Linger()}, kAnswerNext};
}
// A first connection that answers every request with `response`.
std::vector<std::vector<Step>> AnswerAll(const std::string& response) {
  return {{AnswerEvery(response)}};
}

// A scenario with two requests: the first gets `first`, the second
// "next", on the connections `log_pattern` names.
Scenario Two(std::string name, std::string hostile, std::vector<std::vector<Step>> server,
             ClientRequest first_request, Outcome first, std::string log_pattern) {
  return {std::move(name),          std::move(hostile),    std::move(server),
          {first_request, Get()},   {first, Got(200, "next")}, std::move(log_pattern),
          absl::ZeroDuration()};
}

std::string Chunked(const std::string& chunks) {
  return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
}

// 2 MiB of 1 KiB header lines, past any sane limit on a head or trailers.
std::string Filler() {
  std::string lines;
  for (int i = 0; i < 2048; ++i) {
    absl::StrAppend(&lines, "X-Filler: ", std::string(1012, 'f'), "\r\n");
  }
  return lines;
}

std::vector<Scenario> Build() {
  const std::string early = Ok("early");
  const std::string filler = Filler();
  std::vector<Scenario> all = {
      // Early responses (Go issues 7569, 7620): delivered, never reused.
      Two("early-response-seed",
          "answers a 32 MiB POST after its head, keeps the connection, discards the body later",
          {{ReadHead(), Write(early), AwaitGate("after:1"), ReadBody(), Linger()}, kAnswerNext},
          Post(kBigUpload), Got(200, "early"), "1@1 2@2"),
      Two("early-response-body-drained",
          "answers a 32 MiB POST after its head, then reads the body and serves on",
          {{ReadHead(), Write(early), AwaitGate("after:1"), ReadBody(), AnswerEvery(Ok("reused"))},
           kAnswerNext},
          Post(kBigUpload), Got(200, "early"), "1@1 2@2"),
      Two("early-413-close", "rejects a 32 MiB POST with 413 and Connection: close after its head",
          {{ReadHead(),
            Write("HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
            CloseWrite(), AwaitGate("after:1"), ReadBody(), Linger()},
           kAnswerNext},
          Post(kBigUpload), Got(413, ""), "1@1 2@2"),
      Two("early-400-then-reset", "answers a 32 MiB POST's head with 400, then resets",
          {{ReadHead(), Write("HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad"), Reset()},
           kAnswerNext},
          Post(kBigUpload), Got(400, "bad"), "1@1 2@2"),

      // Idle connections the server ends.
      {"idle-close-fin",
       "promises keep-alive, then closes the idle connection (FIN)",
       {{ReadRequest(), Write(Ok("one")), CloseWrite(), Linger()}, kAnswerNext},
       {Get(), After(Get(), absl::Milliseconds(100))},
       {Got(200, "one"), Got(200, "next")},
       "1@1 2@2",
       absl::ZeroDuration()},
      {"idle-close-rst",
       "promises keep-alive, then resets the idle connection",
       {{ReadRequest(), Write(Ok("one")), Reset()}, kAnswerNext},
       {Get(), After(Get(), absl::Milliseconds(100))},
       {Got(200, "one"), Got(200, "next")},
       "1@1 2@2",
       absl::ZeroDuration()},
      {"stale-connection-get-retried",
       "reads the next request's head on the kept-alive connection and closes without a byte",
       {{ReadRequest(), Write(Ok("one")), ReadHead()}, kAnswerNext},
       {Get(), Get()},
       {Got(200, "one"), Got(200, "next")},
       "1@1 2@1 2@2",
       absl::ZeroDuration()},
      {"stale-connection-post-not-retried",
       "reads the next request's head on the kept-alive connection and closes without a byte",
       {{ReadRequest(), Write(Ok("one")), ReadHead()}, kAnswerNext},
       {Get(), Post(100)},
       {Got(200, "one"), Failed()},
       "1@1 2@1",
       absl::ZeroDuration()},
      {"unsolicited-bytes-on-idle",
       "sends junk on the kept-alive connection while it is idle",
       {{ReadRequest(), Write(Ok("one")), Write("garbage\r\n"), Linger()}, kAnswerNext},
       {Get(), After(Get(), absl::Milliseconds(100))},
       {Got(200, "one"), Got(200, "next")},
       "1@1 2@2",
       absl::ZeroDuration()},
      {"request-timeout-on-idle",
       "sends 408 and closes the kept-alive connection while it is idle",
       {{ReadRequest(), Write(Ok("one")),
         Write("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
         CloseWrite(), Linger()},
        kAnswerNext},
       {Get(), After(Get(), absl::Milliseconds(100))},
       {Got(200, "one"), Got(200, "next")},
       "1@1 2@2",
       absl::ZeroDuration()},

      // Framing a correct client must see through.
      Two("two-responses-to-one-request", "answers one request twice",
          AnswerOnce(Ok("one") + Ok("extra")), Get(), Got(200, "one"), "1@1 2@2"),
      Two("bytes-past-content-length", "sends more body than its Content-Length",
          AnswerOnce("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfoobar"), Get(), Got(200, "foo"),
          "1@1 2@2"),
      Two("short-body-then-fin", "sends 5 of 10 body bytes, then closes",
          {{ReadRequest(), Write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"),
            CloseWrite(), Linger()},
           kAnswerNext},
          Get(), Cut(200, "12345"), "1@1 2@2"),
      Two("reset-mid-body", "sends 50 of 100 body bytes, then resets",
          {{ReadRequest(),
            Write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(50, 'b')),
            Reset()},
           kAnswerNext},
          Get(), Cut(200, std::string(50, 'b')), "1@1 2@2"),
      Two("head-with-content-length", "answers HEAD with a Content-Length and no body",
          {{ReadRequest(), Write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
            AnswerEvery(Ok("next"))}},
          Head(), Got(200, ""), "1@1 2@1"),
      Two("head-with-chunked", "answers HEAD with Transfer-Encoding: chunked and no body",
          {{ReadRequest(), Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            AnswerEvery(Ok("next"))}},
          Head(), Got(200, ""), "1@1 2@1"),
      Two("no-content-with-junk", "sends bytes after a 204",
          AnswerOnce("HTTP/1.1 204 No Content\r\n\r\njunk"), Get(), Got(204, ""), "1@1 2@2"),
      Two("not-modified-with-junk", "sends bytes after a 304",
          AnswerOnce("HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\njunk"), Get(),
          Got(304, ""), "1@1 2@2"),
      {"chunked-extensions-and-trailers",
       "answers chunked, with chunk extensions and trailers",
       AnswerAll(Chunked("5;ext=1\r\nhello\r\n6 ; x=\"y\"\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n")),
       {Get(), Get()},
       {Got(200, "hello world"), Got(200, "hello world")},
       "1@1 2@1",
       absl::ZeroDuration()},
      Two("chunked-one-byte-writes", "sends a chunked answer one byte per write",
          {{ReadRequest(), WriteInPieces(Chunked("7\r\nchunked\r\n0\r\n\r\n"), 1),
            AnswerEvery(Ok("next"))}},
          Get(), Got(200, "chunked"), "1@1 2@1"),
      Two("connection-close", "answers with Connection: close",
          AnswerOnce(Ok("one", "Connection: close\r\n")), Get(), Got(200, "one"), "1@1 2@2"),
      Two("keep-alive-close-token", "answers with Connection: keep-alive, close",
          AnswerOnce(Ok("one", "Connection: keep-alive, close\r\n")), Get(), Got(200, "one"),
          "1@1 2@2"),
      Two("http10-without-keep-alive", "answers HTTP/1.0 with a Content-Length",
          AnswerOnce("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none"), Get(), Got(200, "one"),
          "1@1 2@2"),
      {"http10-keep-alive",
       "answers HTTP/1.0 with Connection: keep-alive and a Content-Length",
       AnswerAll("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\none"),
       {Get(), Get()},
       {Got(200, "one"), Got(200, "one")},
       "1@1 2@1",
       absl::ZeroDuration()},
      Two("close-delimited-body", "sends a body without framing, ended by closing",
          {{ReadRequest(), Write("HTTP/1.1 200 OK\r\n\r\nuntil close"), CloseWrite(), Linger()},
           kAnswerNext},
          Get(), Got(200, "until close"), "1@1 2@2"),
      Two("bare-lf-head", "ends the status line and header lines with a bare LF",
          AnswerAll("HTTP/1.1 200 OK\nContent-Length: 4\n\nnext"), Get(), Got(200, "next"),
          "1@1 2@1"),
      Two("early-hints-then-ok", "sends 103 Early Hints, then the answer",
          AnswerAll("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + Ok("next")), Get(),
          Got(200, "next"), "1@1 2@1"),
      // A GET, so that the pattern holds: a POST answered while its last
      // write was still in flight counts as early, even when the write had
      // in fact gone out, and its connection is closed.
      {"continue-then-ok",
       "sends 100 Continue unasked, then the answer",
       AnswerAll("HTTP/1.1 100 Continue\r\n\r\n" + Ok("stored")),
       {Get(), Get()},
       {Got(200, "stored"), Got(200, "stored")},
       "1@1 2@1",
       absl::ZeroDuration()},
      Two("large-body-streamed", "sends a 64 MiB body",
          {{ReadRequest(),
            Write(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", kBigDownload, "\r\n\r\n")),
            WriteRepeated('z', kBigDownload), AnswerEvery(Ok("next"))}},
          Get(), GotRepeated(200, 'z', kBigDownload), "1@1 2@1"),

      // Malformed answers: an error naming the cause, the connection closed.
      Two("length-and-chunked", "sends Content-Length and Transfer-Encoding: chunked together",
          AnswerOnce("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\n\r\n"),
          Get(), Failed(), "1@1 2@2"),
      Two("conflicting-lengths", "sends two different Content-Length values",
          AnswerOnce("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"), Get(),
          Failed(), "1@1 2@2"),
      Two("length-with-plus", "sends Content-Length: +3",
          AnswerOnce("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc"), Get(), Failed(),
          "1@1 2@2"),
      Two("negative-length", "sends Content-Length: -1",
          AnswerOnce("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc"), Get(), Failed(),
          "1@1 2@2"),
      Two("length-overflow", "sends a Content-Length past 2^64",
          AnswerOnce("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nabc"), Get(),
          Failed(), "1@1 2@2"),
      Two("gzip-then-chunked", "sends Transfer-Encoding: gzip, chunked",
          AnswerOnce("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"),
          Get(), Failed(), "1@1 2@2"),
      Two("malformed-chunk-size", "sends a chunk size that is not hex",
          AnswerOnce(Chunked("zz\r\nabc\r\n0\r\n\r\n")), Get(), Cut(200, ""), "1@1 2@2"),
      Two("chunk-size-overflow", "sends a chunk size past 2^64",
          AnswerOnce(Chunked("ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n")), Get(), Cut(200, ""),
          "1@1 2@2"),
      Two("bare-lf-in-chunked", "ends a chunk-size line with a bare LF",
          AnswerOnce(Chunked("5\nhello\r\n0\r\n\r\n")), Get(), Cut(200, ""), "1@1 2@2"),
      Two("interim-flood", "sends six 102 Processing before the answer",
          AnswerOnce(absl::StrCat("HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
                                  "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
                                  "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
                                  Ok("late"))),
          Get(), Failed(), "1@1 2@2"),
      Two("switching-protocols-unasked", "answers 101 Switching Protocols to a plain GET",
          AnswerOnce("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n"), Get(),
          Failed(), "1@1 2@2"),
      Two("endless-headers", "sends 2 MiB of header lines",
          {{ReadRequest(), Write("HTTP/1.1 200 OK\r\n"), Write(filler), Linger()}, kAnswerNext},
          Get(), Failed(), "1@1 2@2"),
      Two("endless-trailers", "sends 2 MiB of chunked trailer lines",
          {{ReadRequest(), Write(Chunked("3\r\nabc\r\n0\r\n")), Write(filler), Linger()},
           kAnswerNext},
          Get(),
          Cut(200, "abc"), "1@1 2@2"),
      Two("obs-fold", "folds a header value onto a second line",
          AnswerOnce("HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\nContent-Length: 0\r\n\r\n"), Get(),
          Failed(), "1@1 2@2"),
      Two("nul-in-header", "puts a NUL byte in a header value",
          AnswerOnce(std::string("HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n", 44)),
          Get(), Failed(), "1@1 2@2"),
      Two("garbage-status-line", "answers with something that is not HTTP",
          AnswerOnce("SSH-2.0-OpenSSH_9.2\r\n"), Get(), Failed(), "1@1 2@2"),
      Two("empty-reply-fresh-connection", "closes a new connection without a byte of answer",
          {{ReadRequest()}, kAnswerNext}, Get(), Failed(), "1@1 2@2"),

      // Timeouts (wall clock).
      {"stalled-head-with-timeout",
       "reads the request and never answers; the client has a 300 ms header timeout",
       {{ReadRequest(), Linger()}, kAnswerNext},
       {Get(), Get()},
       {Failed(), Got(200, "next")},
       "1@1 2@2",
       absl::Milliseconds(300)},
      {"trickled-status-line-with-timeout",
       "sends its status line a byte per 100 ms; the client has a 300 ms header timeout",
       {{ReadRequest(), Trickle(Ok("late"), 1, absl::Milliseconds(100))}, kAnswerNext},
       {Get(), Get()},
       {Failed(), Got(200, "next")},
       "1@1 2@2",
       absl::Milliseconds(300)},
      {"trickled-body-within-timeout",
       "sends its head at once, then its body a byte per 100 ms; the header timeout is 300 ms",
       {{ReadRequest(), Write("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n"),
         Trickle("trickled", 1, absl::Milliseconds(100)), AnswerEvery(Ok("next"))}},
       {Get(), Get()},
       {Got(200, "trickled"), Got(200, "next")},
       "1@1 2@1",
       absl::Milliseconds(300)},
  };
  return all;
}

}  // namespace

const std::vector<Scenario>& AllScenarios() {
  static const auto* scenarios = new std::vector<Scenario>(Build());
  return *scenarios;
}

}  // namespace h1::testserver
