// See connection.h.
#include "transport/connection.h"

#include <algorithm>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/idle_pool.h"
#include "transport/thread_registry.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/message_head.h"
#include "transport/wire/request_head.h"
#include "transport/wire/whole_body.h"

namespace h1 {
namespace {

constexpr size_t kWriteChunk = 64 * 1024;

absl::Status WithContext(absl::string_view context, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

// A body that holds its connection until the body is finished: closing or
// destroying it earlier closes the connection. It lets go of the connection
// as soon as the body is finished, so a caller holding a read response pins
// no socket.
class ConnectionBoundBody : public ResponseBody {
 public:
  ~ConnectionBoundBody() override { Close(); }

  void Close() final {
    if (conn_ == nullptr) return;
    conn_->Close(absl::CancelledError("response body closed before its end"));
    conn_.reset();
  }

 protected:
  explicit ConnectionBoundBody(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}

  std::shared_ptr<Connection> conn_;  // Null once the body is finished.
};

// A body read on the caller's thread from the connection's stream.
class ConnectionBody final : public ConnectionBoundBody {
 public:
  ConnectionBody(std::shared_ptr<Connection> conn, wire::BodyFraming framing,
                 size_t max_trailer_bytes)
      : ConnectionBoundBody(std::move(conn)),
        reader_(&conn_->body_input(), framing, max_trailer_bytes) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) return error_;
    if (conn_ == nullptr) return 0;
    absl::StatusOr<size_t> got = reader_.Read(buf, n);
    if (!got.ok()) {
      // A read that failed because the connection was closed under it
      // reports why it was closed.
      error_ = conn_->IsClosed() ? conn_->close_reason()
                                 : WithContext("reading response body", got.status());
      conn_->Close(error_);
      conn_.reset();
      return error_;
    }
    if (*got == 0 && n > 0) {
      conn_->BodyDone();
      conn_.reset();
    }
    return got;
  }

  const wire::Headers& trailers() const override { return reader_.trailers(); }

 private:
  wire::BodyReader reader_;
  absl::Status error_;
};

// A body the reader found already received in full: read from memory, with
// no hand-off back to the reader. The reader has already judged the
// connection: a reusable one is held here until the caller reads to the end
// (then the pool takes it) or stops early (then it is closed).
class ReceivedBody final : public ConnectionBoundBody {
 public:
  ReceivedBody(wire::WholeBody whole, std::shared_ptr<Connection> reusable)
      : ConnectionBoundBody(std::move(reusable)), whole_(std::move(whole)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t count = std::min(n, whole_.bytes.size() - offset_);
    std::memcpy(buf, whole_.bytes.data() + offset_, count);
    offset_ += count;
    if (count == 0 && n > 0 && conn_ != nullptr) {
      conn_->ReturnReadConnectionToPool();
      conn_.reset();
    }
    return count;
  }

  const wire::Headers& trailers() const override { return whole_.trailers; }

 private:
  const wire::WholeBody whole_;
  size_t offset_ = 0;
};

class EmptyBody final : public ResponseBody {
 public:
  absl::StatusOr<size_t> Read(char*, size_t) override { return 0; }
  void Close() override {}
  const wire::Headers& trailers() const override { return trailers_; }

 private:
  wire::Headers trailers_;
};

}  // namespace

std::shared_ptr<Connection> Connection::Start(uint64_t id, std::string pool_key,
                                              std::unique_ptr<NetConn> socket,
                                              ConnectionOptions options,
                                              std::weak_ptr<IdlePool> pool) {
  std::shared_ptr<Connection> conn(
      new Connection(id, std::move(pool_key), std::move(socket), options, std::move(pool)));
  // Registered before the threads start, so a test never misses one.
  auto start = [&conn](const char* role, void (Connection::*loop)()) {
    auto registration =
        std::make_unique<ThreadRegistry::Scoped>(absl::StrCat("h1-", role, "-", conn->id_));
    std::thread([registration = std::move(registration), self = conn, loop]() mutable {
      // Declared in this order so the connection (and its socket) is released
      // before the thread leaves the registry.
      auto scoped = std::move(registration);
      auto owner = std::move(self);
      ((*owner).*loop)();
    }).detach();
  };
  start("reader", &Connection::ReadLoop);
  start("writer", &Connection::WriteLoop);
  return conn;
}

Connection::Connection(uint64_t id, std::string pool_key, std::unique_ptr<NetConn> socket,
                       ConnectionOptions options, std::weak_ptr<IdlePool> pool)
    : id_(id),
      pool_key_(std::move(pool_key)),
      options_(options),
      pool_(std::move(pool)),
      socket_(std::move(socket)),
      input_(socket_.get()),
      writech_(1, closed_),
      reqch_(1, closed_),
      write_err_ch_(1, closed_),
      body_done_(1, closed_),
      reuse_decided_(1, closed_) {}

