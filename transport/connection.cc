// See connection.h.
#include "transport/connection.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/idle_pool.h"
#include "transport/thread_registry.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/message_head.h"
#include "transport/wire/request_head.h"
#include "transport/wire/whole_body.h"

namespace h1 {
namespace {

constexpr size_t kWriteChunk = 64 * 1024;
// The longest the caller spins for its response before it sleeps.
constexpr absl::Duration kMaxResponseSpin = absl::Microseconds(100);

// Counts the callers of the process waiting for a response while it is
// held. A caller spins only while it is the only one: with others waiting,
// the cores are wanted by the threads that serve them (their readers, the
// server), and a spinning caller would starve them.
class AwaitingResponse {
 public:
  AwaitingResponse() : alone_(count_.fetch_add(1, std::memory_order_relaxed) == 0) {}
  ~AwaitingResponse() { count_.fetch_sub(1, std::memory_order_relaxed); }
  AwaitingResponse(const AwaitingResponse&) = delete;
  AwaitingResponse& operator=(const AwaitingResponse&) = delete;
  bool alone() const { return alone_ && count_.load(std::memory_order_relaxed) == 1; }

 private:
  static std::atomic<int> count_;
  const bool alone_;
};
std::atomic<int> AwaitingResponse::count_{0};

absl::Status WithContext(absl::string_view context, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

// What Read returns once a body is closed, as Go's does: never a clean end
// for a body that may have been cut short.
absl::Status ReadAfterClose() {
  return absl::FailedPreconditionError("read on a closed response body");
}

// A body read on the caller's thread from the connection's stream. It holds
// the connection until the body ends; closing or destroying it before then
// closes the connection, unless the rest of the body has already arrived.
//
// The request's cancel handle closes the connection while the body is read
// (which wakes a blocked Read), and its deadline bounds every socket read;
// both only until the body ends: from then on the connection may serve
// another request.
class ConnectionBody final : public ResponseBody {
 public:
  ConnectionBody(std::shared_ptr<Connection> conn, wire::BodyFraming framing,
                 size_t max_trailer_bytes, std::shared_ptr<Exchange> exchange, bool keep_alive)
      : conn_(std::move(conn)),
        reader_(&conn_->body_input(), framing, max_trailer_bytes),
        exchange_(std::move(exchange)),
        keep_alive_(keep_alive),
        deadline_(exchange_->deadline) {
    if (exchange_->cancel.has_value()) {
      Connection* conn_while_reading = conn_.get();  // Held until the registration ends.
      cancel_registration_ = exchange_->cancel->OnCancel([conn_while_reading] {
        conn_while_reading->Close(
            absl::CancelledError("request cancelled while reading the response body"),
            CloseCause::kCancelled);
      });
    }
  }
  ~ConnectionBody() override { Close(); }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) return error_;
    if (conn_ == nullptr) return 0;
    if (absl::Now() >= deadline_) {
      // Also when bytes are at hand: a body that keeps coming must not
      // outlast its deadline (Go's readLoop closes at the context's end).
      error_ =
          absl::DeadlineExceededError("request deadline exceeded while reading the response body");
      conn_->Close(error_, CloseCause::kTimeout);
      End();
      return error_;
    }
    conn_->set_body_deadline(deadline_);
    absl::StatusOr<size_t> got = reader_.Read(buf, n);
    conn_->set_body_deadline(absl::InfiniteFuture());
    if (!got.ok()) {
      // A read that failed because the connection was closed under it
      // reports why it was closed.
      error_ = conn_->IsClosed() ? conn_->close_reason()
                                 : WithContext("reading response body", got.status());
      conn_->Close(error_, absl::IsDeadlineExceeded(error_) ? CloseCause::kTimeout
                                                            : CloseCause::kProtocolError);
      End();
      return error_;
    }
    // The exchange ends as soon as the body's end is known: with the read
    // that delivers its last bytes when their end has arrived too, as Go's
    // body reader returns EOF with them. A caller that stops at exactly the
    // body's length keeps the connection.
    if (reader_.SkipRestIfBuffered(0)) Finish();
    return got;
  }

  void Close() override {
    if (error_.ok()) error_ = ReadAfterClose();
    if (conn_ == nullptr) return;
    // A body whose rest has all arrived is skipped, not cut short.
    if (reader_.SkipRestIfBuffered(std::numeric_limits<uint64_t>::max())) {
      Finish();
      return;
    }
    conn_->Close(absl::CancelledError("response body closed before its end"),
                 CloseCause::kCancelled);
    End();
  }

  const wire::Headers& trailers() const override { return reader_.trailers(); }

 private:
  // The body ended: the connection goes on (or not) without it. The cancel
  // registration ends first, so that a cancel can never close the
  // connection once it may serve another request.
  void Finish() {
    cancel_registration_.Reset();
    conn_->BodyDone(*exchange_, keep_alive_);
    Release();
  }
  // The body failed or was closed early; its connection is closed.
  void End() {
    cancel_registration_.Reset();
    Release();
  }
  // The exchange goes first: its channels are bound to the connection's
  // close signals.
  void Release() {
    exchange_.reset();
    conn_.reset();
  }

