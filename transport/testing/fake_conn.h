// FakeConn: a NetConn with no socket behind it, whose peer is the test: it
// decides what the peer sends and when, so a byte's arrival is an ordered
// step of the test, not a race with the kernel (like Chromium's
// SequencedSocketData). Thread-safe.
#ifndef H1_TRANSPORT_TESTING_FAKE_CONN_H_
#define H1_TRANSPORT_TESTING_FAKE_CONN_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "transport/net_conn.h"

namespace h1::testing {

class FakeConn final : public NetConn {
 public:
  // Called inside every Write, with the bytes written and the write's
  // number (from 1), before the Write returns: it may Deliver an answer,
  // and may block to hold the writer inside its write.
  using Peer = std::function<void(FakeConn& conn, absl::string_view bytes, int write)>;

  explicit FakeConn(Peer peer) : peer_(std::move(peer)) {}

  // The peer sends `bytes` as one segment: a Read returns bytes of one
  // segment at most, so a test decides what arrives together.
  void Deliver(absl::string_view bytes) ABSL_LOCKS_EXCLUDED(mu_);
  // The peer closes its end: Reads return 0 once the bytes are read.
  void PeerClose() ABSL_LOCKS_EXCLUDED(mu_);
  // From now on, every Write (one in progress too) returns `error` once
  // its peer call returns, its bytes written (a connection reset behind
  // bytes the socket took).
  void FailWrites(absl::Status error) ABSL_LOCKS_EXCLUDED(mu_);
  // Everything written so far.
  std::string written() const ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<size_t> Read(char* buf, size_t n) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override
      ABSL_LOCKS_EXCLUDED(mu_);
  bool InputPending() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AwaitInput(absl::Duration timeout) override ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  bool InputPendingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Peer peer_;
  mutable absl::Mutex mu_;
  std::deque<std::string> incoming_ ABSL_GUARDED_BY(mu_);
  std::string written_ ABSL_GUARDED_BY(mu_);
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  bool peer_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
};

// A NetConn over a FakeConn the test shares: the test can go on delivering
// to the peer after the transport has released the connection (a cancel
// racing the peer, say). Thread-safe, like FakeConn.
class SharedFakeConn final : public NetConn {
 public:
  explicit SharedFakeConn(std::shared_ptr<FakeConn> fake) : fake_(std::move(fake)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override { return fake_->Read(buf, n); }
  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override {
    return fake_->Write(pieces, written);
  }
  bool InputPending() override { return fake_->InputPending(); }
  absl::Status AwaitInput(absl::Duration timeout) override { return fake_->AwaitInput(timeout); }
  void Shutdown() override { fake_->Shutdown(); }

 private:
  const std::shared_ptr<FakeConn> fake_;
};

}  // namespace h1::testing

#endif  // H1_TRANSPORT_TESTING_FAKE_CONN_H_
