// Writing request heads and chunked bodies, and the checks that keep a
// request that could split or smuggle messages from being written at all.
// No sockets, no threads.
#ifndef H1_TRANSPORT_WIRE_REQUEST_HEAD_H_
#define H1_TRANSPORT_WIRE_REQUEST_HEAD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "transport/wire/message_head.h"

namespace h1::wire {

// OK if the method and header names are tokens, the target has no space or
// control byte, and header values no control byte but tab (as Go checks);
// otherwise an error naming the offending part.
absl::Status ValidateRequestHead(const RequestHead& head);

// The head's bytes, ending in the blank line. Field values go without the
// whitespace around them, which a receiver drops (as Go's Header.Write
// does). Call ValidateRequestHead first.
std::string SerializeRequestHead(const RequestHead& head);

// A chunk of a chunked body is ChunkSizeLine(data.size()), the data, then
// kChunkEnd; `size` must not be 0 (an empty chunk ends the body: see
// kLastChunk). Kept apart so the data can be written without a copy.
std::string ChunkSizeLine(size_t size);
inline constexpr absl::string_view kChunkEnd = "\r\n";
inline constexpr absl::string_view kLastChunk = "0\r\n\r\n";

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_REQUEST_HEAD_H_
