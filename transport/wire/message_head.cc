// See message_head.h.
#include "transport/wire/message_head.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "transport/wire/body_framing.h"

namespace h1::wire {
namespace {

absl::Status Malformed(absl::string_view what, absl::string_view line) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed ", what, ": \"", absl::CHexEscape(line.substr(0, 80)), "\""));
}

// Reads one line of a head, charging it to `budget`.
absl::StatusOr<std::string> ReadHeadLine(BufferedReader& in, size_t& budget, bool first_line,
                                         BufferedReader::LineEnding ending) {
  bool partial = false;
  const uint64_t before = in.consumed();
  absl::StatusOr<std::string> line = in.ReadLine(budget, ending, &partial);
  if (line.ok()) {
    budget -= in.consumed() - before;
    return line;
  }
  if (absl::IsResourceExhausted(line.status())) {
    return absl::ResourceExhaustedError("header section exceeds the size limit");
  }
  if (absl::IsOutOfRange(line.status())) {
    if (first_line && !partial) {
      return absl::UnavailableError("connection closed before any byte of the message head");
    }
    return absl::InvalidArgumentError("unexpected EOF inside the message head");
  }
  return line.status();
}

bool HasControlBytes(absl::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

absl::StatusOr<int> ParseVersion(absl::string_view version, absl::string_view line) {
  if (version.size() != 8 || !absl::StartsWith(version, "HTTP/1.") ||
      !absl::ascii_isdigit(version[7])) {
    return Malformed("HTTP version", line);
  }
  return version[7] - '0';
}

absl::Status AddLimitMessage(absl::Status status, size_t limit) {
  if (!absl::IsResourceExhausted(status)) return status;
  return absl::ResourceExhaustedError(
      absl::StrCat("message head exceeds the limit of ", limit, " bytes"));
}

// Reads a response head, charging every line to `budget`.
absl::StatusOr<ResponseHead> ReadResponseHeadWithin(BufferedReader& in, size_t& budget) {
  absl::StatusOr<std::string> line =
      ReadHeadLine(in, budget, /*first_line=*/true, BufferedReader::LineEnding::kCrlfOrLf);
  if (!line.ok()) return line.status();
  // HTTP-version SP 3DIGIT [SP reason]
  ResponseHead head;
  absl::string_view rest = *line;
  const size_t sp = rest.find(' ');
  if (sp == absl::string_view::npos) return Malformed("status line", *line);
  absl::StatusOr<int> version = ParseVersion(rest.substr(0, sp), *line);
  if (!version.ok()) return version.status();
  head.version_minor = *version;
  rest.remove_prefix(sp + 1);
  if (rest.size() < 3 || !absl::ascii_isdigit(rest[0]) || !absl::ascii_isdigit(rest[1]) ||
      !absl::ascii_isdigit(rest[2]) || (rest.size() > 3 && rest[3] != ' ')) {
    return Malformed("status line", *line);
  }
  head.status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  if (head.status < 100) return Malformed("status code", *line);
  if (rest.size() > 4) head.reason = std::string(rest.substr(4));
  if (HasControlBytes(head.reason)) return Malformed("reason phrase", *line);
  absl::StatusOr<Headers> headers =
      ReadHeaderFields(in, budget, BufferedReader::LineEnding::kCrlfOrLf);
  if (!headers.ok()) return headers.status();
  head.headers = *std::move(headers);
  return head;
}

}  // namespace

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(c) || absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
                                       absl::string_view::npos;
}

bool IsFieldValue(absl::string_view s) {
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

absl::StatusOr<Headers> ReadHeaderFields(BufferedReader& in, size_t& budget,
                                         BufferedReader::LineEnding ending) {
  Headers headers;
  for (;;) {
    absl::StatusOr<std::string> line = ReadHeadLine(in, budget, /*first_line=*/false, ending);
    if (!line.ok()) return line.status();
    if (line->empty()) return headers;
    if ((*line)[0] == ' ' || (*line)[0] == '\t') {
      return Malformed("header (obsolete line folding)", *line);
    }
    const size_t colon = line->find(':');
    if (colon == std::string::npos || colon == 0) return Malformed("header", *line);
    absl::string_view name(line->data(), colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return Malformed("header name", *line);
    }
    // Only OWS (SP, HTAB) surrounds a value; any other byte there is part
    // of it, and a control byte fails the check below.
    absl::string_view value = TrimFieldValue(absl::string_view(*line).substr(colon + 1));
    if (!IsFieldValue(value)) return Malformed("header value", *line);
    headers.Add(std::string(name), std::string(value));
  }
}

absl::StatusOr<ResponseHead> ReadResponseHead(BufferedReader& in, size_t max_header_bytes) {
  size_t budget = max_header_bytes;
  absl::StatusOr<ResponseHead> head = ReadResponseHeadWithin(in, budget);
  if (!head.ok()) return AddLimitMessage(head.status(), max_header_bytes);
  return head;
}

absl::StatusOr<ResponseHead> ReadFinalResponseHead(
    BufferedReader& in, size_t max_header_bytes,
    absl::FunctionRef<void(const ResponseHead& interim)> on_interim) {
  // One budget for every head: a stream of small 1xx heads cannot stretch it.
  size_t budget = max_header_bytes;
  for (int interim = 0;; ++interim) {
    absl::StatusOr<ResponseHead> head = ReadResponseHeadWithin(in, budget);
    if (interim > 0 && absl::IsUnavailable(head.status())) {
      return absl::InvalidArgumentError("connection closed after an interim 1xx response");
    }
    if (!head.ok()) return AddLimitMessage(head.status(), max_header_bytes);
    if (head->status == 101) {
      return absl::UnimplementedError("server switched protocols (101); not supported");
    }
    if (head->status >= 200) return head;
    // No body follows a 1xx, but its framing fields are checked all the
    // same, as Go does: a server that sends bad ones cannot be trusted with
    // the next head either.
    if (absl::Status framing = CheckFramingHeaders(head->headers); !framing.ok()) return framing;
    if (interim == kMaxInterimResponses) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than ", kMaxInterimResponses, " interim 1xx responses"));
    }
    on_interim(*head);
  }
}

absl::StatusOr<RequestHead> ReadRequestHead(BufferedReader& in, size_t max_header_bytes) {
  size_t budget = max_header_bytes;
  absl::StatusOr<std::string> line =
      ReadHeadLine(in, budget, /*first_line=*/true, BufferedReader::LineEnding::kCrlfOrLf);
  if (!line.ok()) return AddLimitMessage(line.status(), max_header_bytes);
  // method SP request-target SP HTTP-version
  const size_t sp1 = line->find(' ');
  const size_t sp2 = sp1 == std::string::npos ? sp1 : line->find(' ', sp1 + 1);
  if (sp2 == std::string::npos || sp1 == 0 || sp2 == sp1 + 1) {
    return Malformed("request line", *line);
  }
  RequestHead head;
  head.method = line->substr(0, sp1);
  for (char c : head.method) {
    if (!IsTokenChar(c)) return Malformed("request method", *line);
  }
  head.target = line->substr(sp1 + 1, sp2 - sp1 - 1);
  absl::StatusOr<int> version = ParseVersion(absl::string_view(*line).substr(sp2 + 1), *line);
  if (!version.ok()) return version.status();
  head.version_minor = *version;
  absl::StatusOr<Headers> headers =
      ReadHeaderFields(in, budget, BufferedReader::LineEnding::kCrlfOrLf);
  if (!headers.ok()) return AddLimitMessage(headers.status(), max_header_bytes);
  head.headers = *std::move(headers);
  return head;
}

}  // namespace h1::wire
