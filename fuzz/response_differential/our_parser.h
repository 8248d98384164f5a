// Runs our response parser (transport/wire) over an Exchange as the
// transport's reader does: final heads (1xx skipped), framing, body and
// trailers, one response after another while the connection stays reusable.
#ifndef H1_FUZZ_RESPONSE_DIFFERENTIAL_OUR_PARSER_H_
#define H1_FUZZ_RESPONSE_DIFFERENTIAL_OUR_PARSER_H_

#include "fuzz/response_differential/outcome.h"

namespace h1::fuzz {

// A stream that ends before the first byte of a response is a clean stop
// (the server closed the idle connection), not a rejection.
StreamOutcome RunOurParser(const Exchange& exchange);

}  // namespace h1::fuzz

#endif  // H1_FUZZ_RESPONSE_DIFFERENTIAL_OUR_PARSER_H_
