// ByteSource: where the wire format reads bytes from. A socket in the
// transport, a string or a scripted split in tests and fuzz targets.
#ifndef H1_TRANSPORT_WIRE_BYTE_SOURCE_H_
#define H1_TRANSPORT_WIRE_BYTE_SOURCE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace h1::wire {

// Thread-compatible interface.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; blocks until at least one byte is
  // available. Returns 0 at end of stream.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// Serves fixed bytes in pieces of given sizes (then the rest in one piece),
// so tests and fuzz targets can split input at any byte. Thread-compatible.
class ScriptedByteSource final : public ByteSource {
 public:
  explicit ScriptedByteSource(std::string bytes, std::vector<size_t> piece_sizes = {})
      : bytes_(std::move(bytes)), piece_sizes_(std::move(piece_sizes)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  std::string bytes_;
  std::vector<size_t> piece_sizes_;
  size_t next_piece_ = 0;
  size_t offset_ = 0;
};

// Serves a view of bytes someone else owns, then reports end of stream:
// decoding from it never waits. Thread-compatible.
class ViewByteSource final : public ByteSource {
 public:
  explicit ViewByteSource(absl::string_view bytes) : left_(bytes) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  absl::string_view left_;
};

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_BYTE_SOURCE_H_
