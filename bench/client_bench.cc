// Benchmarks h1::Transport against the floor (a raw blocking socket loop),
// libcurl and cpp-httplib. Each case runs against one loopback server: of
// nginx (which this binary starts, tools/nginx/start.sh) and the project's
// scripted test server, whichever lets the floor go faster. Clients run
// interleaved, round by round, so drift hits them alike. Prints requests/s,
// p50/p99 latency and the ratio to the floor for each case; then h1's memory
// and threads at 64 connections, and the latency of the request after an
// early response (both against nginx). "x floor" is the median over the
// rounds of a client's requests/s over the floor's in the same round;
// "range" its lowest and highest.
//
//   bazel run -c opt //bench:client_bench [-- --rounds=N --scale=F --only=SUBSTRING
//                                             --clients=SUBSTRING]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/bench_client.h"
#include "bench/stats.h"
#include "testserver/canned.h"
#include "testserver/test_server.h"
#include "transport/thread_registry.h"
#include "transport/transport.h"

namespace h1::bench {
namespace {

// What nginx serves at /small (tools/nginx/nginx.conf).
constexpr absl::string_view kSmallBody = "hello from nginx\n";

struct Case {
  std::string name;
  std::string method;
  std::string path;
  std::string body;
  size_t expected_body_bytes;
  int connections;
  int requests_per_connection;  // Per round.
};

struct Contender {
  std::string name;
  // Makes the client factory for one run of a case with `connections`.
  std::function<ClientFactory(int connections)> make;
};

struct Server {
  std::string name;
  Target target;
};

Samples RunOnce(const Contender& contender, const Case& c) {
  ClientFactory factory = contender.make(c.connections);
  std::vector<std::unique_ptr<BenchClient>> clients;
  for (int i = 0; i < c.connections; ++i) clients.push_back(factory());
  std::vector<Samples> per_thread(c.connections);
  absl::Barrier* start = new absl::Barrier(c.connections + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < c.connections; ++t) {
    threads.emplace_back([&, t] {
      // Warm-up: every client opens its connection before the clock starts,
      // all at once, as they run (a shared pool needs as many as run at once).
      clients[t]->Fetch("GET", "/small", "").IgnoreError();
      if (start->Block()) delete start;
      Samples& mine = per_thread[t];
      for (int i = 0; i < c.requests_per_connection; ++i) {
        const absl::Time begin = absl::Now();
        absl::StatusOr<size_t> got = clients[t]->Fetch(c.method, c.path, c.body);
        mine.latencies.push_back(absl::Now() - begin);
        ++mine.requests;
        if (!got.ok() || *got != c.expected_body_bytes) ++mine.errors;
      }
    });
  }
  const absl::Time begin = absl::Now();
  if (start->Block()) delete start;
  for (auto& t : threads) t.join();
  Samples total;
  total.wall = absl::Now() - begin;
  for (const Samples& s : per_thread) {
    total.latencies.insert(total.latencies.end(), s.latencies.begin(), s.latencies.end());
    total.requests += s.requests;
    total.errors += s.errors;
  }
  return total;
}

// What one contender did over all rounds of a case.
struct Result {
  Samples total;
  // Its requests/s over the first contender's, round by round.
  std::vector<double> ratios;

