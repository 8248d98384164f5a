// Exchange: one request and its response on a connection, and everything
// that the request's caller, the connection's writer and its reader share
// about it. Nothing the writer or the reader records for one request can be
// read as another's: a write stage kept per connection once let the writer's
// late update for one request make the next request's early response look
// on time, and the connection was reused (issue 8).
//
// The writer moves the stage forward; the reader asks whether the writer is
// in the request's last write; the caller and the reader settle, once, who
// owns the outcome when the caller's header timer runs out just as the
// response arrives (Claim, Abandon); and a request none of whose bytes
// reached the socket goes back to its caller whole (ReclaimUnsent), to be
// sent elsewhere.
//
// Thread-safe. Shared by shared_ptr between the caller and the connection's
// reader and writer (and their channels).
#ifndef H1_TRANSPORT_EXCHANGE_H_
#define H1_TRANSPORT_EXCHANGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/cancel.h"
#include "transport/channel.h"
#include "transport/close_signal.h"
#include "transport/request.h"
#include "transport/response.h"

namespace h1 {

// What the reader hands the caller: the response head, or why there is none.
struct ReadOutcome {
  absl::StatusOr<Response> response;
  // The server closed the connection before a single byte of the response.
  bool closed_before_response = false;
};

// The request's cancel handle fired: the caller is to give up, if it can.
struct Interrupted {};

// What the caller of one exchange hears, in order: from the writer, how the
// request's write ended (when the caller has a header timer, which starts on
// success, as in Go), and from the reader, the response or error; and at
// any point, from the cancelling thread, an Interrupted.
using ExchangeEvent = std::variant<absl::Status, ReadOutcome, Interrupted>;

class Exchange {
 public:
  // Takes `request`'s body. `answered` fires when the connection's reader
  // exits: it will send no more events, so no wait for one outlives it.
  // `closed` is the connection's close signal, which ends the writer's wait
  // for 100 Continue.
  Exchange(uint64_t seq, Request& request, absl::string_view head, bool reused,
           bool request_asked_close, bool expect_continue, CloseSignal& answered,
           CloseSignal& closed);
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // The request's number on its connection, from 1.
  const uint64_t seq;
  const std::string method;
  const std::string head;  // Serialized, ready for the wire.
  const std::optional<uint64_t> content_length;
  const bool has_body;
  const bool reused;
  const bool request_asked_close;
  // The head carries "Expect: 100-continue" and a body follows: the writer
  // sends the head alone and waits for the reader's word (or its timer)
  // before it sends the body.
  const bool expect_continue;
  // The request's, for the phases after the head.
  const std::optional<CancelHandle> cancel;
  const absl::Time deadline;

  // Where the caller waits for its events. Capacity 3: the writer, the
  // reader and the cancel handle each send at most one, and never block.
  Channel<ExchangeEvent>& events() { return events_; }

  // Caller, for a bodiless request nobody has taken, while the writer is
  // idle: writes what of the head `try_write` writes without blocking (it
  // returns the byte count, 0 to leave the request alone), with the stage
  // moved as the writer would move it, before the reader or the writer can
  // look. Returns the count: all of the head, and the request is written;
  // part, and it is in its last write, which the writer finishes; none, and
  // it is still queued for the writer.
  size_t WriteOnCaller(absl::FunctionRef<size_t(absl::string_view head)> try_write)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Writer: takes the request (and its body) to write it, and learns how
  // many bytes of its head the caller wrote (WriteOnCaller). Returns false
  // if it was taken back first; the writer then skips it.
  bool StartWriting(std::unique_ptr<BodySource>& body, size_t& head_written)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Writer, right before the request's first socket write (`last` if it
  // is also the last): from here a byte may reach the socket. Returns false
  // if the request was withdrawn meanwhile: the writer must give it back
  // instead of writing. With expect_continue the first write is the head
  // alone, and the request then awaits 100 Continue.
  bool BeginFirstWrite(bool last) ABSL_LOCKS_EXCLUDED(mu_);

