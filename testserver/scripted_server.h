// ScriptedServer: a loopback HTTP/1.1 peer for tests whose every connection
// runs a script written by the test: read requests, answer early or late,
// stall, half-close, reset, send garbage. It shares the wire format with the
// transport, never the transport itself.
#ifndef H1_TESTSERVER_SCRIPTED_SERVER_H_
#define H1_TESTSERVER_SCRIPTED_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/message_head.h"

namespace h1::testserver {

// What the server saw of one request.
struct SeenRequest {
  int connection = 0;  // Accept order, from 1.
  std::string method;
  std::string target;
  wire::Headers headers;
  std::string body;
};

class ScriptedServer;

// One accepted connection, handed to the script on its own thread.
// Thread-compatible: only the script's thread uses it (Shutdown aside).
class PeerConn {
 public:
  PeerConn(ScriptedServer* server, int index, int fd);
  ~PeerConn();
  PeerConn(const PeerConn&) = delete;
  PeerConn& operator=(const PeerConn&) = delete;

  int index() const { return index_; }
  // Reads a request head; the body stays unread.
  absl::StatusOr<wire::RequestHead> ReadRequestHead();
  // Reads a whole request (head and body) and logs it with the server.
  absl::StatusOr<SeenRequest> ReadRequest();
  // Reads and drops the body of the request whose head was just read; not
  // logged. Returns the number of body bytes.
  absl::StatusOr<uint64_t> SkipRequestBody(const wire::RequestHead& head);
  absl::Status Write(absl::string_view bytes);
  // Reads and drops input until the client closes or resets.
  void DiscardUntilEof();
  // Half-close: no more bytes from the server; the client sees EOF.
  void CloseWrite();
  // Closes with a TCP reset instead of a FIN. Nothing else may be done with
  // the connection afterwards.
  void Reset();
  // Waits until the client closes the connection (EOF or error on read).
  // Returns false if bytes arrive instead, or after `timeout`.
  bool AwaitClientClose(absl::Duration timeout);
  // Wakes a script blocked on this connection (server shutdown).
  void Shutdown();

 private:
  class FdSource;

  // Reads the body of the request whose head was just read, handing each
  // piece to `sink`.
  absl::Status ReadRequestBody(const wire::RequestHead& head,
                               absl::FunctionRef<void(absl::string_view)> sink);

  ScriptedServer* const server_;
  const int index_;
  // -1 once Reset closed it; written under the server's lock.
  int fd_;
  std::unique_ptr<FdSource> source_;
  wire::BufferedReader in_;
};

// Thread-safe.
class ScriptedServer {
 public:
  using Script = std::function<void(PeerConn&)>;

  // Listens on 127.0.0.1 (an ephemeral port) and runs `script` on a new
  // thread for every accepted connection.
  explicit ScriptedServer(Script script);
  // Shuts every connection down and joins every thread.
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  uint16_t port() const { return port_; }
  std::string Url(absl::string_view path = "/") const;
  int connections_accepted() const;
  std::vector<SeenRequest> requests() const;

 private:
  friend class PeerConn;
  void AcceptLoop();
  void Log(SeenRequest request);

  const Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<PeerConn*> live_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> handlers_ ABSL_GUARDED_BY(mu_);
  std::vector<SeenRequest> requests_ ABSL_GUARDED_BY(mu_);
};

// A 200 response with a Content-Length body.
std::string OkResponse(absl::string_view body, absl::string_view extra_headers = "");

// A script that answers every request on a connection with `response`,
// keeping the connection open until the client closes it.
ScriptedServer::Script AnswerEvery(std::string response);

}  // namespace h1::testserver

#endif  // H1_TESTSERVER_SCRIPTED_SERVER_H_
