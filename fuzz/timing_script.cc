// See timing_script.h.
#include "fuzz/timing_script.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace h1::fuzz {
namespace {

// Request bodies larger than a socket buffer make the writer block while the
// server answers early.
constexpr uint64_t kLargeRequestBody = 300 * 1024;
constexpr uint64_t kLargeReplyBody = 100 * 1024;
// Enough pieces per body to interleave, few enough to keep an input fast.
constexpr uint64_t kMaxPieces = 64;
// Short, so that inputs with a stall stay fast; the timer's behaviour, not
// its length, is under test.
constexpr absl::Duration kStallHeaderTimeout = absl::Milliseconds(2);

uint64_t BodyLength(FuzzedDataProvider& in, uint64_t large) {
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0:
    case 1:
      return 0;
    case 2:
    case 3:
    case 4:
      return in.ConsumeIntegralInRange<uint64_t>(1, 64);
    case 5:
    case 6:
      return in.ConsumeIntegralInRange<uint64_t>(65, 8192);
    default:
      return in.ConsumeIntegralInRange<uint64_t>(large / 2, large);
  }
}

// A piece size for `total` bytes: from one byte up, but never more than
// kMaxPieces pieces.
size_t PieceSize(FuzzedDataProvider& in, uint64_t total) {
  const uint64_t smallest = std::max<uint64_t>(1, (total + kMaxPieces - 1) / kMaxPieces);
  const uint64_t piece = uint64_t{1} << in.ConsumeIntegralInRange(0, 17);
  return static_cast<size_t>(std::max(smallest, piece));
}

ClientRequest DecodeRequest(FuzzedDataProvider& in) {
  static const char* const kMethods[] = {"GET",  "GET", "HEAD",   "POST",
                                         "POST", "PUT", "DELETE", "OPTIONS"};
  ClientRequest request;
  request.method = kMethods[in.ConsumeIntegralInRange<size_t>(0, std::size(kMethods) - 1)];
  const bool usually_has_body = request.method == "POST" || request.method == "PUT";
  // A GET with a body is rare but legal, and must never be sent again.
  request.has_body = in.ConsumeIntegralInRange(0, 7) >= (usually_has_body ? 2 : 7);
  if (request.has_body) {
    request.chunked = in.ConsumeBool();
    request.body_length = BodyLength(in, kLargeRequestBody);
    request.read_piece = PieceSize(in, request.body_length);
    const uint64_t fault_slots =
        request.body_length > 0 ? (request.body_length - 1) / request.read_piece : 0;
    const int fault = in.ConsumeIntegralInRange(0, 5);
    if (fault_slots > 0 && fault >= 4) {
      request.fault = fault == 4 ? SourceFault::kStall : SourceFault::kFail;
      request.fault_after =
          request.read_piece * in.ConsumeIntegralInRange<uint64_t>(1, fault_slots);
    }
  }
  request.asks_close = in.ConsumeIntegralInRange(0, 15) == 15;
  request.closes_body_early = in.ConsumeIntegralInRange(0, 7) == 7;
  request.close_body_after = in.ConsumeIntegralInRange<uint64_t>(0, kLargeReplyBody);
  return request;
}

// Body bytes the writer has sent when it comes to the request's last write
// (0 if the head goes out with it): it reads the body `read_piece` bytes at
// a time; with Content-Length it holds the last piece back until the source
// has shown its end; chunked, it sends every piece before the last chunk.
// A stalled source has sent `fault_after` bytes.
uint64_t BytesBeforeLastWrite(const ClientRequest& request) {
  if (request.body_length == 0) return 0;
  if (request.fault == SourceFault::kStall) return request.fault_after;
  if (request.chunked) return request.body_length;
  return (request.body_length - 1) / request.read_piece * request.read_piece;
}

Reply DecodeReply(FuzzedDataProvider& in) {
  static const int kStatuses[] = {200, 200, 201, 204, 304, 404, 413, 500};
  static const int kInterim[] = {100, 102, 103};
  static const Framing kFramings[] = {
      Framing::kLength,     Framing::kLength,          Framing::kChunked, Framing::kChunked,
      Framing::kUntilClose, Framing::kHttp10KeepAlive, Framing::kHttp10};
  Reply reply;
  reply.interim = in.ConsumeIntegralInRange(0, 3) == 3 ? in.ConsumeIntegralInRange(1, 2) : 0;
  reply.interim_status = kInterim[in.ConsumeIntegralInRange<size_t>(0, std::size(kInterim) - 1)];
  reply.status = kStatuses[in.ConsumeIntegralInRange<size_t>(0, std::size(kStatuses) - 1)];
  reply.framing = kFramings[in.ConsumeIntegralInRange<size_t>(0, std::size(kFramings) - 1)];
  reply.close_token = in.ConsumeIntegralInRange(0, 7) == 7;
  reply.body_length = BodyLength(in, kLargeReplyBody);
  reply.write_piece = in.ConsumeBool() ? PieceSize(in, reply.body_length + 64) : 0;
  // Behind a body that ends with the connection, junk would be body.
  reply.junk_behind = in.ConsumeIntegralInRange(0, 7) == 7 && reply.framing != Framing::kUntilClose;
  return reply;
}