  std::shared_ptr<Connection> conn_;  // Null once the body is finished.
  wire::BodyReader reader_;
  std::shared_ptr<Exchange> exchange_;  // Released with conn_.
  const bool keep_alive_;               // Whether the response and request allow reuse.
  const absl::Time deadline_;
  CancelHandle::Registration cancel_registration_;
  absl::Status error_;
};

// A body that arrived whole with its head, or no body: read from memory. Its
// connection was judged, and released, when it arrived.
class ReceivedBody final : public ResponseBody {
 public:
  explicit ReceivedBody(wire::WholeBody whole) : whole_(std::move(whole)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (closed_) return ReadAfterClose();
    const size_t count = std::min(n, whole_.bytes.size() - offset_);
    std::memcpy(buf, whole_.bytes.data() + offset_, count);
    offset_ += count;
    return count;
  }

  void Close() override { closed_ = true; }

  const wire::Headers& trailers() const override { return whole_.trailers; }

 private:
  const wire::WholeBody whole_;
  size_t offset_ = 0;
  bool closed_ = false;
};

}  // namespace

std::shared_ptr<Connection> Connection::Start(uint64_t id, std::string pool_key,
                                              std::unique_ptr<NetConn> socket,
                                              ConnectionOptions options,
                                              std::weak_ptr<IdlePool> pool,
                                              std::shared_ptr<StatsRecorder> stats,
                                              std::function<void()> on_closed) {
  std::shared_ptr<Connection> conn(new Connection(id, std::move(pool_key), std::move(socket),
                                                  options, std::move(pool), std::move(stats),
                                                  std::move(on_closed)));
  conn->stats_->ConnectionOpened();
  // Registered before the threads start, so a test never misses one.
  auto start = [&conn](const char* role, void (Connection::*loop)()) {
    ThreadRegistry::Scoped registration(absl::StrCat("h1-", role, "-", conn->id_));
    StatsRecorder::LiveThread live(conn->stats_);
    std::thread([registration = std::move(registration), live = std::move(live), self = conn,
                 loop]() mutable {
      // Declared in this order so the connection (and its socket) is released
      // before the thread leaves the registry.
      auto scoped = std::move(registration);
      auto counted = std::move(live);
      auto owner = std::move(self);
      ((*owner).*loop)();
    }).detach();
  };
  start("reader", &Connection::ReadLoop);
  start("writer", &Connection::WriteLoop);
  return conn;
}

Connection::Connection(uint64_t id, std::string pool_key, std::unique_ptr<NetConn> socket,
                       ConnectionOptions options, std::weak_ptr<IdlePool> pool,
                       std::shared_ptr<StatsRecorder> stats, std::function<void()> on_closed)
    : id_(id),
      pool_key_(std::move(pool_key)),
      options_(std::move(options)),
      pool_(std::move(pool)),
      stats_(std::move(stats)),
      on_closed_(std::move(on_closed)),
      socket_(std::move(socket)),
      input_(&socket_input_, std::max<size_t>(options_.read_buffer_size, 1)),
      writech_(1, closed_),
      reqch_(1, closed_),
      write_err_ch_(1, closed_),
      body_done_(1, closed_),
      exchange_ended_(1, closed_) {}

Connection::~Connection() {
  Close(absl::CancelledError("connection released"), CloseCause::kTransportClosed);
}

void Connection::Close(absl::Status reason, CloseCause cause) {
  {
    absl::MutexLock lock(&mu_);
    if (closed_.HasFired()) return;
    close_reason_ = std::move(reason);
    closed_.Fire();
  }
  FinishClose(cause);
}

bool Connection::CloseIfIdle(absl::Status reason, CloseCause cause) {
  {
    absl::MutexLock lock(&mu_);
    if (expected_responses_ > 0) return false;
    if (closed_.HasFired()) return true;  // Its closer finishes the close.
    close_reason_ = std::move(reason);
    closed_.Fire();
  }
  FinishClose(cause);
  return true;
}

void Connection::FinishClose(CloseCause cause) {
  socket_->Shutdown();
  if (std::shared_ptr<IdlePool> pool = pool_.lock()) pool->Remove(this);
  stats_->ConnectionClosed(cause);
  if (on_closed_) on_closed_();
}

absl::StatusOr<size_t> Connection::SocketInput::Read(char* buf, size_t n) {
  if (conn_.body_deadline_ != absl::InfiniteFuture() &&
      (absl::Now() >= conn_.body_deadline_ ||
       absl::IsDeadlineExceeded(conn_.socket_->AwaitInput(conn_.body_deadline_ - absl::Now())))) {
    return absl::DeadlineExceededError("request deadline exceeded");
  }
  absl::StatusOr<size_t> got = conn_.socket_->Read(buf, n);
  if (!got.ok() || *got > 0 || !conn_.closed_.HasFired()) return got;
  const absl::Status reason = conn_.close_reason();
  return absl::Status(reason.code(),
                      absl::StrCat("the connection was closed: ", reason.message()));
}

absl::Status Connection::close_reason() const {
  absl::MutexLock lock(&mu_);
  return close_reason_.ok() ? absl::UnknownError("the connection is still open") : close_reason_;
}

