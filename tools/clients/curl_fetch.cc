// curl_fetch: h1fetch's command-line contract over libcurl, so that the
// conformance runner can put libcurl through the same scenarios. One easy
// handle serves every request, so libcurl keeps and reuses its connections
// as it would in an application.
//
// libcurl has no response-header timeout: --response_header_timeout aborts a
// transfer whose head has not arrived in time, checked from libcurl's
// progress callback (called at least once a second).
#include <curl/curl.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/h1fetch/request_spec.h"

namespace {

constexpr size_t kBodyPrefix = 16;

struct Transfer {
  h1::fetch::Outcome outcome;
  absl::Time deadline = absl::InfiniteFuture();  // For the head.
  bool head_seen = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  Transfer& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  t.outcome.body_prefix.append(data, std::min(n, kBodyPrefix - t.outcome.body_prefix.size()));
  t.outcome.body_bytes += n;
  return n;
}

size_t OnHeader(char*, size_t size, size_t count, void* user) {
  static_cast<Transfer*>(user)->head_seen = true;
  return size * count;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const Transfer& t = *static_cast<Transfer*>(user);
  return !t.head_seen && absl::Now() > t.deadline ? 1 : 0;  // Non-zero aborts.
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<h1::fetch::ClientArgs> args = h1::fetch::ParseClientArgs(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "curl_fetch: %s\n", std::string(args.status().message()).c_str());
    return 2;
  }
  const std::vector<h1::fetch::RequestSpec>& specs = args->requests;
  const absl::Duration header_timeout = args->response_header_timeout;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* handle = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // No 100-continue wait.
  uint64_t connections = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    absl::SleepFor(specs[i].sleep_before);
    Transfer t;
    t.outcome.index = static_cast<int>(i + 1);
    t.outcome.method = specs[i].method;
    if (header_timeout > absl::ZeroDuration()) t.deadline = absl::Now() + header_timeout;
    const std::string body(specs[i].body_bytes.value_or(0), 'x');
    curl_easy_reset(handle);
    curl_easy_setopt(handle, CURLOPT_URL, specs[i].url.c_str());
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
    if (specs[i].method == "HEAD") {
      curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else if (specs[i].body_bytes.has_value()) {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, specs[i].method.c_str());
    const CURLcode rc = curl_easy_perform(handle);
    long status = 0;
    long new_connections = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &new_connections);
    if (status > 0) t.outcome.status = static_cast<int>(status);
    if (rc != CURLE_OK) t.outcome.error = curl_easy_strerror(rc);
    connections += new_connections;
    if (status > 0 || new_connections > 0) t.outcome.conn = connections;
    t.outcome.reused = new_connections == 0 && status > 0;
    std::printf("%s\n", h1::fetch::ToJsonLine(t.outcome).c_str());
    std::fflush(stdout);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(handle);
  curl_global_cleanup();
  return 0;
}