Reaction DecodeReaction(FuzzedDataProvider& in, const ClientRequest& request) {
  static const Action kActions[] = {Action::kAnswer,
                                    Action::kAnswer,
                                    Action::kAnswer,
                                    Action::kAnswerEarly,
                                    Action::kAnswerEarly,
                                    Action::kCloseAfterHead,
                                    Action::kResetAfterHead,
                                    Action::kPartialHeadThenClose,
                                    Action::kPartialHeadThenReset,
                                    Action::kGarbage,
                                    Action::kStall};
  static const AfterEarly kAfterEarly[] = {AfterEarly::kDiscardUntilEof, AfterEarly::kDrainAndServe,
                                           AfterEarly::kClose, AfterEarly::kReset};
  static const Idle kIdle[] = {Idle::kNone,          Idle::kNone,          Idle::kNone,
                               Idle::kClose,         Idle::kReset,         Idle::kJunk,
                               Idle::kStrayResponse, Idle::kRequestTimeout};
  Reaction reaction;
  reaction.action = kActions[in.ConsumeIntegralInRange<size_t>(0, std::size(kActions) - 1)];
  // An answer is early only if it comes before the request's last write,
  // so only a request written in two writes or more can have one (the
  // client holds its last write until the server has answered).
  const uint64_t before_last_write = BytesBeforeLastWrite(request);
  if (reaction.action == Action::kAnswerEarly && before_last_write == 0) {
    reaction.action = Action::kAnswer;
  }
  if (reaction.action == Action::kAnswerEarly) {
    reaction.early_prefix = in.ConsumeIntegralInRange<uint64_t>(0, before_last_write - 1);
    reaction.after_early =
        kAfterEarly[in.ConsumeIntegralInRange<size_t>(0, std::size(kAfterEarly) - 1)];
  }
  reaction.await_writer = reaction.action == Action::kAnswer && in.ConsumeBool();
  reaction.reply = DecodeReply(in);
  reaction.idle = kIdle[in.ConsumeIntegralInRange<size_t>(0, std::size(kIdle) - 1)];
  return reaction;
}

// A pattern that differs for each `seed`: 26 letters in an order that
// depends on it, repeated.
std::string Pattern(uint64_t length, int seed, char base) {
  std::string cycle(26, '\0');
  for (int i = 0; i < 26; ++i) cycle[i] = static_cast<char>(base + (i * 7 + seed * 5) % 26);
  std::string bytes = std::move(cycle);
  bytes.reserve(length);
  // Doubling: a few large copies instead of one per cycle.
  while (bytes.size() < length) bytes.append(bytes, 0, std::min(bytes.size(), length - bytes.size()));
  bytes.resize(length);
  return bytes;
}

}  // namespace

// Where the input runs out, FuzzedDataProvider yields the smallest values:
// the first choice of every list, and each rare option's value 0, is the
// plain case.
Script DecodeScript(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Script script;
  script.disable_keep_alives = in.ConsumeIntegralInRange(0, 15) == 15;
  script.max_idle_conns_per_host = in.ConsumeIntegralInRange(0, 15) == 15 ? 0 : 2;
  script.reuse_grace_period = in.ConsumeBool() ? absl::ZeroDuration() : absl::Seconds(1);
  const int count = in.ConsumeIntegralInRange(1, 5);
  // Requests past the input's end would all be alike: plain GETs.
  for (int i = 0; i < count && (i == 0 || in.remaining_bytes() > 0); ++i) {
    script.requests.push_back(DecodeRequest(in));
    script.reactions.push_back(DecodeReaction(in, script.requests.back()));
    if (script.reactions.back().action == Action::kStall) {
      script.response_header_timeout = kStallHeaderTimeout;
    }
  }
  return script;
}

Reaction ReactionFor(const Script& script, int request, int attempt) {
  if (attempt == 1) return script.reactions[request - 1];
  Reaction retry;
  retry.reply.body_length = 16;
  return retry;
}

std::string RequestBody(int request, uint64_t length) { return Pattern(length, request, 'a'); }

