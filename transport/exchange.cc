// See exchange.h.
#include "transport/exchange.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace h1 {
namespace {

// A body given back after a failed first write: the bytes already read from
// the source for that write, then the rest of the source, if it had not
// ended.
class ResumedBody final : public BodySource {
 public:
  ResumedBody(absl::string_view read, std::unique_ptr<BodySource> rest)
      : read_(read), rest_(std::move(rest)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (offset_ < read_.size()) {
      const size_t count = std::min(n, read_.size() - offset_);
      std::memcpy(buf, read_.data() + offset_, count);
      offset_ += count;
      return count;
    }
    return rest_ == nullptr ? 0 : rest_->Read(buf, n);
  }

 private:
  const std::string read_;
  size_t offset_ = 0;
  const std::unique_ptr<BodySource> rest_;  // Null: the source had ended.
};

}  // namespace

Exchange::Exchange(uint64_t seq, Request& request, absl::string_view head, bool reused,
                   bool request_asked_close, CloseSignal& answered)
    : seq(seq),
      method(request.method),
      head(head),
      content_length(request.content_length),
      has_body(request.body != nullptr),
      reused(reused),
      request_asked_close(request_asked_close),
      events_(2, answered),
      body_(std::move(request.body)) {}

bool Exchange::StartWriting(std::unique_ptr<BodySource>& body) {
  absl::MutexLock lock(&mu_);
  if (stage_ != Stage::kQueued) return false;
  stage_ = Stage::kWriting;
  body = std::move(body_);
  return true;
}

void Exchange::EnterLastWrite() {
  absl::MutexLock lock(&mu_);
  stage_ = Stage::kLastWrite;
}

void Exchange::GiveBack(std::unique_ptr<BodySource> body, absl::string_view read_ahead,
                        bool body_ended) {
  if (body != nullptr && (!read_ahead.empty() || body_ended)) {
    body = std::make_unique<ResumedBody>(read_ahead, body_ended ? nullptr : std::move(body));
  }
  absl::MutexLock lock(&mu_);
  stage_ = Stage::kUnsent;
  body_ = std::move(body);
}

void Exchange::FinishWriting() {
  absl::MutexLock lock(&mu_);
  stage_ = Stage::kWritten;
}

Exchange::Claimed Exchange::Claim() {
  absl::MutexLock lock(&mu_);
  if (answer_ == Answer::kAbandoned) return Claimed::kAbandoned;
  answer_ = Answer::kClaimed;
  if (stage_ == Stage::kQueued || stage_ == Stage::kUnsent || stage_ == Stage::kReclaimed) {
    if (stage_ == Stage::kQueued) stage_ = Stage::kUnsent;
    return Claimed::kBeforeAnyWrite;
  }
  answered_early_ =
      stage_ == Stage::kWriting || (has_body && stage_ == Stage::kLastWrite);
  return Claimed::kClaimed;
}

bool Exchange::AnsweredEarly() const {
  absl::MutexLock lock(&mu_);
  return answered_early_;
}

bool Exchange::Abandon() {
  absl::MutexLock lock(&mu_);
  if (answer_ == Answer::kClaimed) return false;
  answer_ = Answer::kAbandoned;
  return true;
}

bool Exchange::ReclaimUnsent(Request& request) {
  absl::MutexLock lock(&mu_);
  if (stage_ != Stage::kQueued && stage_ != Stage::kUnsent) return false;
  stage_ = Stage::kReclaimed;
  request.body = std::move(body_);
  return true;
}

}  // namespace h1