void Connection::MarkIdle(absl::Time now) {
  absl::MutexLock lock(&mu_);
  idle_since_ = now;
  pooled_ = true;
}

bool Connection::IsReused() const {
  absl::MutexLock lock(&mu_);
  return requests_sent_ > 0 || pooled_;
}

absl::Duration Connection::MarkTaken(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return now - idle_since_;
}

absl::StatusOr<Response> Connection::RoundTrip(Request& request, absl::string_view head,
                                               RetryHint* retry_hint) {
  *retry_hint = RetryHint::kNone;
  const bool asked_close =
      options_.disable_keep_alives || request.headers.HasToken("Connection", "close");
  std::shared_ptr<Exchange> exchange;
  {
    absl::MutexLock lock(&mu_);
    if (closed_.HasFired()) {
      *retry_hint = RetryHint::kNothingWritten;
      return WithContext("connection closed before the request was sent", close_reason_);
    }
    ++requests_sent_;
    ++expected_responses_;
    const bool expect_continue = request.body != nullptr &&
                                 request.content_length.value_or(1) != 0 &&
                                 options_.expect_continue_timeout > absl::ZeroDuration() &&
                                 request.headers.HasToken("Expect", "100-continue");
    exchange = std::make_shared<Exchange>(requests_sent_, request, head, requests_sent_ > 1,
                                          asked_close, expect_continue, reader_exited_, closed_);
  }
  if (exchange->reused) stats_->Reused();
  // The reader gets its request first: if the write then fails and closes
  // the connection, the reader still reads whatever response had arrived,
  // and that response wins over the write error.
  const bool writer_idle = writes_in_progress_.fetch_add(1) == 0;
  if (!reqch_.Send(exchange) ||
      (!(writer_idle && WriteOnCaller(*exchange)) && !writech_.Send(exchange))) {
    // The writer never had it: returns at once.
    return Failed(*exchange, request,
                  WithContext("connection closed before the request was sent", close_reason()),
                  /*closed_before_response=*/false, retry_hint);
  }
  Hook(HookPoint::kRequestHandedOver, exchange->seq);
  // The cancelling thread only wakes the caller, which gives up if it still
  // can: the connection may already serve another request when it runs.
  CancelHandle::Registration registration;
  if (exchange->cancel.has_value()) {
    registration =
        exchange->cancel->OnCancel([exchange = exchange.get()] { exchange->Interrupt(); });
  }
  return AwaitResponse(*exchange, request, retry_hint);
}

namespace {

// Why a request stopped in `phase`: cancelled or past its deadline.
absl::Status Stopped(absl::StatusCode code, absl::string_view phase) {
  return absl::Status(
      code, absl::StrCat(code == absl::StatusCode::kCancelled ? "request cancelled while "
                                                              : "request deadline exceeded while ",
                         phase));
}

// The close cause for a caller that gave up with `why`.
CloseCause GaveUpCause(const absl::Status& why) {
  if (absl::IsCancelled(why)) return CloseCause::kCancelled;
  if (absl::IsDeadlineExceeded(why)) return CloseCause::kTimeout;
  return CloseCause::kPeerClosed;  // The connection had ended: already closed.
}

}  // namespace

std::optional<absl::Status> Connection::GiveUp(Exchange& exchange, absl::StatusCode code) {
  const absl::Status error = Stopped(code, exchange.Phase());
  if (!exchange.Abandon(error)) return std::nullopt;
  Close(error, GaveUpCause(error));
  return error;
}

absl::Status Connection::Failed(Exchange& exchange, Request& request, absl::Status error,
                                bool closed_before_response, RetryHint* retry_hint) {
  switch (exchange.ReclaimUnsent(request)) {
    case Exchange::Reclaim::kReclaimed:
      *retry_hint = RetryHint::kNothingWritten;
      return error;
    case Exchange::Reclaim::kSent:
      if (closed_before_response) *retry_hint = RetryHint::kClosedBeforeResponse;
      return error;
    case Exchange::Reclaim::kCancelled:
      return Stopped(absl::StatusCode::kCancelled, exchange.Phase());
    case Exchange::Reclaim::kDeadlineExceeded:
      return Stopped(absl::StatusCode::kDeadlineExceeded, exchange.Phase());
  }
  return error;
}

