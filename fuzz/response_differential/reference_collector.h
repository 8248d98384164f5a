// ReferenceCollector: turns the callbacks of a reference parser (http-parser,
// llhttp) into a StreamOutcome, playing the part of the client that embeds
// it: it tells the parser which responses have no body (RFC 9112 6.3: to
// HEAD, 1xx, 204, 304), sets interim 1xx heads apart from final responses,
// and asks to stop after the last response wanted or one that ends the
// connection. Thread-compatible.
#ifndef H1_FUZZ_RESPONSE_DIFFERENTIAL_REFERENCE_COLLECTOR_H_
#define H1_FUZZ_RESPONSE_DIFFERENTIAL_REFERENCE_COLLECTOR_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "fuzz/response_differential/outcome.h"

namespace h1::fuzz {

class ReferenceCollector {
 public:
  explicit ReferenceCollector(const Exchange& exchange) : exchange_(exchange) {}

  void OnMessageBegin();
  void OnStatus(absl::string_view piece) { current_.reason.append(piece.data(), piece.size()); }
  // Pieces of a field line, in order; a field ends at the next name piece,
  // at EndField, or with its section.
  void OnHeaderField(absl::string_view piece);
  void OnHeaderValue(absl::string_view piece);
  void EndField();
  // Returns true if the response has no body.
  bool OnHeadersComplete(int major, int minor, int status, bool keep_alive);
  void OnBody(absl::string_view piece) { current_.body.append(piece.data(), piece.size()); }
  // Returns true if the parser should stop here.
  bool OnMessageComplete(bool keep_alive);

  // The parser failed with `error` (and `reason`) at `offset`; `status` is
  // the status code it had read and `in_trailers` whether it was reading a
  // chunked body's trailer section.
  void Fail(std::string error, std::string reason, size_t offset, int status, bool in_trailers);
  // The parser reached the end of the stream without an error.
  void EndOfStream();

  StreamOutcome TakeOutcome() { return std::move(outcome_); }

 private:
  const Exchange& exchange_;
  StreamOutcome outcome_;
  ParsedResponse current_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool headers_done_ = false;
  bool in_message_ = false;
  int interim_count_ = 0;
  bool closing_interim_ = false;
};

// Points the callbacks that http-parser's and llhttp's settings share (same
// names and shapes, other types) at the ReferenceCollector in `parser->data`;
// `KeepAlive` is the parser's own keep-alive verdict. Message completion is
// left to the caller: the two parsers stop in different ways.
template <typename Parser, typename Settings, int (*KeepAlive)(const Parser*)>
void InstallCollectorCallbacks(Settings& settings) {
  static auto collector = [](Parser* p) -> ReferenceCollector& {
    return *static_cast<ReferenceCollector*>(p->data);
  };
  settings.on_message_begin = [](Parser* p) {
    collector(p).OnMessageBegin();
    return 0;
  };
  settings.on_status = [](Parser* p, const char* at, size_t length) {
    collector(p).OnStatus(absl::string_view(at, length));
    return 0;
  };
  settings.on_header_field = [](Parser* p, const char* at, size_t length) {
    collector(p).OnHeaderField(absl::string_view(at, length));
    return 0;
  };
  settings.on_header_value = [](Parser* p, const char* at, size_t length) {
    collector(p).OnHeaderValue(absl::string_view(at, length));
    return 0;
  };
  settings.on_headers_complete = [](Parser* p) {
    const bool no_body = collector(p).OnHeadersComplete(p->http_major, p->http_minor,
                                                        p->status_code, KeepAlive(p) != 0);
    return no_body ? 1 : 0;
  };
  settings.on_body = [](Parser* p, const char* at, size_t length) {
    collector(p).OnBody(absl::string_view(at, length));
    return 0;
  };
}

}  // namespace h1::fuzz

#endif  // H1_FUZZ_RESPONSE_DIFFERENTIAL_REFERENCE_COLLECTOR_H_
