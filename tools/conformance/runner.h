// Runs scenarios (testserver/scenario.h) against a client and judges them:
// each request's outcome against the scenario's, the server's log against
// its pattern, and, for the in-process client, what it left behind.
#ifndef H1_TOOLS_CONFORMANCE_RUNNER_H_
#define H1_TOOLS_CONFORMANCE_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "testserver/scenario.h"
#include "testserver/test_server.h"
#include "tools/conformance/client.h"

namespace h1::conformance {

// One run of one scenario.
struct Verdict {
  const testserver::Scenario* scenario = nullptr;
  ClientRun run;
  std::string log;  // The server's log, in the scenario's "R@C" form.
  int connections = 0;    // Accepted by the server.
  int reused = 0;         // Requests that came on a connection already used.
  bool pass = false;
  std::string why;  // What differed, when it failed.
};

// A client that hangs leaves the scenario's server running (leaked): the
// caller should stop there.
Verdict RunScenario(const testserver::Scenario& scenario, Client& client,
                    const testserver::TestServerOptions& server_options = {});

// "200:5'early'" for a response, "200:5'12345'!" for one whose body failed,
// "!" for no response at all.
std::string Describe(const testserver::Outcome& outcome);
// All of a scenario's expected outcomes and log pattern, or a run's.
std::string DescribeExpected(const testserver::Scenario& scenario);
std::string DescribeGot(const Verdict& verdict);

// A table with a row per scenario (several runs of one scenario fold into
// one row, failing if any failed), and a JSON line per run.
std::string Table(const std::vector<std::vector<Verdict>>& runs_per_scenario,
                  const std::string& client);
std::string JsonLine(const Verdict& verdict, const std::string& client);
// Scenarios by client (`runs[client][scenario]`): pass or FAIL, with what
// each failing client got listed below the table.
std::string Matrix(const std::vector<std::vector<std::vector<Verdict>>>& runs,
                   const std::vector<std::string>& clients);

// From `threads` threads at once for `duration`, runs randomly chosen
// scenarios (those without a header timeout) through one shared Transport,
// checking every run as above; at the end, nothing may be left of the
// Transport. Returns the failed runs, and the counts.
struct SoakReport {
  int runs = 0;
  std::vector<Verdict> failures;
  int threads_left = 0;
  int sockets_left = 0;
};
SoakReport Soak(absl::Duration duration, int threads, uint64_t seed);

}  // namespace h1::conformance

#endif  // H1_TOOLS_CONFORMANCE_RUNNER_H_