  double MedianRatio() const {
    std::vector<double> sorted = ratios;
    std::sort(sorted.begin(), sorted.end());
    return sorted.empty() ? 0 : sorted[sorted.size() / 2];
  }
};

// Runs every contender `rounds` times, interleaved round by round so that
// drift hits them alike.
std::vector<Result> RunInterleaved(const std::vector<Contender>& contenders, const Case& c,
                                   int rounds) {
  std::vector<Result> results(contenders.size());
  for (int round = 0; round < rounds; ++round) {
    std::vector<Samples> runs;
    for (const Contender& contender : contenders) runs.push_back(RunOnce(contender, c));
    for (size_t k = 0; k < contenders.size(); ++k) {
      const double first = runs[0].RequestsPerSecond();
      results[k].ratios.push_back(first > 0 ? runs[k].RequestsPerSecond() / first : 0);
      results[k].total.Merge(runs[k]);
    }
  }
  return results;
}

// The clients compared, each against `server`; the floor first.
std::vector<Contender> Contenders(const Target& server) {
  return {
      {"floor (raw socket)", [server](int) { return RawSocketClients(server); }},
      {"h1::Transport", [server](int c) { return H1Clients(server, c); }},
      {"libcurl", [server](int) { return CurlClients(server); }},
      {"cpp-httplib", [server](int) { return HttplibClients(server); }},
  };
}

std::string Micros(absl::Duration d) {
  return absl::StrFormat("%.0f", absl::ToDoubleMicroseconds(d));
}

// VmRSS in KiB and Threads, from /proc/self/status.
std::pair<int64_t, int> RssAndThreads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  int64_t rss = 0;
  int threads = 0;
  while (std::getline(status, line)) {
    absl::string_view view = line;
    const bool parsed =
        absl::ConsumePrefix(&view, "VmRSS:")
            ? absl::SimpleAtoi(absl::StripSuffix(absl::StripAsciiWhitespace(view), " kB"), &rss)
        : absl::ConsumePrefix(&view, "Threads:")
            ? absl::SimpleAtoi(absl::StripAsciiWhitespace(view), &threads)
            : true;
    if (!parsed) std::fprintf(stderr, "client_bench: cannot parse \"%s\"\n", line.c_str());
  }
  return {rss, threads};
}

// Opens 64 connections at once (each dial waits until all 64 are dialling,
// so no request can take another's connection first), then reports memory
// and threads with them idle.
void ReportIdleFootprint(const Target& target) {
  constexpr int kConnections = 64;
  const auto [rss_before, threads_before] = RssAndThreads();
  std::atomic<int> dialling{0};
  absl::Notification all_dialling;
  TransportOptions options;
  options.max_idle_conns_per_host = kConnections;
  options.dial = [&](const std::string& host, uint16_t port, const DialContext& context) {
    if (++dialling == kConnections) all_dialling.Notify();
    all_dialling.WaitForNotification();
    return DialTcp(host, port, context);
  };
  Transport transport(options);
  const std::string url = absl::StrCat("http://", target.host, ":", target.port, "/small");
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<Response> response = transport.RoundTrip(Get(url));
      if (response.ok()) response->body->ReadAll().IgnoreError();
    });
  }
  for (auto& t : threads) t.join();
  // A dial whose request another connection served pools its connection
  // as its thread ends.
  if (!ThreadRegistry::Global().WaitForNoneNamed("h1-dial-", absl::Seconds(10))) {
    std::fprintf(stderr, "client_bench: dial threads still running\n");
  }
  const auto [rss_after, threads_after] = RssAndThreads();
  std::printf("h1 with %d idle connections: %d pooled, RSS +%lld KiB (%.1f KiB per connection), "
              "threads %d -> %d\n\n",
              kConnections, transport.IdleConnectionCount(),
              static_cast<long long>(rss_after - rss_before),
              static_cast<double>(rss_after - rss_before) / kConnections, threads_before,
              threads_after);
}

// A body whose last byte waits for `release`: the server answers first.
class HeldBackBody final : public BodySource {
 public:
  HeldBackBody(size_t size, const absl::Notification* release) : left_(size), release_(release) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (left_ == 0) return 0;
    if (left_ == 1) release_->WaitForNotification();
    const size_t count = left_ == 1 ? 1 : std::min(n, left_ - 1);
    std::memset(buf, 'e', count);
    left_ -= count;
    return count;
  }

 private:
  size_t left_;
  const absl::Notification* release_;
};

