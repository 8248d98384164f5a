// How a message body is delimited (RFC 9112 6.3), decided from its head.
// No sockets, no threads.
#ifndef H1_TRANSPORT_WIRE_BODY_FRAMING_H_
#define H1_TRANSPORT_WIRE_BODY_FRAMING_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/wire/headers.h"
#include "transport/wire/message_head.h"

namespace h1::wire {

struct BodyFraming {
  enum class Kind { kNone, kContentLength, kChunked, kUntilClose };
  Kind kind = Kind::kNone;
  uint64_t length = 0;  // For kContentLength.

  bool operator==(const BodyFraming& o) const { return kind == o.kind && length == o.length; }
};

// The Content-Length the headers declare, if any. Repeated fields and comma
// lists must all carry the same non-negative decimal value; anything else is
// an error naming the conflict.
absl::StatusOr<std::optional<uint64_t>> ParseContentLength(const Headers& headers);

// OK if Transfer-Encoding and Content-Length are valid, alone and together,
// by the rules below; for heads that have no body, such as 1xx.
absl::Status CheckFramingHeaders(const Headers& headers);

// The framing of a response to a request with `request_method`. HEAD
// responses and 1xx/204/304 have no body; Content-Length together with
// Transfer-Encoding is rejected (request smuggling), as is any
// Transfer-Encoding other than one field saying exactly "chunked".
absl::StatusOr<BodyFraming> ResponseBodyFraming(const ResponseHead& head,
                                                absl::string_view request_method);

// The framing of a request body: chunked, Content-Length, or none.
absl::StatusOr<BodyFraming> RequestBodyFraming(const RequestHead& head);

// Whether the connection may carry another exchange after this response:
// HTTP/1.1 without "Connection: close", or HTTP/1.0 with "Connection:
// keep-alive" and no Transfer-Encoding; and a body that does not run until
// the connection closes.
bool ResponseAllowsReuse(const ResponseHead& head, const BodyFraming& framing);

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_BODY_FRAMING_H_
