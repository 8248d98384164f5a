// See byte_source.h.
#include "transport/wire/byte_source.h"

#include <algorithm>
#include <cstring>

namespace h1::wire {

absl::StatusOr<size_t> ScriptedByteSource::Read(char* buf, size_t n) {
  size_t piece = bytes_.size() - offset_;
  if (next_piece_ < piece_sizes_.size()) {
    piece = std::min(piece, std::max<size_t>(piece_sizes_[next_piece_++], 1));
  }
  const size_t count = std::min(piece, n);
  std::memcpy(buf, bytes_.data() + offset_, count);
  offset_ += count;
  return count;
}

absl::StatusOr<size_t> ViewByteSource::Read(char* buf, size_t n) {
  const size_t count = std::min(n, left_.size());
  std::memcpy(buf, left_.data(), count);
  left_.remove_prefix(count);
  return count;
}

}  // namespace h1::wire