absl::StatusOr<Response> Connection::AwaitResponse(Exchange& exchange, Request& request,
                                                   RetryHint* retry_hint) {
  // The header timer starts once the request is written, as in Go: a slow
  // upload to a healthy server does not time out.
  absl::Time header_deadline = absl::InfiniteFuture();
  bool gave_up = false;  // Cancelled or past the deadline, but the response is on its way.
  const absl::Time began = absl::Now();
  AwaitingResponse awaiting;
  absl::Duration spin = awaiting.alone()
                            ? absl::Nanoseconds(response_spin_ns_.load(std::memory_order_relaxed))
                            : absl::ZeroDuration();
  for (;;) {
    const absl::Time deadline =
        gave_up ? absl::InfiniteFuture() : std::min(header_deadline, exchange.deadline);
    std::optional<ExchangeEvent> event =
        exchange.events().SpinThenRecvWithTimeout(spin, deadline - absl::Now());
    spin = absl::ZeroDuration();  // Only the first wait: the response is usually its end.
    const bool interrupted = event.has_value() && std::holds_alternative<Interrupted>(*event);
    if (!gave_up && (interrupted || (!event.has_value() && absl::Now() >= exchange.deadline))) {
      if (std::optional<absl::Status> error =
              GiveUp(exchange, interrupted ? absl::StatusCode::kCancelled
                                           : absl::StatusCode::kDeadlineExceeded)) {
        return *error;
      }
      gave_up = true;
      continue;
    }
    if (interrupted) continue;
    if (!event.has_value()) {
      const bool timed_out = absl::Now() >= header_deadline;
      if (timed_out) Hook(HookPoint::kHeaderTimerFired, exchange.seq);
      // Else the reader ended without an answer for this request.
      const absl::Status why =
          timed_out ? absl::DeadlineExceededError(
                          absl::StrCat("timeout awaiting response headers after ",
                                       absl::FormatDuration(options_.response_header_timeout)))
                    : WithContext("connection closed before the response", close_reason());
      if (!exchange.Abandon(why)) {
        // The reader has claimed the outcome: it is on its way (or already
        // queued, if the reader has exited since), and the connection may
        // already serve another request. Never close it here.
        header_deadline = absl::InfiniteFuture();
        gave_up = true;
        continue;
      }
      if (!timed_out) return Failed(exchange, request, why, false, retry_hint);
      Close(why, CloseCause::kTimeout);
      return why;
    }
    if (const absl::Status* written = std::get_if<absl::Status>(&*event)) {
      // A failed write closed the connection; the reader reports next.
      if (written->ok() && options_.response_header_timeout != absl::InfiniteDuration()) {
        header_deadline = absl::Now() + options_.response_header_timeout;
      }
      continue;
    }
    ReadOutcome& read = std::get<ReadOutcome>(*event);
    LearnResponseSpin(absl::Now() - began);
    if (!read.response.ok()) {
      return Failed(exchange, request, read.response.status(), read.closed_before_response,
                    retry_hint);
    }
    return std::move(read.response);
  }
}

void Connection::LearnResponseSpin(absl::Duration waited) {
  // Spin next time for twice what this response took, up to the longest
  // spin, if it took no longer than that: a response that comes within the
  // spin saves the caller's wake from sleep, and one that takes longer ends
  // the spinning until a response comes quickly again (it is the wait of a
  // slow server, that spinning would waste a core on). A wait just over
  // half the longest spin still spins, so that a response slowed by one
  // wake from sleep does not end the spinning for good.
  const absl::Duration spin =
      waited <= kMaxResponseSpin ? std::min(2 * waited, kMaxResponseSpin) : absl::ZeroDuration();
  response_spin_ns_.store(absl::ToInt64Nanoseconds(spin), std::memory_order_relaxed);
}

bool Connection::WriteOnCaller(Exchange& exchange) {
  const size_t written = exchange.WriteOnCaller([this](absl::string_view head) -> size_t {
    // As the writer looks before its first write: an answer begun already
    // is to no request of ours, and the writer gives the request back.
    if (AnswerHasBegun()) return 0;
    // A failed write goes to the writer, which writes the rest or fails.
    return socket_->TryWrite({head}).value_or(0);
  });
  if (written < exchange.head.size()) return false;
  ReportWrite(exchange, absl::OkStatus());
  return true;
}

void Connection::ReportWrite(Exchange& exchange, const absl::Status& result) {
  if (result.ok()) exchange.FinishWriting();
  exchange.LetGo();
  // A header timer starts now; without one, the caller is not woken for
  // nothing (a request given back is known from its exchange).
  if (options_.response_header_timeout != absl::InfiniteDuration()) {
    exchange.events().Send(result);
  }
  // A request cut short leaves the server mid-message: close, as Go's
  // writeLoop does. A response already received is still read and wins.
  // A body skipped for a final answer is not cut short: that answer is
  // read whole, and its end closes the connection (it came early).
  if (!result.ok() && !exchange.BodySkipped()) Close(result, CloseCause::kWriteError);
  // Idle from here: the connection is handed out again only once the
  // report below is taken.
  writes_in_progress_.fetch_sub(1);
  write_err_ch_.Send(WriteReport{exchange.seq, result});
  Hook(HookPoint::kWriterReported, exchange.seq);
}

void Connection::WriteLoop() {
  // Reused for every request body this writer sends; allocated with the
  // first, and uninitialized, so a connection that sends none pays nothing.
  std::unique_ptr<char[]> piece;
  while (std::optional<std::shared_ptr<Exchange>> job = writech_.Recv()) {
    Exchange& exchange = **job;
    std::unique_ptr<BodySource> body;
    size_t head_written;
    if (!exchange.StartWriting(body, head_written)) {  // Taken back by its caller.
      writes_in_progress_.fetch_sub(1);
      continue;
    }
    absl::Status result;
    if (head_written > 0) {
      // The caller wrote part of a bodiless request's head: the rest.
      size_t written = 0;
      result = socket_->Write({absl::string_view(exchange.head).substr(head_written)}, written);
      if (!result.ok()) result = WithContext("writing request", result);
    } else {
      result = WriteRequest(exchange, std::move(body), piece);
    }
    ReportWrite(exchange, result);
    if (!result.ok()) return;
  }
}