  // 100-continue. Reader, on an interim 100: if the request awaits it, the
  // body is to be sent, and the writer is woken.
  void ContinueReceived() ABSL_LOCKS_EXCLUDED(mu_);
  // Reader, once a final head is read. A final answer that began while the
  // request awaited 100 Continue came before the body: it is early, and if
  // the body has not started, it is never sent (the writer is woken).
  void FinalHeadRead() ABSL_LOCKS_EXCLUDED(mu_);
  // Writer, once the head is written: waits for the reader's word, `timeout`
  // or the connection's close, and returns whether to send the body. The
  // timer (and the close, which the writer then reports) decide for sending.
  bool AwaitContinue(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  // The body was not sent: a final answer came instead of 100 Continue.
  bool BodySkipped() const ABSL_LOCKS_EXCLUDED(mu_);
  // Writer: the first socket write returned having written bytes (one that
  // wrote none gives the request back instead).
  void FirstWriteReturned() ABSL_LOCKS_EXCLUDED(mu_);
  // Writer: the next socket write completes the request.
  void EnterLastWrite() ABSL_LOCKS_EXCLUDED(mu_);
  // Writer: that write returned; the whole request is with the socket.
  void FinishWriting() ABSL_LOCKS_EXCLUDED(mu_);
  // Writer: not one byte of the request reached the socket. `body` is the
  // request's body source (null if it has none), `read_ahead` what was
  // already read from it and not written, and `body_ended` whether the
  // source had reported its end: together, the whole body again.
  void GiveBack(std::unique_ptr<BodySource> body, absl::string_view read_ahead, bool body_ended)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Writer, done with the request: one it neither wrote nor gave back (its
  // body failed) can no longer go elsewhere.
  void LetGo() ABSL_LOCKS_EXCLUDED(mu_);
  // Writer: the server's answer began before the request's last write, so
  // it came before the request was complete (see AnsweredEarly).
  void MarkAnsweredEarly() ABSL_LOCKS_EXCLUDED(mu_);

  // What ResponseStarted found.
  enum class Started {
    // Not one byte of the request had been written: whatever arrived (a
    // 408 on an idle connection, a close, garbage) cannot answer it. The
    // request is withdrawn, for its caller to send elsewhere.
    kBeforeAnyWrite,
    kStarted,
  };
  // Reader, at the response's first byte (or the connection's end): notes
  // how far the request was written by then. The stage at that moment, not
  // at the end of the head, decides whether the answer is early.
  Started ResponseStarted() ABSL_LOCKS_EXCLUDED(mu_);
  // Reader: the response began before the request was completely written.
  // With a body, the server may never read the rest of it (it would lead
  // the next request). A bodiless request inside its only write is not
  // early: the server answered its whole head, only the writer's report is
  // missing.
  bool AnsweredEarly() const ABSL_LOCKS_EXCLUDED(mu_);

  // Reader, once a response head (or the failure to read one) is in: claims
  // the outcome for the caller. Returns false if the caller had already
  // given up (Abandon); the reader must then drop the outcome.
  bool Claim() ABSL_LOCKS_EXCLUDED(mu_);
  // Caller, when its header timer fires (or its request is cancelled, or
  // its deadline passes, or the reader exits): gives up, because of `why`,
  // unless the reader has claimed an outcome, which is then on its way and
  // must be waited for.
  bool Abandon(absl::Status why) ABSL_LOCKS_EXCLUDED(mu_);
  // Why the caller gave up (OK if it has not): the reader that finds the
  // exchange abandoned closes the connection with it.
  absl::Status AbandonReason() const ABSL_LOCKS_EXCLUDED(mu_);
  // The request's cancel handle fired (on the cancelling thread): wakes the
  // caller, in its wait for events or in ReclaimUnsent.
  void Interrupt() ABSL_LOCKS_EXCLUDED(mu_);
  // Where the request is, for an error: "writing the request body",
  // "awaiting the response head", ...
  std::string Phase() const ABSL_LOCKS_EXCLUDED(mu_);

  enum class Reclaim {
    kReclaimed,  // Nothing of it was written: its body is back in the request.
    kSent,       // Some of it reached the socket.
    // The caller stopped waiting for the writer to tell.
    kCancelled,
    kDeadlineExceeded,
  };
  // Caller, after a failure: if none of the request reached the socket,
  // puts its body back in `request`; the writer will not touch it again.
  // Waits while the writer cannot yet tell: a request withdrawn while the
  // writer is in its body's first Read goes back as soon as that Read
  // returns, and one in its first socket write once the write returns (as
  // Go waits for its writeLoop before mapping an error: the reader may
  // report the server's close while the writer's write to the closed
  // connection has yet to fail having written nothing). The request's
  // cancel handle and deadline end that wait.
  Reclaim ReclaimUnsent(Request& request) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class Stage {
    kQueued,            // The writer has not taken it.
    kTaken,             // The writer holds it; no socket write yet.
    kWithdrawing,       // Withdrawn while kTaken: the writer is to give it back.
    kAwaitingContinue,  // The head is (being) written; the body awaits 100 Continue.
    kBodySkipped,       // A final answer came instead of 100 Continue: no body is sent.
    kWriting,           // Written in part: before the last write.
    kLastWrite,         // In the last write.
    kWritten,           // The last write returned.
    kUnsent,            // No byte reached the socket; the body is here.
    kLetGo,             // Neither written nor given back: it cannot go elsewhere.
    kReclaimed,         // Back with its caller.
  };
  enum class Answer { kAwaited, kClaimed, kAbandoned };

  Channel<ExchangeEvent> events_;
  // The reader's word to a writer awaiting 100 Continue; one per request,
  // so no word can reach another request's writer.
  Channel<bool> continue_word_;
  mutable absl::Mutex mu_;
  Stage stage_ ABSL_GUARDED_BY(mu_) = Stage::kQueued;
  Answer answer_ ABSL_GUARDED_BY(mu_) = Answer::kAwaited;
  absl::Status abandon_reason_ ABSL_GUARDED_BY(mu_);
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
  bool answered_early_ ABSL_GUARDED_BY(mu_) = false;
  // With 100-continue: the head being read began before the request was
  // completely written (or while it awaited 100 Continue); early if final.
  bool head_began_early_ ABSL_GUARDED_BY(mu_) = false;
  bool in_first_write_ ABSL_GUARDED_BY(mu_) = false;
  size_t written_on_caller_ ABSL_GUARDED_BY(mu_) = 0;
  // Until the writer takes it, or once given back.
  std::unique_ptr<BodySource> body_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1

#endif  // H1_TRANSPORT_EXCHANGE_H_
