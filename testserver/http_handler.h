// Handler mode of the TestServer: what a handler gets for one request (its
// head and a reader for its body) and the ResponseWriter it answers with,
// framed as a real server frames it, in the manner of Go's net/http:
//
//  - a Content-Length header set by the handler is used as given;
//  - otherwise a body written in full before the handler returns (and not
//    flushed) gets a Content-Length;
//  - a body flushed, or larger than a small buffer, before the handler
//    returns goes chunked (to an HTTP/1.0 client: until the connection
//    closes);
//  - HEAD, 1xx, 204 and 304 responses carry no body.
//
// After the handler returns, what is left of the request body is read and
// dropped, and the connection is kept for the next request unless either
// side asked to close, the body could not be drained, or the handler cut
// its own Content-Length short. A handler can Hijack() the connection: the
// server then writes nothing more and closes it when the handler returns.
//
// Thread-compatible: only the connection's thread uses them.
#ifndef H1_TESTSERVER_HTTP_HANDLER_H_
#define H1_TESTSERVER_HTTP_HANDLER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "testserver/peer_conn.h"
#include "transport/wire/headers.h"
#include "transport/wire/message_head.h"

namespace h1::testserver {

class ServerRequest {
 public:
  ServerRequest(wire::RequestHead head, PeerConn& conn) : head_(std::move(head)), conn_(conn) {}

  const std::string& method() const { return head_.method; }
  const std::string& target() const { return head_.target; }
  const wire::Headers& headers() const { return head_.headers; }
  const wire::RequestHead& head() const { return head_; }

  // Reads up to `n` body bytes (Content-Length or chunked); 0 at the end.
  absl::StatusOr<size_t> Read(char* buf, size_t n) { return conn_.ReadBodyInto(buf, n); }
  // Reads the rest of the body.
  absl::StatusOr<std::string> ReadAll() { return conn_.ReadBody(); }

 private:
  const wire::RequestHead head_;
  PeerConn& conn_;
};

class ResponseWriter {
 public:
  ResponseWriter(const ServerRequest& request, PeerConn& conn);

  // The response's header fields; changes after the head is sent are
  // ignored.
  wire::Headers& headers() { return headers_; }
  // Sets the status (200 unless called); only before the head is sent.
  void WriteHeader(int status);
  // Adds body bytes; they go out when the buffer fills, on Flush, or when
  // the handler returns. Fails past a Content-Length the handler set.
  absl::Status Write(absl::string_view bytes);
  // Sends the head and every byte written so far.
  absl::Status Flush();

  // Hands the raw connection, with any bytes the client sent that are still
  // unread, to the handler, until it returns. Nothing is sent for the
  // request unless the handler sends it.
  PeerConn& Hijack();
  bool hijacked() const { return hijacked_; }

  // Called by the server when the handler has returned: finishes the
  // response. Returns whether the connection can carry another request.
  bool Finish();

 private:
  // How the body is delimited, once the head is sent.
  enum class Framing { kUnsent, kNone, kContentLength, kChunked, kUntilClose };

  absl::Status SendHead(bool complete);
  absl::Status SendBody(absl::string_view bytes);
  bool BodyAllowed() const;

  const bool head_request_;
  const bool http10_;
  const bool client_asked_close_;
  PeerConn& conn_;
  wire::Headers headers_;
  int status_ = 200;
  std::string buffered_;
  Framing framing_ = Framing::kUnsent;
  std::optional<uint64_t> declared_length_;  // A Content-Length the handler set.
  uint64_t body_sent_ = 0;
  bool hijacked_ = false;
  bool broken_ = false;  // A write failed or overran: close after.
};

using Handler = std::function<void(ServerRequest&, ResponseWriter&)>;

// Serves requests on `conn` with `handler` until either side closes it, a
// request is malformed, or the handler hijacks it.
void ServeHttp(PeerConn& conn, const Handler& handler);

}  // namespace h1::testserver

#endif  // H1_TESTSERVER_HTTP_HANDLER_H_
