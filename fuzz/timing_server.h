// The timing fuzzer's server: a raw TestServer script that plays a Script's
// reactions. Each request names itself by its target ("/N"); the server
// plays that request's reaction for the attempt it is, then the idle step,
// and keeps serving on the connection unless the reaction ends it, so a
// client that wrongly reuses a connection shows in the server's log.
//
// Gates it opens on the Timeline: "head:N" and "heard:C:S" once request N
// (request S on connection C) has arrived, or, for an early answer, once it
// is answered: a stalled body source waits for the first, the client's
// writer for the second before its last write, so an early answer always
// comes before that write. "served:N" once it is done with request N. Gates it
// waits on: "done:N" (the driver finished request N's response) before the
// idle step, and "written:C:S" (the client's writer reported request S of
// connection C) when a reaction awaits the writer.
#ifndef H1_FUZZ_TIMING_SERVER_H_
#define H1_FUZZ_TIMING_SERVER_H_

#include "fuzz/timeline.h"
#include "fuzz/timing_script.h"
#include "testserver/test_server.h"

namespace h1::fuzz {

// The script for every connection; `script` and `timeline` must outlive the
// server. Thread-safe.
testserver::TestServer::Script PlayReactions(const Script& script, Timeline& timeline);

}  // namespace h1::fuzz

#endif  // H1_FUZZ_TIMING_SERVER_H_
