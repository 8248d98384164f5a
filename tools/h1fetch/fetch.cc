// See fetch.h.
#include "tools/h1fetch/fetch.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/time/clock.h"

namespace h1::fetch {
namespace {

constexpr size_t kBodyPrefix = 16;

// N 'x' bytes, produced as they are read.
class RepeatedByteBody final : public BodySource {
 public:
  explicit RepeatedByteBody(uint64_t size) : remaining_(size) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
    std::memset(buf, 'x', count);
    remaining_ -= count;
    return count;
  }

 private:
  uint64_t remaining_;
};

}  // namespace

Outcome Fetch(Transport& transport, const RequestSpec& spec, int index,
              const FetchOptions& options) {
  Outcome outcome;
  outcome.index = index;
  outcome.method = spec.method;
  Request request;
  request.method = spec.method;
  request.url = spec.url;
  if (spec.body_bytes.has_value()) {
    request.body = std::make_unique<RepeatedByteBody>(*spec.body_bytes);
    request.content_length = *spec.body_bytes;
    if (options.expect_continue) request.headers.Add("Expect", "100-continue");
  }
  if (options.timeout > absl::ZeroDuration()) request.deadline = absl::Now() + options.timeout;
  absl::StatusOr<Response> response = transport.RoundTrip(std::move(request));
  if (!response.ok()) {
    outcome.error = response.status().ToString();
    return outcome;
  }
  outcome.status = response->status;
  outcome.conn = response->conn.id;
  outcome.reused = response->conn.reused;
  char buf[64 * 1024];
  for (;;) {
    absl::StatusOr<size_t> n = response->body->Read(buf, sizeof(buf));
    if (!n.ok()) {
      outcome.error = n.status().ToString();
      break;
    }
    if (*n == 0) break;
    const size_t keep = std::min(*n, kBodyPrefix - outcome.body_prefix.size());
    outcome.body_prefix.append(buf, keep);
    outcome.body_bytes += *n;
  }
  return outcome;
}

}  // namespace h1::fetch
