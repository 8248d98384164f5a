// See llhttp_reference.h.
#include "fuzz/response_differential/llhttp_reference.h"

#include <string>

#include "fuzz/response_differential/reference_collector.h"
#include "llhttp.h"

namespace h1::fuzz {
namespace {

const llhttp_settings_t& Settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    InstallCollectorCallbacks<llhttp_t, llhttp_settings_t, llhttp_should_keep_alive>(s);
    s.on_header_value_complete = [](llhttp_t* p) {
      static_cast<ReferenceCollector*>(p->data)->EndField();
      return 0;
    };
    s.on_message_complete = [](llhttp_t* p) {
      auto& collector = *static_cast<ReferenceCollector*>(p->data);
      return collector.OnMessageComplete(llhttp_should_keep_alive(p) != 0)
                 ? static_cast<int>(HPE_PAUSED)
                 : 0;
    };
    return s;
  }();
  return settings;
}

// Fails the collector if `error` stopped the parser; true if it stopped.
bool Stopped(llhttp_t& parser, llhttp_errno_t error, size_t offset, ReferenceCollector& collector) {
  if (error == HPE_OK) return false;
  if (error == HPE_PAUSED) return true;
  const bool in_trailers = (parser.flags & F_TRAILING) != 0;
  if (error == HPE_PAUSED_UPGRADE) {
    collector.Fail("UPGRADE", "", offset, parser.status_code, in_trailers);
  } else {
    const char* reason = llhttp_get_error_reason(&parser);
    collector.Fail(llhttp_errno_name(error), reason == nullptr ? "" : reason, offset,
                   parser.status_code, in_trailers);
  }
  return true;
}

}  // namespace

StreamOutcome RunLlhttp(const Exchange& exchange) {
  ReferenceCollector collector(exchange);
  llhttp_t parser;
  llhttp_init(&parser, HTTP_RESPONSE, &Settings());
  parser.data = &collector;
  for (const auto& [begin, end] : ReadBounds(exchange)) {
    const char* data = exchange.bytes.data() + begin;
    const llhttp_errno_t error = llhttp_execute(&parser, data, end - begin);
    const char* at = llhttp_get_error_pos(&parser);
    const size_t offset = at == nullptr ? end : begin + static_cast<size_t>(at - data);
    if (Stopped(parser, error, offset, collector)) return collector.TakeOutcome();
  }
  if (!Stopped(parser, llhttp_finish(&parser), exchange.bytes.size(), collector)) {
    collector.EndOfStream();
  }
  return collector.TakeOutcome();
}

}  // namespace h1::fuzz
