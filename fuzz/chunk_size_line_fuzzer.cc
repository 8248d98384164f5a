// Fuzzes ParseChunkSizeLine: it must never crash, and an accepted line must
// start with a hex digit and yield a size within kMaxChunkSize.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "transport/wire/chunk_size_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view line(reinterpret_cast<const char*>(data), size);
  const auto parsed = h1::wire::ParseChunkSizeLine(line);
  if (parsed.ok()) {
    if (*parsed > h1::wire::kMaxChunkSize) std::abort();
    if (line.empty()) std::abort();
  } else if (parsed.status().message().empty()) {
    std::abort();
  }
  return 0;
}
