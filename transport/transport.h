// Transport: a pool of persistent HTTP/1.1 connections, a port of Go's
// net/http.Transport for plain http://.
//
//   h1::Transport transport;
//   absl::StatusOr<h1::Response> response = transport.RoundTrip(h1::Get(url));
//   if (response.ok()) absl::StatusOr<std::string> body = response->body->ReadAll();
//
// Reading a body to its end returns its connection to the idle pool, if the
// reuse rule allows (see connection.h); closing it early closes it.
#ifndef H1_TRANSPORT_TRANSPORT_H_
#define H1_TRANSPORT_TRANSPORT_H_

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "transport/cancel.h"
#include "transport/net_conn.h"
#include "transport/request.h"
#include "transport/response.h"
#include "transport/stats.h"
#include "transport/test_hook.h"

namespace h1 {

class ConnManager;

// As in Go, a zero duration means no limit.
struct TransportOptions {
  // Idle connections kept per host ("http://host:port"); 0 keeps none.
  int max_idle_conns_per_host = 2;
  // Idle connections kept across all hosts, least recently used closed
  // first; 0 means no limit.
  int max_idle_conns = 100;
  // Connections per host, dialling, idle or serving; 0 means no limit.
  // Requests beyond it wait, oldest first, for a connection to turn idle or
  // to close (which frees a slot for a dial).
  int max_conns_per_host = 0;
  // Limit on establishing a connection (passed to the Dial hook).
  absl::Duration dial_timeout = absl::Seconds(30);
  // An idle connection is closed after this long unused.
  absl::Duration idle_conn_timeout = absl::Seconds(90);
  // Sends "Connection: close" and never reuses a connection.
  bool disable_keep_alives = false;
  // How long the reuse decision may wait for the writer's report that a
  // bodiless request was written, when its response arrived while the
  // writer was inside its last write. The response is delivered without
  // waiting; a next request for the same host waits for the decision
  // instead of dialing. Zero: no wait, the connection is closed. Keep it
  // finite. An early response never waits: its connection is closed at
  // once.
  absl::Duration reuse_grace_period = absl::Milliseconds(50);
  // Limit on waiting for a response head, counted from the end of the
  // request write (as in Go): a slow upload does not eat into it.
  absl::Duration response_header_timeout = absl::ZeroDuration();
  // How long a request with "Expect: 100-continue" (and a body) waits for
  // 100 Continue before it sends its body anyway (Go's
  // ExpectContinueTimeout; 1 s as in Go's DefaultTransport). A final
  // response that comes instead is delivered, the body is never sent, and
  // the connection is closed. Zero: the body follows the head at once.
  absl::Duration expect_continue_timeout = absl::Seconds(1);
  // Limit on a response head and its interim 1xx heads together.
  size_t max_response_header_bytes = 1 << 20;
  // Each connection's read buffer (Go's ReadBufferSize, 4 KiB as there).
  // A response whose body arrives with its head in one buffer is handed
  // over whole; larger bodies are read from the socket straight into the
  // caller's buffer by reads at least this large.
  size_t read_buffer_size = 4 << 10;
  // Opens connections, on a dial thread; tests wrap DialTcp to record dials
  // and closes.
  DialFunction dial = DialTcp;
  // For tests: parks threads at named points inside connections.
  TestHook test_hook;
};

// Thread-safe: RoundTrip may be called from many threads at once.
class Transport {
 public:
  explicit Transport(TransportOptions options = {});
  // Closes the idle connections, cancels the dials in flight and waits for
  // their threads (so a Dial hook must honour DialContext::cancel; DialTcp's
  // name resolution, which nothing interrupts, is waited out).
  // Connections serving responses close once their bodies are done; no
  // thread or socket of this Transport outlives it and its responses,
  // except a writer blocked inside a caller's BodySource::Read, which exits
  // as soon as that Read returns.
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Sends `request` and returns once the response head has arrived. Errors
  // name the cause.
  //
  // The request's cancel handle, or its deadline, ends it in whichever
  // phase it is, with CANCELLED or DEADLINE_EXCEEDED naming the phase:
  // waiting for a connection (idle, a MaxConnsPerHost slot, a dial: the
  // dial is stopped too), writing the request, awaiting the response head
  // (the connection is closed), reading the response body (a blocked Read
  // returns; the connection is closed). A response already on its way when
  // it fires is returned; once the body has ended, cancelling does nothing.
  // A cancelled request is never sent again.
  //
  // As in Go, a request that failed on a connection that had served before
  // is sent again on another connection only if not one of its bytes
  // reached the socket (any method; its body is sent whole), or if the
  // server closed the connection before a single response byte and the
  // request is replayable: idempotent (GET, HEAD, OPTIONS, TRACE, or an
  // Idempotency-Key or X-Idempotency-Key header) and bodiless or with a
  // get_body to make its body again. Never otherwise, and never after a
  // failure on a new connection.
  absl::StatusOr<Response> RoundTrip(Request request);

  // Closes the idle connections, and those whose reuse is being decided.
  void CloseIdleConnections();
  // The idle connections, once every pending reuse decision is made (at
  // most reuse_grace_period).
  int IdleConnectionCount() const;
  // What the pool has done and holds now.
  TransportStats Stats() const;

 private:
  const TransportOptions options_;
  const std::shared_ptr<ConnManager> manager_;
};

}  // namespace h1

#endif  // H1_TRANSPORT_TRANSPORT_H_
