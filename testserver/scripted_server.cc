// See scripted_server.h.
#include "testserver/scripted_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/body_reader.h"

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

PeerConn::PeerConn(ScriptedServer* server, int index, int fd)
    : server_(server),
      index_(index),
      fd_(fd),
      source_(std::make_unique<FdSource>(fd)),
      in_(source_.get()) {}

PeerConn::~PeerConn() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<wire::RequestHead> PeerConn::ReadRequestHead() { return wire::ReadRequestHead(in_); }

absl::StatusOr<SeenRequest> PeerConn::ReadRequest() {
  absl::StatusOr<wire::RequestHead> head = ReadRequestHead();
  if (!head.ok()) return head.status();
  std::string body;
  absl::Status status = ReadRequestBody(
      *head, [&body](absl::string_view piece) { body.append(piece.data(), piece.size()); });
  if (!status.ok()) return status;
  SeenRequest seen{index_, head->method, head->target, head->headers, std::move(body)};
  server_->Log(seen);
  return seen;
}

absl::StatusOr<uint64_t> PeerConn::SkipRequestBody(const wire::RequestHead& head) {
  uint64_t skipped = 0;
  absl::Status status =
      ReadRequestBody(head, [&skipped](absl::string_view piece) { skipped += piece.size(); });
  if (!status.ok()) return status;
  return skipped;
}

absl::Status PeerConn::ReadRequestBody(const wire::RequestHead& head,
                                       absl::FunctionRef<void(absl::string_view)> sink) {
  absl::StatusOr<wire::BodyFraming> framing = wire::RequestBodyFraming(head);
  if (!framing.ok()) return framing.status();
  wire::BodyReader body_reader(&in_, *framing);
  return wire::ReadEach(body_reader, sink);
}

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

void PeerConn::DiscardUntilEof() {
  char buf[64 * 1024];
  while (in_.Read(buf, sizeof(buf)).value_or(0) > 0) {
  }
}

void PeerConn::CloseWrite() { ::shutdown(fd_, SHUT_WR); }

void PeerConn::Reset() {
  absl::MutexLock lock(&server_->mu_);
  const linger hard{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  ::close(fd_);  // With a zero linger time, close sends RST.
  fd_ = -1;
}

bool PeerConn::AwaitClientClose(absl::Duration timeout) {
  if (in_.buffered() > 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) return false;
  char c;
  absl::StatusOr<size_t> got = in_.Read(&c, 1);
  return !got.ok() || *got == 0;
}

void PeerConn::Shutdown() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

ScriptedServer::ScriptedServer(Script script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("ScriptedServer: listen");
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ScriptedServer::~ScriptedServer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (PeerConn* conn : live_) conn->Shutdown();
  }
  ::shutdown(listen_fd_, SHUT_RDWR);  // Wakes accept().
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> handlers;
  {
    absl::MutexLock lock(&mu_);
    handlers.swap(handlers_);
  }
  for (auto& t : handlers) t.join();
}

std::string ScriptedServer::Url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

void ScriptedServer::AcceptLoop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    absl::MutexLock lock(&mu_);
    if (fd < 0 || stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    const int index = ++accepted_;
    handlers_.emplace_back([this, index, fd] {
      PeerConn conn(this, index, fd);
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) conn.Shutdown();
        live_.push_back(&conn);
      }
      script_(conn);
      absl::MutexLock lock(&mu_);
      live_.erase(std::find(live_.begin(), live_.end(), &conn));
    });
  }
}

void ScriptedServer::Log(SeenRequest request) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(std::move(request));
}

int ScriptedServer::connections_accepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

std::vector<SeenRequest> ScriptedServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

std::string OkResponse(absl::string_view body, absl::string_view extra_headers) {
  return absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(), "\r\n", extra_headers,
                      "\r\n", body);
}

ScriptedServer::Script AnswerEvery(std::string response) {
  return [response = std::move(response)](PeerConn& conn) {
    while (conn.ReadRequest().ok()) {
      if (!conn.Write(response).ok()) return;
    }
  };
}

}  // namespace h1::testserver
