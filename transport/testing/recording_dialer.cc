// See recording_dialer.h.
#include "transport/testing/recording_dialer.h"

#include <string>
#include <utility>

namespace h1::testing {

class RecordingDialer::RecordedConn final : public ForwardingNetConn {
 public:
  RecordedConn(std::unique_ptr<NetConn> inner, RecordingDialer* dialer)
      : ForwardingNetConn(std::move(inner)), dialer_(dialer) {}
  ~RecordedConn() override {
    CloseInner();
    absl::MutexLock lock(&dialer_->mu_);
    --dialer_->open_;
  }
  absl::StatusOr<size_t> TryWrite(absl::Span<const absl::string_view> pieces) override {
    return ForwardTryWrite(pieces);
  }

 private:
  RecordingDialer* dialer_;
};

DialFunction RecordingDialer::Dial(Wrap wrap) {
  return [this, wrap](const std::string& host, uint16_t port,
                      const DialContext& context) -> absl::StatusOr<std::unique_ptr<NetConn>> {
    absl::StatusOr<std::unique_ptr<NetConn>> conn = dial_(host, port, context);
    int index;
    {
      absl::MutexLock lock(&mu_);
      index = ++dials_;
      if (!conn.ok()) return conn.status();
      ++open_;
    }
    std::unique_ptr<NetConn> recorded = std::make_unique<RecordedConn>(*std::move(conn), this);
    return wrap ? wrap(index, std::move(recorded)) : std::move(recorded);
  };
}

int RecordingDialer::dials() const {
  absl::MutexLock lock(&mu_);
  return dials_;
}

int RecordingDialer::open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

bool RecordingDialer::AwaitOpenAtMost(int n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto reached = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return open_ <= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

}  // namespace h1::testing
