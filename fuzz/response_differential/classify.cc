// See classify.h.
#include "fuzz/response_differential/classify.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "transport/wire/message_head.h"

namespace h1::fuzz {
namespace {

constexpr char kUnexplained[] = "unexplained";

// The line our error message quotes, unescaped ("malformed X: \"...\"").
std::string QuotedLine(absl::string_view error) {
  const size_t open = error.find('"');
  const size_t close = error.rfind('"');
  if (open == absl::string_view::npos || close <= open) return "";
  std::string line;
  if (!absl::CUnescape(error.substr(open + 1, close - open - 1), &line)) return "";
  return line;
}

size_t LeadingDigits(absl::string_view s) {
  size_t n = 0;
  while (n < s.size() && absl::ascii_isdigit(s[n])) ++n;
  return n;
}

// Why we refused a status line that a reference read.
std::string KindOfStatusLine(absl::string_view line) {
  if (std::all_of(line.begin(), line.end(), [](char c) { return c == '\r'; })) {
    return "leading-empty-line";
  }
  if (line.size() < 8 || !absl::StartsWith(line, "HTTP/") || !absl::ascii_isdigit(line[5]) ||
      line[6] != '.' || !absl::ascii_isdigit(line[7])) {
    return kUnexplained;
  }
  if (line[5] != '1') return "version-not-1x";
  absl::string_view rest = line.substr(8);
  if (!absl::ConsumePrefix(&rest, " ")) return kUnexplained;
  if (absl::StartsWith(rest, " ")) return "status-line-extra-space";
  const size_t digits = LeadingDigits(rest);
  const bool code_ends = digits == rest.size() || rest[digits] == ' ';
  if (digits < 3 && code_ends) return "status-code-not-3-digits";
  if (digits == 3 && code_ends && rest[0] == '0') return "status-code-below-100";
  if (digits == 3 && code_ends && absl::StrContains(rest, '\0')) return "reason-nul";
  return kUnexplained;
}

// "name SP/HTAB... : value", the name itself a token.
bool IsTokenThenWhitespace(absl::string_view line) {
  absl::string_view name = line.substr(0, line.find(':'));
  if (name.size() == line.size()) return false;
  const size_t end = name.find_last_not_of(" \t");
  if (end == absl::string_view::npos || end + 1 == name.size()) return false;
  name = name.substr(0, end + 1);
  return std::all_of(name.begin(), name.end(), wire::IsTokenChar);
}

bool HasOverlongLength(absl::string_view value) {
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.size() > 18 && LeadingDigits(item) == item.size()) return true;
  }
  return false;
}

// Why we rejected what `theirs` (its response, if it got that far) read.
std::string KindOfOurRejection(Reference reference, absl::string_view error,
                               const ParsedResponse* theirs) {
  if (absl::StartsWith(error, "malformed status line") ||
      absl::StartsWith(error, "malformed HTTP version") ||
      absl::StartsWith(error, "malformed status code") ||
      absl::StartsWith(error, "malformed reason phrase")) {
    std::string kind = KindOfStatusLine(QuotedLine(error));
    if (kind == "version-not-1x" && theirs != nullptr && theirs->version_major == 1) {
      return kUnexplained;
    }
    return kind;
  }
  if (absl::StrContains(error, "malformed header (obsolete line folding)")) return "obs-fold";
  if (reference == Reference::kLlhttp && absl::StartsWith(error, "malformed header") &&
      absl::StartsWith(QuotedLine(error), "\r")) {
    return "llhttp-bare-cr-ends-head";
  }
  if (absl::StrContains(error, "malformed header name") &&
      IsTokenThenWhitespace(QuotedLine(error))) {
    return "space-before-colon";
  }
  if (absl::StartsWith(error, "unsupported Transfer-Encoding")) return "te-not-single-chunked";
  if (absl::StartsWith(error, "invalid Content-Length") && HasOverlongLength(QuotedLine(error))) {
    return "cl-more-than-18-digits";
  }
  if (absl::StartsWith(error, "more than 5 interim 1xx responses") &&
      (theirs == nullptr || theirs->interim_count > 5)) {
    return "interim-limit";
  }
  if (absl::StartsWith(error, "server switched protocols (101)")) return "switching-protocols";
  if (error == "malformed chunked body: chunk-size line not ended by CRLF") {
    return "chunk-line-bare-lf";
  }
  if (absl::StartsWith(error, "malformed chunk-size line")) {
    const std::string line = QuotedLine(error);
    if (absl::EndsWith(error, "unexpected byte after chunk size")) {
      return "chunk-ext-without-semicolon";
    }
    if (absl::EndsWith(error, "CR, LF or NUL in chunk extension") &&
        absl::StrContains(line, '\0')) {
      return "chunk-ext-nul";
    }
    return kUnexplained;
  }
  if (absl::StartsWith(error, "line longer than the limit of 4096 bytes")) {
    return "chunk-line-too-long";
  }
  if (error == "chunked trailer: line not ended by CRLF") return "trailer-bare-lf";
  return kUnexplained;
}

