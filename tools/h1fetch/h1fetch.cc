// h1fetch: runs HTTP/1.1 requests in order through one h1::Transport and
// prints one JSON line per request, so scenario harnesses can drive the
// transport like any other client. See kUsage for the contract.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tools/h1fetch/fetch.h"
#include "tools/h1fetch/request_spec.h"
#include "transport/thread_registry.h"
#include "transport/transport.h"

namespace {

constexpr char kUsage[] = R"(usage: h1fetch [flags] REQUEST...

Runs each REQUEST in order through ONE h1::Transport, so connections are
reused as the transport allows. A REQUEST is one argument:

  "[METHOD] URL [body=BYTES] [sleep_before_ms=N]"

  METHOD             GET if the request starts with its URL
  body=N             send N 'x' bytes as the body, with Content-Length
  sleep_before_ms=N  sleep N ms before sending this request

After each request one JSON line is printed and flushed:

  {"i":N,"method":"GET","status":200|null,"body_bytes":N,
   "body":"<first 16 body bytes>","error":null|"text","conn":ID|null,
   "reused":true|false}

i counts from 1; body maps each byte to one code point (latin-1); status is
set once a response head was received, even if its body then failed; conn is
the transport's connection id (from 1). A request is never retried beyond the
transport's own rules. h1fetch carries on after an error and exits 0 after the
last request; it exits 2 on bad usage.

flags:
  --response_header_timeout=SECONDS  give up waiting for a response head this
                                     long after the request is written (0,
                                     the default: no limit)
  --max_idle_per_host=N              idle connections kept per host (default 2)
  --max_conns_per_host=N             connections per host; more requests
                                     wait for one (0, the default: no limit)
  --dial_timeout=SECONDS             give up connecting after this long
                                     (default 30; 0: no limit)
  --timeout=SECONDS                  deadline for each request, its body
                                     included (0, the default: none)
  --expect_continue                  send "Expect: 100-continue" with each
                                     body, and wait up to 1 s for 100 Continue
                                     before sending it
  -v, --verbose                      connection events, and the transport's
                                     stats at the end, on stderr
  --help                             this text
)";

// Reports the close of a connection on stderr.
class VerboseConn final : public h1::ForwardingNetConn {
 public:
  VerboseConn(std::unique_ptr<h1::NetConn> inner, std::string peer)
      : ForwardingNetConn(std::move(inner)), peer_(std::move(peer)) {}
  ~VerboseConn() override {
    CloseInner();
    std::fprintf(stderr, "h1fetch: closed connection to %s\n", peer_.c_str());
  }
  absl::StatusOr<size_t> TryWrite(absl::Span<const absl::string_view> pieces) override {
    return ForwardTryWrite(pieces);
  }

 private:
  std::string peer_;
};

absl::StatusOr<std::unique_ptr<h1::NetConn>> VerboseDial(const std::string& host, uint16_t port,
                                                         const h1::DialContext& context) {
  const std::string peer = absl::StrCat(host, ":", port);
  absl::StatusOr<std::unique_ptr<h1::NetConn>> conn = h1::DialTcp(host, port, context);
  if (!conn.ok()) {
    std::fprintf(stderr, "h1fetch: dial %s failed: %s\n", peer.c_str(),
                 conn.status().ToString().c_str());
    return conn;
  }
  std::fprintf(stderr, "h1fetch: dialed %s\n", peer.c_str());
  return std::make_unique<VerboseConn>(*std::move(conn), peer);
}

void RunAll(h1::Transport& transport, const std::vector<h1::fetch::RequestSpec>& specs,
            const h1::fetch::FetchOptions& fetch_options, bool verbose) {
  for (size_t i = 0; i < specs.size(); ++i) {
    absl::SleepFor(specs[i].sleep_before);
    const h1::fetch::Outcome outcome =
        h1::fetch::Fetch(transport, specs[i], static_cast<int>(i + 1), fetch_options);
    if (verbose && outcome.conn.has_value()) {
      std::fprintf(stderr, "h1fetch: request %zu on connection %llu (%s)\n", i + 1,
                   static_cast<unsigned long long>(*outcome.conn),
                   outcome.reused ? "reused" : "new");
    }
    std::printf("%s\n", h1::fetch::ToJsonLine(outcome).c_str());
    std::fflush(stdout);
  }
  if (verbose) std::fprintf(stderr, "h1fetch: stats: %s\n", transport.Stats().ToString().c_str());
}

// Parses a flag's SECONDS (0 allowed) into `*out`.
bool ParseSeconds(absl::string_view arg, absl::Duration* out) {
  double seconds = 0;
  if (!absl::SimpleAtod(arg, &seconds) || seconds < 0) return false;
  *out = absl::Seconds(seconds);
  return true;
}

int Usage(const std::string& error) {
  std::fprintf(stderr, "h1fetch: %s\n\n%s", error.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  h1::TransportOptions options;
  h1::fetch::FetchOptions fetch_options;
  bool verbose = false;
  std::vector<h1::fetch::RequestSpec> specs;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    int count = 0;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--verbose" || arg == "-v") {
      verbose = true;
    } else if (arg == "--expect_continue") {
      fetch_options.expect_continue = true;
    } else if (absl::ConsumePrefix(&arg, "--response_header_timeout=")) {
      if (!ParseSeconds(arg, &options.response_header_timeout)) {
        return Usage(absl::StrCat("--response_header_timeout needs seconds (0: no limit), got \"",
                                  arg, "\""));
      }
    } else if (absl::ConsumePrefix(&arg, "--dial_timeout=")) {
      if (!ParseSeconds(arg, &options.dial_timeout)) {
        return Usage(absl::StrCat("--dial_timeout needs seconds (0: no limit), got \"", arg, "\""));
      }
    } else if (absl::ConsumePrefix(&arg, "--timeout=")) {
      if (!ParseSeconds(arg, &fetch_options.timeout)) {
        return Usage(absl::StrCat("--timeout needs seconds (0: none), got \"", arg, "\""));
      }
    } else if (absl::ConsumePrefix(&arg, "--max_idle_per_host=")) {
      if (!absl::SimpleAtoi(arg, &count) || count < 0) {
        return Usage(absl::StrCat("--max_idle_per_host needs a count, got \"", arg, "\""));
      }
      options.max_idle_conns_per_host = count;
    } else if (absl::ConsumePrefix(&arg, "--max_conns_per_host=")) {
      if (!absl::SimpleAtoi(arg, &count) || count < 0) {
        return Usage(
            absl::StrCat("--max_conns_per_host needs a count (0: no limit), got \"", arg, "\""));
      }
      options.max_conns_per_host = count;
    } else if (absl::StartsWith(arg, "--")) {
      return Usage(absl::StrCat("unknown flag ", arg));
    } else {
      absl::StatusOr<h1::fetch::RequestSpec> spec = h1::fetch::ParseRequestSpec(arg);
      if (!spec.ok()) return Usage(std::string(spec.status().message()));
      specs.push_back(*std::move(spec));
    }
  }
  if (specs.empty()) return Usage("no REQUEST given");
  if (verbose) options.dial = VerboseDial;

  {
    h1::Transport transport(options);
    RunAll(transport, specs, fetch_options, verbose);
  }
  // Let the closed connections' threads finish (and report), so the process
  // ends cleanly rather than under them.
  h1::ThreadRegistry::Global().WaitForAtMost(0, absl::Seconds(1));
  return 0;
}

