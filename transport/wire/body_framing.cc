// See body_framing.h.
#include "transport/wire/body_framing.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace h1::wire {
namespace {

// Transfer-Encoding, if present, must be exactly one field saying "chunked".
// Like Go and nginx, no other coding and no list: a coding before chunked
// would hand the caller undecoded bytes, "chunked, chunked" the inner chunk
// framing as body bytes (RFC 9112 6.1), and this is where requests are
// smuggled, so it stays strict and simple.
absl::StatusOr<bool> IsChunked(const Headers& headers) {
  std::vector<std::string> values = headers.GetAll("Transfer-Encoding");
  if (values.empty()) return false;
  if (values.size() != 1 || !absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(values[0]),
                                                    "chunked")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported Transfer-Encoding \"", absl::StrJoin(values, ", "), "\""));
  }
  return true;
}

absl::StatusOr<BodyFraming> FramingFromHeaders(const Headers& headers, bool until_close_default) {
  absl::StatusOr<bool> chunked = IsChunked(headers);
  if (!chunked.ok()) return chunked.status();
  absl::StatusOr<std::optional<uint64_t>> length = ParseContentLength(headers);
  if (!length.ok()) return length.status();
  if (*chunked && length->has_value()) {
    return absl::InvalidArgumentError("message has both Content-Length and Transfer-Encoding");
  }
  if (*chunked) return BodyFraming{BodyFraming::Kind::kChunked, 0};
  if (length->has_value()) return BodyFraming{BodyFraming::Kind::kContentLength, **length};
  if (until_close_default) return BodyFraming{BodyFraming::Kind::kUntilClose, 0};
  return BodyFraming{};
}

}  // namespace

absl::StatusOr<std::optional<uint64_t>> ParseContentLength(const Headers& headers) {
  std::optional<uint64_t> result;
  for (const std::string& value : headers.GetAll("Content-Length")) {
    for (absl::string_view item : absl::StrSplit(value, ',')) {
      item = absl::StripAsciiWhitespace(item);
      uint64_t length = 0;
      const bool digits_only =
          !item.empty() && item.size() <= 18 &&
          std::all_of(item.begin(), item.end(), [](char c) { return absl::ascii_isdigit(c); });
      if (!digits_only || !absl::SimpleAtoi(item, &length)) {
        return absl::InvalidArgumentError(absl::StrCat("invalid Content-Length \"", value, "\""));
      }
      if (result.has_value() && *result != length) {
        return absl::InvalidArgumentError(
            absl::StrCat("conflicting Content-Length values ", *result, " and ", length));
      }
      result = length;
    }
  }
  return result;
}

absl::Status CheckFramingHeaders(const Headers& headers) {
  return FramingFromHeaders(headers, false).status();
}

absl::StatusOr<BodyFraming> ResponseBodyFraming(const ResponseHead& head,
                                                absl::string_view request_method) {
  // Validate the framing headers even when no body follows: a HEAD or 304
  // response with conflicting lengths is just as untrustworthy.
  absl::StatusOr<BodyFraming> framing = FramingFromHeaders(head.headers, true);
  if (!framing.ok()) return framing.status();
  if (request_method == "HEAD" || head.status < 200 || head.status == 204 ||
      head.status == 304) {
    return BodyFraming{};
  }
  return framing;
}

absl::StatusOr<BodyFraming> RequestBodyFraming(const RequestHead& head) {
  return FramingFromHeaders(head.headers, false);
}

bool ResponseAllowsReuse(const ResponseHead& head, const BodyFraming& framing) {
  if (framing.kind == BodyFraming::Kind::kUntilClose) return false;
  if (head.headers.HasToken("Connection", "close")) return false;
  if (head.version_minor >= 1) return true;
  // HTTP/1.0 keeps the connection only if it says keep-alive (and not
  // close), as Go reads it. Transfer-Encoding in an HTTP/1.0 message means
  // its framing is suspect (RFC 9112 6.1): the connection ends after it.
  return head.headers.HasToken("Connection", "keep-alive") &&
         !head.headers.Has("Transfer-Encoding");
}

}  // namespace h1::wire
