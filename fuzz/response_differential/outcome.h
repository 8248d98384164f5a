// What one parser made of a stream of responses to one connection's requests:
// the final responses it read in full, in order, and, if it stopped on an
// error, that error. The common ground on which the differential fuzz target
// compares our parser with the reference parsers.
#ifndef H1_FUZZ_RESPONSE_DIFFERENTIAL_OUTCOME_H_
#define H1_FUZZ_RESPONSE_DIFFERENTIAL_OUTCOME_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace h1::fuzz {

using FieldList = std::vector<std::pair<std::string, std::string>>;

struct ParsedResponse {
  int version_major = 1;
  int version_minor = 1;
  int status = 0;
  std::string reason;
  FieldList headers;  // In arrival order, values as the parser hands them out.
  std::string body;
  FieldList trailers;
  bool keep_alive = false;  // The connection may carry the next response.
  // Reference parsers only: 1xx heads before this response, and whether the
  // head alone (before any trailer) allowed keep-alive.
  int interim_count = 0;
  bool keep_alive_at_head = false;
};

// Where a reference parser was when it failed.
enum class FailedIn { kHead, kInterimHead, kBody, kTrailers };

struct Rejection {
  // Ours: the absl::Status message. References: the errno name (HPE_...).
  std::string error;
  // llhttp: its error reason; empty otherwise.
  std::string reason;
  // References: where in the stream, and at which byte, they failed.
  size_t offset = 0;
  std::optional<char> byte;
  // The stream before `offset`, whole: a line of any length is in it.
  std::string before;
  FailedIn failed_in = FailedIn::kHead;
  // References: the failing message ended the connection on an interim 1xx
  // head that did not allow keep-alive.
  bool after_closing_interim = false;
};

struct StreamOutcome {
  std::vector<ParsedResponse> responses;
  std::optional<Rejection> rejection;  // Unset: stopped without an error.
};

// The decoded fuzz input: the request method (it decides whether responses
// have bodies), how many responses the connection asks for, and the bytes
// with the sizes of the first reads.
struct Exchange {
  std::string method;
  int responses = 1;
  std::vector<size_t> pieces;
  std::string bytes;
};

// [begin, end) of each read: `pieces` (a 0 counts as 1), then the rest in
// one, as h1::wire::ScriptedByteSource serves them.
std::vector<std::pair<size_t, size_t>> ReadBounds(const Exchange& exchange);

}  // namespace h1::fuzz

#endif  // H1_FUZZ_RESPONSE_DIFFERENTIAL_OUTCOME_H_
