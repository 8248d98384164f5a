// Finding the first place where our parser and a reference parser read the
// same stream differently, and what equality means there.
#ifndef H1_FUZZ_RESPONSE_DIFFERENTIAL_DIVERGENCE_H_
#define H1_FUZZ_RESPONSE_DIFFERENTIAL_DIVERGENCE_H_

#include <cstddef>
#include <optional>
#include <string>

#include "fuzz/response_differential/outcome.h"

namespace h1::fuzz {

struct Divergence {
  enum class What {
    kOursRejects,       // The reference read response `index` or ended cleanly.
    kReferenceRejects,  // We read response `index` or ended cleanly.
    kOursEnds,          // We stopped cleanly where the reference read on.
    kReferenceEnds,     // The reference stopped cleanly where we read on.
    kVersion,
    kStatus,
    kReason,
    kHeaders,
    kBody,
    kTrailers,
    kKeepAlive,
  };
  What what;
  size_t index;  // The response concerned.
};

// Field lists are equal when they have the same length and order, each name
// equals the other's ignoring ASCII case, and each value equals ours once
// the reference's loses leading and trailing SP and HTAB (RFC 9110 5.5: that
// whitespace is not part of the value; ours has dropped it already).
bool SameFields(const FieldList& ours, const FieldList& reference);

// Compares response by response: version, status, reason phrase (exact),
// header fields, body bytes, trailer fields, keep-alive. Both rejecting at
// the same response, for whatever reason, is agreement. Returns nothing
// when the outcomes agree.
std::optional<Divergence> FirstDivergence(const StreamOutcome& ours,
                                          const StreamOutcome& reference);

std::string Describe(const Divergence& divergence);

}  // namespace h1::fuzz

#endif  // H1_FUZZ_RESPONSE_DIFFERENTIAL_DIVERGENCE_H_
