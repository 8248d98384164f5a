// Runs http-parser 2.9.4 (strict mode) over an Exchange, as a client
// embedding it would, through ReferenceCollector.
#ifndef H1_FUZZ_RESPONSE_DIFFERENTIAL_HTTP_PARSER_REFERENCE_H_
#define H1_FUZZ_RESPONSE_DIFFERENTIAL_HTTP_PARSER_REFERENCE_H_

#include "fuzz/response_differential/outcome.h"

namespace h1::fuzz {

// Rejection::error is the HPE_* name, or UPGRADE when the parser left HTTP
// for another protocol (101 with Upgrade), or EOF_AFTER_INTERIM.
StreamOutcome RunHttpParser(const Exchange& exchange);

}  // namespace h1::fuzz

#endif  // H1_FUZZ_RESPONSE_DIFFERENTIAL_HTTP_PARSER_REFERENCE_H_
