// Differential fuzzing of our response parser (transport/wire) against two
// independent parsers, http-parser 2.9.4 and llhttp 8.1.0 (Node.js's old
// and current ones). The input is decoded into an Exchange:
//   byte 0: bits 0-1 the request method (GET, HEAD, POST, GET), bits 2-3
//           how many responses the kept-alive connection reads (1 to 4)
//   byte 1: number of read sizes that follow (mod 8)
//   then:   those read sizes, then the response bytes.
// Every parser reads the same bytes in the same reads. Where both accept a
// response they must agree on version, status, reason phrase, header fields,
// body, trailer fields and keep-alive (divergence.h says what equal means);
// where they disagree, the divergence is classified (classify.h) and must be
// a kind listed in response_differential_differences.inc, or the target
// aborts with both outcomes printed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "fuzz/response_differential/classify.h"
#include "fuzz/response_differential/divergence.h"
#include "fuzz/response_differential/http_parser_reference.h"
#include "fuzz/response_differential/llhttp_reference.h"
#include "fuzz/response_differential/our_parser.h"
#include "fuzz/response_differential/outcome.h"

namespace {

using h1::fuzz::Reference;

const std::set<std::string>& JustifiedKinds() {
  static const auto* kinds = new std::set<std::string>{
#define DIFFERENCE(kind, justification) kind,
#include "fuzz/response_differential_differences.inc"
#undef DIFFERENCE
  };
  return *kinds;
}

h1::fuzz::Exchange Decode(const uint8_t* data, size_t size) {
  static const char* const kMethods[] = {"GET", "HEAD", "POST", "GET"};
  h1::fuzz::Exchange exchange;
  const uint8_t flags = size > 0 ? data[0] : 0;
  exchange.method = kMethods[flags & 3];
  exchange.responses = 1 + ((flags >> 2) & 3);
  size_t pos = size > 0 ? 1 : 0;
  const size_t count = pos < size ? data[pos++] % 8 : 0;
  for (size_t i = 0; i < count && pos < size; ++i) exchange.pieces.push_back(data[pos++]);
  exchange.bytes.assign(reinterpret_cast<const char*>(data) + pos, size - pos);
  return exchange;
}

void Print(const char* who, const h1::fuzz::StreamOutcome& outcome) {
  std::fprintf(stderr, "  %s: %zu responses", who, outcome.responses.size());
  for (const auto& response : outcome.responses) {
    std::fprintf(stderr, " [%d keep-alive=%d body=%zu]", response.status, response.keep_alive,
                 response.body.size());
  }
  if (outcome.rejection) {
    const auto& r = *outcome.rejection;
    std::fprintf(stderr, "; rejected: %s %s at %zu (byte '%s', in %d)", r.error.c_str(),
                 r.reason.c_str(), r.offset,
                 r.byte ? absl::CHexEscape(std::string(1, *r.byte)).c_str() : "EOF",
                 static_cast<int>(r.failed_in));
  }
  std::fprintf(stderr, "\n");
}

void CheckAgainst(Reference reference, const char* name, const h1::fuzz::Exchange& exchange,
                  const h1::fuzz::StreamOutcome& ours, const h1::fuzz::StreamOutcome& theirs) {
  std::optional<h1::fuzz::Divergence> divergence = h1::fuzz::FirstDivergence(ours, theirs);
  if (!divergence) return;
  const std::string kind = h1::fuzz::Classify(reference, *divergence, ours, theirs);
  if (JustifiedKinds().count(kind) > 0) return;
  std::fprintf(stderr, "response_differential: %s: %s, kind \"%s\" is not a justified difference\n",
               name, h1::fuzz::Describe(*divergence).c_str(), kind.c_str());
  std::fprintf(stderr, "  method %s, %d responses, stream \"%s\"\n", exchange.method.c_str(),
               exchange.responses, absl::CHexEscape(exchange.bytes.substr(0, 400)).c_str());
  Print("ours", ours);
  Print(name, theirs);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const h1::fuzz::Exchange exchange = Decode(data, size);
  const h1::fuzz::StreamOutcome ours = h1::fuzz::RunOurParser(exchange);
  CheckAgainst(Reference::kHttpParser, "http-parser", exchange, ours,
               h1::fuzz::RunHttpParser(exchange));
  CheckAgainst(Reference::kLlhttp, "llhttp", exchange, ours, h1::fuzz::RunLlhttp(exchange));
  return 0;
}