absl::Status Connection::AwaitContinue(Exchange& exchange) {
  Hook(HookPoint::kAwaitingContinue, exchange.seq);
  const bool send = exchange.AwaitContinue(options_.expect_continue_timeout);
  if (closed_.HasFired()) {
    return WithContext("connection closed while awaiting 100 Continue", close_reason());
  }
  if (!send) {
    return absl::FailedPreconditionError(
        "request body not sent: the server gave a final response instead of 100 Continue");
  }
  return absl::OkStatus();
}

void Connection::InterimHeadRead(Exchange& exchange, const wire::ResponseHead& interim) {
  if (!exchange.expect_continue) return;
  if (interim.status == 100) {
    // The 100's bytes are no answer: a writer that looks before the body's
    // last write must see only what follows them.
    input_seen_ = input_.buffered() > 0;
    exchange.ContinueReceived();
  }
  // The answer proper begins with the next head, wherever the request is
  // by then (as in AwaitNextResponse, its bytes stay in the socket until
  // input_seen_ says so).
  if (input_.buffered() == 0) (void)socket_->AwaitInput(absl::InfiniteDuration());
  input_seen_ = true;
  exchange.ResponseStarted();
}

bool Connection::AnswerHasBegun() {
  // The socket first: the reader notes input_seen_ before it takes bytes
  // out of the socket, so bytes gone from the socket by the time it is
  // looked at have been noted by then. Looked at the other way round, both
  // looks could miss an answer the reader takes in between.
  return socket_->InputPending() || input_seen_.load();
}

absl::Status Connection::WriteRequest(Exchange& exchange, std::unique_ptr<BodySource> body,
                                      std::unique_ptr<char[]>& piece) {
  absl::string_view head = exchange.head;  // Goes out with the first write.
  // Until the first write, the request can go elsewhere whole: the body
  // source, what was read from it and not written, and whether it ended.
  absl::string_view unsent;
  bool body_ended = false;
  const auto give_back = [&](absl::Status why) {
    exchange.GiveBack(std::move(body), unsent, body_ended);
    return why;
  };
  // Checked before the body is first read: a source is never read for a
  // connection that has closed.
  if (closed_.HasFired()) {
    return give_back(
        WithContext("connection closed before the request was written", close_reason()));
  }
  // Reads body bytes into `buf`: data to send if `keep`, else a look for
  // the source's end.
  const auto read = [&](char* buf, size_t n, bool keep) -> absl::StatusOr<size_t> {
    absl::StatusOr<size_t> got = body->Read(buf, n);
    const bool extra = got.ok() && *got > 0 && !keep;  // Past Content-Length.
    if (got.ok() && *got == 0) body_ended = true;
    if (got.ok() && keep) unsent = absl::string_view(buf, *got);
    if (closed_.HasFired()) {
      const absl::Status closed =
          absl::CancelledError("connection closed while the request body was being written");
      // Whole, unless part of it is out or the body broke its length.
      return head.empty() || extra ? closed : give_back(closed);
    }
    if (!got.ok()) return WithContext("reading request body", got.status());
    return got;
  };
  // Writes `pieces` (`last` if they complete the request). An answer (or a
  // close) that has begun before the first write cannot be to this request:
  // it goes back whole. One that has begun before the last write returned
  // came before the request with a body was complete: early. That is looked
  // for on both sides of the last write, as the reader may not have run yet.
  const auto write = [&](std::initializer_list<absl::string_view> pieces,
                         bool last) -> absl::Status {
    if (!head.empty()) {
      if (AnswerHasBegun() || !exchange.BeginFirstWrite(last)) {
        return give_back(
            absl::UnavailableError("the connection ended before the request was written"));
      }
    } else if (last) {
      Hook(HookPoint::kBeforeLastWrite, exchange.seq);
      if (AnswerHasBegun()) exchange.MarkAnsweredEarly();
      exchange.EnterLastWrite();
    }
    size_t written = 0;
    const absl::Status status = socket_->Write(pieces, written);
    if (!status.ok() && !head.empty() && written == 0) {
      return give_back(WithContext("writing request", status));
    }
    if (last && exchange.has_body && AnswerHasBegun()) exchange.MarkAnsweredEarly();
    if (!head.empty()) exchange.FirstWriteReturned();
    head = {};
    unsent = {};
    return status.ok() ? status : WithContext("writing request", status);
  };

  if (body == nullptr) return write({head}, /*last=*/true);
  if (exchange.expect_continue) {
    if (absl::Status status = write({head}, /*last=*/false); !status.ok()) return status;
    if (absl::Status status = AwaitContinue(exchange); !status.ok()) return status;
  }
  if (piece == nullptr) piece.reset(new char[kWriteChunk]);
  // Each piece is written before the source is read again, so bytes never
  // wait behind a slow source; it is gathered with its framing, not copied.
  if (!exchange.content_length.has_value()) {  // Chunked.
    for (;;) {
      absl::StatusOr<size_t> n = read(piece.get(), kWriteChunk, /*keep=*/true);
      if (!n.ok()) return n.status();
      if (*n == 0) return write({head, wire::kLastChunk}, /*last=*/true);
      const absl::string_view data(piece.get(), *n);
      absl::Status status =
          write({head, wire::ChunkSizeLine(*n), data, wire::kChunkEnd}, /*last=*/false);
      if (!status.ok()) return status;
    }
  }
  // Content-Length: the last piece (none for an empty body) waits until the
  // source has shown that it ends there.
  const uint64_t length = *exchange.content_length;
  uint64_t remaining = length;
  while (remaining > 0) {
    absl::StatusOr<size_t> n =
        read(piece.get(), std::min<uint64_t>(kWriteChunk, remaining), /*keep=*/true);
    if (!n.ok()) return n.status();
    if (*n == 0) {
      return absl::InvalidArgumentError(absl::StrCat("request body ended after ",
                                                     length - remaining, " of ", length,
                                                     " bytes (Content-Length)"));
    }
    remaining -= *n;
    if (remaining == 0) break;
    if (absl::Status status = write({head, unsent}, /*last=*/false); !status.ok()) return status;
  }
  // Go fails "ContentLength=3 with Body length 6" after sending the three;
  // checked before the last write instead, so that the server never
  // receives a complete request the caller did not mean.
  char extra;
  absl::StatusOr<size_t> more = read(&extra, 1, /*keep=*/false);
  if (!more.ok()) return more.status();
  if (*more > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body longer than its Content-Length of ", length, " bytes"));
  }
  return write({head, unsent}, /*last=*/true);
}

