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
  if (line.empty() || line.front() == '\r') return "leading-empty-line";
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
  if (digits != 3 && code_ends) return "status-code-not-3-digits";
  if (digits == 3 && code_ends && rest[0] == '0') return "status-code-below-100";
  return kUnexplained;
}

bool IsControl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

// "na me : value": a field name of token bytes with SP or HTAB among them.
// Our message quotes 80 bytes of the line: a longer name has no colon there,
// and if those 80 are token bytes, the byte we refused lies beyond them; a
// reference that read the name accepts no other non-token byte in it.
bool IsTokenWithWhitespace(absl::string_view line) {
  const size_t colon = line.find(':');
  const bool longer_than_quote = colon == absl::string_view::npos;
  if (longer_than_quote && line.size() < 80) return false;
  const absl::string_view name = line.substr(0, colon);
  const auto is_whitespace = [](char c) { return c == ' ' || c == '\t'; };
  return (longer_than_quote || std::any_of(name.begin(), name.end(), is_whitespace)) &&
         std::all_of(name.begin(), name.end(),
                     [&](char c) { return is_whitespace(c) || wire::IsTokenChar(c); });
}

// A value whose first byte, after OWS, is a control byte, and no later one.
bool ValueStartsWithControlByte(absl::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  return !value.empty() && IsControl(value.front()) &&
         std::none_of(value.begin() + 1, value.end(), IsControl);
}

// "name: <control byte>...", as ValueStartsWithControlByte.
bool StartsWithControlByte(absl::string_view line) {
  const size_t colon = line.find(':');
  return colon != absl::string_view::npos && ValueStartsWithControlByte(line.substr(colon + 1));
}

// The same checks on the fields a reference read, for lines our message
// quotes only in part.
bool AnyNameWithWhitespace(const FieldList& fields) {
  return std::any_of(fields.begin(), fields.end(), [](const auto& field) {
    return field.first.find_first_of(" \t") != std::string::npos;
  });
}

bool AnyValueHasControlByte(const FieldList& fields) {
  return std::any_of(fields.begin(), fields.end(), [](const auto& field) {
    return std::any_of(field.second.begin(), field.second.end(), IsControl);
  });
}

bool AnyValueStartsWithControlByte(const FieldList& fields) {
  return std::any_of(fields.begin(), fields.end(),
                     [](const auto& field) { return ValueStartsWithControlByte(field.second); });
}

// A byte >= 0x80 where a chunk-size line has its size (before ';' or SP).
bool HasHighByteInSize(absl::string_view line) {
  const absl::string_view size = line.substr(0, line.find_first_of("; \t"));
  return std::any_of(size.begin(), size.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

bool HasOverlongLength(absl::string_view value) {
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.size() > 18 && LeadingDigits(item) == item.size()) return true;
  }
  return false;
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

// Whether a `name` field lists `option` among its comma-separated elements.
bool ListsOption(const FieldList& fields, absl::string_view name, absl::string_view option) {
  for (const auto& [field_name, value] : fields) {
    if (!absl::EqualsIgnoreCase(field_name, name)) continue;
    for (absl::string_view item : absl::StrSplit(value, ',')) {
      if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(item), option)) return true;
    }
  }
  return false;
}