// The request after an early response (nginx answers /reject at once, while
// the body's last byte is held back) must not wait for the reuse grace
// period: compare with a GET on a fresh connection.
void ReportAfterEarlyResponse(const Target& target, int samples) {
  const std::string base = absl::StrCat("http://", target.host, ":", target.port);
  Transport transport;
  Samples after_early, fresh;
  for (int i = 0; i < samples; ++i) {
    absl::Notification release;
    Request post;
    post.method = "POST";
    post.url = base + "/reject";
    post.content_length = 1 << 20;
    post.body = std::make_unique<HeldBackBody>(1 << 20, &release);
    absl::StatusOr<Response> early = transport.RoundTrip(std::move(post));
    if (early.ok()) early->body->ReadAll().IgnoreError();
    absl::Time begin = absl::Now();
    absl::StatusOr<Response> next = transport.RoundTrip(Get(base + "/small"));
    if (next.ok()) next->body->ReadAll().IgnoreError();
    after_early.latencies.push_back(absl::Now() - begin);
    release.Notify();

    transport.CloseIdleConnections();
    begin = absl::Now();
    absl::StatusOr<Response> cold = transport.RoundTrip(Get(base + "/small"));
    if (cold.ok()) cold->body->ReadAll().IgnoreError();
    fresh.latencies.push_back(absl::Now() - begin);
  }
  std::printf("\nrequest after an early response: p50 %s us, p99 %s us "
              "(GET on a fresh connection: p50 %s us, p99 %s us; reuse grace period %s)\n",
              Micros(after_early.Quantile(0.5)).c_str(), Micros(after_early.Quantile(0.99)).c_str(),
              Micros(fresh.Quantile(0.5)).c_str(), Micros(fresh.Quantile(0.99)).c_str(),
              absl::FormatDuration(TransportOptions().reuse_grace_period).c_str());
}

// Serves what tools/nginx/nginx.conf serves for the benchmark's cases, so
// that the scripted test server can stand in for nginx.
testserver::TestServer::Script ServeLikeNginx() {
  return [small = testserver::OkResponse(kSmallBody),
          large = testserver::OkResponse(std::string(64 * 1024, 'n')),
          uploaded = testserver::OkResponse("uploaded\n")](testserver::PeerConn& conn) {
    for (;;) {
      absl::StatusOr<wire::RequestHead> head = conn.ReadRequestHead();
      if (!head.ok() || !conn.SkipBody().ok()) return;
      const std::string& response = head->target == "/64k"      ? large
                                    : head->target == "/upload" ? uploaded
                                                                : small;
      if (!conn.Write(response).ok()) return;
    }
  };
}

// The server for a case is whichever lets the floor client go faster (nginx
// or the project's scripted test server), so that the server is as little of
// a bottleneck as it can be: measured in three interleaved rounds of half
// the case.
const Server& FasterServer(const Case& c, const std::vector<Server>& servers) {
  std::vector<Contender> floors;
  for (const Server& server : servers) {
    floors.push_back({server.name, [t = server.target](int) { return RawSocketClients(t); }});
  }
  Case probe = c;
  probe.requests_per_connection = std::max(1, c.requests_per_connection / 2);
  const std::vector<Result> results = RunInterleaved(floors, probe, 3);
  size_t best = 0;
  std::string figures;
  for (size_t k = 0; k < servers.size(); ++k) {
    const double rate = results[k].total.RequestsPerSecond();
    if (rate > results[best].total.RequestsPerSecond()) best = k;
    absl::StrAppend(&figures, k == 0 ? "" : ", ", servers[k].name, " ",
                    absl::StrFormat("%.0f", rate));
  }
  std::printf("%s: server %s (floor req/s: %s)\n", c.name.c_str(), servers[best].name.c_str(),
              figures.c_str());
  return servers[best];
}

