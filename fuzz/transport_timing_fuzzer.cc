// Fuzzes the real h1::Transport with adversarial server timings. The input
// is decoded into a Script first (timing_script.h): requests, and for each
// what the server does and when (answer, answer early, close or reset after
// the head, half a head, garbage, stall; then an idle step: close, reset,
// junk, a stray response, 408). The server (timing_server.h) plays it over a
// socketpair per connection; every wait is on an event (timeline.h), never
// on a clock, except the header timeout a stalled request is about.
//
// The driver sends the requests one after another, and after each waits
// until the server has caught up, so the story is the same on every run.
// Invariants, for every input:
//   - each request gets one outcome; one that must succeed gets exactly its
//     own reply, status and body; one that must fail fails; a body that
//     ends cleanly is exactly the reply's, and never another request's;
//   - the response names the connection the server saw the request on;
//   - the server sees each request as often as the retry rules allow: once,
//     or twice for an idempotent bodiless request whose reused connection
//     was closed before a byte of response;
//   - no connection carries a request after a step that makes it unfit for
//     reuse (early answer, close token, HTTP/1.0, junk, close, an error...);
//   - the server receives exactly the request the client meant: method,
//     framing, "Connection: close" when asked, body bytes;
//   - once the Transport is destroyed, no connection thread or socket is left.
// A violation aborts with the script, the outcomes, the server's log (once
// it is complete) and what the timeline was waiting for.
#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/timeline.h"
#include "fuzz/timing_script.h"
#include "fuzz/timing_server.h"
#include "testserver/test_server.h"
#include "transport/testing/recording_dialer.h"
#include "transport/testing/socket_pair_dial.h"
#include "transport/thread_registry.h"
#include "transport/transport.h"

namespace h1::fuzz {
namespace {

// Only a stuck transport takes this long; it aborts the run.
constexpr absl::Duration kWatchdog = absl::Seconds(20);

// A request body that can stall or fail part way, as the script says.
class ScriptedBody final : public BodySource {
 public:
  ScriptedBody(const ClientRequest& request, int index, absl::string_view bytes, Timeline& timeline)
      : request_(request),
        bytes_(bytes),
        head_gate_(absl::StrCat("head:", index)),
        timeline_(timeline) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (request_.fault != SourceFault::kNone && sent_ == request_.fault_after && !faulted_) {
      faulted_ = true;
      if (request_.fault == SourceFault::kFail) {
        return absl::DataLossError("the fuzzed body source failed");
      }
      timeline_.AwaitGateOrAnyClose(head_gate_);
    }
    const size_t count = std::min({n, request_.read_piece, bytes_.size() - sent_});
    bytes_.copy(buf, count, sent_);
    sent_ += count;
    return count;
  }

 private:
  const ClientRequest& request_;
  const absl::string_view bytes_;
  const std::string head_gate_;
  Timeline& timeline_;
  size_t sent_ = 0;
  bool faulted_ = false;
};

// Tells the timeline when the client closes a connection.
class WatchedConn final : public ForwardingNetConn {
 public:
  WatchedConn(std::unique_ptr<NetConn> inner, int index, Timeline& timeline)
      : ForwardingNetConn(std::move(inner)), index_(index), timeline_(timeline) {}
  ~WatchedConn() override { timeline_.ClientClosed(index_); }
  void Shutdown() override {
    ForwardingNetConn::Shutdown();
    timeline_.ClientClosed(index_);
  }

 private:
  const int index_;
  Timeline& timeline_;
};

struct Outcome {
  absl::Status error;  // Of RoundTrip, or else of reading the body.
  bool responded = false;
  int status = 0;
  uint64_t conn = 0;
  std::string body;
  bool body_ended = false;  // Read to its end without error.
};

class Run {
 public:
  explicit Run(Script script) : script_(std::move(script)) {
    for (size_t i = 0; i < script_.requests.size(); ++i) {
      request_bodies_.push_back(
          RequestBody(static_cast<int>(i) + 1, script_.requests[i].body_length));
    }
  }

