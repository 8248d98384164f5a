// BodyReader: decodes one message body (Content-Length, chunked or
// until-close) from a BufferedReader, stopping exactly at its end so the
// stream can carry the next message. No sockets, no threads.
// Thread-compatible.
#ifndef H1_TRANSPORT_WIRE_BODY_READER_H_
#define H1_TRANSPORT_WIRE_BODY_READER_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/headers.h"

namespace h1::wire {

class BodyReader {
 public:
  BodyReader(BufferedReader* in, BodyFraming framing,
             size_t max_trailer_bytes = kDefaultMaxHeaderBytes);

  // Reads up to `n` body bytes. Returns 0 once the body is complete. An
  // error (for instance "unexpected EOF: 5 of 10 body bytes") is sticky.
  absl::StatusOr<size_t> Read(char* out, size_t n);

  // Ends the body without blocking if all of its rest is already buffered
  // and holds at most `max_data` body bytes: consumes that rest, dropping its
  // data, and returns true (done() is then true). Otherwise consumes nothing
  // and returns false. With `max_data` 0 it tells, after a Read, whether the
  // body's end has arrived with its last bytes; with no limit it skips what
  // a caller no longer wants without cutting the stream.
  bool SkipRestIfBuffered(uint64_t max_data);

  bool done() const { return state_ == State::kDone; }
  uint64_t bytes_read() const { return bytes_read_; }
  // Trailer fields of a chunked body, once done().
  const Headers& trailers() const { return trailers_; }

 private:
  enum class State { kChunkSize, kData, kChunkEnd, kTrailers, kDone, kFailed };

  absl::StatusOr<size_t> ReadChunked(char* out, size_t n);
  absl::Status Fail(absl::Status status);

  BufferedReader* in_;
  BodyFraming framing_;
  size_t max_trailer_bytes_;
  State state_;
  uint64_t remaining_ = 0;  // In the current chunk, or of the Content-Length.
  uint64_t bytes_read_ = 0;
  Headers trailers_;
  absl::Status error_;
};

// Reads from `reader` until its Read returns 0, into a string; past
// `max_bytes` it stops and fails with RESOURCE_EXHAUSTED. Serves any reader
// with `absl::StatusOr<size_t> Read(char*, size_t)`: BodyReader,
// h1::ResponseBody, a ByteSource.
template <typename Reader>
absl::StatusOr<std::string> ReadToEnd(Reader& reader,
                                       size_t max_bytes = std::numeric_limits<size_t>::max()) {
  std::string all;
  char buf[16 * 1024];
  for (;;) {
    absl::StatusOr<size_t> n = reader.Read(buf, sizeof(buf));
    if (!n.ok()) return n.status();
    if (*n == 0) return all;
    if (*n > max_bytes - all.size()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("body longer than the limit of ", max_bytes, " bytes"));
    }
    all.append(buf, *n);
  }
}

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_BODY_READER_H_
