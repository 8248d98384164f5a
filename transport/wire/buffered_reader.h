// BufferedReader: line and byte reads over a ByteSource, with the buffering
// that lets one response's head, body and the peek for the next share a
// stream. Thread-compatible: the connection hands it between its reader
// thread and the caller's thread through channels, never using it at once.
#ifndef H1_TRANSPORT_WIRE_BUFFERED_READER_H_
#define H1_TRANSPORT_WIRE_BUFFERED_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/wire/byte_source.h"

namespace h1::wire {

class BufferedReader {
 public:
  explicit BufferedReader(ByteSource* source, size_t buffer_size = 64 * 1024);
  BufferedReader(const BufferedReader&) = delete;
  BufferedReader& operator=(const BufferedReader&) = delete;

  // How a line may end. HTTP allows a bare LF after the start line and
  // header fields (RFC 9112 2.2), never in chunked framing (7.1).
  enum class LineEnding { kCrlfOrLf, kCrlf };

  // Reads one line ending in LF and returns it without CRLF (or LF). Fails if
  // the line, with its ending, is longer than `max_length` bytes; with
  // absl::InvalidArgumentError if `ending` is kCrlf and the LF has no CR
  // before it; and with absl::OutOfRangeError at end of stream (`*partial`
  // tells whether any byte of the line had been read).
  absl::StatusOr<std::string> ReadLine(size_t max_length, LineEnding ending,
                                       bool* partial = nullptr);

  // Reads up to `n` bytes: buffered ones first, else one read of the source.
  // Returns 0 at end of stream.
  absl::StatusOr<size_t> Read(char* out, size_t n);

  // Blocks until a byte is buffered. Returns false at end of stream.
  absl::StatusOr<bool> Peek();

  size_t buffered() const { return end_ - begin_; }
  // The buffered bytes, valid until the next call that reads or skips.
  absl::string_view buffered_bytes() const {
    return absl::string_view(buffer_.get() + begin_, end_ - begin_);
  }
  // Drops `n` buffered bytes (at most buffered()) as if they had been read.
  void Skip(size_t n);
  // Bytes handed out so far by ReadLine and Read, line endings included.
  uint64_t consumed() const { return consumed_; }
  // Bytes read from the source so far: consumed() and buffered().
  uint64_t received() const { return consumed_ + buffered(); }
  // True once the source has reported end of stream.
  bool saw_eof() const { return saw_eof_; }

 private:
  // Reads once from the source into the buffer. Returns false at end of stream.
  absl::StatusOr<bool> Fill();

  ByteSource* source_;
  const std::unique_ptr<char[]> buffer_;
  const size_t capacity_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool saw_eof_ = false;
  uint64_t consumed_ = 0;
};

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_BUFFERED_READER_H_
