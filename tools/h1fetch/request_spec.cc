// See request_spec.h.
#include "tools/h1fetch/request_spec.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace h1::fetch {
namespace {

std::string JsonString(absl::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += absl::StrFormat("\\u%04x", c);  // Latin-1: byte value = code point.
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<RequestSpec> ParseRequestSpec(absl::string_view arg) {
  std::vector<absl::string_view> words = absl::StrSplit(arg, ' ', absl::SkipEmpty());
  if (words.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("request \"", arg, "\": expected \"METHOD URL [body=BYTES] [sleep_before_ms=N]\""));
  }
  RequestSpec spec{std::string(words[0]), std::string(words[1])};
  for (size_t i = 2; i < words.size(); ++i) {
    uint64_t value = 0;
    absl::string_view number = words[i];
    if (absl::ConsumePrefix(&number, "body=") && absl::SimpleAtoi(number, &value)) {
      spec.body_bytes = value;
    } else if (absl::ConsumePrefix(&(number = words[i]), "sleep_before_ms=") &&
               absl::SimpleAtoi(number, &value)) {
      spec.sleep_before = absl::Milliseconds(value);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("request \"", arg, "\": unknown or malformed word \"", words[i], "\""));
    }
  }
  return spec;
}

std::string ToJsonLine(const Outcome& o) {
  return absl::StrCat(
      "{\"i\":", o.index, ",\"method\":", JsonString(o.method),
      ",\"status\":", o.status ? absl::StrCat(*o.status) : "null", ",\"body_bytes\":", o.body_bytes,
      ",\"body\":", JsonString(o.body_prefix),
      ",\"error\":", o.error ? JsonString(*o.error) : "null",
      ",\"conn\":", o.conn ? absl::StrCat(*o.conn) : "null",
      ",\"reused\":", o.reused ? "true" : "false", "}");
}

}  // namespace h1::fetch