std::string ReplyBody(int request, int attempt, uint64_t length) {
  std::string bytes = absl::StrCat("r", request, "a", attempt, ":");
  bytes.resize(std::min<uint64_t>(bytes.size(), length));
  return bytes + Pattern(length - bytes.size(), request * 10 + attempt, 'A');
}

bool ReplyHasBody(const std::string& method, int status) {
  return method != "HEAD" && status != 204 && status != 304 && status >= 200;
}

bool Replayable(const ClientRequest& request) {
  const std::string& m = request.method;
  return !request.has_body && (m == "GET" || m == "HEAD" || m == "OPTIONS");
}

bool IdlePoisons(Idle idle) { return idle != Idle::kNone; }

bool Poisons(const Script& script, const ClientRequest& request, const Reaction& reaction) {
  const Reply& reply = reaction.reply;
  return script.disable_keep_alives || script.max_idle_conns_per_host == 0 || request.asks_close ||
         request.fault == SourceFault::kFail || reaction.action != Action::kAnswer ||
         reply.close_token || reply.framing == Framing::kUntilClose ||
         reply.framing == Framing::kHttp10 || reply.junk_behind || IdlePoisons(reaction.idle);
}

bool MustSucceed(const Script& script, const ClientRequest& request, const Reaction& reaction) {
  // After an early answer ending with the connection, the client's write
  // error may come first and end the response.
  const bool server_completes =
      reaction.action == Action::kAnswer ||
      (reaction.action == Action::kAnswerEarly && reaction.reply.framing != Framing::kUntilClose &&
       (reaction.after_early == AfterEarly::kDiscardUntilEof ||
        reaction.after_early == AfterEarly::kDrainAndServe));
  return server_completes && request.fault != SourceFault::kFail &&
         script.response_header_timeout == absl::ZeroDuration();
}

bool MustFail(const ClientRequest& request, const Reaction& reaction) {
  switch (reaction.action) {
    case Action::kAnswer:
      return request.fault == SourceFault::kFail;
    case Action::kAnswerEarly:
      return false;
    default:
      return true;
  }
}

std::string Describe(const Script& script) {
  static const char* const kActions[] = {"answer",
                                         "answer-early",
                                         "close-after-head",
                                         "reset-after-head",
                                         "partial-head-close",
                                         "partial-head-reset",
                                         "garbage",
                                         "stall"};
  static const char* const kAfterEarly[] = {"discard-until-eof", "drain-and-serve", "close",
                                            "reset"};
  static const char* const kFramings[] = {"length", "chunked", "until-close", "http10-keep-alive",
                                          "http10"};
  static const char* const kIdle[] = {"none", "close",          "reset",
                                      "junk", "stray-response", "request-timeout"};
  std::string out =
      absl::StrCat("keep_alives=", !script.disable_keep_alives,
                   " idle_per_host=", script.max_idle_conns_per_host,
                   " grace=", absl::FormatDuration(script.reuse_grace_period),
                   " header_timeout=", absl::FormatDuration(script.response_header_timeout), "\n");
  for (size_t i = 0; i < script.requests.size(); ++i) {
    const ClientRequest& q = script.requests[i];
    const Reaction& r = script.reactions[i];
    const Reply& p = r.reply;
    absl::StrAppend(&out, "  ", i + 1, ": ", q.method);
    if (q.has_body) {
      absl::StrAppend(&out, " body=", q.body_length, q.chunked ? " chunked" : "",
                      " read_piece=", q.read_piece);
    }
    if (q.fault == SourceFault::kStall) absl::StrAppend(&out, " stall@", q.fault_after);
    if (q.fault == SourceFault::kFail) absl::StrAppend(&out, " fail@", q.fault_after);
    if (q.asks_close) out += " asks-close";
    if (q.closes_body_early) absl::StrAppend(&out, " reads<=", q.close_body_after);
    absl::StrAppend(&out, " | ", kActions[static_cast<int>(r.action)]);
    if (r.action == Action::kAnswerEarly) {
      absl::StrAppend(&out, " after ", r.early_prefix, " bytes, then ",
                      kAfterEarly[static_cast<int>(r.after_early)]);
    }
    if (r.await_writer) out += " awaits-writer";
    absl::StrAppend(&out, " | ",
                    p.interim > 0 ? absl::StrCat(p.interim, "x", p.interim_status, " ") : "",
                    p.status, " ", kFramings[static_cast<int>(p.framing)], " body=", p.body_length,
                    p.write_piece > 0 ? absl::StrCat(" write_piece=", p.write_piece) : "",
                    p.close_token ? " close" : "", p.junk_behind ? " junk-behind" : "", " | idle ",
                    kIdle[static_cast<int>(r.idle)], "\n");
  }
  return out;
}

}  // namespace h1::fuzz
