// Fuzzes the request side through the real h1::Transport: a fuzzed Request
// (method, target, header fields, a body sent with Content-Length or
// chunked) goes to RoundTrip over a FakeConn that records every byte. The
// transport either rejects it before a byte is written (and before any
// dial), with a message, or the bytes it wrote parse back, with the wire
// parser the test server uses, to exactly the request meant: method,
// target, Host, the caller's fields in order, the derived framing field,
// the body, and nothing after it. Bytes that parse as a second request
// would be request smuggling by injection.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "transport/testing/fake_conn.h"
#include "transport/thread_registry.h"
#include "transport/transport.h"
#include "transport/url.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/byte_source.h"
#include "transport/wire/headers.h"
#include "transport/wire/message_head.h"

namespace h1::fuzz {
namespace {

constexpr absl::string_view kNoContent = "HTTP/1.1 204 No Content\r\n\r\n";

struct Spec {
  Request request;
  std::string body;  // What the body source yields.
};

Spec Decode(const uint8_t* data, size_t size) {
  static const char* const kMethods[] = {"GET", "POST", "PUT", "HEAD", "DELETE", "PATCH"};
  FuzzedDataProvider in(data, size);
  Spec spec;
  Request& request = spec.request;
  request.method = in.ConsumeBool()
                       ? in.ConsumeRandomLengthString(12)
                       : kMethods[in.ConsumeIntegralInRange<size_t>(0, std::size(kMethods) - 1)];
  request.url = "http://fuzz.test" + in.ConsumeRandomLengthString(48);
  const int fields = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < fields; ++i) {
    std::string name = in.ConsumeRandomLengthString(16);
    request.headers.Add(std::move(name), in.ConsumeRandomLengthString(32));
  }
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0:
      break;
    case 1:
      spec.body = in.ConsumeRandomLengthString(512);
      request.content_length = spec.body.size();
      request.body = StringBody(spec.body);
      break;
    default:
      spec.body = in.ConsumeRandomLengthString(512);
      request.body = StringBody(spec.body);
      break;
  }
  return spec;
}

[[noreturn]] void Fail(const std::string& what, const std::string& written) {
  std::fprintf(stderr, "request_roundtrip_fuzzer: %s\nwritten: \"%s\"\n", what.c_str(),
               absl::CHexEscape(written).c_str());
  std::abort();
}

// The head the transport must have written for `request` to `url`.
wire::Headers ExpectedFields(const Request& request, const HttpUrl& url) {
  wire::Headers fields;
  fields.Add("Host", url.HostHeader());
  // Values go without the whitespace around them, which a receiver drops.
  for (const auto& [name, value] : request.headers.fields()) {
    fields.Add(name, std::string(wire::TrimFieldValue(value)));
  }
  if (request.body != nullptr) {
    if (request.content_length.has_value()) {
      fields.Add("Content-Length", absl::StrCat(*request.content_length));
    } else {
      fields.Add("Transfer-Encoding", "chunked");
    }
  } else if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    fields.Add("Content-Length", "0");
  }
  return fields;
}

void CheckParsesBack(const Spec& spec, const std::string& written) {
  const Request& request = spec.request;
  absl::StatusOr<HttpUrl> url = ParseHttpUrl(request.url);
  if (!url.ok()) Fail("a request with an invalid URL was written", written);
  wire::ScriptedByteSource source(written);
  wire::BufferedReader in(&source);
  absl::StatusOr<wire::RequestHead> head = wire::ReadRequestHead(in);
  if (!head.ok()) Fail("the written head does not parse: " + head.status().ToString(), written);
  if (head->method != request.method) Fail("method changed", written);
  if (head->target != url->target) Fail("target changed", written);
  if (!(head->headers == ExpectedFields(request, *url))) Fail("header fields changed", written);
  absl::StatusOr<wire::BodyFraming> framing = wire::RequestBodyFraming(*head);
  if (!framing.ok()) Fail("the written framing is invalid", written);
  wire::BodyReader body(&in, *framing);
  absl::StatusOr<std::string> got = wire::ReadToEnd(body);
  if (!got.ok()) Fail("the written body does not parse: " + got.status().ToString(), written);
  if (*got != spec.body) Fail("body changed", written);
  if (in.consumed() != written.size()) Fail("bytes after the request", written);
}

}  // namespace
}  // namespace h1::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using h1::testing::FakeConn;
  h1::fuzz::Spec spec = h1::fuzz::Decode(data, size);
  const h1::fuzz::Spec sent{{spec.request.method, spec.request.url, spec.request.headers,
                             spec.request.body == nullptr ? nullptr : h1::StringBody(spec.body),
                             spec.request.content_length},
                            spec.body};
  FakeConn* conn = nullptr;
  int dials = 0;
  // Kept apart from the FakeConn, which goes with its connection (at once,
  // for a request that asks to close).
  std::string written;
  {
    h1::TransportOptions options;
    options.dial = [&](const std::string&, uint16_t,
                       const h1::DialContext&) -> absl::StatusOr<std::unique_ptr<h1::NetConn>> {
      ++dials;
      auto fake = std::make_unique<FakeConn>(
          [&written](FakeConn&, absl::string_view bytes, int) { written.append(bytes); });
      conn = fake.get();
      return fake;
    };
    // Answers once the request is written, so that RoundTrip returns.
    options.test_hook = [&](h1::HookPoint point, uint64_t, uint64_t) {
      if (point == h1::HookPoint::kWriterReported) conn->Deliver(h1::fuzz::kNoContent);
    };
    h1::Transport transport(options);
    absl::StatusOr<h1::Response> response = transport.RoundTrip(std::move(spec.request));
    if (!response.ok()) {
      if (response.status().message().empty()) h1::fuzz::Fail("an error without a message", "");
      if (dials > 0) {
        h1::fuzz::Fail("rejected after dialing: " + response.status().ToString(), written);
      }
    } else {
      h1::fuzz::CheckParsesBack(sent, written);
    }
  }
  if (!h1::ThreadRegistry::Global().WaitForAtMost(0, absl::Seconds(20))) {
    h1::fuzz::Fail("connection threads outlived the Transport", "");
  }
  return 0;
}
