// See outcome.h.
#include "fuzz/response_differential/outcome.h"

#include <algorithm>

namespace h1::fuzz {

std::vector<std::pair<size_t, size_t>> ReadBounds(const Exchange& exchange) {
  std::vector<std::pair<size_t, size_t>> bounds;
  const size_t size = exchange.bytes.size();
  size_t begin = 0;
  for (size_t piece : exchange.pieces) {
    if (begin == size) break;
    const size_t end = std::min(size, begin + std::max<size_t>(piece, 1));
    bounds.emplace_back(begin, end);
    begin = end;
  }
  if (begin < size) bounds.emplace_back(begin, size);
  return bounds;
}

}  // namespace h1::fuzz
