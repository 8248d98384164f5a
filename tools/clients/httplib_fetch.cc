// httplib_fetch: h1fetch's command-line contract over cpp-httplib, so that
// the conformance runner can put cpp-httplib through the same scenarios.
// One keep-alive httplib::Client per host serves every request.
//
// cpp-httplib has no response-header timeout: --response_header_timeout
// becomes its read timeout (for every read, head and body). It does not
// say which connection served a request: "conn" is null.
#include <httplib.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/h1fetch/request_spec.h"
#include "transport/url.h"

int main(int argc, char** argv) {
  absl::StatusOr<h1::fetch::ClientArgs> args = h1::fetch::ParseClientArgs(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "httplib_fetch: %s\n", std::string(args.status().message()).c_str());
    return 2;
  }
  const std::vector<h1::fetch::RequestSpec>& specs = args->requests;
  std::map<std::string, std::unique_ptr<httplib::Client>> clients;
  for (size_t i = 0; i < specs.size(); ++i) {
    absl::SleepFor(specs[i].sleep_before);
    h1::fetch::Outcome outcome;
    outcome.index = static_cast<int>(i + 1);
    outcome.method = specs[i].method;
    absl::StatusOr<h1::HttpUrl> url = h1::ParseHttpUrl(specs[i].url);
    if (!url.ok()) return 2;
    std::unique_ptr<httplib::Client>& client = clients[url->PoolKey()];
    if (client == nullptr) {
      client = std::make_unique<httplib::Client>(url->host, url->port);
      client->set_keep_alive(true);
      if (args->response_header_timeout > absl::ZeroDuration()) {
        client->set_read_timeout(absl::ToChronoMicroseconds(args->response_header_timeout));
      }
    }
    httplib::Result result =
        specs[i].method == "HEAD" ? client->Head(url->target)
        : specs[i].body_bytes.has_value()
            ? client->Post(url->target, std::string(*specs[i].body_bytes, 'x'),
                           "application/octet-stream")
            : client->Get(url->target);
    if (result) {
      outcome.status = result->status;
      outcome.body_bytes = result->body.size();
      outcome.body_prefix = result->body.substr(0, 16);
    } else {
      outcome.error = httplib::to_string(result.error());
    }
    std::printf("%s\n", h1::fetch::ToJsonLine(outcome).c_str());
    std::fflush(stdout);
  }
  return 0;
}
