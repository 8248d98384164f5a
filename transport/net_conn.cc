// See net_conn.h.
#include "transport/net_conn.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace h1 {
namespace {

absl::Status ErrnoError(absl::string_view what, int err) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ECONNREFUSED || err == ECONNRESET || err == EPIPE) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

using Iovecs = absl::InlinedVector<iovec, 4>;

Iovecs ToIovecs(absl::Span<const absl::string_view> pieces) {
  Iovecs iovecs;
  for (absl::string_view piece : pieces) {
    if (!piece.empty()) iovecs.push_back({const_cast<char*>(piece.data()), piece.size()});
  }
  return iovecs;
}

class TcpConn final : public NetConn {
 public:
  explicit TcpConn(int fd) : fd_(fd) {}
  ~TcpConn() override { ::close(fd_); }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      const ssize_t got = ::recv(fd_, buf, n, 0);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return ErrnoError("read", errno);
    }
  }

  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override {
    written = 0;
    Iovecs left = ToIovecs(pieces);
    size_t first = 0;  // Index of the first iovec not yet written in full.
    while (first < left.size()) {
      msghdr message{};
      message.msg_iov = left.data() + first;
      message.msg_iovlen = std::min<size_t>(left.size() - first, IOV_MAX);
      ssize_t sent = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("write", errno);
      }
      written += static_cast<size_t>(sent);
      while (sent > 0) {
        const size_t step = std::min(static_cast<size_t>(sent), left[first].iov_len);
        left[first].iov_base = static_cast<char*>(left[first].iov_base) + step;
        left[first].iov_len -= step;
        sent -= static_cast<ssize_t>(step);
        if (left[first].iov_len == 0) ++first;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> TryWrite(absl::Span<const absl::string_view> pieces) override {
    Iovecs iovecs = ToIovecs(pieces);
    msghdr message{};
    message.msg_iov = iovecs.data();
    message.msg_iovlen = std::min<size_t>(iovecs.size(), IOV_MAX);
    for (;;) {
      const ssize_t sent = ::sendmsg(fd_, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent >= 0) return static_cast<size_t>(sent);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return ErrnoError("write", errno);
    }
  }

  bool InputPending() override {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 1 && p.revents != 0;
  }

  absl::Status AwaitInput(absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      int wait_ms = -1;
      if (deadline != absl::InfiniteFuture()) {
        // Rounded up, so that a wait never ends before its deadline.
        const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
        wait_ms = static_cast<int>(std::min<int64_t>(
            absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), INT_MAX));
      }
      pollfd p{fd_, POLLIN | POLLRDHUP, 0};
      const int ready = ::poll(&p, 1, wait_ms);
      if (ready > 0) return absl::OkStatus();
      if (ready < 0 && errno != EINTR) return ErrnoError("poll", errno);
      if (absl::Now() >= deadline) return absl::DeadlineExceededError("no input in time");
    }
  }

  void Shutdown() override { ::shutdown(fd_, SHUT_RDWR); }

 private:
  const int fd_;
};

}  // namespace

std::unique_ptr<NetConn> NetConnFromFd(int fd) { return std::make_unique<TcpConn>(fd); }

namespace {

// Connects `fd` to `address` within the context: a non-blocking connect,
// then a wait for it that the deadline ends, or the context's cancel, which
// shuts the connecting socket down and so wakes the wait.
absl::Status Connect(int fd, const addrinfo& address, const DialContext& context) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoError("fcntl", errno);
  }
  if (::connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return ErrnoError("connect", errno);
    CancelHandle::Registration registration =
        context.cancel.OnCancel([fd] { ::shutdown(fd, SHUT_RDWR); });
    for (;;) {
      const absl::Time now = absl::Now();
      if (context.cancel.IsCancelled()) return absl::CancelledError("dial cancelled");
      if (now >= context.deadline) return absl::DeadlineExceededError("dial timed out");
      int wait_ms = -1;
      if (context.deadline != absl::InfiniteFuture()) {
        wait_ms = static_cast<int>(std::min<int64_t>(
            absl::ToInt64Milliseconds(absl::Ceil(context.deadline - now, absl::Milliseconds(1))),
            INT_MAX));
      }
      pollfd p{fd, POLLOUT, 0};
      const int ready = ::poll(&p, 1, wait_ms);
      if (ready < 0 && errno != EINTR) return ErrnoError("poll", errno);
      if (ready > 0) break;
    }
    // Withdrawn before the last look, so that a cancel never shuts down a
    // socket this dial returns as connected.
    registration.Reset();
    if (context.cancel.IsCancelled()) return absl::CancelledError("dial cancelled");
    int error = 0;
    socklen_t size = sizeof(error);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error != 0) return ErrnoError("connect", error);
  }
  if (::fcntl(fd, F_SETFL, flags) != 0) return ErrnoError("fcntl", errno);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetConn>> DialTcp(const std::string& host, uint16_t port,
                                                 const DialContext& context) {
  const std::string where = absl::StrCat("dial ", host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses); rc != 0) {
    return absl::UnavailableError(absl::StrCat(where, ": cannot resolve host: ", gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError(absl::StrCat(where, ": no address"));
  for (addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last = ErrnoError(absl::StrCat(where, ": socket"), errno);
      continue;
    }
    if (absl::Status connected = Connect(fd, *a, context); !connected.ok()) {
      last = absl::Status(connected.code(), absl::StrCat(where, ": ", connected.message()));
      ::close(fd);
      if (absl::IsCancelled(connected) || absl::IsDeadlineExceeded(connected)) break;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::freeaddrinfo(addresses);
    return NetConnFromFd(fd);
  }
  ::freeaddrinfo(addresses);
  return last;
}

}  // namespace h1
