// See reference_collector.h.
#include "fuzz/response_differential/reference_collector.h"

#include <utility>

namespace h1::fuzz {

void ReferenceCollector::OnMessageBegin() {
  current_ = ParsedResponse{};
  field_.clear();
  value_.clear();
  in_value_ = false;
  headers_done_ = false;
  in_message_ = true;
}

void ReferenceCollector::OnHeaderField(absl::string_view piece) {
  if (in_value_) EndField();
  field_.append(piece.data(), piece.size());
}

void ReferenceCollector::OnHeaderValue(absl::string_view piece) {
  value_.append(piece.data(), piece.size());
  in_value_ = true;
}

void ReferenceCollector::EndField() {
  if (!in_value_ && field_.empty()) return;
  (headers_done_ ? current_.trailers : current_.headers)
      .emplace_back(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
  in_value_ = false;
}

bool ReferenceCollector::OnHeadersComplete(int major, int minor, int status, bool keep_alive) {
  EndField();
  headers_done_ = true;
  current_.version_major = major;
  current_.version_minor = minor;
  current_.status = status;
  current_.keep_alive_at_head = keep_alive;
  return exchange_.method == "HEAD" || status / 100 == 1 || status == 204 || status == 304;
}

bool ReferenceCollector::OnMessageComplete(bool keep_alive) {
  EndField();
  in_message_ = false;
  if (current_.status / 100 == 1) {
    ++interim_count_;
    if (!keep_alive) closing_interim_ = true;
    return false;
  }
  current_.keep_alive = keep_alive;
  current_.interim_count = interim_count_;
  interim_count_ = 0;
  outcome_.responses.push_back(std::move(current_));
  return !keep_alive || static_cast<int>(outcome_.responses.size()) == exchange_.responses;
}

void ReferenceCollector::Fail(std::string error, std::string reason, size_t offset, int status,
                              bool in_trailers) {
  Rejection rejection;
  rejection.error = std::move(error);
  rejection.reason = std::move(reason);
  rejection.offset = offset;
  if (offset < exchange_.bytes.size()) rejection.byte = exchange_.bytes[offset];
  rejection.before = exchange_.bytes.substr(0, offset);
  if (in_trailers) {
    rejection.failed_in = FailedIn::kTrailers;
  } else if (in_message_ && headers_done_) {
    rejection.failed_in = FailedIn::kBody;
  } else if (in_message_ && status / 100 == 1) {
    rejection.failed_in = FailedIn::kInterimHead;
  } else {
    rejection.failed_in = FailedIn::kHead;
  }
  rejection.after_closing_interim = closing_interim_;
  outcome_.rejection = std::move(rejection);
}

void ReferenceCollector::EndOfStream() {
  // A client still waiting for its final response has none: it fails.
  if (interim_count_ > 0) {
    Fail("EOF_AFTER_INTERIM", "", exchange_.bytes.size(), 0, false);
  }
}

}  // namespace h1::fuzz
