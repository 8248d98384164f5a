// Connection: one persistent HTTP/1.1 connection, a port of Go's persistConn.
//
// One socket and exactly two threads: a writer that writes requests (head,
// then the body streamed from the caller's BodySource) and a reader that reads
// response heads and, while idle, watches the socket. The caller's thread
// coordinates them through capacity-1 channels: requests to the writer
// (writech), requests to the reader (reqch), and writeErrCh, on which the
// writer reports each request's write result to the reader. What the three
// share about one request lives in its Exchange (exchange.h), never in the
// connection, so nothing done for one request can count for the next.
//
// The safety rule (Go commit 6278a954, Go issues 7569 and 7620): the
// connection returns to the idle pool only if the request was written
// completely and without error, the response was read completely, and
// neither side asked to close. A server may answer before reading the whole
// request body; that response is delivered, but the connection is closed.
// Early counts from the answer's first byte: seen by the reader while the
// request is not completely written (for a request with a body, before its
// last write has returned), or by the writer before its last write, it
// makes the response early, decided at once, however the write ends. Only
// a bodiless request inside its only write may wait for the writer's report
// (the server answered its whole head): the response is delivered first and
// the decision follows, at most the reuse grace period later, with the
// connection held in the pool so that the caller's next request waits for
// it rather than dial anew. An answer (or a close) that begins before a
// byte of the request is written (a 408 on an idle connection) answers
// nothing: the request is withdrawn, whole, to be sent elsewhere. Bytes or
// a close already behind a response keep the connection out of the pool.
// What stays open, as in Go: bytes that arrive while a bodiless request's
// only write is in flight are taken as its answer.
//
// A body that arrived with its head (or no body) is handed over whole and
// the connection released at once. A longer body is read on the caller's
// thread while the reader waits; it ends, and the connection goes back, with
// the read that delivers its last bytes, or when it is closed with its rest
// already received. Closing it earlier closes the connection. The caller's
// thread makes that decision itself, by the same rule, unless the writer
// has yet to report: then the reader does, as for a whole response.
//
// The writer is only woken for what cannot be written at once: a bodiless
// request whose head the socket takes without blocking is written on the
// caller's thread while the writer is idle, and reported on writeErrCh as
// the writer reports it.
//
// "Expect: 100-continue": the writer sends the head alone and waits on its
// exchange for the reader's word (100: send the body; a final answer
// instead: never send it), its timer, or the close. A final answer that
// began while the request awaited 100 Continue came before the body: it is
// early, like any other (RFC 9110 section 10.1.1; golang/go#67555).
//
// Cancellation and the request's deadline reach the caller's waits: the
// cancelling thread only wakes the caller, which gives up (and closes the
// connection) only if the reader has not claimed the response; a body read
// is cut short by closing the connection, and only until the body ends.
//
// Every blocking wait of a connection also ends when its close signal fires,
// and Close() is the one place that fires it and shuts the socket down. The
// caller's wait for its response ends when the reader delivers it or exits;
// the reader always exits once the connection closes (the socket is shut
// down), and a response it had already received is still delivered: it wins
// over a write error or a close that happened meanwhile.
//
// Thread-safe. Owned by shared_ptr: the idle pool, response bodies and the
// connection's own two threads hold it; the socket is released with the last.
#ifndef H1_TRANSPORT_CONNECTION_H_
#define H1_TRANSPORT_CONNECTION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/channel.h"
#include "transport/close_signal.h"
#include "transport/exchange.h"
#include "transport/net_conn.h"
#include "transport/request.h"
#include "transport/response.h"
#include "transport/stats.h"
#include "transport/test_hook.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/message_head.h"

