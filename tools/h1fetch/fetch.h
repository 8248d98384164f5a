// Fetch: one request of h1fetch's contract through an h1::Transport, read to
// its outcome (status, body bytes and their first 16, error, connection).
// Shared by h1fetch and the conformance runner's in-process client.
#ifndef H1_TOOLS_H1FETCH_FETCH_H_
#define H1_TOOLS_H1FETCH_FETCH_H_

#include "absl/time/time.h"
#include "tools/h1fetch/request_spec.h"
#include "transport/transport.h"

namespace h1::fetch {

// What applies to every request of a run.
struct FetchOptions {
  // Deadline for the request and the reading of its body; zero: none.
  absl::Duration timeout = absl::ZeroDuration();
  // Sends "Expect: 100-continue" with a body.
  bool expect_continue = false;
};

// Sends `spec` (its sleep_before is the caller's to honour) and reads the
// whole body, keeping only its first bytes. `index` numbers the outcome.
Outcome Fetch(Transport& transport, const RequestSpec& spec, int index,
              const FetchOptions& options = {});

}  // namespace h1::fetch

#endif  // H1_TOOLS_H1FETCH_FETCH_H_
