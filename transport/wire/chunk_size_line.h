// Parsing of one chunk-size line of a chunked HTTP/1.1 body (RFC 9112 7.1):
//   chunk-size [ ; chunk-ext ] CRLF   with chunk-size = 1*HEXDIG.
// Pure function over bytes: no sockets, no threads.
#ifndef H1_TRANSPORT_WIRE_CHUNK_SIZE_LINE_H_
#define H1_TRANSPORT_WIRE_CHUNK_SIZE_LINE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace h1::wire {

// Largest chunk size accepted; anything larger is an error rather than a
// silent overflow.
inline constexpr uint64_t kMaxChunkSize = uint64_t{1} << 40;

// Parses `line` (without its CRLF) and returns the chunk size. Extensions
// after ';' are checked for forbidden bytes (CR, LF, NUL) and ignored.
// Whitespace before ';' is tolerated, as most servers and clients do.
absl::StatusOr<uint64_t> ParseChunkSizeLine(absl::string_view line);

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_CHUNK_SIZE_LINE_H_
