// See test_server.h.
#include "testserver/test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace h1::testserver {

TestServer::TestServer(Handler handler, Options options)
    : TestServer([handler = std::move(handler)](PeerConn& conn) { ServeHttp(conn, handler); },
                 options) {}

TestServer::TestServer(Script script, Options options)
    : script_(std::move(script)), options_(options) {
  if (!options_.listen) return;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::inet_pton(AF_INET, options_.address.c_str(), &addr.sin_addr) != 1 ||
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "TestServer: cannot listen on %s: %s\n", options_.address.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TestServer::~TestServer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [conn, shut_down] : live_) {
      conn->Shutdown();
      shut_down = true;
    }
  }
  if (acceptor_.joinable()) {
    ::shutdown(listen_fd_, SHUT_RDWR);  // Wakes accept().
    acceptor_.join();
    ::close(listen_fd_);
  }
  std::map<int, std::thread> running;
  {
    absl::MutexLock lock(&mu_);
    running.swap(running_);
  }
  for (auto& [index, thread] : running) thread.join();
}

std::string TestServer::Url(absl::string_view path) const {
  return absl::StrCat("http://", options_.address, ":", port_, path);
}

void TestServer::AcceptLoop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    absl::MutexLock lock(&mu_);
    if (fd < 0) return;
    if (!StartConnectionLocked(fd)) return;
  }
}

void TestServer::Serve(int fd) {
  absl::MutexLock lock(&mu_);
  StartConnectionLocked(fd);
}

bool TestServer::StartConnectionLocked(int fd) {
  JoinFinishedLocked();
  if (stopping_) {
    ::close(fd);
    return false;
  }
  // A script's small writes (junk on an idle connection, the final head
  // after a 1xx) must not wait for the client's delayed ACK. (A no-op on a
  // socketpair.)
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int index = ++accepted_;
  running_.emplace(index, std::thread([this, index, fd] { RunConnection(index, fd); }));
  return true;
}

void TestServer::RunConnection(int index, int fd) {
  {
    PeerConn conn(this, index, fd);
    {
      absl::MutexLock lock(&mu_);
      live_.emplace(&conn, stopping_);
      if (stopping_) conn.Shutdown();
    }
    script_(conn);
    absl::MutexLock lock(&mu_);
    live_.erase(&conn);
  }
  absl::MutexLock lock(&mu_);
  finished_.push_back(index);
}

void TestServer::JoinFinishedLocked() {
  for (int index : finished_) {
    auto it = running_.find(index);
    // A finished thread has nothing left to do but return: a short join.
    it->second.join();
    running_.erase(it);
  }
  finished_.clear();
}

int TestServer::connections_accepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

std::vector<SeenRequest> TestServer::requests() const {
  absl::MutexLock lock(&mu_);
  return log_;
}

void TestServer::OpenGate(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  open_gates_.emplace(name);
}

void TestServer::CloseClientConnections() {
  absl::MutexLock lock(&mu_);
  for (auto& [conn, shut_down] : live_) {
    conn->Shutdown();
    shut_down = true;
  }
}

bool TestServer::AwaitConnectionsDone(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto done = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return finished_.size() == running_.size();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

size_t TestServer::LogRequest(SeenRequest request) {
  absl::MutexLock lock(&mu_);
  if (!options_.keep_log) return 0;
  log_.push_back(std::move(request));
  return log_.size() - 1;
}

void TestServer::LogBody(size_t entry, absl::string_view kept, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (!options_.keep_log) return;
  log_[entry].body.append(kept.data(), kept.size());
  log_[entry].body_bytes += bytes;
}

void TestServer::LogClientClosedMidBody(size_t entry) {
  absl::MutexLock lock(&mu_);
  if (options_.keep_log) log_[entry].client_closed_mid_body = true;
}

SeenRequest TestServer::LogEntry(size_t entry) const {
  absl::MutexLock lock(&mu_);
  return options_.keep_log ? log_[entry] : SeenRequest{};
}

bool TestServer::AwaitGate(absl::string_view name, PeerConn* conn) {
  absl::MutexLock lock(&mu_);
  const auto ready = [this, name, conn]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return open_gates_.count(name) > 0 || live_[conn];
  };
  mu_.Await(absl::Condition(&ready));
  return open_gates_.count(name) > 0;
}

}  // namespace h1::testserver
