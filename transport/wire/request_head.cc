// See request_head.h.
#include "transport/wire/request_head.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace h1::wire {
namespace {

absl::Status CheckNoControlBytes(absl::string_view what, absl::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return absl::InvalidArgumentError(absl::StrCat("invalid request: ", what,
                                                     " contains CR, LF or NUL: \"",
                                                     absl::CHexEscape(value.substr(0, 80)), "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequestHead(const RequestHead& head) {
  if (absl::Status s = CheckNoControlBytes("method", head.method); !s.ok()) return s;
  if (head.method.empty()) return absl::InvalidArgumentError("invalid request: empty method");
  for (char c : head.method) {
    if (!IsTokenChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid request: method \"", absl::CHexEscape(head.method),
                       "\" is not a token"));
    }
  }
  if (absl::Status s = CheckNoControlBytes("path", head.target); !s.ok()) return s;
  for (char c : head.target) {
    if (c == ' ') {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid request: path \"", head.target, "\" contains a space"));
    }
  }
  for (const auto& [name, value] : head.headers.fields()) {
    if (absl::Status s = CheckNoControlBytes("header name", name); !s.ok()) return s;
    if (name.empty()) return absl::InvalidArgumentError("invalid request: empty header name");
    for (char c : name) {
      if (!IsTokenChar(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid request: header name \"", name, "\" is not a token"));
      }
    }
    if (absl::Status s = CheckNoControlBytes(absl::StrCat("header ", name), value); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

std::string SerializeRequestHead(const RequestHead& head) {
  std::string out = absl::StrCat(head.method, " ", head.target, " HTTP/1.", head.version_minor,
                                 "\r\n");
  for (const auto& [name, value] : head.headers.fields()) {
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  out += "\r\n";
  return out;
}

std::string ChunkSizeLine(size_t size) { return absl::StrFormat("%x\r\n", size); }

}  // namespace h1::wire
