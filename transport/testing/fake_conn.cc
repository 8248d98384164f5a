// See fake_conn.h.
#include "transport/testing/fake_conn.h"

#include <algorithm>

namespace h1::testing {

void FakeConn::Deliver(absl::string_view bytes) {
  if (bytes.empty()) return;
  absl::MutexLock lock(&mu_);
  incoming_.emplace_back(bytes);
}

void FakeConn::PeerClose() {
  absl::MutexLock lock(&mu_);
  peer_closed_ = true;
}

std::string FakeConn::written() const {
  absl::MutexLock lock(&mu_);
  return written_;
}

absl::StatusOr<size_t> FakeConn::Read(char* buf, size_t n) {
  absl::MutexLock lock(&mu_);
  const auto ready = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return InputPendingLocked(); };
  mu_.Await(absl::Condition(&ready));
  // Like a socket after shutdown, it still hands out what had arrived.
  if (incoming_.empty()) return 0;
  std::string& segment = incoming_.front();
  const size_t count = std::min(n, segment.size());
  segment.copy(buf, count);
  segment.erase(0, count);
  if (segment.empty()) incoming_.pop_front();
  return count;
}

absl::Status FakeConn::Write(absl::Span<const absl::string_view> pieces, size_t& written) {
  written = 0;
  std::string bytes;
  for (absl::string_view piece : pieces) bytes.append(piece.data(), piece.size());
  int write;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::UnavailableError("write: Broken pipe");
    written_ += bytes;
    write = ++writes_;
  }
  written = bytes.size();
  peer_(*this, bytes, write);
  absl::MutexLock lock(&mu_);
  return write_error_;
}

void FakeConn::FailWrites(absl::Status error) {
  absl::MutexLock lock(&mu_);
  write_error_ = std::move(error);
}

bool FakeConn::InputPending() {
  absl::MutexLock lock(&mu_);
  return InputPendingLocked();
}

absl::Status FakeConn::AwaitInput(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto pending = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return InputPendingLocked(); };
  if (mu_.AwaitWithTimeout(absl::Condition(&pending), timeout)) return absl::OkStatus();
  return absl::DeadlineExceededError("no input in time");
}

bool FakeConn::InputPendingLocked() const {
  return !incoming_.empty() || peer_closed_ || shut_down_;
}

void FakeConn::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

}  // namespace h1::testing
