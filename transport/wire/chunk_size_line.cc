// See chunk_size_line.h.
#include "transport/wire/chunk_size_line.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/escaping.h"

namespace h1::wire {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status Malformed(absl::string_view line, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed chunk-size line \"",
                                                 absl::CHexEscape(line.substr(0, 64)),
                                                 "\": ", why));
}

}  // namespace

absl::StatusOr<uint64_t> ParseChunkSizeLine(absl::string_view line) {
  size_t i = 0;
  uint64_t size = 0;
  while (i < line.size() && HexValue(line[i]) >= 0) {
    size = size * 16 + HexValue(line[i]);
    if (size > kMaxChunkSize) return Malformed(line, "chunk size too large");
    ++i;
  }
  if (i == 0) return Malformed(line, "no hex digits");
  absl::string_view rest = line.substr(i);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  if (!rest.empty() && rest.front() != ';') {
    return Malformed(line, "unexpected byte after chunk size");
  }
  for (char c : rest) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return Malformed(line, "CR, LF or NUL in chunk extension");
    }
  }
  return size;
}

}  // namespace h1::wire
