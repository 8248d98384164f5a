// See timing_server.h.
#include "fuzz/timing_server.h"

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace h1::fuzz {
namespace {

using testserver::PeerConn;

constexpr absl::string_view kJunk = "\x16\x03\x01 this is not HTTP\r\n\r\n";
constexpr absl::string_view kStray = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray";
constexpr absl::string_view kRequestTimeout =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
constexpr absl::string_view kPartialHead = "HTTP/1.1 200 OK\r\nContent-Le";

// The bytes of `reply` to attempt `attempt` of request `request`.
std::string ReplyBytes(const std::string& method, int request, int attempt, const Reply& reply) {
  std::string out;
  for (int i = 0; i < reply.interim; ++i) {
    absl::StrAppend(&out, "HTTP/1.1 ", reply.interim_status, " Interim\r\n\r\n");
  }
  const bool http10 =
      reply.framing == Framing::kHttp10 || reply.framing == Framing::kHttp10KeepAlive;
  absl::StrAppend(&out, http10 ? "HTTP/1.0 " : "HTTP/1.1 ", reply.status, " Fuzzed\r\n");
  if (reply.framing == Framing::kHttp10KeepAlive) out += "Connection: keep-alive\r\n";
  if (reply.close_token) out += "Connection: close\r\n";
  // 1xx, 204 and 304 answers have no body and no framing; a HEAD answer
  // has the framing its GET would have.
  const bool bodiless_status = reply.status == 204 || reply.status == 304;
  const bool chunked = reply.framing == Framing::kChunked && !bodiless_status;
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (reply.framing != Framing::kUntilClose && !bodiless_status) {
    absl::StrAppend(&out, "Content-Length: ", reply.body_length, "\r\n");
  }
  out += "\r\n";
  if (ReplyHasBody(method, reply.status)) {
    const std::string body = ReplyBody(request, attempt, reply.body_length);
    if (!chunked) {
      out += body;
    } else {
      const size_t chunk = std::max<size_t>(1, body.size() / 3);
      for (size_t at = 0; at < body.size(); at += chunk) {
        const absl::string_view piece = absl::string_view(body).substr(at, chunk);
        absl::StrAppend(&out, absl::Hex(piece.size()), "\r\n", piece, "\r\n");
      }
      out += "0\r\n\r\n";
    }
  }
  if (reply.junk_behind) out += kJunk;
  return out;
}

// One connection, played request by request.
class Player {
 public:
  Player(const Script& script, Timeline& timeline, PeerConn& conn)
      : script_(script), timeline_(timeline), conn_(conn) {}

  void Run() {
    for (;;) {
      absl::StatusOr<wire::RequestHead> head = conn_.ReadRequestHead();
      if (!head.ok()) return;
      ++sequence_;
      int request = 0;
      if (!absl::SimpleAtoi(absl::string_view(head->target).substr(1), &request) || request < 1 ||
          request > static_cast<int>(script_.requests.size())) {
        return;
      }
      if (!Play(request, head->method)) {
        last_request_ = request;
        return;
      }
      timeline_.Open(absl::StrCat("served:", request));
    }
  }

  // The request the connection ended with, if any; it is served once the
  // connection is closed.
  int last_request() const { return last_request_; }

 private:
  // Plays the reaction to the request that just arrived; false once the
  // connection is over.
  bool Play(int request, const std::string& method) {
    const int attempt = timeline_.CountAttempt(request);
    const Reaction reaction = ReactionFor(script_, request, attempt);
    // Opens the gates that wait for the server to have taken in the head:
    // the body source's (stalled) and the writer's (at its last write).
    const auto heard = [&] {
      timeline_.Open(absl::StrCat("head:", request));
      timeline_.Open(absl::StrCat("heard:", conn_.index(), ":", sequence_));
    };
    const std::string reply = ReplyBytes(method, request, attempt, reaction.reply);
    const Reply& shape = reaction.reply;
    switch (reaction.action) {
      case Action::kAnswer:
        heard();
        if (!conn_.ReadBody().ok()) return false;
        if (reaction.await_writer &&
            !timeline_.AwaitGate(absl::StrCat("written:", conn_.index(), ":", sequence_),
                                 conn_.index())) {
          return false;
        }
        if (!WriteReply(reply, shape)) return false;
        return IdleStep(request, reaction.idle);
      case Action::kAnswerEarly: {
        if (!conn_.ReadBody(reaction.early_prefix).ok()) return false;
        const bool written = WriteReply(reply, shape);
        heard();
        if (!written) return false;
        switch (reaction.after_early) {
          case AfterEarly::kDiscardUntilEof:
            conn_.DiscardUntilEof();
            return false;
          case AfterEarly::kDrainAndServe:
            if (!conn_.ReadBody().ok()) return false;
            return IdleStep(request, reaction.idle);
          case AfterEarly::kClose:
            return false;
          case AfterEarly::kReset:
            conn_.Reset();
            return false;
        }
        return false;
      }
      case Action::kCloseAfterHead:
        heard();
        return false;
      case Action::kResetAfterHead:
        heard();
        conn_.Reset();
        return false;
      case Action::kPartialHeadThenClose:
      case Action::kPartialHeadThenReset:
        heard();
        if (conn_.ReadBody().ok() && conn_.Write(kPartialHead).ok() &&
            reaction.action == Action::kPartialHeadThenReset) {
          conn_.Reset();
        }
        return false;
      case Action::kGarbage:
        heard();
        // Serves on: a client that took the garbage for a close-delimited
        // answer and kept the connection shows in the log.
        return conn_.ReadBody().ok() && conn_.Write(kJunk).ok();
      case Action::kStall:
        heard();
        if (conn_.ReadBody().ok()) timeline_.AwaitGate("never", conn_.index());
        return false;
    }
    return false;
  }

  bool WriteReply(const std::string& reply, const Reply& shape) {
    const absl::Status written =
        shape.write_piece == 0 ? conn_.Write(reply) : conn_.WriteInPieces(reply, shape.write_piece);
    return written.ok() && shape.framing != Framing::kUntilClose;
  }

  // After a reply on a connection the server keeps: waits until the client
  // has finished the response, then plays the idle step.
  bool IdleStep(int request, Idle idle) {
    if (!timeline_.AwaitGate(absl::StrCat("done:", request), conn_.index())) return false;
    if (IdlePoisons(idle)) timeline_.ExpectClientClose(conn_.index());
    switch (idle) {
      case Idle::kNone:
        return true;
      case Idle::kClose:
        return false;
      case Idle::kReset:
        conn_.Reset();
        return false;
      case Idle::kJunk:
        return conn_.Write(kJunk).ok();
      case Idle::kStrayResponse:
        return conn_.Write(kStray).ok();
      case Idle::kRequestTimeout:
        conn_.Write(kRequestTimeout).IgnoreError();
        return false;
    }
    return false;
  }

  const Script& script_;
  Timeline& timeline_;
  PeerConn& conn_;
  int sequence_ = 0;  // Requests seen on this connection.
  int last_request_ = 0;
};

}  // namespace

testserver::TestServer::Script PlayReactions(const Script& script, Timeline& timeline) {
  return [&script, &timeline](PeerConn& conn) {
    Player player(script, timeline, conn);
    player.Run();
    // Finished means closed: a request the client sends after this fails to
    // be written, rather than landing in a socket nobody will read.
    conn.Shutdown();
    timeline.ServerFinished(conn.index());
    if (player.last_request() > 0) timeline.Open(absl::StrCat("served:", player.last_request()));
  };
}

}  // namespace h1::fuzz