namespace h1 {

class IdlePool;

struct ConnectionOptions {
  bool disable_keep_alives = false;
  // How long the reuse decision waits for the writer's report once a
  // response has ended while the writer was in the request's last write.
  absl::Duration reuse_grace_period = absl::Milliseconds(50);
  // Counted from the end of the request write. Infinite: no limit.
  absl::Duration response_header_timeout = absl::InfiniteDuration();
  // Infinite: no limit.
  absl::Duration idle_timeout = absl::InfiniteDuration();
  size_t max_response_header_bytes = 1 << 20;
  // How long a request with "Expect: 100-continue" waits for 100 Continue
  // before it sends its body anyway. Zero: the body follows at once.
  absl::Duration expect_continue_timeout = absl::Seconds(1);
  // The connection's read buffer. Response heads are read through it; a
  // body read of at least this many bytes goes straight to the caller's
  // buffer once the buffered bytes are taken.
  size_t read_buffer_size = 4 << 10;
  TestHook test_hook;
};

// Why a RoundTrip failed, for the Transport's retry rule.
enum class RetryHint {
  kNone,
  // Not one byte of the request reached the socket; its body, if any, is
  // back in the Request. Safe to send again.
  kNothingWritten,
  // The server closed the connection before a single response byte: safe to
  // send again only if the request is idempotent and has no body.
  kClosedBeforeResponse,
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Takes `socket` and starts the reader and writer threads. `on_closed`
  // runs once, when the connection closes, on the closing thread.
  static std::shared_ptr<Connection> Start(uint64_t id, std::string pool_key,
                                           std::unique_ptr<NetConn> socket,
                                           ConnectionOptions options, std::weak_ptr<IdlePool> pool,
                                           std::shared_ptr<StatsRecorder> stats,
                                           std::function<void()> on_closed);
  ~Connection();

  // Sends `request`, whose validated head is already serialized as `head`,
  // and waits for the response head. The request's body moves into the
  // exchange; on failure `*retry_hint` says whether the request may be sent
  // again elsewhere, and with kNothingWritten the body is back in `request`.
  // The request's cancel handle and deadline end the wait, and the body's
  // reads, with CANCELLED or DEADLINE_EXCEEDED naming the phase, and close
  // the connection, unless the response was already on its way: then it is
  // returned, and the connection may already serve another request.
  absl::StatusOr<Response> RoundTrip(Request& request, absl::string_view head,
                                     RetryHint* retry_hint);

