// See request_head.h.
#include "transport/wire/request_head.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace h1::wire {
namespace {

// Control bytes (RFC 5234 CTL): never sent in a request-target.
bool IsControl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

absl::Status Invalid(absl::string_view what, absl::string_view why, absl::string_view value) {
  return absl::InvalidArgumentError(absl::StrCat("invalid request: ", what, " ", why, ": \"",
                                                 absl::CHexEscape(value.substr(0, 80)), "\""));
}

absl::Status CheckToken(absl::string_view what, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("invalid request: empty ", what));
  for (char c : value) {
    if (!IsTokenChar(c)) return Invalid(what, "is not a token", value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequestHead(const RequestHead& head) {
  if (absl::Status s = CheckToken("method", head.method); !s.ok()) return s;
  for (char c : head.target) {
    if (c == ' ') return Invalid("path", "contains a space", head.target);
    if (IsControl(c)) {
      return Invalid("path", "contains a control byte", head.target);
    }
  }
  for (const auto& [name, value] : head.headers.fields()) {
    if (absl::Status s = CheckToken("header name", name); !s.ok()) return s;
    if (!IsFieldValue(value)) {
      return Invalid(absl::StrCat("header ", name), "contains a control byte", value);
    }
  }
  return absl::OkStatus();
}

std::string SerializeRequestHead(const RequestHead& head) {
  std::string out = absl::StrCat(head.method, " ", head.target, " HTTP/1.", head.version_minor,
                                 "\r\n");
  for (const auto& [name, value] : head.headers.fields()) {
    absl::StrAppend(&out, name, ": ", TrimFieldValue(value), "\r\n");
  }
  out += "\r\n";
  return out;
}

std::string ChunkSizeLine(size_t size) { return absl::StrFormat("%x\r\n", size); }

}  // namespace h1::wire
