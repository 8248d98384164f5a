// Parsing of the absolute http:// URLs a Request names. https is out of scope.
#ifndef H1_TRANSPORT_URL_H_
#define H1_TRANSPORT_URL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace h1 {

struct HttpUrl {
  std::string host;  // Without brackets for IPv6 literals.
  uint16_t port = 80;
  std::string target;  // Path and query, at least "/".
  // The Host header value: host, plus ":port" unless it is 80.
  std::string HostHeader() const;
  // The idle-pool key: "http://host:port".
  std::string PoolKey() const;
};

// Accepts "http://host[:port][/path][?query]"; the fragment is dropped.
// Errors name the problem ("unsupported scheme \"https\"", "invalid port").
absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url);

}  // namespace h1

#endif  // H1_TRANSPORT_URL_H_
