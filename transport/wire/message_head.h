// Reading the head (start line and header fields) of HTTP/1.1 responses and
// requests from a BufferedReader. No sockets, no threads.
#ifndef H1_TRANSPORT_WIRE_MESSAGE_HEAD_H_
#define H1_TRANSPORT_WIRE_MESSAGE_HEAD_H_

#include <cstddef>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/headers.h"

namespace h1::wire {

inline constexpr size_t kDefaultMaxHeaderBytes = 1 << 20;

struct ResponseHead {
  int version_minor = 1;  // HTTP/1.<version_minor>
  int status = 0;
  std::string reason;
  Headers headers;
};

struct RequestHead {
  std::string method;
  std::string target;
  int version_minor = 1;
  Headers headers;
};

// Reads one response head. Errors name the cause:
//  - absl::UnavailableError if the stream ended before its first byte (the
//    peer closed without answering);
//  - absl::ResourceExhaustedError if the head exceeds `max_header_bytes`;
//  - absl::InvalidArgumentError for malformed input or an early end of stream.
absl::StatusOr<ResponseHead> ReadResponseHead(BufferedReader& in,
                                              size_t max_header_bytes = kDefaultMaxHeaderBytes);

// Interim 1xx responses skipped before a final one, as Go allows; one more
// is an error, so a server cannot hold a request forever with them.
inline constexpr int kMaxInterimResponses = 5;

// As ReadResponseHead, but skips up to kMaxInterimResponses 1xx interim
// responses and fails on 101 (protocol switches are not supported).
// `max_header_bytes` bounds all the heads together. `on_interim` sees each
// interim head once it is read and checked, before the next head is read
// (a client that sent "Expect: 100-continue" acts on the 100).
absl::StatusOr<ResponseHead> ReadFinalResponseHead(
    BufferedReader& in, size_t max_header_bytes = kDefaultMaxHeaderBytes,
    absl::FunctionRef<void(const ResponseHead& interim)> on_interim = [](const ResponseHead&) {});

// Reads one request head, with the same error conventions.
absl::StatusOr<RequestHead> ReadRequestHead(BufferedReader& in,
                                            size_t max_header_bytes = kDefaultMaxHeaderBytes);

// Reads header fields up to and including the empty line; used for heads and
// chunked trailers. `budget` is the number of bytes still allowed. Lines of
// a head may end in a bare LF (RFC 9112 2.2); a chunked body's trailer
// section is part of its framing, where only CRLF is accepted.
absl::StatusOr<Headers> ReadHeaderFields(BufferedReader& in, size_t& budget,
                                         BufferedReader::LineEnding ending);

// True for the bytes of an RFC 9110 token (method, header name).
bool IsTokenChar(char c);

// True if `s` may be a field value: VCHAR, obs-text, SP and HTAB (RFC 9110
// 5.5); every other control byte is refused, as Go's textproto does.
bool IsFieldValue(absl::string_view s);

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_MESSAGE_HEAD_H_
