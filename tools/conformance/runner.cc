// See runner.h.
#include "tools/conformance/runner.h"

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "testserver/test_server.h"
#include "tools/h1fetch/request_spec.h"
#include "transport/testing/recording_dialer.h"
#include "transport/thread_registry.h"
#include "transport/transport.h"

namespace h1::conformance {
namespace {

constexpr absl::Duration kLeakWait = absl::Seconds(10);

// Whether `got` is the `expected` outcome. An expected error is met by any
// error: clients differ in what they report of an answer they rejected
// (the status line they saw, the body bytes before the fault).
bool Meets(const testserver::Outcome& got, const testserver::Outcome& expected) {
  if (expected.error) return got.error;
  return !got.error && got.status == expected.status && got.body_bytes == expected.body_bytes &&
         got.body_prefix == expected.body_prefix;
}

// The request number in a target "/<scenario>/<N>", or 0.
int RequestNumber(const std::string& target) {
  int n = 0;
  const size_t slash = target.rfind('/');
  return slash != std::string::npos && absl::SimpleAtoi(target.substr(slash + 1), &n) ? n : 0;
}

std::string Judge(const testserver::Scenario& scenario, const Verdict& v) {
  if (!v.run.failure.empty()) return absl::StrCat("client: ", v.run.failure);
  for (size_t i = 0; i < scenario.expected.size(); ++i) {
    if (i >= v.run.outcomes.size()) return absl::StrCat("no outcome for request ", i + 1);
    if (!Meets(v.run.outcomes[i], scenario.expected[i])) {
      return absl::StrCat("request ", i + 1, ": expected ", Describe(scenario.expected[i]),
                          ", got ", Describe(v.run.outcomes[i]),
                          v.run.errors[i].empty() ? "" : absl::StrCat(" (", v.run.errors[i], ")"));
    }
  }
  if (v.log != scenario.log_pattern) {
    return absl::StrCat("server log: expected ", scenario.log_pattern, ", got ", v.log);
  }
  if (v.run.threads_left > 0 || v.run.sockets_left > 0) {
    return absl::StrCat("left behind: ", v.run.threads_left, " threads, ", v.run.sockets_left,
                        " sockets");
  }
  return "";
}

// The first failed run of a scenario, or null if every run passed.
const Verdict* FirstFailure(const std::vector<Verdict>& runs) {
  for (const Verdict& v : runs) {
    if (!v.pass) return &v;
  }
  return nullptr;
}

std::string Left(const ClientRun& run) {
  if (run.threads_left < 0) return "-";
  return absl::StrCat(run.threads_left, "/", run.sockets_left);
}

}  // namespace

Verdict RunScenario(const testserver::Scenario& scenario, Client& client,
                    const testserver::TestServerOptions& server_options) {
  Verdict v;
  v.scenario = &scenario;
  auto server =
      std::make_unique<testserver::TestServer>(testserver::Play(scenario.connections), server_options);
  v.run = client.Run(scenario, server->Url(""), [server = server.get()](int n) {
    server->OpenGate(absl::StrCat("after:", n));
  });
  // Every request the server saw is in its log by now: it logs a head as
  // soon as it reads it, before it answers.
  std::vector<std::string> log;
  for (const testserver::SeenRequest& seen : server->requests()) {
    log.push_back(absl::StrCat(RequestNumber(seen.target), "@", seen.connection));
    if (seen.sequence > 1) ++v.reused;
  }
  v.log = absl::StrJoin(log, " ");
  v.connections = server->connections_accepted();
  if (v.run.hung) {
    server.release();  // The stuck client may still open its gates.
    v.why = absl::StrCat("client: ", v.run.failure, "; server log ", v.log);
    return v;
  }
  v.why = Judge(scenario, v);
  v.pass = v.why.empty();
  return v;
}

std::string Describe(const testserver::Outcome& outcome) {
  if (outcome.status == 0) return outcome.error ? "!" : "?";
  return absl::StrCat(outcome.status, ":", outcome.body_bytes, "'",
                      absl::CHexEscape(outcome.body_prefix.substr(0, 8)),
                      outcome.body_prefix.size() > 8 ? "..." : "", "'", outcome.error ? "!" : "");
}

std::string DescribeExpected(const testserver::Scenario& scenario) {
  std::vector<std::string> parts;
  for (const testserver::Outcome& outcome : scenario.expected) parts.push_back(Describe(outcome));
  return absl::StrCat(absl::StrJoin(parts, " "), " [", scenario.log_pattern, "]");
}

std::string DescribeGot(const Verdict& verdict) {
  std::vector<std::string> parts;
  for (const testserver::Outcome& outcome : verdict.run.outcomes) {
    parts.push_back(Describe(outcome));
  }
  if (!verdict.run.failure.empty()) parts.push_back("(client failed)");
  return absl::StrCat(absl::StrJoin(parts, " "), " [", verdict.log, "]");
}

std::string Table(const std::vector<std::vector<Verdict>>& runs_per_scenario,
                  const std::string& client) {
  std::string out = absl::StrCat(
      "client: ", client, "\n\n",
      "| scenario | expected | got | verdict | conns dialled/reused | threads/sockets left |\n",
      "| --- | --- | --- | --- | ---: | ---: |\n");
  int passed = 0;
  for (const std::vector<Verdict>& runs : runs_per_scenario) {
    const Verdict* first_failure = FirstFailure(runs);
    const Verdict* shown = first_failure != nullptr ? first_failure : &runs.front();
    const int failed = static_cast<int>(
        std::count_if(runs.begin(), runs.end(), [](const Verdict& v) { return !v.pass; }));
    if (failed == 0) ++passed;
    const std::string verdict =
        failed == 0 ? (runs.size() > 1 ? absl::StrCat("pass (", runs.size(), ")") : "pass")
                    : absl::StrCat("FAIL (", failed, "/", runs.size(), ")");
    absl::StrAppend(&out, "| ", shown->scenario->name, " | ", DescribeExpected(*shown->scenario),
                    " | ", DescribeGot(*shown), " | ", verdict, " | ", shown->connections, "/",
                    shown->reused, " | ", Left(shown->run), " |\n");
  }
  absl::StrAppend(&out, "\n", passed, " of ", runs_per_scenario.size(), " scenarios passed\n");
  for (const std::vector<Verdict>& runs : runs_per_scenario) {
    if (const Verdict* failed = FirstFailure(runs)) {
      absl::StrAppend(&out, failed->scenario->name, ": ", failed->why, "\n");
    }
  }
  return out;
}

std::string Matrix(const std::vector<std::vector<std::vector<Verdict>>>& runs,
                   const std::vector<std::string>& clients) {
  std::string out = "| scenario | what the server does |";
  std::string rule = "| --- | --- |";
  for (const std::string& client : clients) {
    absl::StrAppend(&out, " ", client, " |");
    rule += " --- |";
  }
  absl::StrAppend(&out, "\n", rule, "\n");
  std::string failures;
  std::vector<int> passed(clients.size(), 0);
  for (size_t s = 0; s < runs.front().size(); ++s) {
    const testserver::Scenario& scenario = *runs.front()[s].front().scenario;
    absl::StrAppend(&out, "| ", scenario.name, " | ", scenario.hostile, " |");
    for (size_t c = 0; c < clients.size(); ++c) {
      const Verdict* failed = FirstFailure(runs[c][s]);
      absl::StrAppend(&out, " ", failed == nullptr ? "pass" : "FAIL", " |");
      if (failed == nullptr) {
        ++passed[c];
      } else {
        absl::StrAppend(&failures, "- ", clients[c], ", ", scenario.name, ": ", failed->why,
                        "\n");
      }
    }
    out += "\n";
  }
  absl::StrAppend(&out, "| passed | |");
  for (int count : passed) absl::StrAppend(&out, " ", count, " of ", runs.front().size(), " |");
  absl::StrAppend(&out, "\n\n", failures);
  return out;
}

std::string JsonLine(const Verdict& v, const std::string& client) {
  return absl::StrCat("{\"client\":", fetch::JsonQuote(client),
                      ",\"scenario\":", fetch::JsonQuote(v.scenario->name),
                      ",\"pass\":", v.pass ? "true" : "false",
                      ",\"expected\":", fetch::JsonQuote(DescribeExpected(*v.scenario)),
                      ",\"got\":", fetch::JsonQuote(DescribeGot(v)),
                      ",\"connections\":", v.connections, ",\"reused\":", v.reused,
                      ",\"threads_left\":", v.run.threads_left,
                      ",\"sockets_left\":", v.run.sockets_left,
                      ",\"why\":", fetch::JsonQuote(v.why), "}");
}

SoakReport Soak(absl::Duration duration, int threads, uint64_t seed) {
  std::vector<const testserver::Scenario*> eligible;
  for (const testserver::Scenario& scenario : testserver::AllScenarios()) {
    if (scenario.header_timeout == absl::ZeroDuration()) eligible.push_back(&scenario);
  }
  SoakReport report;
  absl::Mutex mu;
  testing::RecordingDialer dialer;
  {
    TransportOptions options;
    options.dial = dialer.Dial();
    Transport transport(options);
    const absl::Time end = absl::Now() + duration;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        std::mt19937_64 rng(seed + t);
        std::unique_ptr<Client> client = SharedTransportClient(transport);
        while (absl::Now() < end) {
          // Each server on its own loopback address: see TestServerOptions.
          testserver::TestServerOptions server_options;
          server_options.address = absl::StrCat("127.", 1 + rng() % 254, ".", rng() % 256, ".",
                                                1 + rng() % 254);
          Verdict v = RunScenario(*eligible[rng() % eligible.size()], *client, server_options);
          absl::MutexLock lock(&mu);
          ++report.runs;
          if (!v.pass) report.failures.push_back(std::move(v));
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
  }
  ThreadRegistry& registry = ThreadRegistry::Global();
  registry.WaitForAtMost(0, kLeakWait);
  dialer.AwaitOpenAtMost(0, kLeakWait);
  report.threads_left = registry.LiveCount();
  report.sockets_left = dialer.open();
  return report;
}

}  // namespace h1::conformance
