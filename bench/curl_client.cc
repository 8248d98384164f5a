// libcurl: one easy handle per thread, reused so its connection is kept alive.
#include <curl/curl.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_client.h"

namespace h1::bench {
namespace {

size_t CountBytes(char*, size_t size, size_t count, void* total) {
  *static_cast<size_t*>(total) += size * count;
  return size * count;
}

class CurlClient final : public BenchClient {
 public:
  explicit CurlClient(Target target)
      : base_(absl::StrCat("http://", target.host, ":", target.port)), handle_(curl_easy_init()) {
    // curl would otherwise send "Expect: 100-continue" and wait before
    // large bodies.
    headers_ = curl_slist_append(nullptr, "Expect:");
    curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, &CountBytes);
    curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &received_);
    curl_easy_setopt(handle_, CURLOPT_TCP_NODELAY, 1L);
  }
  ~CurlClient() override {
    curl_easy_cleanup(handle_);
    curl_slist_free_all(headers_);
  }

  absl::StatusOr<size_t> Fetch(absl::string_view method, absl::string_view path,
                               absl::string_view body) override {
    const std::string url = absl::StrCat(base_, path);
    curl_easy_setopt(handle_, CURLOPT_URL, url.c_str());
    if (method == "POST") {
      curl_easy_setopt(handle_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else {
      curl_easy_setopt(handle_, CURLOPT_HTTPGET, 1L);
    }
    received_ = 0;
    if (CURLcode rc = curl_easy_perform(handle_); rc != CURLE_OK) {
      return absl::UnavailableError(absl::StrCat("curl: ", curl_easy_strerror(rc)));
    }
    return received_;
  }

 private:
  const std::string base_;
  CURL* const handle_;
  curl_slist* headers_;
  size_t received_ = 0;
};

}  // namespace

ClientFactory CurlClients(Target target) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return [target] { return std::make_unique<CurlClient>(target); };
}

}  // namespace h1::bench