void Connection::ReadLoop() {
  while (AwaitNextResponse()) {
    std::optional<std::shared_ptr<Exchange>> exchange = reqch_.Recv();
    if (!exchange.has_value() || !ReadOneResponse(*exchange)) break;
    Hook(HookPoint::kReaderBeforeNextRead, (*exchange)->seq);
  }
  reader_exited_.Fire();
}

bool Connection::AwaitNextResponse() {
  {
    // A fresh connection waits for its first request, or for the pool to
    // take it (its dial's request took another connection, Go's late
    // binding); only then is there something to watch the socket for. Both
    // happen under mu_, as does the close, so each wakes this wait.
    absl::MutexLock lock(&mu_);
    const auto wanted = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return requests_sent_ > 0 || pooled_ || closed_.HasFired();
    };
    mu_.Await(absl::Condition(&wanted));
  }
  for (;;) {
    absl::Duration wait = absl::InfiniteDuration();
    {
      absl::MutexLock lock(&mu_);
      // Idle between exchanges, or in the pool before its first.
      if (expected_responses_ == 0) wait = options_.idle_timeout;
    }
    // Waits for input without taking it. Until input_seen_ records that an
    // answer has begun, its bytes stay in the socket, where the writer looks
    // too (AnswerHasBegun): a reader that took them first could be preempted
    // with the answer in neither place, and an early answer would pass for
    // one that came after the request.
    const absl::Status ready = input_.buffered() > 0 ? absl::OkStatus() : socket_->AwaitInput(wait);
    const bool timed_out = absl::IsDeadlineExceeded(ready);
    if (!timed_out) input_seen_ = true;
    {
      absl::MutexLock lock(&mu_);
      if (expected_responses_ > 0) {
        // A request arrived: its response reader handles bytes, EOF and
        // errors alike. Only an idle-timeout expiry is waited out.
        if (!timed_out) break;
        continue;
      }
    }
    if (timed_out) {
      // Only a connection the pool still holds times out (Go's
      // closeConnIfStillIdle): one a caller has taken, or one late binding
      // handed over, is about to get its request, and a fresh one could not
      // go elsewhere if it closed under it.
      std::shared_ptr<IdlePool> pool = pool_.lock();
      if (pool != nullptr && !pool->RemoveIfIdle(this)) continue;
    }
    // Nothing is expected, so whatever woke us ends the connection (Go's
    // readLoopPeekFailLocked): a later request must never take it. If a
    // request arrived in the meantime, its response reader takes over.
    absl::Status reason;
    CloseCause cause;
    const absl::StatusOr<bool> peek = ready.ok() ? input_.Peek() : ready;
    if (timed_out) {
      reason = absl::DeadlineExceededError(absl::StrCat(
          "idle connection timed out after ", absl::FormatDuration(options_.idle_timeout)));
      cause = CloseCause::kTimeout;
    } else if (!peek.ok()) {
      reason = WithContext("idle connection", peek.status());
      cause = CloseCause::kPeerClosed;
    } else if (*peek) {
      reason = absl::FailedPreconditionError("unsolicited bytes on an idle connection");
      cause = CloseCause::kUnsolicitedBytes;
    } else {
      reason = absl::UnavailableError("server closed the idle connection");
      cause = CloseCause::kPeerClosed;
    }
    if (CloseIfIdle(reason, cause)) return false;
  }
  return true;
}