int Main(int argc, char** argv) {
  int rounds = 3;
  double scale = 1.0;
  absl::string_view only;  // Runs only the cases whose name contains it.
  absl::string_view clients;  // Runs only the floor and the clients whose name contains it.
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--rounds=") && absl::SimpleAtoi(arg, &rounds)) continue;
    if (absl::ConsumePrefix(&(arg = argv[i]), "--scale=") && absl::SimpleAtod(arg, &scale)) continue;
    if (absl::ConsumePrefix(&(arg = argv[i]), "--only=")) {
      only = arg;
      continue;
    }
    if (absl::ConsumePrefix(&(arg = argv[i]), "--clients=")) {
      clients = arg;
      continue;
    }
    std::fprintf(stderr,
                 "usage: client_bench [--rounds=N] [--scale=F] [--only=SUBSTRING] "
                 "[--clients=SUBSTRING]\n");
    return 2;
  }
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string nginx_dir = "/tmp/h1transport-bench-nginx";
  const std::string start = absl::StrCat(workspace ? workspace : ".", "/tools/nginx/start.sh ",
                                         nginx_dir, " 18081 >/dev/null");
  if (std::system(start.c_str()) != 0) {
    std::fprintf(stderr, "client_bench: could not start nginx (%s)\n", start.c_str());
    return 1;
  }
  const Target target{"127.0.0.1", 18081};
  testserver::TestServer scripted(ServeLikeNginx());
  const std::vector<Server> servers = {{"nginx", target},
                                       {"scripted", {"127.0.0.1", scripted.port()}}};
  const auto n = [scale](int requests) { return std::max(1, static_cast<int>(requests * scale)); };
  const std::string mib(1 << 20, 'p');
  std::vector<Case> cases = {
      {"sequential GET, 1 connection", "GET", "/small", "", 17, 1, n(5000)},
      {"GET, 8 connections", "GET", "/small", "", 17, 8, n(1000)},
      {"GET, 64 connections", "GET", "/small", "", 17, 64, n(150)},
      {"1 MiB POST, 1 connection", "POST", "/upload", mib, 9, 1, n(100)},
      {"64 KiB GET, 1 connection", "GET", "/64k", "", 65536, 1, n(1500)},
  };
  cases.erase(std::remove_if(cases.begin(), cases.end(),
                             [only](const Case& c) { return !absl::StrContains(c.name, only); }),
              cases.end());
  // First, so that no earlier case left freed memory for the connections to reuse.
  ReportIdleFootprint(target);
  std::vector<const Server*> chosen;
  for (const Case& c : cases) chosen.push_back(&FasterServer(c, servers));
  std::printf("\n%-30s %-9s %-20s %10s %9s %9s %9s %11s %7s\n", "case", "server", "client", "req/s",
              "p50 us", "p99 us", "x floor", "range", "errors");
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    std::vector<Contender> contenders = Contenders(chosen[i]->target);
    contenders.erase(std::remove_if(contenders.begin() + 1, contenders.end(),
                                    [clients](const Contender& contender) {
                                      return !absl::StrContains(contender.name, clients);
                                    }),
                     contenders.end());
    const std::vector<Result> results = RunInterleaved(contenders, c, rounds);
    for (size_t k = 0; k < contenders.size(); ++k) {
      const Samples& s = results[k].total;
      const auto [low, high] =
          std::minmax_element(results[k].ratios.begin(), results[k].ratios.end());
      std::printf("%-30s %-9s %-20s %10.0f %9s %9s %9.2f %5.2f-%.2f %7lld\n", c.name.c_str(),
                  chosen[i]->name.c_str(), contenders[k].name.c_str(), s.RequestsPerSecond(),
                  Micros(s.Quantile(0.5)).c_str(), Micros(s.Quantile(0.99)).c_str(),
                  results[k].MedianRatio(), *low, *high, static_cast<long long>(s.errors));
    }
    std::fflush(stdout);
  }
  ReportAfterEarlyResponse(target, n(200));
  const std::string stop = absl::StrCat(workspace ? workspace : ".", "/tools/nginx/stop.sh ",
                                        nginx_dir);
  if (std::system(stop.c_str()) != 0) std::fprintf(stderr, "client_bench: %s failed\n", stop.c_str());
  return 0;
}

}  // namespace
}  // namespace h1::bench

int main(int argc, char** argv) { return h1::bench::Main(argc, argv); }
