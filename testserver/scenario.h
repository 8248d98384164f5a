// Scenario: one hostile or broken server behaviour as data, in the manner
// of Chromium's SequencedSocketData: what the server does on each
// connection (an ordered list of steps), the requests the client sends, the
// outcome a correct client reaches for each, and the pattern the server's
// log must show (which connection carried which request, how many times).
//
// A step may wait on a gate. The runner opens gate "after:N" once the
// client's outcome for request N is known, so a script can, say, hold a
// request body unread until the client has read the early response, with
// no clock involved. Wall-clock steps (Trickle, a client's delay) appear
// only in scenarios about a timeout or an idle connection.
//
// Thread-compatible data; Play's script is thread-safe.
#ifndef H1_TESTSERVER_SCENARIO_H_
#define H1_TESTSERVER_SCENARIO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "testserver/test_server.h"

namespace h1::testserver {

// One thing the server does on a connection.
struct Step {
  enum class Kind {
    kReadRequest,      // A whole request, head and body.
    kReadHead,         // A request head; its body stays unread.
    kReadBody,         // `count` bytes of the current body (all if 0).
    kWrite,            // `bytes`, in pieces of `count` bytes if count > 0.
    kWriteRepeated,    // `count` copies of bytes[0], streamed.
    kTrickle,          // `bytes` in pieces of `count`, `gap` apart.
    kCloseWrite,       // FIN: the client reads EOF.
    kReset,            // RST; the connection is over.
    kLinger,           // Keeps the connection until the client closes it;
                       // logs a request that arrives instead, unanswered.
    kDiscardUntilEof,  // Reads and drops everything until the client closes.
    kAwaitGate,        // Waits until the runner opens gate `bytes`.
    kAnswerEvery,      // Answers every further request with `bytes`.
  };
  Kind kind;
  std::string bytes;
  size_t count = 0;
  absl::Duration gap;
};

// Steps, for tables that read like scripts.
Step ReadRequest();
Step ReadHead();
Step ReadBody(size_t count = 0);
Step Write(std::string bytes);
Step WriteInPieces(std::string bytes, size_t piece);
Step WriteRepeated(char byte, size_t count);
Step Trickle(std::string bytes, size_t piece, absl::Duration gap);
Step CloseWrite();
Step Reset();
Step Linger();
Step DiscardUntilEof();
Step AwaitGate(std::string name);
Step AnswerEvery(std::string response);

// A 200 response with a Content-Length body.
std::string Ok(const std::string& body, const std::string& extra_headers = "");

// One request of a scenario. The runner gives it the target
// "/<scenario>/<N>" (N from 1), so the server's log names it.
struct ClientRequest {
  std::string method = "GET";
  uint64_t body_bytes = 0;      // 'x' bytes, sent with Content-Length.
  absl::Duration delay_before;  // Wall clock, before the request is sent.
};

// What a client reached for one request; also what a scenario expects.
struct Outcome {
  int status = 0;            // 0: no response head.
  uint64_t body_bytes = 0;   // Body bytes read before the end or the error.
  std::string body_prefix;   // The first 16 of them.
  bool error = false;        // The request or its body failed.
};

struct Scenario {
  std::string name;
  // One line: what the hostile or broken server does.
  std::string hostile;
  // The steps for connection N (accept order, from 1); the last list also
  // serves every later connection.
  std::vector<std::vector<Step>> connections;
  std::vector<ClientRequest> requests;
  std::vector<Outcome> expected;  // One per request.
  // The server's log, in the order the requests arrived: "R@C" means
  // request R was seen on connection C, e.g. "1@1 2@1 2@2" for a request 2
  // sent again on a second connection.
  std::string log_pattern;
  // The client's response header timeout; zero: none.
  absl::Duration header_timeout;
};

// The raw script that plays `connections`. A step that fails (the client
// closed, the gate was not opened before the server shut down) ends the
// connection.
TestServer::Script Play(std::vector<std::vector<Step>> connections);

// Every scenario, in a stable order.
const std::vector<Scenario>& AllScenarios();

}  // namespace h1::testserver

#endif  // H1_TESTSERVER_SCENARIO_H_