bool Connection::ReadOneResponse(const std::shared_ptr<Exchange>& shared_exchange) {
  Exchange& exchange = *shared_exchange;
  // Bytes already buffered belong to this response.
  const uint64_t consumed_before = input_.consumed();
  // The answer begins with its first byte, or with the server's close: how
  // far the request was written by then decides whether this can answer it
  // at all, and whether it is early.
  const absl::StatusOr<bool> first_byte = input_.Peek();
  if (exchange.ResponseStarted() == Exchange::Started::kBeforeAnyWrite) {
    if (!ClaimOrClose(exchange)) return false;
    const absl::Status cause =
        IsClosed() ? close_reason()
        : !first_byte.ok() ? first_byte.status()
        : *first_byte ? absl::UnavailableError("the server sent bytes unasked")
                      : absl::UnavailableError("the server closed the connection");
    const absl::Status error =
        WithContext("connection ended before the request was written", cause);
    Close(error,
          first_byte.ok() && *first_byte ? CloseCause::kUnsolicitedBytes : CloseCause::kPeerClosed);
    exchange.events().Send(ReadOutcome{error});
    return false;
  }
  absl::StatusOr<wire::ResponseHead> head = wire::ReadFinalResponseHead(
      input_, options_.max_response_header_bytes,
      [&](const wire::ResponseHead& interim) { InterimHeadRead(exchange, interim); });
  if (exchange.expect_continue && head.ok()) exchange.FinalHeadRead();
  if (!ClaimOrClose(exchange)) return false;
  absl::StatusOr<wire::BodyFraming> framing =
      head.ok() ? wire::ResponseBodyFraming(*head, exchange.method) : head.status();
  if (!framing.ok()) {
    // A retry is safe only if the server closed the connection before a
    // single byte of the response (a reset after part of a head is not).
    const bool response_started = input_.received() > consumed_before;
    const bool closed_before_response =
        absl::IsUnavailable(head.status()) && !response_started && !IsClosed();
    const absl::Status error = head.ok() ? WithContext("invalid response", framing.status())
                                         : DescribeHeadFailure(head.status(), response_started);
    Close(error, closed_before_response ? CloseCause::kPeerClosed : CloseCause::kProtocolError);
    exchange.events().Send(ReadOutcome{error, closed_before_response});
    return false;
  }
  const bool keep_alive =
      !exchange.request_asked_close && wire::ResponseAllowsReuse(*head, *framing);
  Response response;
  response.status = head->status;
  response.reason = std::move(head->reason);
  response.version_minor = head->version_minor;
  response.content_length = wire::ParseContentLength(head->headers).value_or(std::nullopt);
  response.headers = std::move(head->headers);
  response.conn.id = id_;
  response.conn.reused = exchange.reused;

  if (std::optional<wire::WholeBody> whole =
          wire::TakeWholeBody(input_, *framing, options_.max_response_header_bytes)) {
    // Nothing more to read for it (no body, or the common small one): the
    // caller is woken once, and the connection is judged now.
    response.body = std::make_unique<ReceivedBody>(*std::move(whole));
    return *EndExchange(
        exchange, keep_alive, [&] { exchange.events().Send(ReadOutcome{std::move(response)}); },
        /*on_callers_thread=*/false);
  }
  response.body = std::make_unique<ConnectionBody>(shared_from_this(), *framing,
                                                   options_.max_response_header_bytes,
                                                   shared_exchange, keep_alive);
  exchange.events().Send(ReadOutcome{std::move(response)});
  // The caller reads the body; closing it early or a read error closes the
  // connection, which ends this wait.
  const std::optional<BodyEnd> end = body_done_.Recv();
  if (!end.has_value()) return false;
  // Ended by the caller: go on, even if the connection has closed since. A
  // request may have taken it and had its response arrive before its write
  // failed and closed it: that response is still read, and wins.
  if (end->ended_by_caller) {
    Hook(HookPoint::kReaderResumesAfterBody, exchange.seq);
    return true;
  }
  return *EndExchange(
      exchange, keep_alive, [this] { exchange_ended_.Send(true); },
      /*on_callers_thread=*/false);
}

void Connection::BodyDone(Exchange& exchange, bool keep_alive) {
  // The caller's thread, which holds the stream now (the reader waits on
  // body_done_), ends the exchange itself unless that means waiting for the
  // writer's report: the reader then only resumes, one hand-off instead of
  // a round trip.
  const std::optional<bool> ended_here =
      EndExchange(exchange, keep_alive, /*release=*/[] {}, /*on_callers_thread=*/true);
  if (ended_here.has_value()) return;
  if (body_done_.Send(BodyEnd{/*ended_by_caller=*/false})) exchange_ended_.Recv();
}

bool Connection::ClaimOrClose(Exchange& exchange) {
  if (exchange.Claim()) return true;
  const absl::Status why = exchange.AbandonReason();
  Close(why, GaveUpCause(why));
  return false;
}

