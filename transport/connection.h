// Connection: one persistent HTTP/1.1 connection, a port of Go's persistConn.
//
// One socket and exactly two threads: a writer that writes requests (head,
// then the body streamed from the caller's BodySource) and a reader that reads
// response heads and, while idle, watches the socket. The caller's thread
// coordinates them through capacity-1 channels: requests to the writer
// (writech), requests to the reader (reqch), and writeErrCh, on which the
// writer reports each request's write result to the reader. A body that
// arrived with its head is handed over whole, the connection already judged,
// so the caller is woken once; a longer body is read on the caller's thread
// while the reader waits for its end. Either way the connection returns to
// the pool only once the caller has read the body to its end.
//
// The safety rule (Go commit 6278a954, Go issues 7569 and 7620): the
// connection returns to the idle pool only if the request was written
// completely and without error, the response was read completely, and
// neither side asked to close. A server may answer before reading the whole
// request body; that response is delivered, but the connection is closed.
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

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/channel.h"
#include "transport/close_signal.h"
#include "transport/net_conn.h"
#include "transport/request.h"
#include "transport/response.h"
#include "transport/test_hook.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/buffered_reader.h"

namespace h1 {

class IdlePool;

struct ConnectionOptions {
  bool disable_keep_alives = false;
  // How long the reader waits for the writer's report once a response is
  // complete, if the writer is not known to be still writing (see
  // Connection::WroteRequestCompletely).
  absl::Duration reuse_grace_period = absl::Milliseconds(50);
  absl::Duration response_header_timeout = absl::InfiniteDuration();
  absl::Duration idle_timeout = absl::InfiniteDuration();
  size_t max_response_header_bytes = 1 << 20;
  TestHook test_hook;
};

// Why a RoundTrip failed, for the Transport's retry rule.
enum class RetryHint {
  kNone,
  // The request never reached the connection: it is safe to send again.
  kNothingWritten,
  // The server closed a reused connection before any response byte: safe to
  // send again only if the request is idempotent and has no body.
  kClosedBeforeResponse,
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Takes `socket` and starts the reader and writer threads.
  static std::shared_ptr<Connection> Start(uint64_t id, std::string pool_key,
                                           std::unique_ptr<NetConn> socket,
                                           ConnectionOptions options,
                                           std::weak_ptr<IdlePool> pool);
  ~Connection();

  // Sends `request`, whose validated head is already serialized as `head`,
  // and waits for the response head. The request's body is moved out only
  // when the writer takes the request. On failure `*retry_hint` says whether
  // the request may be sent again elsewhere.
  absl::StatusOr<Response> RoundTrip(Request& request, absl::string_view head,
                                     RetryHint* retry_hint);

  // Closes the connection: fires the close signal, shuts the socket down and
  // leaves the idle pool. The first reason is kept; later calls do nothing.
  void Close(absl::Status reason);
  bool IsClosed() const { return closed_.HasFired(); }
  absl::Status close_reason() const;

  uint64_t id() const { return id_; }
  const std::string& pool_key() const { return pool_key_; }

  // Called by the idle pool.
  void MarkIdle(absl::Time now);
  // Returns how long the connection had been idle.
  absl::Duration MarkTaken(absl::Time now);

  // Called by the response body on the caller's thread. BodyDone returns
  // after the reader has decided whether the connection is reused.
  void BodyDone();
  wire::BufferedReader& body_input() { return input_; }
  // Called on the caller's thread once it has read to the end a body that
  // the reader received whole and judged reusable: the pool takes the
  // connection now, or it closes.
  void ReturnReadConnectionToPool();

 private:
  // Where the writer is with the current request. A response that ends
  // while the request's last byte has not even been handed to the socket
  // proves an early response: no need to wait for the writer's report.
  enum class WriteStage { kNone, kBeforeLastWrite, kLastWrite };

  // What the caller hands the writer.
  struct WriteJob {
    std::string head;
    std::unique_ptr<BodySource> body;
    std::optional<uint64_t> content_length;  // Unset with a body: chunked.
  };
  // What the reader hands back: the response head, or why there is none.
  struct ReadResult {
    absl::StatusOr<Response> response;
    // The connection ended before any byte of the response arrived.
    bool closed_before_response = false;
  };
  using ResultChannel = Channel<ReadResult>;
  // What the caller hands the reader.
  struct PendingRead {
    std::string method;
    bool request_asked_close = false;
    bool reused = false;
    std::shared_ptr<ResultChannel> result;
  };

  Connection(uint64_t id, std::string pool_key, std::unique_ptr<NetConn> socket,
             ConnectionOptions options, std::weak_ptr<IdlePool> pool);

  void ReadLoop();
  void WriteLoop();
  // Writes one request; `piece` is the writer's buffer for body pieces.
  absl::Status WriteRequest(WriteJob& job, std::unique_ptr<char[]>& piece);
  // Waits while the connection is idle. Returns false if it closed instead.
  bool AwaitNextResponse();
  // Closes with `reason` unless a request is expected; atomic with
  // RoundTrip's check, so no request is handed to a leaving reader.
  bool CloseIfIdle(absl::Status reason);
  // Shuts the socket down and leaves the pool, after the signal fired.
  void FinishClose();
  // Delivers a response or error for `pending`; returns whether to go on.
  bool ReadOneResponse(PendingRead& pending, uint64_t seq);
  // Whether the writer reported a complete, error-free write of the request
  // whose response just ended.
  bool WroteRequestCompletely(uint64_t seq);
  void Hook(HookPoint point, uint64_t seq) const {
    if (options_.test_hook) options_.test_hook(point, id_, seq);
  }
  void SetWriteStage(WriteStage stage);
  absl::Status DescribeHeadFailure(const absl::Status& read_error);
  // Ends one exchange: puts the connection back in the idle pool if the reuse
  // rule allows. Returns OK if it did, else why not (the close reason).
  absl::Status ReturnToPool(bool keep_alive, uint64_t seq);
  // Ends one exchange on the reader's side: OK if the reuse rule allows
  // another (all but the pool's consent), else why not.
  absl::Status EndExchange(bool keep_alive, uint64_t seq);
  // Offers the connection to the idle pool; OK if it took it.
  absl::Status PutInPool();

  const uint64_t id_;
  const std::string pool_key_;
  const ConnectionOptions options_;
  const std::weak_ptr<IdlePool> pool_;
  const std::unique_ptr<NetConn> socket_;
  // Used by the reader thread for heads and by the caller's thread for
  // bodies, never at once: the hand-offs go through the channels below.
  wire::BufferedReader input_;

  CloseSignal closed_;
  // Fired when the reader thread ends: it will deliver no more results.
  CloseSignal reader_exited_;
  Channel<WriteJob> writech_;
  Channel<PendingRead> reqch_;
  Channel<absl::Status> write_err_ch_;  // Go's writeErrCh.
  Channel<bool> body_done_;             // The caller read a body to its end.
  Channel<bool> reuse_decided_;         // The reader decided; true: pooled.

  mutable absl::Mutex mu_;
  absl::Status close_reason_ ABSL_GUARDED_BY(mu_);
  // Requests handed over whose responses have not been read (Go's
  // numExpectedResponses): a byte or EOF while it is 0 poisons the connection.
  int expected_responses_ ABSL_GUARDED_BY(mu_) = 0;
  // Where the writer is with the current request (see WroteRequestCompletely).
  WriteStage write_stage_ ABSL_GUARDED_BY(mu_) = WriteStage::kNone;
  int requests_sent_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time idle_since_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1

#endif  // H1_TRANSPORT_CONNECTION_H_
