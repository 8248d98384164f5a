// h1::Transport: one Transport shared by every thread, as users share it.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bench_client.h"
#include "transport/transport.h"

namespace h1::bench {
namespace {

// A request body over bytes the caller keeps alive: no copy per request.
class ViewBody final : public BodySource {
 public:
  explicit ViewBody(absl::string_view bytes) : bytes_(bytes) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t count = std::min(n, bytes_.size());
    std::memcpy(buf, bytes_.data(), count);
    bytes_.remove_prefix(count);
    return count;
  }

 private:
  absl::string_view bytes_;
};

class H1Client final : public BenchClient {
 public:
  H1Client(std::shared_ptr<Transport> transport, std::string base)
      : transport_(std::move(transport)), base_(std::move(base)) {}

  absl::StatusOr<size_t> Fetch(absl::string_view method, absl::string_view path,
                               absl::string_view body) override {
    Request request;
    request.method = std::string(method);
    request.url = absl::StrCat(base_, path);
    if (!body.empty()) {
      request.body = std::make_unique<ViewBody>(body);
      request.content_length = body.size();
    }
    absl::StatusOr<Response> response = transport_->RoundTrip(std::move(request));
    if (!response.ok()) return response.status();
    size_t total = 0;
    for (;;) {
      absl::StatusOr<size_t> n = response->body->Read(buffer_, sizeof(buffer_));
      if (!n.ok()) return n.status();
      if (*n == 0) return total;
      total += *n;
    }
  }

 private:
  std::shared_ptr<Transport> transport_;
  const std::string base_;
  char buffer_[64 * 1024];
};

}  // namespace

ClientFactory H1Clients(Target target, int max_idle_per_host) {
  TransportOptions options;
  options.max_idle_conns_per_host = max_idle_per_host;
  auto transport = std::make_shared<Transport>(options);
  const std::string base = absl::StrCat("http://", target.host, ":", target.port);
  return [transport, base] { return std::make_unique<H1Client>(transport, base); };
}

}  // namespace h1::bench