Connection::~Connection() {
  Close(absl::CancelledError("connection released"));
}

void Connection::Close(absl::Status reason) {
  {
    absl::MutexLock lock(&mu_);
    if (closed_.HasFired()) return;
    close_reason_ = std::move(reason);
    closed_.Fire();
  }
  FinishClose();
}

bool Connection::CloseIfIdle(absl::Status reason) {
  {
    absl::MutexLock lock(&mu_);
    if (expected_responses_ > 0) return false;
    if (!closed_.HasFired()) {
      close_reason_ = std::move(reason);
      closed_.Fire();
    }
  }
  FinishClose();
  return true;
}

void Connection::FinishClose() {
  socket_->Shutdown();
  if (std::shared_ptr<IdlePool> pool = pool_.lock()) pool->Remove(this);
}

absl::Status Connection::close_reason() const {
  absl::MutexLock lock(&mu_);
  return close_reason_;
}

void Connection::MarkIdle(absl::Time now) {
  absl::MutexLock lock(&mu_);
  idle_since_ = now;
}

absl::Duration Connection::MarkTaken(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return now - idle_since_;
}

absl::StatusOr<Response> Connection::RoundTrip(Request& request, absl::string_view head,
                                               RetryHint* retry_hint) {
  *retry_hint = RetryHint::kNone;
  PendingRead pending;
  pending.method = request.method;
  pending.request_asked_close = options_.disable_keep_alives ||
                                request.headers.HasToken("Connection", "close");
  const auto result = std::make_shared<ResultChannel>(1, reader_exited_);
  pending.result = result;
  bool reused;
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    if (closed_.HasFired()) {
      *retry_hint = RetryHint::kNothingWritten;
      return WithContext("connection closed before the request was sent", close_reason_);
    }
    reused = pending.reused = requests_sent_ > 0;
    seq = ++requests_sent_;
    ++expected_responses_;
    write_stage_ = WriteStage::kBeforeLastWrite;
  }
  const bool has_body = request.body != nullptr;
  // The reader gets its request first: if the write then fails and closes
  // the connection, the reader still reads whatever response had arrived,
  // and that response wins over the write error.
  if (!reqch_.Send(std::move(pending))) {
    *retry_hint = RetryHint::kNothingWritten;  // The body was not taken yet.
    return WithContext("connection closed before the request was sent", close_reason());
  }
  if (!writech_.Send(WriteJob{std::string(head), std::move(request.body),
                              request.content_length})) {
    // Closed before the writer took the request: nothing was written, but a
    // body went with the dropped job, so only a bodiless request may go again.
    if (!has_body) *retry_hint = RetryHint::kNothingWritten;
    return WithContext("connection closed before the request was sent", close_reason());
  }
  Hook(HookPoint::kRequestHandedOver, seq);

  std::optional<ReadResult> got = result->RecvWithTimeout(options_.response_header_timeout);
  if (got.has_value()) {
    if (reused && got->closed_before_response) *retry_hint = RetryHint::kClosedBeforeResponse;
    return std::move(got->response);
  }
  if (reader_exited_.HasFired()) {
    return WithContext("connection closed before the response", close_reason());
  }
  absl::Status timeout = absl::DeadlineExceededError(
      absl::StrCat("timeout awaiting response headers after ",
                   absl::FormatDuration(options_.response_header_timeout)));
  Close(timeout);
  return timeout;
}

void Connection::SetWriteStage(WriteStage stage) {
  absl::MutexLock lock(&mu_);
  write_stage_ = stage;
}

void Connection::WriteLoop() {
  // Reused for every request body this writer sends; allocated with the
  // first, and uninitialized, so a connection that sends none pays nothing.
  std::unique_ptr<char[]> piece;
  for (uint64_t seq = 1;; ++seq) {
    std::optional<WriteJob> job = writech_.Recv();
    if (!job.has_value()) return;
    absl::Status result = WriteRequest(*job, piece);
    job->body.reset();  // The caller's body source is never read again.
    // A request cut short leaves the server mid-message: close, as Go's
    // writeLoop does. A response already received is still read and wins.
    if (!result.ok()) Close(result);
    // Report first, then leave the stage: the reader never sees kNone
    // without the report being on writeErrCh already.
    write_err_ch_.Send(result);
    Hook(HookPoint::kWriterReported, seq);
    SetWriteStage(WriteStage::kNone);
    if (!result.ok()) return;
  }
}

