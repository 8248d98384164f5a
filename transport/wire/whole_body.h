// TakeWholeBody: a message body that has already arrived in full, taken from
// the read buffer without reading the source again, so that a connection can
// finish a small response in one step. No sockets, no threads.
#ifndef H1_TRANSPORT_WIRE_WHOLE_BODY_H_
#define H1_TRANSPORT_WIRE_WHOLE_BODY_H_

#include <cstddef>
#include <optional>
#include <string>

#include "transport/wire/body_framing.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/headers.h"

namespace h1::wire {

struct WholeBody {
  std::string bytes;
  Headers trailers;  // Of a chunked body.
};

// If `in` already buffers the whole body that `framing` delimits (a
// Content-Length or chunked body; an empty one when there is no body),
// consumes exactly that body and returns it. Otherwise returns nullopt and
// consumes nothing: when more input is needed, when the framing is
// until-close (its end is the stream's), and when the buffered body is
// malformed (reading it the normal way reports the error).
std::optional<WholeBody> TakeWholeBody(BufferedReader& in, const BodyFraming& framing,
                                       size_t max_trailer_bytes);

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_WHOLE_BODY_H_
