// See our_parser.h.
#include "fuzz/response_differential/our_parser.h"

#include <string>

#include "absl/status/status.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/byte_source.h"
#include "transport/wire/message_head.h"

namespace h1::fuzz {
namespace {

Rejection RejectionOf(const absl::Status& status) {
  Rejection rejection;
  rejection.error = std::string(status.message());
  return rejection;
}

}  // namespace

StreamOutcome RunOurParser(const Exchange& exchange) {
  wire::ScriptedByteSource source(exchange.bytes, exchange.pieces);
  wire::BufferedReader in(&source, 64);  // Small: lines cross refills.
  StreamOutcome outcome;
  for (int i = 0; i < exchange.responses; ++i) {
    absl::StatusOr<wire::ResponseHead> head = wire::ReadFinalResponseHead(in);
    if (!head.ok()) {
      if (!absl::IsUnavailable(head.status())) outcome.rejection = RejectionOf(head.status());
      break;
    }
    absl::StatusOr<wire::BodyFraming> framing = wire::ResponseBodyFraming(*head, exchange.method);
    if (!framing.ok()) {
      outcome.rejection = RejectionOf(framing.status());
      break;
    }
    wire::BodyReader reader(&in, *framing);
    absl::StatusOr<std::string> body = wire::ReadToEnd(reader);
    if (!body.ok()) {
      outcome.rejection = RejectionOf(body.status());
      break;
    }
    ParsedResponse response;
    response.version_minor = head->version_minor;
    response.status = head->status;
    response.reason = head->reason;
    response.headers = head->headers.fields();
    response.body = *std::move(body);
    response.trailers = reader.trailers().fields();
    response.keep_alive = wire::ResponseAllowsReuse(*head, *framing);
    outcome.responses.push_back(std::move(response));
    if (!outcome.responses.back().keep_alive) break;
  }
  return outcome;
}

}  // namespace h1::fuzz