absl::Status Connection::WriteRequest(WriteJob& job, std::unique_ptr<char[]>& piece) {
  absl::string_view head = job.head;  // Goes out with the first body piece.
  if (job.body == nullptr) {
    SetWriteStage(WriteStage::kLastWrite);
    size_t written;
    return WithContext("writing request", socket_->Write({head}, written));
  }
  const bool chunked = !job.content_length.has_value();
  uint64_t remaining = job.content_length.value_or(0);
  if (piece == nullptr) piece.reset(new char[kWriteChunk]);
  // Each piece is written before the source is read again, so bytes never
  // wait behind a slow source; it is gathered with its framing, not copied.
  while (chunked || remaining > 0) {
    const size_t want = chunked ? kWriteChunk : std::min<uint64_t>(kWriteChunk, remaining);
    absl::StatusOr<size_t> n = job.body->Read(piece.get(), want);
    if (closed_.HasFired()) {
      return absl::CancelledError("connection closed while the request body was being written");
    }
    if (!n.ok()) return WithContext("reading request body", n.status());
    if (*n == 0) {
      if (chunked) break;
      return absl::InvalidArgumentError(
          absl::StrCat("request body ended after ", *job.content_length - remaining, " of ",
                       *job.content_length, " bytes (Content-Length)"));
    }
    const absl::string_view data(piece.get(), *n);
    absl::Status status;
    size_t written;
    if (chunked) {
      status = socket_->Write({head, wire::ChunkSizeLine(*n), data, wire::kChunkEnd}, written);
    } else {
      remaining -= *n;
      if (remaining == 0) SetWriteStage(WriteStage::kLastWrite);
      status = socket_->Write({head, data}, written);
    }
    if (!status.ok()) return WithContext("writing request", status);
    head = {};
  }
  if (!chunked && *job.content_length > 0) return absl::OkStatus();  // Ended by its last piece.
  // The end of a chunked body, or the head of an empty one.
  SetWriteStage(WriteStage::kLastWrite);
  size_t written;
  return WithContext("writing request",
                     socket_->Write({head, chunked ? wire::kLastChunk : absl::string_view()}, written));
}

void Connection::ReadLoop() {
  for (uint64_t seq = 1; AwaitNextResponse(); ++seq) {
    std::optional<PendingRead> pending = reqch_.Recv();
    if (!pending.has_value() || !ReadOneResponse(*pending, seq)) break;
  }
  reader_exited_.Fire();
}

bool Connection::AwaitNextResponse() {
  bool timed = false;
  for (;;) {
    bool idle;
    {
      absl::MutexLock lock(&mu_);
      idle = expected_responses_ == 0;
    }
    // The idle timeout is a read timeout on the socket, set only while idle.
    const bool want_timeout = idle && options_.idle_timeout != absl::InfiniteDuration();
    if (want_timeout != timed) {
      socket_->SetReadTimeout(want_timeout ? options_.idle_timeout : absl::InfiniteDuration())
          .IgnoreError();  // Without it the connection only lives longer.
      timed = want_timeout;
    }
    const absl::StatusOr<bool> peek = input_.Peek();
    {
      absl::MutexLock lock(&mu_);
      if (expected_responses_ > 0) {
        // A request arrived: its response reader handles bytes, EOF and
        // errors alike. Only an idle-timeout expiry is waited out.
        if (!absl::IsDeadlineExceeded(peek.status())) break;
        continue;
      }
    }
    // Nothing is expected, so whatever woke us ends the connection (Go's
    // readLoopPeekFailLocked): a later request must never take it. If a
    // request arrived in the meantime, its response reader takes over.
    absl::Status reason;
    if (!peek.ok()) {
      reason = absl::IsDeadlineExceeded(peek.status())
                   ? absl::DeadlineExceededError(
                         absl::StrCat("idle connection timed out after ",
                                      absl::FormatDuration(options_.idle_timeout)))
                   : WithContext("idle connection", peek.status());
    } else if (*peek) {
      reason = absl::FailedPreconditionError("unsolicited bytes on an idle connection");
    } else {
      reason = absl::UnavailableError("server closed the idle connection");
    }
    if (CloseIfIdle(reason)) return false;
  }
  if (timed) socket_->SetReadTimeout(absl::InfiniteDuration()).IgnoreError();
  return true;
}

