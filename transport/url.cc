// See url.h.
#include "transport/url.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace h1 {

std::string HttpUrl::HostHeader() const {
  const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == 80 ? name : absl::StrCat(name, ":", port);
}

std::string HttpUrl::PoolKey() const { return absl::StrCat("http://", host, ":", port); }

absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" is not absolute"));
  }
  const absl::string_view scheme = url.substr(0, scheme_end);
  if (!absl::EqualsIgnoreCase(scheme, "http")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported scheme \"", scheme, "\" in URL \"", url, "\" (only http)"));
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  if (const size_t hash = rest.find('#'); hash != absl::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  const size_t path_start = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, path_start);
  HttpUrl parsed;
  parsed.target = path_start == absl::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (parsed.target[0] == '?') parsed.target = "/" + parsed.target;
  for (char c : authority) {
    if (absl::ascii_iscntrl(c) || c == ' ') {
      return absl::InvalidArgumentError(
          absl::StrCat("URL \"", absl::CEscape(url), "\" has a control byte or space in its host"));
    }
  }
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" has userinfo; not supported"));
  }
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" has an unclosed '['"));
    }
    parsed.host = std::string(authority.substr(1, close - 1));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" has a malformed host"));
      }
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) port = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" has no host"));
  }
  for (char c : parsed.host) {
    if (absl::ascii_iscntrl(c) || c == ' ' || c == '/' || c == '\\') {
      return absl::InvalidArgumentError(absl::StrCat("URL \"", absl::CEscape(url),
                                                     "\" has an invalid host"));
    }
  }
  if (!port.empty()) {
    uint32_t value = 0;
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(port, &value) || value == 0 || value > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" has an invalid port"));
    }
    parsed.port = static_cast<uint16_t>(value);
  }
  return parsed;
}

}  // namespace h1
