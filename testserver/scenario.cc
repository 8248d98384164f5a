// See scenario.h. The scenarios themselves are in scenarios.cc.
#include "testserver/scenario.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace h1::testserver {
namespace {

constexpr absl::Duration kLingerLimit = absl::Seconds(30);

// Plays one step; false ends the connection.
bool PlayStep(const Step& step, PeerConn& conn) {
  switch (step.kind) {
    case Step::Kind::kReadRequest:
      return conn.ReadRequest().ok();
    case Step::Kind::kReadHead:
      return conn.ReadRequestHead().ok();
    case Step::Kind::kReadBody:
      return conn.SkipBody(step.count == 0 ? PeerConn::kAll : step.count).ok();
    case Step::Kind::kWrite:
      return step.count == 0 ? conn.Write(step.bytes).ok()
                             : conn.WriteInPieces(step.bytes, step.count).ok();
    case Step::Kind::kWriteRepeated: {
      const std::string block(64 * 1024, step.bytes[0]);
      for (size_t left = step.count; left > 0;) {
        const size_t n = std::min(left, block.size());
        if (!conn.Write(absl::string_view(block).substr(0, n)).ok()) return false;
        left -= n;
      }
      return true;
    }
    case Step::Kind::kTrickle:
      return conn.Trickle(step.bytes, step.count, step.gap).ok();
    case Step::Kind::kCloseWrite:
      conn.CloseWrite();
      return true;
    case Step::Kind::kReset:
      conn.Reset();
      return false;
    case Step::Kind::kLinger:
      // A request that arrives on a connection the server is done with is
      // logged, so a client that should not have sent it shows in the log.
      if (!conn.AwaitClientClose(kLingerLimit)) conn.ReadRequestHead().IgnoreError();
      return false;
    case Step::Kind::kDiscardUntilEof:
      conn.DiscardUntilEof();
      return false;
    case Step::Kind::kAwaitGate:
      return conn.AwaitGate(step.bytes);
    case Step::Kind::kAnswerEvery:
      while (conn.ReadRequest().ok()) {
        if (!conn.Write(step.bytes).ok()) break;
      }
      return false;
  }
  return false;
}

Step Make(Step::Kind kind, std::string bytes = "", size_t count = 0,
          absl::Duration gap = absl::ZeroDuration()) {
  return Step{kind, std::move(bytes), count, gap};
}

}  // namespace

Step ReadRequest() { return Make(Step::Kind::kReadRequest); }
Step ReadHead() { return Make(Step::Kind::kReadHead); }
Step ReadBody(size_t count) { return Make(Step::Kind::kReadBody, "", count); }
Step Write(std::string bytes) { return Make(Step::Kind::kWrite, std::move(bytes)); }
Step WriteInPieces(std::string bytes, size_t piece) {
  return Make(Step::Kind::kWrite, std::move(bytes), std::max<size_t>(piece, 1));
}
Step WriteRepeated(char byte, size_t count) {
  return Make(Step::Kind::kWriteRepeated, std::string(1, byte), count);
}
Step Trickle(std::string bytes, size_t piece, absl::Duration gap) {
  return Make(Step::Kind::kTrickle, std::move(bytes), piece, gap);
}
Step CloseWrite() { return Make(Step::Kind::kCloseWrite); }
Step Reset() { return Make(Step::Kind::kReset); }
Step Linger() { return Make(Step::Kind::kLinger); }
Step DiscardUntilEof() { return Make(Step::Kind::kDiscardUntilEof); }
Step AwaitGate(std::string name) { return Make(Step::Kind::kAwaitGate, std::move(name)); }
Step AnswerEvery(std::string response) {
  return Make(Step::Kind::kAnswerEvery, std::move(response));
}

std::string Ok(const std::string& body, const std::string& extra_headers) {
  return absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(), "\r\n", extra_headers,
                      "\r\n", body);
}

TestServer::Script Play(std::vector<std::vector<Step>> connections) {
  return [connections = std::move(connections)](PeerConn& conn) {
    if (connections.empty()) return;
    const size_t which = std::min<size_t>(conn.index(), connections.size()) - 1;
    for (const Step& step : connections[which]) {
      if (!PlayStep(step, conn)) return;
    }
  };
}

}  // namespace h1::testserver
