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

std::string JsonQuote(absl::string_view bytes) {
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

namespace {

// Reads one JSON value of the flat objects ToJsonLine writes: a string
// (decoded to bytes, one per code point below 256), a number, or a literal
// (null, true, false) returned as written. Advances `in` past it.
absl::StatusOr<std::string> ReadJsonValue(absl::string_view& in, bool* is_string) {
  *is_string = !in.empty() && in[0] == '"';
  if (!*is_string) {
    const size_t end = in.find_first_of(",}");
    if (end == absl::string_view::npos || end == 0) {
      return absl::InvalidArgumentError("JSON value missing");
    }
    std::string value(absl::StripAsciiWhitespace(in.substr(0, end)));
    in.remove_prefix(end);
    return value;
  }
  std::string out;
  for (size_t i = 1; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '"') {
      in.remove_prefix(i + 1);
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= in.size()) break;
    switch (in[i]) {
      case 'u': {
        uint32_t code = 0;
        if (i + 4 >= in.size() || !absl::SimpleHexAtoi(in.substr(i + 1, 4), &code) ||
            code > 0xff) {
          return absl::InvalidArgumentError("JSON string: \\u escape beyond latin-1");
        }
        out += static_cast<char>(code);
        i += 4;
        break;
      }
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      default: out += in[i];  // \" \\ \/
    }
  }
  return absl::InvalidArgumentError("JSON string not terminated");
}

}  // namespace

absl::StatusOr<RequestSpec> ParseRequestSpec(absl::string_view arg) {
  std::vector<absl::string_view> words = absl::StrSplit(arg, ' ', absl::SkipEmpty());
  // A request that starts with its URL is a GET, as with curl.
  if (!words.empty() && absl::StrContains(words[0], "://")) words.insert(words.begin(), "GET");
  if (words.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request \"", arg, "\": expected \"[METHOD] URL [body=BYTES] [sleep_before_ms=N]\""));
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

absl::StatusOr<ClientArgs> ParseClientArgs(int argc, char** argv) {
  ClientArgs args;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    double seconds = 0;
    if (absl::ConsumePrefix(&arg, "--response_header_timeout=")) {
      if (!absl::SimpleAtod(arg, &seconds) || seconds < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--response_header_timeout needs seconds (0: no limit), got \"", arg, "\""));
      }
      args.response_header_timeout = absl::Seconds(seconds);
    } else if (absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    } else {
      absl::StatusOr<RequestSpec> spec = ParseRequestSpec(arg);
      if (!spec.ok()) return spec.status();
      args.requests.push_back(*std::move(spec));
    }
  }
  return args;
}

std::string ToJsonLine(const Outcome& o) {
  return absl::StrCat(
      "{\"i\":", o.index, ",\"method\":", JsonQuote(o.method),
      ",\"status\":", o.status ? absl::StrCat(*o.status) : "null", ",\"body_bytes\":", o.body_bytes,
      ",\"body\":", JsonQuote(o.body_prefix),
      ",\"error\":", o.error ? JsonQuote(*o.error) : "null",
      ",\"conn\":", o.conn ? absl::StrCat(*o.conn) : "null",
      ",\"reused\":", o.reused ? "true" : "false", "}");
}

absl::StatusOr<Outcome> ParseJsonLine(absl::string_view line) {
  absl::string_view in = absl::StripAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&in, "{")) {
    return absl::InvalidArgumentError(absl::StrCat("not a JSON object: \"", line, "\""));
  }
  Outcome outcome;
  while (!absl::ConsumePrefix(&in, "}")) {
    bool is_string = false;
    absl::StatusOr<std::string> key = ReadJsonValue(in, &is_string);
    if (!key.ok() || !is_string || !absl::ConsumePrefix(&in, ":")) {
      return absl::InvalidArgumentError(absl::StrCat("malformed JSON key in \"", line, "\""));
    }
    absl::StatusOr<std::string> value = ReadJsonValue(in, &is_string);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(value.status().message(), " in \"", line, "\""));
    }
    const bool null = !is_string && *value == "null";
    int number = 0;
    uint64_t count = 0;
    if (*key == "i" && absl::SimpleAtoi(*value, &number)) {
      outcome.index = number;
    } else if (*key == "method" && is_string) {
      outcome.method = *value;
    } else if (*key == "status" && (null || absl::SimpleAtoi(*value, &number))) {
      if (!null) outcome.status = number;
    } else if (*key == "body_bytes" && absl::SimpleAtoi(*value, &count)) {
      outcome.body_bytes = count;
    } else if (*key == "body" && is_string) {
      outcome.body_prefix = *value;
    } else if (*key == "error" && (null || is_string)) {
      if (!null) outcome.error = *value;
    } else if (*key == "conn" && (null || absl::SimpleAtoi(*value, &count))) {
      if (!null) outcome.conn = count;
    } else if (*key == "reused" && (*value == "true" || *value == "false")) {
      outcome.reused = *value == "true";
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected JSON field \"", *key, "\" in \"", line, "\""));
    }
    absl::ConsumePrefix(&in, ",");
  }
  return outcome;
}

}  // namespace h1::fetch
