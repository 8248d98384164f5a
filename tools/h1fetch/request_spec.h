// h1fetch's command-line contract, which other clients can speak too (the
// conformance runner drives any of them through it): REQUEST arguments in,
// "METHOD URL [body=BYTES] [sleep_before_ms=N]", one JSON line per request
// out. Pure functions; see h1fetch.cc for the whole contract.
#ifndef H1_TOOLS_H1FETCH_REQUEST_SPEC_H_
#define H1_TOOLS_H1FETCH_REQUEST_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace h1::fetch {

struct RequestSpec {
  std::string method;
  std::string url;
  std::optional<uint64_t> body_bytes;  // body=N: N 'x' bytes, Content-Length.
  absl::Duration sleep_before = absl::ZeroDuration();
};

// Errors name the argument and the offending word.
absl::StatusOr<RequestSpec> ParseRequestSpec(absl::string_view arg);

// What every client of the contract accepts: --response_header_timeout=
// SECONDS (0 or absent: no limit) and the REQUESTs, in order.
struct ClientArgs {
  absl::Duration response_header_timeout = absl::ZeroDuration();
  std::vector<RequestSpec> requests;
};
absl::StatusOr<ClientArgs> ParseClientArgs(int argc, char** argv);

// One JSON output line (without the newline). `body_prefix` holds at most
// the first 16 body bytes; each byte becomes one code point (latin-1).
struct Outcome {
  int index = 0;
  std::string method;
  std::optional<int> status;
  uint64_t body_bytes = 0;
  std::string body_prefix;
  std::optional<std::string> error;
  std::optional<uint64_t> conn;
  bool reused = false;
};
std::string ToJsonLine(const Outcome& outcome);
// `bytes` as a JSON string, each byte one code point (latin-1).
std::string JsonQuote(absl::string_view bytes);
// The inverse of ToJsonLine, for whoever reads a client's output. Errors
// name what is malformed.
absl::StatusOr<Outcome> ParseJsonLine(absl::string_view line);

}  // namespace h1::fetch

#endif  // H1_TOOLS_H1FETCH_REQUEST_SPEC_H_