  void Play() {
    testserver::TestServerOptions server_options;
    server_options.listen = false;
    auto server =
        std::make_unique<testserver::TestServer>(PlayReactions(script_, timeline_), server_options);
    testing::RecordingDialer dialer(
        testing::SocketPairDial([&server](int fd) { server->Serve(fd); }));
    {
      TransportOptions options;
      options.disable_keep_alives = script_.disable_keep_alives;
      options.max_idle_conns_per_host = script_.max_idle_conns_per_host;
      options.reuse_grace_period = script_.reuse_grace_period;
      options.response_header_timeout = script_.response_header_timeout;
      options.dial = dialer.Dial([this](int index, std::unique_ptr<NetConn> conn) {
        return std::make_unique<WatchedConn>(std::move(conn), index, timeline_);
      });
      options.test_hook = [this](HookPoint point, uint64_t conn, uint64_t seq) {
        if (point == HookPoint::kWriterReported) {
          timeline_.Open(absl::StrCat("written:", conn, ":", seq));
        } else if (point == HookPoint::kBeforeLastWrite) {
          // An early answer arrives before the last write, deterministically.
          timeline_.AwaitGate(absl::StrCat("heard:", conn, ":", seq), static_cast<int>(conn));
        }
      };
      Transport transport(options);
      for (size_t i = 0; i < script_.requests.size(); ++i) {
        outcomes_.push_back(Send(transport, static_cast<int>(i) + 1));
        timeline_.Open(absl::StrCat("done:", i + 1));
        if (!timeline_.AwaitGateWithWatchdog(absl::StrCat("served:", i + 1))) {
          Fail(absl::StrCat("the server never finished request ", i + 1));
        }
        if (!timeline_.AwaitQuiet()) Fail("the client or the server is stuck");
        CheckOutcome(static_cast<int>(i) + 1);
      }
      timeline_.OpenAll();
    }
    if (!ThreadRegistry::Global().WaitForAtMost(0, kWatchdog)) {
      Fail("connection threads outlived the Transport");
    }
    if (!dialer.AwaitOpenAtMost(0, kWatchdog)) Fail("sockets outlived the Transport");
    log_ = server->requests();
    server.reset();
    CheckServerLog();
  }

 private:
  Outcome Send(Transport& transport, int index) {
    const ClientRequest& spec = script_.requests[index - 1];
    Request request;
    request.method = spec.method;
    request.url = absl::StrCat("http://fuzz.test/", index);
    if (spec.asks_close) request.headers.Add("Connection", "close");
    if (spec.has_body) {
      request.body =
          std::make_unique<ScriptedBody>(spec, index, request_bodies_[index - 1], timeline_);
      if (!spec.chunked) request.content_length = spec.body_length;
    }
    Outcome outcome;
    absl::StatusOr<Response> response = transport.RoundTrip(std::move(request));
    if (!response.ok()) {
      outcome.error = response.status();
      return outcome;
    }
    outcome.responded = true;
    outcome.status = response->status;
    outcome.conn = response->conn.id;
    char buf[16 * 1024];
    const uint64_t limit = spec.closes_body_early ? spec.close_body_after : UINT64_MAX;
    while (outcome.body.size() < limit) {
      absl::StatusOr<size_t> got = response->body->Read(
          buf, static_cast<size_t>(std::min<uint64_t>(sizeof(buf), limit - outcome.body.size())));
      if (!got.ok()) {
        outcome.error = got.status();
        break;
      }
      if (*got == 0) {
        outcome.body_ended = true;
        break;
      }
      outcome.body.append(buf, *got);
    }
    response->body->Close();
    return outcome;
  }

  void CheckOutcome(int index) {
    const ClientRequest& request = script_.requests[index - 1];
    const Outcome& got = outcomes_[index - 1];
    const int attempts = timeline_.attempts(index);
    const Reaction& first = script_.reactions[index - 1];
    const Reaction last = ReactionFor(script_, index, attempts);
    if (!got.error.ok() && got.error.message().empty()) Fail("an error without a message");
    if (attempts < 1 || attempts > (Replayable(request) ? 2 : 1)) {
      Fail(absl::StrCat("request ", index, " reached the server ", attempts, " times"));
    }
    const bool retried = attempts == 2;
    if (retried && first.action != Action::kCloseAfterHead &&
        first.action != Action::kResetAfterHead) {
      Fail(absl::StrCat("request ", index, " was sent again after response bytes"));
    }
    if (got.responded) {
      if (got.status != last.reply.status) {
        Fail(absl::StrCat("request ", index, " got status ", got.status));
      }
      const std::string expected = ReplyHasBody(request.method, last.reply.status)
                                       ? ReplyBody(index, attempts, last.reply.body_length)
                                       : "";
      if (expected.compare(0, got.body.size(), got.body) != 0 ||
          got.body.size() > expected.size() || (got.body_ended && got.body != expected)) {
        Fail(absl::StrCat("request ", index, " got a body that is not its reply's"));
      }
    }
    if (MustSucceed(script_, request, last)) {
      const bool whole = request.closes_body_early || got.body_ended;
      if (!got.responded || !got.error.ok() || !whole) {
        Fail(absl::StrCat("request ", index, " must succeed: ", got.error.ToString()));
      }
    }
    if (!retried && MustFail(request, first) && got.error.ok()) {
      Fail(absl::StrCat("request ", index, " must fail"));
    }
  }

