// The transport timing fuzzer's script: what the client asks, and what the
// server does with each request and with the idle connection after it,
// decoded from the fuzzer's input before any thread starts. Waits in the
// script are logical (a request's head arrived, the client's writer
// reported, the client finished the response), never wall-clock, so an
// input always plays the same story. Also what that story means: which
// steps leave a connection unfit for reuse, and what the client must get.
//
// Pure data and functions; thread-compatible.
#ifndef H1_FUZZ_TIMING_SCRIPT_H_
#define H1_FUZZ_TIMING_SCRIPT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace h1::fuzz {

// How the request body's source behaves.
enum class SourceFault {
  kNone,
  kStall,  // Blocks after `fault_after` bytes until the server has the head
           // (or has answered early).
  kFail,   // Fails after `fault_after` bytes.
};

struct ClientRequest {
  std::string method;
  bool has_body = false;
  bool chunked = false;  // Sent without a Content-Length.
  uint64_t body_length = 0;
  size_t read_piece = 1;  // Bytes per BodySource::Read.
  SourceFault fault = SourceFault::kNone;
  // A multiple of read_piece below body_length: the bytes the writer has
  // sent (head included) when the fault strikes.
  uint64_t fault_after = 0;
  bool asks_close = false;  // Sends "Connection: close".
  // Closes the response body after this many bytes instead of reading it to
  // the end.
  bool closes_body_early = false;
  uint64_t close_body_after = 0;
};

// How a reply's body is framed.
enum class Framing {
  kLength,
  kChunked,
  kUntilClose,       // No length: the server closes after the body.
  kHttp10KeepAlive,  // HTTP/1.0, Connection: keep-alive, Content-Length.
  kHttp10,           // HTTP/1.0 with a Content-Length: not reusable.
};

struct Reply {
  int interim = 0;  // 1xx heads before it.
  int interim_status = 100;
  int status = 200;
  Framing framing = Framing::kLength;
  bool close_token = false;  // "Connection: close".
  uint64_t body_length = 0;
  size_t write_piece = 0;    // Written in pieces of this many bytes; 0: at once.
  bool junk_behind = false;  // Bytes right behind it, in the same write.
};

// What the server does with one attempt of a request.
enum class Action {
  kAnswer,                // Reads the whole request, then replies.
  kAnswerEarly,           // Reads the head and `early_prefix` body bytes, replies.
  kCloseAfterHead,        // Reads the head, closes without a byte.
  kResetAfterHead,        // Reads the head, resets without a byte.
  kPartialHeadThenClose,  // Reads the request, sends part of a head, closes.
  kPartialHeadThenReset,  // ... resets.
  kGarbage,               // Reads the request, answers with bytes that are not HTTP.
  kStall,                 // Reads the request, never answers: the client's header
                          // timer must fire.
};

// What the server does after an early reply.
enum class AfterEarly {
  kDiscardUntilEof,  // Keeps reading and dropping the body (the seed of Go 7569).
  kDrainAndServe,    // Reads the body's rest, then serves the next request.
  kClose,
  kReset,
};

// What the server does with the connection once the client has finished
// the response (the server keeps serving on it otherwise, so a client that
// wrongly reuses a connection shows in the server's log).
enum class Idle {
  kNone,
  kClose,  // FIN.
  kReset,
  kJunk,            // Bytes that are not HTTP, then serves on.
  kStrayResponse,   // A whole valid response nobody asked for, then serves on.
  kRequestTimeout,  // 408 with Connection: close, then FIN.
};

struct Reaction {
  Action action = Action::kAnswer;
  uint64_t early_prefix = 0;
  AfterEarly after_early = AfterEarly::kDiscardUntilEof;
  // Replies only once the client's writer has reported the request written.
  bool await_writer = false;
  Reply reply;
  Idle idle = Idle::kNone;
};

struct Script {
  bool disable_keep_alives = false;
  int max_idle_conns_per_host = 2;
  absl::Duration reuse_grace_period;
  // Set only when a request stalls: a timer is the behaviour under test.
  absl::Duration response_header_timeout;
  std::vector<ClientRequest> requests;
  std::vector<Reaction> reactions;  // One per request, for its first attempt.
};

Script DecodeScript(const uint8_t* data, size_t size);

// The reaction to attempt `attempt` (from 1) of request `request` (from 1):
// the script's for the first, a plain 200 for a retry.
Reaction ReactionFor(const Script& script, int request, int attempt);

// The body bytes of request `request`, and of the reply to its attempt
// `attempt`: each distinct, so a body given to the wrong request shows.
std::string RequestBody(int request, uint64_t length);
std::string ReplyBody(int request, int attempt, uint64_t length);

// Whether a reply to `method` with this status carries a body.
bool ReplyHasBody(const std::string& method, int status);

// Idempotent and bodiless: the transport may send it again after a server
// closed a reused connection without a byte of response.
bool Replayable(const ClientRequest& request);

// Whether the connection must never carry another request once the server
// has played `reaction` to `request` on it (the idle step included).
bool Poisons(const Script& script, const ClientRequest& request, const Reaction& reaction);

// Whether the server's idle step ends the connection's usefulness: the
// client must close it even though it had kept it.
bool IdlePoisons(Idle idle);

// Whether the client must get the reply whole and without error (the body
// read to its end is exactly ReplyBody), whatever the scheduling.
bool MustSucceed(const Script& script, const ClientRequest& request, const Reaction& reaction);

// Whether the client must get an error for the request (or its body), unless
// the transport sent it again (see Replayable).
bool MustFail(const ClientRequest& request, const Reaction& reaction);

// Human-readable, for a failure report.
std::string Describe(const Script& script);

}  // namespace h1::fuzz

#endif  // H1_FUZZ_TIMING_SCRIPT_H_