  // Closes the connection: fires the close signal, shuts the socket down and
  // leaves the idle pool. The first reason (and cause, for the stats) is
  // kept; later calls do nothing.
  void Close(absl::Status reason, CloseCause cause) ABSL_LOCKS_EXCLUDED(mu_);
  bool IsClosed() const { return closed_.HasFired(); }
  // Why the connection closed (an error even while it is open).
  absl::Status close_reason() const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether it served a request before, or sat in the idle pool (Go's
  // isReused): either way it may have gone stale since.
  bool IsReused() const ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t id() const { return id_; }
  const std::string& pool_key() const { return pool_key_; }

  // Called by the idle pool.
  void MarkIdle(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns how long the connection had been idle.
  absl::Duration MarkTaken(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  // Called on the caller's thread by the streamed body of `exchange` that
  // reached its end (`keep_alive`: the response and request allow reuse).
  // Returns once the exchange has ended: on this thread, or, if the reuse
  // decision must wait for the writer's report, on the reader's.
  void BodyDone(Exchange& exchange, bool keep_alive);
  wire::BufferedReader& body_input() { return input_; }
  // When reads of body_input() give up (infinite: never); set by the thread
  // that reads it, like body_input() itself.
  void set_body_deadline(absl::Time deadline) { body_deadline_ = deadline; }

 private:
  // The writer's report on writeErrCh, tagged with its request.
  struct WriteReport {
    uint64_t seq;
    absl::Status status;
  };
  // What the reuse rule says: OK, or why not (and the cause, for the stats).
  struct Verdict {
    absl::Status reason;
    CloseCause cause = CloseCause::kNotReusable;
    bool ok() const { return reason.ok(); }
  };

  Connection(uint64_t id, std::string pool_key, std::unique_ptr<NetConn> socket,
             ConnectionOptions options, std::weak_ptr<IdlePool> pool,
             std::shared_ptr<StatsRecorder> stats, std::function<void()> on_closed);

  void ReadLoop();
  void WriteLoop();
  // Whether the server's answer (or its close) has begun: bytes the reader
  // saw since the last exchange ended, or bytes waiting in the socket.
  bool AnswerHasBegun();
  // Claims `exchange`'s outcome for its caller; if the caller gave up first,
  // closes the connection (as the caller does) and returns false.
  bool ClaimOrClose(Exchange& exchange);
  // Writer, after an "Expect: 100-continue" head: waits for the reader's
  // word, the timer or the close; OK to send the body.
  absl::Status AwaitContinue(Exchange& exchange);
  // Reader, after an interim head: acts on a 100 Continue, and notes where
  // the request is when the next head begins.
  void InterimHeadRead(Exchange& exchange, const wire::ResponseHead& interim);
  // Caller, once its response (or its failure) has come `waited` after the
  // request was handed over: sets how long the next caller spins for it.
  void LearnResponseSpin(absl::Duration waited);
  // Caller, for a request just handed over while the writer is idle: writes
  // a bodiless request's head if the socket takes it without blocking, and
  // reports it on writeErrCh as the writer would, saving the writer's wake.
  // Returns false if the writer is to write the request, or its rest.
  bool WriteOnCaller(Exchange& exchange);
  // Ends the write of `exchange` with `result`, as the writer does: the
  // stage, the header timer's start, a close if it failed, and the report
  // on writeErrCh.
  void ReportWrite(Exchange& exchange, const absl::Status& result);
  // Writes one request; `piece` is the writer's buffer for body pieces.
  absl::Status WriteRequest(Exchange& exchange, std::unique_ptr<BodySource> body,
                            std::unique_ptr<char[]>& piece);
  // Waits for the events of `exchange`, starting the header timer once the
  // request is written; returns its response or error.
  absl::StatusOr<Response> AwaitResponse(Exchange& exchange, Request& request,
                                         RetryHint* retry_hint);
  // Waits while the connection is idle. Returns false if it closed instead.
  bool AwaitNextResponse();
  // Closes with `reason` unless a request is expected; atomic with
  // RoundTrip's check, so no request is handed to a leaving reader.
  bool CloseIfIdle(absl::Status reason, CloseCause cause) ABSL_LOCKS_EXCLUDED(mu_);
  // Shuts the socket down and leaves the pool, after the signal fired (once).
  void FinishClose(CloseCause cause);
  // Reads `exchange`'s response and delivers it; returns whether to go on.
  bool ReadOneResponse(const std::shared_ptr<Exchange>& exchange);
  // Why no response head could be read; `response_started` if any byte of
  // the response had arrived.
  absl::Status DescribeHeadFailure(const absl::Status& read_error, bool response_started);
  // Ends the caller's wait for `exchange` with `code` (cancelled or its
  // deadline), closing the connection; nullopt if the reader has already
  // claimed the outcome, which must then be waited for.
  std::optional<absl::Status> GiveUp(Exchange& exchange, absl::StatusCode code);
  // The error to return for `exchange`, which failed with `error`: with the
  // body back in `request` and kNothingWritten if none of it was written;
  // CANCELLED or DEADLINE_EXCEEDED if the caller stopped waiting to know.
  absl::Status Failed(Exchange& exchange, Request& request, absl::Status error,
                      bool closed_before_response, RetryHint* retry_hint);
  // Ends `exchange`, whose response is complete: the connection goes back
  // to the pool if the reuse rule allows, or closes. `release` lets the
  // caller go on (delivers the response, or returns from BodyDone). When
  // the decision is immediate, release runs after the connection is pooled,
  // so the caller's next request finds it; when it must wait for the
  // writer's report, release runs first. Returns whether the connection
  // stays open for another exchange. On the caller's thread, at the end of
  // a body it read (the reader parked on body_done_), it returns nullopt at
  // once, having changed nothing, if the decision must wait for the writer;
  // else it hands the stream back to the reader as soon as the exchange is
  // over, before the connection can be taken.
  std::optional<bool> EndExchange(Exchange& exchange, bool keep_alive,
                                  absl::FunctionRef<void()> release, bool on_callers_thread);
  // EndExchange's wait for the writer's report: the connection is held in
  // the pool, undecided, while the caller goes on.
  bool AwaitWriterInPool(Exchange& exchange, absl::FunctionRef<void()> release);
  // What of the reuse rule can be told without the writer: OK if nothing
  // stands in the way.
  Verdict ReuseBlocker(bool keep_alive) const;
  // The reuse verdict that `report` gives for `exchange`.
  static Verdict WriteVerdict(const WriteReport& report, const Exchange& exchange);
  // Offers the connection to the idle pool; OK if it took it.
  Verdict PutInPool();
  // The verdict of the pool's answer to Put, PutPending or Settle.
  static Verdict Pooled(const absl::Status& status);
  void Hook(HookPoint point, uint64_t seq) const {
    if (options_.test_hook) options_.test_hook(point, id_, seq);
  }

  const uint64_t id_;
  const std::string pool_key_;
  const ConnectionOptions options_;
  const std::weak_ptr<IdlePool> pool_;
  const std::shared_ptr<StatsRecorder> stats_;
  const std::function<void()> on_closed_;
  const std::unique_ptr<NetConn> socket_;

  // The socket as the wire format reads it. After Close, a Read that finds
  // the stream's end reports the close reason instead: that end is our own
  // shutdown, not the peer's close, and must not end a body the peer
  // delimits by closing (a cut body would pass as whole). Bytes that had
  // arrived are still read. Thread-compatible, like the socket's reads.
  class SocketInput final : public wire::ByteSource {
   public:
    explicit SocketInput(Connection& conn) : conn_(conn) {}
    absl::StatusOr<size_t> Read(char* buf, size_t n) override;

   private:
    Connection& conn_;
  };
  SocketInput socket_input_{*this};
  // Used by the reader thread for heads and by the caller's thread for
  // bodies, never at once: the hand-offs go through the channels below.
  wire::BufferedReader input_;
  absl::Time body_deadline_ = absl::InfiniteFuture();

  // Declared before the channels bound to them (and before the exchanges
  // those channels hold, whose event channels are bound to reader_exited_),
  // so they outlive them.
  CloseSignal closed_;
  // Fired when the reader thread ends: it will deliver no more results.
  CloseSignal reader_exited_;
  Channel<std::shared_ptr<Exchange>> writech_;
  Channel<std::shared_ptr<Exchange>> reqch_;
  Channel<WriteReport> write_err_ch_;  // Go's writeErrCh.
  // How a streamed body ended, from the caller's thread to the reader.
  struct BodyEnd {
    bool ended_by_caller;  // Else the reader is to end the exchange.
  };
  Channel<BodyEnd> body_done_;         // The caller read a body to its end.
  Channel<bool> exchange_ended_;       // The reader ended the exchange.

  // Requests handed over whose write is not yet reported. The caller
  // writes a request itself only when this was 0: a connection is handed
  // out only once its previous request's report was taken, and the count
  // makes that checked rather than assumed, so that two threads never
  // write the socket at once.
  std::atomic<int> writes_in_progress_{0};
  // How long a caller spins for its response before it sleeps (see
  // LearnResponseSpin); one caller at a time, one after another.
  std::atomic<int64_t> response_spin_ns_{0};

  // The reader saw input (bytes, EOF, an error) since the last exchange
  // ended: set by the reader, cleared when it ends an exchange, read by the
  // writer before its first and last writes.
  std::atomic<bool> input_seen_{false};

  mutable absl::Mutex mu_;
  absl::Status close_reason_ ABSL_GUARDED_BY(mu_);
  // Requests handed over whose responses have not been read (Go's
  // numExpectedResponses): a byte or EOF while it is 0 poisons the connection.
  int expected_responses_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t requests_sent_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time idle_since_ ABSL_GUARDED_BY(mu_);
  // The idle pool has held it: a fresh connection given to the pool (late
  // binding) is idle before its first request.
  bool pooled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace h1

#endif  // H1_TRANSPORT_CONNECTION_H_
