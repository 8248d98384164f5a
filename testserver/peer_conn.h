// PeerConn: one accepted connection of a TestServer, seen raw. A script (or
// a handler that hijacked the connection) drives it step by step: read a
// request head or a whole request, read or skip the body, write bytes (whole
// or in pieces), half-close, reset, wait for the client to close, wait for a
// test's gate. Every request head read goes into the server's log, in the
// order received, and the log follows how much of its body was read.
//
// Thread-compatible: only the connection's own thread uses it, except
// Shutdown, which the server calls from any thread to wake it.
#ifndef H1_TESTSERVER_PEER_CONN_H_
#define H1_TESTSERVER_PEER_CONN_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/message_head.h"

namespace h1::testserver {

class TestServer;

// What the server saw of one request.
struct SeenRequest {
  int connection = 0;  // The connection's accept order, from 1.
  int sequence = 0;    // The request's order on that connection, from 1.
  std::string method;
  std::string target;
  wire::Headers headers;
  std::string body;         // The body bytes read with ReadBody.
  uint64_t body_bytes = 0;  // All body bytes read, also by SkipBody.
  // The client closed, or reset, the connection before the body's end.
  bool client_closed_mid_body = false;
};

class PeerConn {
 public:
  static constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();

  PeerConn(TestServer* server, int index, int fd);
  // Closes the socket.
  ~PeerConn();
  PeerConn(const PeerConn&) = delete;
  PeerConn& operator=(const PeerConn&) = delete;

  // The connection's accept order, from 1.
  int index() const { return index_; }

  // Reads the next request head and logs the request; its body is then
  // read with ReadBody or SkipBody, or skipped by the next ReadRequestHead.
  absl::StatusOr<wire::RequestHead> ReadRequestHead();
  // Reads a whole request, head and body, and returns its log entry.
  absl::StatusOr<SeenRequest> ReadRequest();
  // Reads up to `max` bytes of the current request's body (fewer only at
  // its end) and returns them; they are also kept in the log.
  absl::StatusOr<std::string> ReadBody(uint64_t max = kAll);
  // As ReadBody, but drops the bytes (the log counts them). Returns how
  // many were read.
  absl::StatusOr<uint64_t> SkipBody(uint64_t max = kAll);
  // Reads up to `n` bytes of the current request's body into `buf`; 0 at
  // its end. For handlers that stream a body.
  absl::StatusOr<size_t> ReadBodyInto(char* buf, size_t n);
  // Whether the current request's body has been read to its end.
  bool body_done() const;

  absl::Status Write(absl::string_view bytes);
  // Writes `bytes` in pieces of `piece` bytes, one send each (the socket
  // has TCP_NODELAY, so each can arrive on its own).
  absl::Status WriteInPieces(absl::string_view bytes, size_t piece);
  // As WriteInPieces, waiting `gap` of wall-clock time before each piece:
  // for scenarios about a timeout only.
  absl::Status Trickle(absl::string_view bytes, size_t piece, absl::Duration gap);
  // Half-close: no more bytes from the server; the client sees EOF.
  void CloseWrite();
  // Closes with a TCP reset instead of a FIN. Nothing else may be done with
  // the connection afterwards. (A Unix socket has no reset: its peer reads
  // ECONNRESET if bytes it sent were left unread, else end of stream.)
  void Reset();

  // Waits until the client closes (EOF) or resets the connection; returns
  // false if bytes arrive instead (they stay unread), or after `timeout`.
  bool AwaitClientClose(absl::Duration timeout);
  // Reads and drops input until the client closes or resets.
  void DiscardUntilEof();
  // Waits until the server's gate `name` is opened. Returns false if the
  // server shuts the connection down first.
  bool AwaitGate(absl::string_view name);

  // Wakes the connection's thread from a blocking socket step. Called by
  // the server, from any thread (which also ends its gate waits).
  void Shutdown();

 private:
  class FdSource;

  // Reads up to `n` body bytes into `buf` for ReadBody/SkipBody, logging
  // them (and keeping them if `keep`).
  absl::StatusOr<size_t> ReadBodyPiece(char* buf, size_t n, bool keep);
  absl::StatusOr<uint64_t> ReadBodyUpTo(uint64_t max, std::string* kept);

  TestServer* const server_;
  const int index_;
  // After Reset, an unconnected socket stands in for the connection, so the
  // descriptor stays valid for Shutdown and later steps fail cleanly.
  const int fd_;
  std::unique_ptr<FdSource> source_;
  wire::BufferedReader in_;
  int requests_read_ = 0;
  // The current request: its log entry and its body.
  size_t log_entry_ = 0;
  std::optional<wire::BodyReader> body_;
};

}  // namespace h1::testserver

#endif  // H1_TESTSERVER_PEER_CONN_H_
