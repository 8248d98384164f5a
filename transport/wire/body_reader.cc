// See body_reader.h.
#include "transport/wire/body_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "transport/wire/byte_source.h"
#include "transport/wire/chunk_size_line.h"
#include "transport/wire/message_head.h"

namespace h1::wire {
namespace {

constexpr size_t kMaxChunkSizeLine = 4096;

}  // namespace

BodyReader::BodyReader(BufferedReader* in, BodyFraming framing, size_t max_trailer_bytes)
    : in_(in), framing_(framing), max_trailer_bytes_(max_trailer_bytes) {
  switch (framing.kind) {
    case BodyFraming::Kind::kNone:
      state_ = State::kDone;
      break;
    case BodyFraming::Kind::kContentLength:
      remaining_ = framing.length;
      state_ = remaining_ == 0 ? State::kDone : State::kData;
      break;
    case BodyFraming::Kind::kChunked:
      state_ = State::kChunkSize;
      break;
    case BodyFraming::Kind::kUntilClose:
      state_ = State::kData;
      break;
  }
}

absl::Status BodyReader::Fail(absl::Status status) {
  state_ = State::kFailed;
  error_ = status;
  return status;
}

absl::StatusOr<size_t> BodyReader::Read(char* out, size_t n) {
  if (state_ == State::kFailed) return error_;
  if (state_ == State::kDone || n == 0) return 0;
  if (framing_.kind == BodyFraming::Kind::kChunked) return ReadChunked(out, n);

  const bool until_close = framing_.kind == BodyFraming::Kind::kUntilClose;
  const size_t want = until_close ? n : static_cast<size_t>(std::min<uint64_t>(n, remaining_));
  absl::StatusOr<size_t> got = in_->Read(out, want);
  if (!got.ok()) return Fail(got.status());
  if (*got == 0) {
    if (until_close) {
      state_ = State::kDone;
      return 0;
    }
    return Fail(absl::DataLossError(absl::StrCat("unexpected EOF: ", bytes_read_, " of ",
                                                 framing_.length, " body bytes")));
  }
  bytes_read_ += *got;
  if (!until_close) {
    remaining_ -= *got;
    if (remaining_ == 0) state_ = State::kDone;
  }
  return *got;
}

bool BodyReader::SkipRestIfBuffered(uint64_t max_data) {
  if (state_ == State::kDone) return true;
  if (state_ == State::kFailed) return false;
  switch (framing_.kind) {
    case BodyFraming::Kind::kContentLength:
      if (remaining_ > max_data || remaining_ > in_->buffered()) return false;
      in_->Skip(remaining_);
      bytes_read_ += remaining_;
      remaining_ = 0;
      state_ = State::kDone;
      return true;
    case BodyFraming::Kind::kChunked:
      break;
    case BodyFraming::Kind::kNone:
    case BodyFraming::Kind::kUntilClose:
      return false;  // kNone is always done; until-close ends with the stream.
  }
  if (state_ == State::kData && remaining_ > max_data) return false;  // Mid-chunk.
  // A trial decode of the buffered bytes alone: it fails at their end.
  ViewByteSource view(in_->buffered_bytes());
  BufferedReader trial_in(&view, 4096);
  BodyReader trial = *this;
  trial.in_ = &trial_in;
  char scratch[4096];
  // One byte past the allowance is enough to refuse.
  const size_t want = max_data < sizeof(scratch) ? static_cast<size_t>(max_data) + 1 : sizeof(scratch);
  uint64_t data = 0;
  while (!trial.done()) {
    absl::StatusOr<size_t> n = trial.Read(scratch, want);
    if (!n.ok()) return false;
    data += *n;
    if (data > max_data) return false;
  }
  in_->Skip(trial_in.consumed());
  trial.in_ = in_;
  *this = std::move(trial);
  return true;
}

absl::StatusOr<size_t> BodyReader::ReadChunked(char* out, size_t n) {
  for (;;) {
    switch (state_) {
      case State::kChunkSize: {
        absl::StatusOr<std::string> line =
            in_->ReadLine(kMaxChunkSizeLine, BufferedReader::LineEnding::kCrlf);
        if (absl::IsOutOfRange(line.status())) {
          return Fail(absl::DataLossError(absl::StrCat(
              "unexpected EOF in chunked body after ", bytes_read_, " body bytes")));
        }
        if (absl::IsInvalidArgument(line.status())) {
          return Fail(absl::InvalidArgumentError(
              "malformed chunked body: chunk-size line not ended by CRLF"));
        }
        if (!line.ok()) return Fail(line.status());
        absl::StatusOr<uint64_t> size = ParseChunkSizeLine(*line);
        if (!size.ok()) return Fail(size.status());
        remaining_ = *size;
        state_ = remaining_ == 0 ? State::kTrailers : State::kData;
        break;
      }
      case State::kData: {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
        absl::StatusOr<size_t> got = in_->Read(out, want);
        if (!got.ok()) return Fail(got.status());
        if (*got == 0) {
          return Fail(absl::DataLossError(absl::StrCat(
              "unexpected EOF in chunked body after ", bytes_read_, " body bytes")));
        }
        bytes_read_ += *got;
        remaining_ -= *got;
        if (remaining_ == 0) state_ = State::kChunkEnd;
        return *got;
      }
      case State::kChunkEnd: {
        absl::StatusOr<std::string> line = in_->ReadLine(2, BufferedReader::LineEnding::kCrlf);
        if (!line.ok() || !line->empty()) {
          return Fail(absl::InvalidArgumentError("malformed chunked body: no CRLF after chunk data"));
        }
        state_ = State::kChunkSize;
        break;
      }
      case State::kTrailers: {
        size_t budget = max_trailer_bytes_;
        absl::StatusOr<Headers> trailers =
            ReadHeaderFields(*in_, budget, BufferedReader::LineEnding::kCrlf);
        if (!trailers.ok()) {
          return Fail(absl::Status(trailers.status().code(),
                                   absl::StrCat("chunked trailer: ", trailers.status().message())));
        }
        trailers_ = *std::move(trailers);
        state_ = State::kDone;
        return 0;
      }
      case State::kDone:
        return 0;
      case State::kFailed:
        return error_;
    }
  }
}

}  // namespace h1::wire