size_t CountFields(const FieldList& fields, absl::string_view name) {
  return std::count_if(fields.begin(), fields.end(), [name](const auto& field) {
    return absl::EqualsIgnoreCase(field.first, name);
  });
}

bool AnyValueContains(const FieldList& fields, absl::string_view name, char c) {
  return std::any_of(fields.begin(), fields.end(), [name, c](const auto& field) {
    return absl::EqualsIgnoreCase(field.first, name) && absl::StrContains(field.second, c);
  });
}

// Why a reference rejected what we read (`ours`, if we got that far).
std::string KindOfReferenceRejection(Reference reference, const Rejection& rejection,
                                     const ParsedResponse* ours) {
  const std::string& error = rejection.error;
  const char byte = rejection.byte.value_or('\0');
  // http-parser fails on the bytes after a closing 1xx; llhttp drops them.
  if ((error == "HPE_CLOSED_CONNECTION" || error == "EOF_AFTER_INTERIM") &&
      rejection.after_closing_interim) {
    return "interim-connection-close";
  }
  const bool in_head =
      rejection.failed_in == FailedIn::kHead || rejection.failed_in == FailedIn::kInterimHead;
  if (reference == Reference::kLlhttp && in_head && byte == '\n' &&
      rejection.reason == "Invalid header value char") {
    return "bare-lf-in-head";
  }
  const bool length_error =
      error == "HPE_INVALID_CONTENT_LENGTH" || error == "HPE_UNEXPECTED_CONTENT_LENGTH";
  if (length_error || error == "HPE_INVALID_TRANSFER_ENCODING") {
    if (rejection.failed_in == FailedIn::kInterimHead) return "interim-framing-headers";
    if (rejection.failed_in == FailedIn::kTrailers) return "trailer-framing-fields";
  }
  if (length_error && rejection.failed_in == FailedIn::kHead && ours != nullptr) {
    if (byte == ',' || CountFields(ours->headers, "Content-Length") > 1) {
      return "cl-list-of-equal-values";
    }
    if (byte == '\t') return "cl-trailing-htab";
  }
  if (reference == Reference::kLlhttp && rejection.failed_in == FailedIn::kBody &&
      absl::StartsWith(rejection.reason, "Invalid character in chunk extensions")) {
    return "llhttp-chunk-ext-syntax";
  }
  if (error == "HPE_INVALID_CHUNK_SIZE" && rejection.failed_in == FailedIn::kBody) {
    if (byte == ' ' || byte == '\t') return "chunk-size-bws";
    // llhttp 8.1.0 stops on the name after the ';' that follows a value.
    const absl::string_view before = rejection.before;
    const size_t semicolon = before.rfind(';');
    if (reference == Reference::kLlhttp && semicolon != absl::string_view::npos &&
        semicolon + 1 == before.size() && before.substr(0, semicolon).find('=') != absl::string_view::npos) {
      return "llhttp-chunk-ext-after-value";
    }
  }
  return kUnexplained;
}

// Why the two disagree on keeping the connection.
std::string KindOfKeepAliveDifference(const ParsedResponse& ours, const ParsedResponse& theirs) {
  if (theirs.keep_alive != theirs.keep_alive_at_head &&
      (CountFields(theirs.trailers, "Connection") > 0 ||
       CountFields(theirs.trailers, "Proxy-Connection") > 0)) {
    return "trailer-connection";
  }
  if (!ours.keep_alive && ours.version_minor == 0 &&
      CountFields(ours.headers, "Transfer-Encoding") > 0) {
    return "http10-transfer-encoding";
  }
  if (CountFields(ours.headers, "Proxy-Connection") > 0) return "proxy-connection";
  // Ours has dropped the whitespace around the value; the reference's has it.
  if (AnyValueContains(theirs.headers, "Connection", '\t')) return "connection-token-htab";
  return kUnexplained;
}

}  // namespace

std::string Classify(Reference reference, const Divergence& divergence, const StreamOutcome& ours,
                     const StreamOutcome& theirs) {
  const size_t i = divergence.index;
  const ParsedResponse* our_response = i < ours.responses.size() ? &ours.responses[i] : nullptr;
  const ParsedResponse* their_response =
      i < theirs.responses.size() ? &theirs.responses[i] : nullptr;
  switch (divergence.what) {
    case Divergence::What::kOursRejects:
      return KindOfOurRejection(reference, ours.rejection->error, their_response);
    case Divergence::What::kReferenceRejects:
      return KindOfReferenceRejection(reference, *theirs.rejection, our_response);
    case Divergence::What::kKeepAlive:
      return KindOfKeepAliveDifference(*our_response, *their_response);
    default:
      return kUnexplained;
  }
}

}  // namespace h1::fuzz