bool Connection::ReadOneResponse(PendingRead& pending, uint64_t seq) {
  absl::StatusOr<wire::ResponseHead> head =
      wire::ReadFinalResponseHead(input_, options_.max_response_header_bytes);
  absl::StatusOr<wire::BodyFraming> framing =
      head.ok() ? wire::ResponseBodyFraming(*head, pending.method) : head.status();
  if (!framing.ok()) {
    const bool closed_before_response = absl::IsUnavailable(head.status());
    absl::Status error = head.ok() ? WithContext("invalid response", framing.status())
                                   : DescribeHeadFailure(head.status());
    pending.result->Send(ReadResult{error, closed_before_response});
    Close(error);
    return false;
  }
  const bool keep_alive = !pending.request_asked_close && !options_.disable_keep_alives &&
                          wire::ResponseAllowsReuse(*head, *framing);
  Response response;
  response.status = head->status;
  response.reason = std::move(head->reason);
  response.version_minor = head->version_minor;
  response.content_length = wire::ParseContentLength(head->headers).value_or(std::nullopt);
  response.headers = std::move(head->headers);
  response.conn.id = id_;
  response.conn.reused = pending.reused;

  if (framing->kind == wire::BodyFraming::Kind::kNone) {
    response.body = std::make_unique<EmptyBody>();
    // Decided before the caller sees the response, as Go does, so that the
    // caller's next request finds this connection in the pool.
    absl::Status pooled = ReturnToPool(keep_alive, seq);
    if (pooled.ok()) Hook(HookPoint::kPooledBeforeDelivery, seq);
    pending.result->Send(ReadResult{std::move(response)});
    if (!pooled.ok()) Close(pooled);
    return pooled.ok();
  }
  if (std::optional<wire::WholeBody> whole =
          wire::TakeWholeBody(input_, *framing, options_.max_response_header_bytes)) {
    // The whole body is here already (the common small response): judge the
    // connection now and wake the caller once, with no body-end round trip.
    absl::Status reusable = EndExchange(keep_alive, seq);
    response.body = std::make_unique<ReceivedBody>(*std::move(whole),
                                                   reusable.ok() ? shared_from_this() : nullptr);
    pending.result->Send(ReadResult{std::move(response)});
    if (!reusable.ok()) Close(reusable);
    return reusable.ok();
  }
  response.body = std::make_unique<ConnectionBody>(shared_from_this(), *framing,
                                                   options_.max_response_header_bytes);
  pending.result->Send(ReadResult{std::move(response)});
  // The caller reads the body; closing it early or a read error closes the
  // connection, which ends this wait.
  if (!body_done_.Recv().has_value()) return false;
  absl::Status pooled = ReturnToPool(keep_alive, seq);
  reuse_decided_.Send(pooled.ok());
  if (!pooled.ok()) Close(pooled);
  return pooled.ok();
}

void Connection::BodyDone() {
  if (body_done_.Send(true)) reuse_decided_.Recv();
}

bool Connection::WroteRequestCompletely(uint64_t seq) {
  if (std::optional<absl::Status> result = write_err_ch_.TryRecv()) return result->ok();
  {
    absl::MutexLock lock(&mu_);
    // The response ended before the request's last byte was even handed to
    // the socket: an early response. Decided at once, without Go's timer.
    if (write_stage_ == WriteStage::kBeforeLastWrite) return false;
  }
  // The writer is in its last write or just reported; the report is due.
  Hook(HookPoint::kReuseAwaitsWriter, seq);
  std::optional<absl::Status> result = write_err_ch_.RecvWithTimeout(options_.reuse_grace_period);
  return result.has_value() && result->ok();
}

absl::Status Connection::ReturnToPool(bool keep_alive, uint64_t seq) {
  if (absl::Status reusable = EndExchange(keep_alive, seq); !reusable.ok()) return reusable;
  return PutInPool();
}

void Connection::ReturnReadConnectionToPool() {
  if (absl::Status pooled = PutInPool(); !pooled.ok()) Close(pooled);
}

absl::Status Connection::PutInPool() {
  std::shared_ptr<IdlePool> pool = pool_.lock();
  if (pool == nullptr) return absl::CancelledError("transport destroyed");
  return pool->Put(shared_from_this());
}

absl::Status Connection::EndExchange(bool keep_alive, uint64_t seq) {
  {
    absl::MutexLock lock(&mu_);
    --expected_responses_;
  }
  if (!keep_alive) return absl::CancelledError("the response or the request asked to close");
  if (!WroteRequestCompletely(seq)) {
    return absl::AbortedError(
        "the response ended before the request was completely written; the connection's state "
        "is unknown");
  }
  if (input_.saw_eof()) return absl::UnavailableError("server closed the connection");
  if (input_.buffered() > 0) {
    return absl::FailedPreconditionError("unsolicited bytes after the response");
  }
  return absl::OkStatus();
}

absl::Status Connection::DescribeHeadFailure(const absl::Status& read_error) {
  if (IsClosed()) return WithContext("connection closed before the response", close_reason());
  if (absl::IsUnavailable(read_error)) {
    return absl::UnavailableError("server closed the connection before sending a response");
  }
  return WithContext("reading response head", read_error);
}

}  // namespace h1
