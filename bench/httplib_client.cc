// cpp-httplib: one keep-alive httplib::Client per thread.
#include <httplib.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_client.h"

namespace h1::bench {
namespace {

class HttplibClient final : public BenchClient {
 public:
  explicit HttplibClient(const Target& target) : client_(target.host, target.port) {
    client_.set_keep_alive(true);
  }

  absl::StatusOr<size_t> Fetch(absl::string_view method, absl::string_view path,
                               absl::string_view body) override {
    const std::string target(path);
    httplib::Result result = method == "POST"
                                 ? client_.Post(target.c_str(), body.data(), body.size(),
                                                "application/octet-stream")
                                 : client_.Get(target.c_str());
    if (!result) {
      return absl::UnavailableError(
          absl::StrCat("cpp-httplib: ", httplib::to_string(result.error())));
    }
    return result->body.size();
  }

 private:
  httplib::Client client_;
};

}  // namespace

ClientFactory HttplibClients(Target target) {
  return [target] { return std::make_unique<HttplibClient>(target); };
}

}  // namespace h1::bench
