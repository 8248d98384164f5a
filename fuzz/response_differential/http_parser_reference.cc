// See http_parser_reference.h.
#include "fuzz/response_differential/http_parser_reference.h"

#include <string>

#include "fuzz/response_differential/reference_collector.h"
#include "http_parser.h"
#include "transport/wire/message_head.h"

namespace h1::fuzz {
namespace {

const http_parser_settings& Settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    InstallCollectorCallbacks<http_parser, http_parser_settings, http_should_keep_alive>(s);
    s.on_message_complete = [](http_parser* p) {
      auto& collector = *static_cast<ReferenceCollector*>(p->data);
      if (collector.OnMessageComplete(http_should_keep_alive(p) != 0)) http_parser_pause(p, 1);
      return 0;
    };
    return s;
  }();
  return settings;
}

// Fails the collector if the parser stopped on an error; true if it stopped.
bool Stopped(http_parser& parser, size_t offset, ReferenceCollector& collector) {
  const http_errno error = HTTP_PARSER_ERRNO(&parser);
  if (error == HPE_PAUSED) return true;
  const bool in_trailers = (parser.flags & F_TRAILING) != 0;
  if (error != HPE_OK) {
    collector.Fail(http_errno_name(error), "", offset, parser.status_code, in_trailers);
    return true;
  }
  if (parser.upgrade) {
    collector.Fail("UPGRADE", "", offset, parser.status_code, in_trailers);
    return true;
  }
  return false;
}

}  // namespace

StreamOutcome RunHttpParser(const Exchange& exchange) {
  // Its default limit is 80 KiB per head; ours is 1 MiB for all heads of a
  // response. Fuzz inputs stay far below both.
  static const bool limit_set = [] {
    http_parser_set_max_header_size(wire::kDefaultMaxHeaderBytes);
    return true;
  }();
  (void)limit_set;
  ReferenceCollector collector(exchange);
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &collector;
  for (const auto& [begin, end] : ReadBounds(exchange)) {
    const size_t parsed =
        http_parser_execute(&parser, &Settings(), exchange.bytes.data() + begin, end - begin);
    if (Stopped(parser, begin + parsed, collector)) return collector.TakeOutcome();
  }
  http_parser_execute(&parser, &Settings(), nullptr, 0);  // End of stream.
  if (!Stopped(parser, exchange.bytes.size(), collector)) collector.EndOfStream();
  return collector.TakeOutcome();
}

}  // namespace h1::fuzz
