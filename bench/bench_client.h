// BenchClient: one HTTP/1.1 client under benchmark, doing one request at a
// time on kept-alive connections. Implementations: a raw blocking socket (the
// floor), libcurl, cpp-httplib, and h1::Transport.
#ifndef H1_BENCH_BENCH_CLIENT_H_
#define H1_BENCH_BENCH_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace h1::bench {

// Thread-compatible: each benchmark thread has its own client.
class BenchClient {
 public:
  virtual ~BenchClient() = default;
  // Sends `method` `path` with `body` (empty: none), reads the whole
  // response, and returns the number of body bytes.
  virtual absl::StatusOr<size_t> Fetch(absl::string_view method, absl::string_view path,
                                       absl::string_view body) = 0;
};

// Makes the client for one benchmark thread. Called once per thread; the
// h1 factory shares one Transport between the threads it serves.
using ClientFactory = std::function<std::unique_ptr<BenchClient>()>;

struct Target {
  std::string host;
  uint16_t port;
};

ClientFactory RawSocketClients(Target target);
ClientFactory CurlClients(Target target);
ClientFactory HttplibClients(Target target);
// `max_idle_per_host` sizes the shared Transport's pool.
ClientFactory H1Clients(Target target, int max_idle_per_host);

}  // namespace h1::bench

#endif  // H1_BENCH_BENCH_CLIENT_H_
