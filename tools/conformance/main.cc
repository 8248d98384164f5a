// conformance: runs every scenario of the test server's library against an
// HTTP/1.1 client and prints what a correct client gets next to what this
// one got. See kUsage.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "testserver/scenario.h"
#include "tools/conformance/client.h"
#include "tools/conformance/runner.h"

namespace {

constexpr char kUsage[] = R"(usage: conformance [flags]

Runs the scenario library (testserver/scenarios.cc: hostile and broken
servers, each with what a correct client gets) against a client, and prints
a table: scenario, expected, got, verdict, connections the server accepted
and reused, and the client's threads and sockets left after it. An outcome
reads STATUS:BODY_BYTES'FIRST_BYTES', '!' marking an error (an expected
error is met by any error); "[1@1 2@2]" is the server's log: request 1 on
connection 1, request 2 on connection 2. Exits 1 if any scenario fails.

flags:
  --list              the scenarios, each with what its server does
  --only=REGEX        only the scenarios whose name matches
  --repeat=N          each scenario N times (a row fails if any run did)
  --json              a JSON line per run instead of the table
  --client=CMD        run the requests through CMD, a program speaking
                      h1fetch's contract (one argument per request, one JSON
                      line per outcome), instead of the in-process
                      h1::Transport; e.g. --client=bazel-bin/tools/h1fetch/h1fetch.
                      "h1" names the in-process transport. Given more than
                      once: a table of scenarios by client, pass or FAIL
  --soak=SECONDS      run random scenarios from --threads=N threads (4) at
                      once through one shared Transport, --seed=S (1)
)";

int Usage(const std::string& error) {
  std::fprintf(stderr, "conformance: %s\n\n%s", error.c_str(), kUsage);
  return 2;
}

int RunSoak(int seconds, int threads, uint64_t seed) {
  const h1::conformance::SoakReport report =
      h1::conformance::Soak(absl::Seconds(seconds), threads, seed);
  for (const h1::conformance::Verdict& v : report.failures) {
    std::printf("FAIL %s: %s\n", v.scenario->name.c_str(), v.why.c_str());
  }
  std::printf("soak: %d runs from %d threads in %ds, %zu failed; %d threads and %d sockets left\n",
              report.runs, threads, seconds, report.failures.size(), report.threads_left,
              report.sockets_left);
  return report.failures.empty() && report.threads_left == 0 && report.sockets_left == 0 ? 0
                                                                                          : 1;
}

}  // namespace

int main(int argc, char** argv) {
  bool list = false;
  bool json = false;
  std::string only = ".*";
  std::vector<std::string> commands;
  int repeat = 1;
  int soak_seconds = 0;
  int threads = 4;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--list") {
      list = true;
    } else if (arg == "--json") {
      json = true;
    } else if (absl::ConsumePrefix(&arg, "--only=")) {
      only = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--client=")) {
      commands.emplace_back(arg);
    } else if (absl::ConsumePrefix(&arg, "--repeat=")) {
      if (!absl::SimpleAtoi(arg, &repeat) || repeat < 1) return Usage("--repeat needs a count");
    } else if (absl::ConsumePrefix(&arg, "--soak=")) {
      if (!absl::SimpleAtoi(arg, &soak_seconds) || soak_seconds < 1) {
        return Usage("--soak needs seconds");
      }
    } else if (absl::ConsumePrefix(&arg, "--threads=")) {
      if (!absl::SimpleAtoi(arg, &threads) || threads < 1) return Usage("--threads needs a count");
    } else if (absl::ConsumePrefix(&arg, "--seed=")) {
      if (!absl::SimpleAtoi(arg, &seed)) return Usage("--seed needs a number");
    } else {
      return Usage(absl::StrCat("unknown argument ", arg));
    }
  }
  if (soak_seconds > 0) return RunSoak(soak_seconds, threads, seed);

  std::regex pattern;
  try {
    pattern = std::regex(only);
  } catch (const std::regex_error& e) {
    return Usage(absl::StrCat("--only: ", e.what()));
  }
  std::vector<const h1::testserver::Scenario*> chosen;
  for (const h1::testserver::Scenario& scenario : h1::testserver::AllScenarios()) {
    if (std::regex_search(scenario.name, pattern)) chosen.push_back(&scenario);
  }
  if (chosen.empty()) return Usage(absl::StrCat("no scenario matches \"", only, "\""));
  if (list) {
    for (const h1::testserver::Scenario* scenario : chosen) {
      std::printf("%-36s %s\n", scenario->name.c_str(), scenario->hostile.c_str());
    }
    return 0;
  }

  if (commands.empty()) commands.push_back("h1");
  bool all_passed = true;
  std::vector<std::string> names;
  std::vector<std::vector<std::vector<h1::conformance::Verdict>>> per_client;
  for (const std::string& command : commands) {
    std::unique_ptr<h1::conformance::Client> client =
        command == "h1" ? h1::conformance::InProcessClient(absl::Seconds(60))
                        : h1::conformance::CommandClient(command, absl::Seconds(20));
    names.push_back(client->name());
    std::vector<std::vector<h1::conformance::Verdict>>& runs = per_client.emplace_back();
    for (const h1::testserver::Scenario* scenario : chosen) {
      std::vector<h1::conformance::Verdict>& scenario_runs = runs.emplace_back();
      scenario_runs.reserve(repeat);
      for (int r = 0; r < repeat; ++r) {
        scenario_runs.push_back(h1::conformance::RunScenario(*scenario, *client));
        const h1::conformance::Verdict& v = scenario_runs.back();
        all_passed = all_passed && v.pass;
        if (json) std::printf("%s\n", JsonLine(v, client->name()).c_str());
        std::fflush(stdout);
        if (v.run.hung) {
          // Its threads are stuck in this process: nothing after it would
          // mean anything, and the process cannot end them but by ending.
          if (!json) std::fputs(h1::conformance::Table(runs, client->name()).c_str(), stdout);
          std::printf("stopped after %s: the client hung.\n", scenario->name.c_str());
          std::fflush(stdout);
          std::_Exit(1);
        }
      }
    }
    if (!json && commands.size() == 1) {
      std::fputs(h1::conformance::Table(runs, client->name()).c_str(), stdout);
    }
  }
  if (!json && commands.size() > 1) {
    std::fputs(h1::conformance::Matrix(per_client, names).c_str(), stdout);
  }
  return all_passed ? 0 : 1;
}
