// See peer_conn.h.
#include "testserver/peer_conn.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "testserver/test_server.h"
#include "transport/wire/body_framing.h"

namespace h1::testserver {

class PeerConn::FdSource final : public wire::ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      const ssize_t got = ::recv(fd_, buf, n, 0);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("server read: ", std::strerror(errno)));
    }
  }

 private:
  const int fd_;
};

PeerConn::PeerConn(TestServer* server, int index, int fd)
    : server_(server),
      index_(index),
      fd_(fd),
      source_(std::make_unique<FdSource>(fd_)),
      in_(source_.get()) {}

PeerConn::~PeerConn() { ::close(fd_); }

absl::StatusOr<wire::RequestHead> PeerConn::ReadRequestHead() {
  if (body_.has_value() && !body_->done()) {
    absl::StatusOr<uint64_t> skipped = SkipBody();
    if (!skipped.ok()) return skipped.status();
  }
  body_.reset();
  absl::StatusOr<wire::RequestHead> head = wire::ReadRequestHead(in_);
  if (!head.ok()) return head.status();
  absl::StatusOr<wire::BodyFraming> framing = wire::RequestBodyFraming(*head);
  if (!framing.ok()) return framing.status();
  log_entry_ = server_->LogRequest(
      {index_, ++requests_read_, head->method, head->target, head->headers, "", 0, false});
  body_.emplace(&in_, *framing);
  return head;
}

absl::StatusOr<SeenRequest> PeerConn::ReadRequest() {
  absl::StatusOr<wire::RequestHead> head = ReadRequestHead();
  if (!head.ok()) return head.status();
  absl::StatusOr<std::string> body = ReadBody();
  if (!body.ok()) return body.status();
  return server_->LogEntry(log_entry_);
}

absl::StatusOr<std::string> PeerConn::ReadBody(uint64_t max) {
  std::string kept;
  absl::StatusOr<uint64_t> n = ReadBodyUpTo(max, &kept);
  if (!n.ok()) return n.status();
  return kept;
}

absl::StatusOr<uint64_t> PeerConn::SkipBody(uint64_t max) { return ReadBodyUpTo(max, nullptr); }

absl::StatusOr<uint64_t> PeerConn::ReadBodyUpTo(uint64_t max, std::string* kept) {
  char buf[16 * 1024];
  uint64_t total = 0;
  while (total < max) {
    absl::StatusOr<size_t> n =
        ReadBodyPiece(buf, static_cast<size_t>(std::min<uint64_t>(sizeof(buf), max - total)),
                      kept != nullptr);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    if (kept != nullptr) kept->append(buf, *n);
    total += *n;
  }
  return total;
}

absl::StatusOr<size_t> PeerConn::ReadBodyInto(char* buf, size_t n) {
  return ReadBodyPiece(buf, n, /*keep=*/true);
}

absl::StatusOr<size_t> PeerConn::ReadBodyPiece(char* buf, size_t n, bool keep) {
  if (!body_.has_value()) return absl::FailedPreconditionError("no request head was read");
  absl::StatusOr<size_t> got = body_->Read(buf, n);
  if (!got.ok()) {
    if (in_.saw_eof() || absl::IsUnavailable(got.status())) {
      server_->LogClientClosedMidBody(log_entry_);
    }
    return got.status();
  }
  server_->LogBody(log_entry_, keep ? absl::string_view(buf, *got) : absl::string_view(), *got);
  return got;
}

bool PeerConn::body_done() const { return !body_.has_value() || body_->done(); }

absl::Status PeerConn::Write(absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("server write: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return absl::OkStatus();
}

absl::Status PeerConn::WriteInPieces(absl::string_view bytes, size_t piece) {
  return Trickle(bytes, piece, absl::ZeroDuration());
}

absl::Status PeerConn::Trickle(absl::string_view bytes, size_t piece, absl::Duration gap) {
  piece = std::max<size_t>(piece, 1);
  for (size_t at = 0; at < bytes.size(); at += piece) {
    if (at > 0 && gap > absl::ZeroDuration()) absl::SleepFor(gap);
    if (absl::Status s = Write(bytes.substr(at, piece)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void PeerConn::CloseWrite() { ::shutdown(fd_, SHUT_WR); }

void PeerConn::Reset() {
  const linger hard{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  // Replacing the descriptor drops the last reference to the socket, which
  // with a zero linger time sends RST.
  const int stand_in = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::dup2(stand_in, fd_);
  ::close(stand_in);
}

bool PeerConn::AwaitClientClose(absl::Duration timeout) {
  if (in_.buffered() > 0) return false;
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  const int wait_ms = timeout == absl::InfiniteDuration()
                          ? -1
                          : static_cast<int>(absl::ToInt64Milliseconds(timeout));
  if (::poll(&p, 1, wait_ms) != 1) return false;
  // Peeked, not read: bytes of the client's next request stay for it.
  char c;
  const ssize_t got = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return got <= 0;
}

void PeerConn::DiscardUntilEof() {
  char buf[64 * 1024];
  while (in_.Read(buf, sizeof(buf)).value_or(0) > 0) {
  }
}

bool PeerConn::AwaitGate(absl::string_view name) { return server_->AwaitGate(name, this); }

void PeerConn::Shutdown() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace h1::testserver
