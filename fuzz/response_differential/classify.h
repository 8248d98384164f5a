// Naming a divergence between our parser and a reference parser: each kind
// is one known behaviour that explains it, checked as closely as the two
// outcomes allow (our error message, the reference's HPE_* name, reason,
// failing byte and place). Anything else is "unexplained: ...", so a new
// bug is never swallowed by a broad kind. Which kinds are justified is
// fuzz/response_differential_differences.inc's business, not this file's.
#ifndef H1_FUZZ_RESPONSE_DIFFERENTIAL_CLASSIFY_H_
#define H1_FUZZ_RESPONSE_DIFFERENTIAL_CLASSIFY_H_

#include <string>

#include "fuzz/response_differential/divergence.h"
#include "fuzz/response_differential/outcome.h"

namespace h1::fuzz {

enum class Reference { kHttpParser, kLlhttp };

std::string Classify(Reference reference, const Divergence& divergence, const StreamOutcome& ours,
                     const StreamOutcome& theirs);

}  // namespace h1::fuzz

#endif  // H1_FUZZ_RESPONSE_DIFFERENTIAL_CLASSIFY_H_
