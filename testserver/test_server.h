// TestServer: a loopback HTTP/1.1 server for tests, in the manner of Go's
// httptest.Server, that can also turn adversarial.
//
//   TestServer server([](ServerRequest& request, ResponseWriter& w) {
//     w.headers().Add("Content-Type", "text/plain");
//     w.Write("hello").IgnoreError();
//   });
//   ... transport.RoundTrip(h1::Get(server.Url("/"))) ...
//
// Handler mode (above): each request goes to the handler with its parsed
// head and body, and its answer is framed as a real server would frame it;
// connections are kept alive between requests. A handler can Hijack() the
// connection and go on raw. Raw mode: a Script gets every connection at
// once, as a PeerConn (a handler that hijacks before the first request).
// Either way, one thread per connection, named by accept order.
//
// The server's log is the ground truth of reuse, whatever the client
// claims: which connection carried each request, in which order, and how
// much of its body arrived. Gates let a test decide when a script moves on:
// a script waits on a named gate, the test (or a client-side test hook)
// opens it. The server shares the wire format with the transport, never the
// transport itself.
//
// Thread-safe.
#ifndef H1_TESTSERVER_TEST_SERVER_H_
#define H1_TESTSERVER_TEST_SERVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "testserver/http_handler.h"
#include "testserver/peer_conn.h"

namespace h1::testserver {

struct TestServerOptions {
  // Logging every request costs memory without bound; a benchmark's server
  // turns it off.
  bool keep_log = true;
  // The IPv4 loopback address to listen on. A soak that opens servers by the
  // thousand gives each its own (all of 127.0.0.0/8 is loopback), so that
  // the ports its clients leave in TIME_WAIT never run the range dry.
  std::string address = "127.0.0.1";
  // Without a listening socket the server takes its connections only from
  // Serve: a client's Dial hook can hand it one end of a socketpair, which
  // costs no port and leaves no TIME_WAIT behind (a fuzzer's thousands of
  // connections a second).
  bool listen = true;
};

class TestServer {
 public:
  using Script = std::function<void(PeerConn&)>;
  using Options = TestServerOptions;

  // Raw mode: every accepted connection goes to `script` on its own thread.
  explicit TestServer(Script script, Options options = {});
  // Handler mode: every request goes to `handler`.
  explicit TestServer(Handler handler, Options options = {});
  // Stops accepting, shuts every connection down (also hijacked ones, to
  // wake their handlers), ends every gate wait, and joins every thread.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Serves `fd`, a connected stream socket, as the next connection (in
  // accept order); takes ownership. Callable from any thread until the
  // server is destroyed.
  void Serve(int fd) ABSL_LOCKS_EXCLUDED(mu_);

  // 0 without a listening socket.
  uint16_t port() const { return port_; }
  // "http://ADDRESS:PORT" + `path`.
  std::string Url(absl::string_view path = "/") const;

  int connections_accepted() const ABSL_LOCKS_EXCLUDED(mu_);
  // Every request whose head arrived, in the order it arrived.
  std::vector<SeenRequest> requests() const ABSL_LOCKS_EXCLUDED(mu_);

  // Opens gate `name`: scripts waiting on it go on, and later waits return
  // at once.
  void OpenGate(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // Shuts down every connection now open (like Go's CloseClientConnections).
  void CloseClientConnections() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until no connection thread is running any more; false after
  // `timeout`.
  bool AwaitConnectionsDone(absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class PeerConn;

  void AcceptLoop();
  // Starts the thread of connection `fd`; false once the server is stopping.
  bool StartConnectionLocked(int fd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunConnection(int index, int fd);
  void JoinFinishedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Called by PeerConn.
  size_t LogRequest(SeenRequest request) ABSL_LOCKS_EXCLUDED(mu_);
  void LogBody(size_t entry, absl::string_view kept, uint64_t bytes) ABSL_LOCKS_EXCLUDED(mu_);
  void LogClientClosedMidBody(size_t entry) ABSL_LOCKS_EXCLUDED(mu_);
  SeenRequest LogEntry(size_t entry) const ABSL_LOCKS_EXCLUDED(mu_);
  bool AwaitGate(absl::string_view name, PeerConn* conn) ABSL_LOCKS_EXCLUDED(mu_);

  const Script script_;
  const Options options_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  // Open connections, and whether they were shut down (which ends their
  // gate waits).
  std::map<PeerConn*, bool> live_ ABSL_GUARDED_BY(mu_);
  std::map<int, std::thread> running_ ABSL_GUARDED_BY(mu_);  // By connection index.
  std::vector<int> finished_ ABSL_GUARDED_BY(mu_);           // Threads to join.
  std::vector<SeenRequest> log_ ABSL_GUARDED_BY(mu_);
  std::set<std::string, std::less<>> open_gates_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1::testserver

#endif  // H1_TESTSERVER_TEST_SERVER_H_
