// See transport_test_util.h.
#include "tests/transport_test_util.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_join.h"
#include "testserver/canned.h"
#include "transport/testing/fake_conn.h"
#include "transport/thread_registry.h"

namespace h1::testing {

TransportOptions TestOptions(RecordingDialer& dialer) {
  TransportOptions options;
  options.dial = dialer.Dial();
  return options;
}

DialFunction FirstThenFresh(int& dials, std::function<std::unique_ptr<NetConn>()> first) {
  return [&dials, first = std::move(first)](
             const std::string&, uint16_t,
             const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
    if (++dials == 1) return first();
    return std::make_unique<FakeConn>([](FakeConn& peer, absl::string_view, int) {
      peer.Deliver(testserver::OkResponse("fresh"));
    });
  };
}

std::unique_ptr<NetConn> WriterThreadWritesAll(int, std::unique_ptr<NetConn> conn) {
  return std::make_unique<ForwardingNetConn>(std::move(conn));
}

void HookTable::On(HookPoint point, uint64_t conn_id, uint64_t seq,
                   std::function<void()> handler) {
  entries_.push_back({point, conn_id, seq, std::move(handler)});
}

TestHook HookTable::Hook() const {
  return [this](HookPoint point, uint64_t conn_id, uint64_t seq) {
    for (const Entry& entry : entries_) {
      if (entry.point == point && entry.conn_id == conn_id && entry.seq == seq) entry.handler();
    }
  };
}

void ExpectLiveThreadsAtMost(int threads) {
  ThreadRegistry& registry = ThreadRegistry::Global();
  if (!registry.WaitForAtMost(threads, kLeakWait)) {
    ADD_FAILURE() << "expected at most " << threads << " connection threads, still alive: "
                  << absl::StrJoin(registry.LiveThreads(), ", ");
  }
}

void ExpectNothingLeaked(const RecordingDialer& dialer) {
  ExpectLiveThreadsAtMost(0);
  EXPECT_TRUE(dialer.AwaitOpenAtMost(0)) << dialer.open() << " dialed sockets still open";
}

std::string ReadBody(Response& response) {
  absl::StatusOr<std::string> body = response.body->ReadAll();
  EXPECT_TRUE(body.ok()) << body.status();
  return body.value_or("");
}

Fetched Fetch(Transport& transport, const std::string& url) {
  absl::StatusOr<Response> response = transport.RoundTrip(Get(url));
  EXPECT_TRUE(response.ok()) << url << ": " << response.status();
  if (!response.ok()) return {};
  return {ReadBody(*response), response->conn};
}

namespace {

class HeldBackBodySource final : public BodySource {
 public:
  HeldBackBodySource(uint64_t size, std::shared_ptr<HeldBackBody::State> state)
      : size_(size), state_(std::move(state)) {}
  ~HeldBackBodySource() override { state_->destroyed.Notify(); }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    {
      absl::MutexLock lock(&state_->mu);
      if (state_->bytes_given == size_) {
        ++state_->reads_after_last_byte;
        return 0;
      }
      if (state_->bytes_given + 1 < size_) {
        const size_t count = std::min<uint64_t>(n, size_ - 1 - state_->bytes_given);
        std::memset(buf, 'x', count);
        state_->bytes_given += count;
        return count;
      }
    }
    state_->last_byte_requested.Notify();
    state_->release.WaitForNotification();
    absl::MutexLock lock(&state_->mu);
    buf[0] = 'x';
    state_->bytes_given = size_;
    return 1;
  }

 private:
  const uint64_t size_;
  std::shared_ptr<HeldBackBody::State> state_;
};

}  // namespace

std::unique_ptr<BodySource> HeldBackBody::Make(uint64_t size, std::shared_ptr<State> state) {
  return std::make_unique<HeldBackBodySource>(size, std::move(state));
}

}  // namespace h1::testing
