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
                   bool request_asked_close, bool expect_continue, CloseSignal& answered,
                   CloseSignal& closed)
    : seq(seq),
      method(request.method),
      head(head),
      content_length(request.content_length),
      has_body(request.body != nullptr),
      reused(reused),
      request_asked_close(request_asked_close),
      expect_continue(expect_continue),
      cancel(request.cancel),
      deadline(request.deadline),
      events_(3, answered),
      continue_word_(1, closed),
      body_(std::move(request.body)) {}

size_t Exchange::WriteOnCaller(absl::FunctionRef<size_t(absl::string_view head)> try_write) {
  absl::MutexLock lock(&mu_);
  if (stage_ != Stage::kQueued || has_body) return 0;
  written_on_caller_ = try_write(head);
  if (written_on_caller_ > 0) {
    stage_ = written_on_caller_ == head.size() ? Stage::kWritten : Stage::kLastWrite;
  }
  return written_on_caller_;
}

bool Exchange::StartWriting(std::unique_ptr<BodySource>& body, size_t& head_written) {
  absl::MutexLock lock(&mu_);
  head_written = written_on_caller_;
  if (written_on_caller_ > 0) return stage_ == Stage::kLastWrite;
  if (stage_ != Stage::kQueued) return false;
  stage_ = Stage::kTaken;
  body = std::move(body_);
  return true;
}

bool Exchange::BeginFirstWrite(bool last) {
  absl::MutexLock lock(&mu_);
  if (stage_ == Stage::kWithdrawing) return false;
  stage_ =
      last ? Stage::kLastWrite : (expect_continue ? Stage::kAwaitingContinue : Stage::kWriting);
  in_first_write_ = true;
  return true;
}

void Exchange::ContinueReceived() {
  {
    absl::MutexLock lock(&mu_);
    if (stage_ != Stage::kAwaitingContinue) return;
    stage_ = Stage::kWriting;
  }
  continue_word_.TrySend(true);
}

void Exchange::FinalHeadRead() {
  {
    absl::MutexLock lock(&mu_);
    if (head_began_early_) answered_early_ = true;
    if (stage_ != Stage::kAwaitingContinue) return;
    stage_ = Stage::kBodySkipped;
    answered_early_ = true;
  }
  continue_word_.TrySend(false);
}

bool Exchange::BodySkipped() const {
  absl::MutexLock lock(&mu_);
  return stage_ == Stage::kBodySkipped;
}

bool Exchange::AwaitContinue(absl::Duration timeout) {
  // The word only wakes the writer; the stage, set under mu_ by whichever
  // of the reader and the timer came first, decides.
  continue_word_.RecvWithTimeout(timeout);
  absl::MutexLock lock(&mu_);
  if (stage_ == Stage::kAwaitingContinue) stage_ = Stage::kWriting;
  return stage_ != Stage::kBodySkipped;
}

void Exchange::FirstWriteReturned() {
  absl::MutexLock lock(&mu_);
  in_first_write_ = false;
}

void Exchange::EnterLastWrite() {
  absl::MutexLock lock(&mu_);
  stage_ = Stage::kLastWrite;
}

void Exchange::FinishWriting() {
  absl::MutexLock lock(&mu_);
  stage_ = Stage::kWritten;
}

void Exchange::GiveBack(std::unique_ptr<BodySource> body, absl::string_view read_ahead,
                        bool body_ended) {
  if (body != nullptr && (!read_ahead.empty() || body_ended)) {
    body = std::make_unique<ResumedBody>(read_ahead, body_ended ? nullptr : std::move(body));
  }
  absl::MutexLock lock(&mu_);
  stage_ = Stage::kUnsent;
  in_first_write_ = false;
  body_ = std::move(body);
}

void Exchange::LetGo() {
  absl::MutexLock lock(&mu_);
  if (stage_ == Stage::kTaken || stage_ == Stage::kWithdrawing) stage_ = Stage::kLetGo;
}

void Exchange::MarkAnsweredEarly() {
  absl::MutexLock lock(&mu_);
  answered_early_ = true;
}

Exchange::Started Exchange::ResponseStarted() {
  absl::MutexLock lock(&mu_);
  // With 100-continue, a head may be an interim 100, which is no answer:
  // whether it began early is applied once it is known final.
  bool& early = expect_continue ? head_began_early_ : answered_early_;
  if (expect_continue) head_began_early_ = false;
  switch (stage_) {
    case Stage::kQueued:
      stage_ = Stage::kUnsent;
      return Started::kBeforeAnyWrite;
    case Stage::kTaken:
      stage_ = Stage::kWithdrawing;
      return Started::kBeforeAnyWrite;
    case Stage::kWithdrawing:
    case Stage::kUnsent:
    case Stage::kLetGo:
    case Stage::kReclaimed:
      return Started::kBeforeAnyWrite;
    case Stage::kAwaitingContinue:  // A final head begun here came before the body.
    case Stage::kBodySkipped:
    case Stage::kWriting:
      early = true;
      return Started::kStarted;
    case Stage::kLastWrite:
      early = early || has_body;
      return Started::kStarted;
    case Stage::kWritten:
      return Started::kStarted;
  }
  return Started::kStarted;
}

bool Exchange::AnsweredEarly() const {
  absl::MutexLock lock(&mu_);
  return answered_early_;
}

bool Exchange::Claim() {
  absl::MutexLock lock(&mu_);
  if (answer_ == Answer::kAbandoned) return false;
  answer_ = Answer::kClaimed;
  return true;
}

bool Exchange::Abandon(absl::Status why) {
  absl::MutexLock lock(&mu_);
  if (answer_ == Answer::kClaimed) return false;
  if (answer_ == Answer::kAwaited) abandon_reason_ = std::move(why);
  answer_ = Answer::kAbandoned;
  return true;
}

absl::Status Exchange::AbandonReason() const {
  absl::MutexLock lock(&mu_);
  return abandon_reason_;
}

void Exchange::Interrupt() {
  {
    absl::MutexLock lock(&mu_);
    interrupted_ = true;
  }
  events_.TrySend(Interrupted{});
}

std::string Exchange::Phase() const {
  absl::MutexLock lock(&mu_);
  switch (stage_) {
    case Stage::kQueued:
    case Stage::kTaken:
    case Stage::kWithdrawing:
    case Stage::kWriting:
    case Stage::kLastWrite:
      return has_body ? "writing the request body" : "writing the request";
    case Stage::kAwaitingContinue:
      return "awaiting 100 Continue";
    case Stage::kBodySkipped:
    case Stage::kWritten:
    case Stage::kUnsent:
    case Stage::kLetGo:
    case Stage::kReclaimed:
      break;
  }
  return "awaiting the response head";
}

Exchange::Reclaim Exchange::ReclaimUnsent(Request& request) {
  absl::MutexLock lock(&mu_);
  const auto writer_decided = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return (stage_ != Stage::kWithdrawing && !in_first_write_) || interrupted_;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&writer_decided), deadline)) {
    return Reclaim::kDeadlineExceeded;
  }
  if (stage_ == Stage::kWithdrawing || in_first_write_) return Reclaim::kCancelled;
  if (stage_ != Stage::kQueued && stage_ != Stage::kUnsent) return Reclaim::kSent;
  stage_ = Stage::kReclaimed;
  request.body = std::move(body_);
  return Reclaim::kReclaimed;
}

}  // namespace h1
