// Runs llhttp 8.1.0 (strict: no lenient flags) over an Exchange, as a client
// embedding it would, through ReferenceCollector.
#ifndef H1_FUZZ_RESPONSE_DIFFERENTIAL_LLHTTP_REFERENCE_H_
#define H1_FUZZ_RESPONSE_DIFFERENTIAL_LLHTTP_REFERENCE_H_

#include "fuzz/response_differential/outcome.h"

namespace h1::fuzz {

// Rejection::error is the HPE_* name and Rejection::reason llhttp's error
// reason; or UPGRADE when the parser left HTTP for another protocol (101
// with Upgrade), or EOF_AFTER_INTERIM.
StreamOutcome RunLlhttp(const Exchange& exchange);

}  // namespace h1::fuzz

#endif  // H1_FUZZ_RESPONSE_DIFFERENTIAL_LLHTTP_REFERENCE_H_