std::optional<bool> Connection::EndExchange(Exchange& exchange, bool keep_alive,
                                            absl::FunctionRef<void()> release,
                                            bool on_callers_thread) {
  Verdict verdict = ReuseBlocker(keep_alive);
  std::optional<WriteReport> report;
  if (verdict.ok()) {
    if (exchange.AnsweredEarly()) {
      // An early response, decided at once, without Go's timer: it counts
      // from the head's arrival, however the write ended afterwards.
      verdict = {absl::AbortedError("the response came before the request was completely "
                                    "written; the connection's state is unknown"),
                 CloseCause::kEarlyResponse};
    } else {
      report = write_err_ch_.TryRecv();
      // Before any change, so that the reader can end the exchange instead.
      if (!report.has_value() && on_callers_thread) return std::nullopt;
    }
  }
  {
    absl::MutexLock lock(&mu_);
    --expected_responses_;
  }
  // What arrives from here on is the next exchange's (or unsolicited).
  input_seen_ = false;
  // The exchange is over: the stream goes back to the reader before the
  // connection can be taken, so that it reads the next request's response
  // (which wins over that request's write error) even if a close comes
  // before this thread is done here.
  if (on_callers_thread) body_done_.Send(BodyEnd{/*ended_by_caller=*/true});
  if (report.has_value()) {
    verdict = WriteVerdict(*report, exchange);
  } else if (verdict.ok()) {
    // The write is complete, or it is a bodiless request's last write,
    // whose whole head the server answered: only the report is missing.
    return AwaitWriterInPool(exchange, release);
  }
  if (verdict.ok()) verdict = PutInPool();
  if (verdict.ok()) {
    Hook(HookPoint::kPooledBeforeDelivery, exchange.seq);
  } else {
    Close(verdict.reason, verdict.cause);
  }
  release();
  return verdict.ok();
}

bool Connection::AwaitWriterInPool(Exchange& exchange, absl::FunctionRef<void()> release) {
  std::shared_ptr<IdlePool> pool = pool_.lock();
  const Verdict held = pool == nullptr ? Verdict{absl::CancelledError("transport destroyed"),
                                                 CloseCause::kTransportClosed}
                                       : Pooled(pool->PutPending(shared_from_this()));
  if (!held.ok()) Close(held.reason, held.cause);
  release();
  if (!held.ok()) return false;
  Hook(HookPoint::kReuseAwaitsWriter, exchange.seq);
  std::optional<WriteReport> report =
      write_err_ch_.RecvWithTimeout(options_.reuse_grace_period);
  Verdict verdict;
  if (report.has_value()) {
    verdict = WriteVerdict(*report, exchange);
    // Nothing read the socket during the wait: look at what arrived.
    if (verdict.ok()) verdict = ReuseBlocker(/*keep_alive=*/true);
  } else if (IsClosed()) {
    verdict = {close_reason(), CloseCause::kTransportClosed};  // Already closed: not counted.
  } else {
    verdict = {absl::DeadlineExceededError(absl::StrCat(
                   "the request was not reported written within the reuse grace period of ",
                   absl::FormatDuration(options_.reuse_grace_period))),
               CloseCause::kTimeout};
  }
  const Verdict settled = Pooled(pool->Settle(this, verdict.ok()));
  if (verdict.ok()) verdict = settled;
  if (!verdict.ok()) Close(verdict.reason, verdict.cause);
  return verdict.ok();
}

Connection::Verdict Connection::ReuseBlocker(bool keep_alive) const {
  if (!keep_alive) {
    return {absl::CancelledError("the response or the request asked to close"),
            CloseCause::kNotReusable};
  }
  if (input_.saw_eof()) {
    return {absl::UnavailableError("server closed the connection"), CloseCause::kPeerClosed};
  }
  // Bytes (or a close) already behind the response, in the buffer or the
  // socket, must never be read as the next request's response.
  if (input_.buffered() > 0 || socket_->InputPending()) {
    return {absl::FailedPreconditionError("unsolicited bytes or a close after the response"),
            CloseCause::kUnsolicitedBytes};
  }
  return {};
}

Connection::Verdict Connection::WriteVerdict(const WriteReport& report, const Exchange& exchange) {
  // One report per request, received in order, so the report always belongs
  // to the exchange being ended; the tag makes that checked, not assumed.
  if (report.seq != exchange.seq) {
    return {absl::InternalError(absl::StrCat("write report for request ", report.seq,
                                             " while ending request ", exchange.seq)),
            CloseCause::kWriteError};
  }
  return {report.status, CloseCause::kWriteError};
}

Connection::Verdict Connection::Pooled(const absl::Status& status) {
  return {status, RefusalCause(status)};
}

Connection::Verdict Connection::PutInPool() {
  std::shared_ptr<IdlePool> pool = pool_.lock();
  if (pool == nullptr) {
    return {absl::CancelledError("transport destroyed"), CloseCause::kTransportClosed};
  }
  return Pooled(pool->Put(shared_from_this()));
}

absl::Status Connection::DescribeHeadFailure(const absl::Status& read_error,
                                             bool response_started) {
  if (IsClosed()) return WithContext("connection closed before the response", close_reason());
  if (absl::IsUnavailable(read_error) && !response_started) {
    return absl::UnavailableError("server closed the connection before sending a response");
  }
  return WithContext("reading response head", read_error);
}

}  // namespace h1