// Why we rejected what `theirs` (its response, if it got that far) read.
std::string KindOfOurRejection(Reference reference, absl::string_view error,
                               const ParsedResponse* theirs) {
  // llhttp ends a line at a lone CR: our line has the CR in it, or, with no
  // LF after it, our head runs into the end of the stream.
  if (reference == Reference::kLlhttp &&
      ((absl::StrContains(error, "malformed ") && absl::StrContains(QuotedLine(error), '\r')) ||
       (absl::EndsWith(error, "unexpected EOF inside the message head") && theirs != nullptr) ||
       (absl::StartsWith(error, "unexpected EOF in chunked body") && theirs != nullptr) ||
       // Quoted only in part: llhttp's values hold none of the control
       // bytes we refuse, so it ended the line at a CR.
       (absl::StrContains(error, "malformed header value") && theirs != nullptr &&
        !AnyValueHasControlByte(theirs->headers)))) {
    return "llhttp-bare-cr";
  }
  // A reference skips CR and LF before a status line, up to the stream's end.
  if (error == "unexpected EOF inside the message head" && theirs == nullptr) {
    return "leading-empty-line";
  }
  // Our message quotes at most 80 bytes of the line; the reason phrase the
  // reference read has the byte we refused.
  // We refuse CR, LF and NUL in a reason phrase. A line has no LF, and
  // http-parser refuses a bare CR, so it read a NUL; llhttp ends the line at
  // a bare CR, so its reason has the NUL if there was one.
  if (absl::StartsWith(error, "malformed reason phrase")) {
    if (reference == Reference::kLlhttp &&
        (theirs == nullptr || !absl::StrContains(theirs->reason, '\0'))) {
      return "llhttp-bare-cr";
    }
    return "reason-nul";
  }
  if (absl::StartsWith(error, "malformed status line") ||
      absl::StartsWith(error, "malformed HTTP version") ||
      absl::StartsWith(error, "malformed status code")) {
    return KindOfStatusLine(QuotedLine(error));
  }
  if (absl::StrContains(error, "malformed header (obsolete line folding)")) return "obs-fold";
  if (reference == Reference::kLlhttp && absl::StrContains(error, "malformed header: \":")) {
    return "llhttp-empty-field-name";
  }
  if (reference == Reference::kLlhttp && absl::StrContains(error, "malformed header name") &&
      (IsTokenWithWhitespace(QuotedLine(error)) ||
       (theirs != nullptr && (AnyNameWithWhitespace(theirs->headers) ||
                              AnyNameWithWhitespace(theirs->trailers))))) {
    return "whitespace-in-field-name";
  }
  if (reference == Reference::kHttpParser && absl::StrContains(error, "malformed header value") &&
      (StartsWithControlByte(QuotedLine(error)) ||
       (theirs != nullptr && (AnyValueStartsWithControlByte(theirs->headers) ||
                              AnyValueStartsWithControlByte(theirs->trailers))))) {
    return "http-parser-first-value-byte";
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
  if (reference == Reference::kLlhttp &&
      error == "malformed chunked body: no CRLF after chunk data") {
    return "llhttp-chunk-data-crlf";
  }
  // The reference did not see "chunked\t" as chunked, so it read no chunks.
  const bool in_chunked_body =
      absl::StartsWith(error, "malformed chunk") || absl::StartsWith(error, "chunked trailer") ||
      absl::StrContains(error, "chunked body") || absl::StartsWith(error, "line longer than");
  if (in_chunked_body && theirs != nullptr &&
      AnyValueContains(theirs->headers, "Transfer-Encoding", '\t')) {
    return "htab-around-token";
  }
  if (error == "malformed chunked body: chunk-size line not ended by CRLF") {
    return "chunk-line-bare-lf";
  }
  if (absl::StartsWith(error, "malformed chunk-size line")) {
    if (reference == Reference::kHttpParser && HasHighByteInSize(QuotedLine(error))) {
      return "http-parser-high-byte-chunk-size";
    }
    if (absl::EndsWith(error, "unexpected byte after chunk size")) {
      return "chunk-ext-without-semicolon";
    }
    // A reference that read the line on found no CR or LF in it (both stop
    // there), so it was NUL; the quoted line may be cut before it.
    if (absl::EndsWith(error, "CR, LF or NUL in chunk extension")) return "chunk-ext-nul";
    return kUnexplained;
  }
  if (absl::StartsWith(error, "line longer than the limit of 4096 bytes")) {
    return "chunk-line-too-long";
  }
  if (error == "chunked trailer: line not ended by CRLF") return "trailer-bare-lf";
  return kUnexplained;
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
  if (reference == Reference::kLlhttp && in_head &&
      (byte == '\n' || absl::EndsWith(rejection.before, "\n")) &&
      rejection.reason == "Invalid header value char") {
    return "bare-lf-in-head";
  }
  const bool length_error =
      error == "HPE_INVALID_CONTENT_LENGTH" || error == "HPE_UNEXPECTED_CONTENT_LENGTH";
  if ((length_error || error == "HPE_INVALID_TRANSFER_ENCODING") &&
      rejection.failed_in == FailedIn::kTrailers) {
    return "trailer-framing-fields";
  }
  if (reference == Reference::kHttpParser && error == "HPE_UNEXPECTED_CONTENT_LENGTH" &&
      ours != nullptr && CountFields(ours->headers, "Transfer-Encoding") == 0 &&
      std::any_of(ours->headers.begin(), ours->headers.end(), [](const auto& field) {
        return absl::StartsWithIgnoreCase(field.first, "Transfer-Encoding");
      })) {
    return "http-parser-te-prefix-name";
  }
  // We check a 1xx head's framing fields as a final head's, so the same
  // differences apply there; but `ours` is the final response, without the
  // 1xx head's fields, and a repeated Content-Length shows in the error.
  if (length_error && in_head && ours != nullptr) {
    const bool repeated = rejection.failed_in == FailedIn::kInterimHead
                              ? error == "HPE_UNEXPECTED_CONTENT_LENGTH"
                              : CountFields(ours->headers, "Content-Length") > 1;
    if (byte == ',' || repeated) return "cl-list-of-equal-values";
    if (byte == '\t') return "cl-trailing-htab";
  }
  // llhttp fails on the SP after "HTTP/1.2" (in a final or a 1xx head).
  const absl::string_view before = rejection.before;
  if (reference == Reference::kLlhttp && rejection.reason == "Invalid HTTP version" &&
      before.size() >= 8 && absl::StartsWith(before.substr(before.size() - 8), "HTTP/1.") &&
      before.back() >= '2' && before.back() <= '9') {
    return "llhttp-unknown-minor-version";
  }
  if (reference == Reference::kLlhttp && rejection.failed_in == FailedIn::kBody &&
      absl::StartsWith(rejection.reason, "Invalid character in chunk extensions")) {
    return "llhttp-chunk-ext-syntax";
  }
  if (error == "HPE_INVALID_CHUNK_SIZE" && rejection.failed_in == FailedIn::kBody) {
    if (byte == ' ' || byte == '\t') return "chunk-size-bws";
    // llhttp 8.1.0 stops on the name after a ';' that follows a value on
    // the same chunk-size line.
    absl::string_view line = before;
    line.remove_prefix(line.rfind('\n') == absl::string_view::npos ? 0 : line.rfind('\n') + 1);
    if (reference == Reference::kLlhttp && absl::EndsWith(line, ";") &&
        absl::StrContains(line.substr(0, line.size() - 1), '=')) {
      return "llhttp-chunk-ext-after-value";
    }
  }
  return kUnexplained;
}

// A list element after which http-parser 2.9.4 stops matching Connection
// tokens: an empty one (",,"), one starting with a byte that cannot start a
// token, or with '_' (it lower-cases by setting bit 0x20, which makes '_'
// DEL), or a proper prefix of an option it knows ("clos,"), whose matcher
// swallows the comma.
bool IsOddListElement(absl::string_view item) {
  item = absl::StripAsciiWhitespace(item);
  if (item.empty() || !wire::IsTokenChar(item.front()) || item.front() == '_') return true;
  for (absl::string_view option : {"close", "keep-alive", "upgrade"}) {
    if (item.size() < option.size() && absl::StartsWithIgnoreCase(option, item)) return true;
  }
  return false;
}

bool HasOddListElement(const FieldList& fields, absl::string_view name) {
  for (const auto& [field_name, value] : fields) {
    if (!absl::EqualsIgnoreCase(field_name, name) || !absl::StrContains(value, ',')) continue;
    for (absl::string_view item : absl::StrSplit(value, ',')) {
      if (IsOddListElement(item)) return true;
    }
  }
  return false;
}

// Why the two disagree on keeping the connection.
std::string KindOfKeepAliveDifference(const ParsedResponse& ours, const ParsedResponse& theirs) {
  if (theirs.keep_alive != theirs.keep_alive_at_head) {
    if (CountFields(theirs.trailers, "Connection") > 0 ||
        CountFields(theirs.trailers, "Proxy-Connection") > 0) {
      return "trailer-connection";
    }
    if (CountFields(theirs.trailers, "Transfer-Encoding") > 0 ||
        CountFields(theirs.trailers, "Content-Length") > 0) {
      return "trailer-framing-fields";
    }
  }
  if (!ours.keep_alive && ours.version_minor == 0 &&
      CountFields(ours.headers, "Transfer-Encoding") > 0) {
    return "http10-transfer-encoding";
  }
  if (!ours.keep_alive && ours.version_minor == 0 &&
      ListsOption(ours.headers, "Connection", "close") &&
      ListsOption(ours.headers, "Connection", "keep-alive")) {
    return "http10-keep-alive-and-close";
  }
  if (CountFields(ours.headers, "Proxy-Connection") > 0) return "proxy-connection";
  // Ours has dropped the whitespace around the value; the reference's has it.
  if (AnyValueContains(theirs.headers, "Connection", '\t')) return "htab-around-token";
  if (HasOddListElement(theirs.headers, "Connection")) return "connection-list-odd-element";
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
    case Divergence::What::kBody:
      // The reference did not see "chunked\t" as chunked and read to close.
      return AnyValueContains(their_response->headers, "Transfer-Encoding", '\t')
                 ? "htab-around-token"
                 : kUnexplained;
    case Divergence::What::kKeepAlive:
      return KindOfKeepAliveDifference(*our_response, *their_response);
    default:
      return kUnexplained;
  }
}

}  // namespace h1::fuzz