  void CheckServerLog() {
    std::map<int, int> attempts;
    std::set<int> unfit;  // Connections that must carry nothing more.
    for (const testserver::SeenRequest& seen : log_) {
      const int index = std::stoi(seen.target.substr(1));
      const int attempt = ++attempts[index];
      const ClientRequest& request = script_.requests[index - 1];
      const std::string what = absl::StrCat("request ", index, " (attempt ", attempt,
                                            ") on connection ", seen.connection);
      if (unfit.count(seen.connection) > 0) Fail(what + " came after the connection was unfit");
      CheckAsMeant(seen, request, index, what);
      const bool last = attempt == timeline_.attempts(index);
      const Outcome& outcome = outcomes_[index - 1];
      if (last && outcome.responded && outcome.conn != static_cast<uint64_t>(seen.connection)) {
        Fail(what + ": the response names connection " + std::to_string(outcome.conn));
      }
      if (!last || !outcome.error.ok() ||
          Poisons(script_, request, ReactionFor(script_, index, attempt))) {
        unfit.insert(seen.connection);
      }
    }
  }

  // The server received the request the client meant.
  void CheckAsMeant(const testserver::SeenRequest& seen, const ClientRequest& request, int index,
                    const std::string& what) {
    if (seen.method != request.method) Fail(what + ": wrong method");
    const std::optional<std::string> length = seen.headers.Get("Content-Length");
    const bool chunked = seen.headers.HasToken("Transfer-Encoding", "chunked");
    const bool framed_as_meant = !request.has_body ? !chunked && length.value_or("0") == "0"
                                 : request.chunked
                                     ? chunked && !length.has_value()
                                     : !chunked && length == absl::StrCat(request.body_length);
    if (!framed_as_meant) Fail(what + ": wrong body framing");
    const bool close_asked = request.asks_close || script_.disable_keep_alives;
    if (seen.headers.HasToken("Connection", "close") != close_asked) {
      Fail(what + ": wrong Connection header");
    }
    const absl::string_view body = request_bodies_[index - 1];
    if (seen.body.size() != seen.body_bytes || body.substr(0, seen.body.size()) != seen.body) {
      Fail(what + ": the server got body bytes the client did not mean");
    }
  }

  [[noreturn]] void Fail(const std::string& what) {
    std::fprintf(stderr, "transport_timing_fuzzer: %s\nscript:\n%s", what.c_str(),
                 Describe(script_).c_str());
    for (size_t i = 0; i < outcomes_.size(); ++i) {
      const Outcome& o = outcomes_[i];
      std::fprintf(stderr, "outcome %zu: %s status=%d conn=%llu body=%zu%s\n", i + 1,
                   o.error.ToString().c_str(), o.status, static_cast<unsigned long long>(o.conn),
                   o.body.size(), o.body_ended ? " (ended)" : "");
    }
    std::string log;
    for (const testserver::SeenRequest& seen : log_) {
      absl::StrAppend(&log, " ", seen.target.substr(1), "@", seen.connection);
    }
    std::fprintf(stderr, "server log (request@connection):%s\ntimeline: %s\n", log.c_str(),
                 timeline_.Pending().c_str());
    std::abort();
  }

  const Script script_;
  Timeline timeline_{kWatchdog};
  std::vector<std::string> request_bodies_;
  std::vector<Outcome> outcomes_;
  std::vector<testserver::SeenRequest> log_;  // Once the server is gone.
};

// An input starts a dozen connection and server threads, and ASan clears the
// shadow of each new thread's whole stack: with glibc's default of 8 MiB
// that costs a tenth of the run time. These threads need little stack.
bool UseSmallThreadStacks() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  const bool set = pthread_setattr_default_np(&attr) == 0;
  pthread_attr_destroy(&attr);
  return set;
}

}  // namespace
}  // namespace h1::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool small_stacks = h1::fuzz::UseSmallThreadStacks();
  (void)small_stacks;
  h1::fuzz::Run(h1::fuzz::DecodeScript(data, size)).Play();
  return 0;
}
