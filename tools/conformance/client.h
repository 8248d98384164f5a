// The clients the conformance runner drives: the in-process h1::Transport,
// or any program that speaks h1fetch's command-line contract (one argument
// per request, one JSON line per outcome; tools/h1fetch/request_spec.h).
#ifndef H1_TOOLS_CONFORMANCE_CLIENT_H_
#define H1_TOOLS_CONFORMANCE_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "testserver/scenario.h"
#include "transport/transport.h"

namespace h1::conformance {

// What a client did with a scenario's requests.
struct ClientRun {
  std::vector<testserver::Outcome> outcomes;  // One per request it answered.
  std::vector<std::string> errors;            // The error text of each, or "".
  // Left once the client was done: connection threads and open sockets.
  // -1 where the client cannot tell (another process).
  int threads_left = -1;
  int sockets_left = -1;
  std::string failure;  // Why the client stopped early, if it did.
  // The client is stuck inside a request (in this process): its threads may
  // still use the scenario's server, which must then be left running.
  bool hung = false;
};

// Thread-compatible; Run may be called again for the next scenario.
class Client {
 public:
  virtual ~Client() = default;
  virtual std::string name() const = 0;
  // Sends the scenario's requests to `base_url` + "/<scenario>/<N>" in
  // order, calling `after(N)` as soon as request N's outcome is known.
  virtual ClientRun Run(const testserver::Scenario& scenario, const std::string& base_url,
                        const std::function<void(int)>& after) = 0;
};

// A fresh h1::Transport per scenario, with the scenario's header timeout;
// after each run it waits for the transport's threads and sockets to go. A
// run that has not finished within `deadline` is reported hung.
std::unique_ptr<Client> InProcessClient(absl::Duration deadline);

// Requests through `transport`, shared by many threads (the soak): no
// per-scenario options, no per-scenario leak count.
std::unique_ptr<Client> SharedTransportClient(Transport& transport);

// Runs `command` (split at spaces) once per scenario with the requests as
// arguments, and --response_header_timeout=SECONDS when the scenario has
// one. A client that has not finished within `deadline` is killed.
std::unique_ptr<Client> CommandClient(std::string command, absl::Duration deadline);

}  // namespace h1::conformance

#endif  // H1_TOOLS_CONFORMANCE_CLIENT_H_
