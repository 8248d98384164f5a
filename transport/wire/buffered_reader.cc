// See buffered_reader.h.
#include "transport/wire/buffered_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace h1::wire {

BufferedReader::BufferedReader(ByteSource* source, size_t buffer_size)
    // Left uninitialized: a page costs memory only once bytes land in it, so
    // an idle connection with a large buffer stays small.
    : source_(source), buffer_(new char[buffer_size]), capacity_(buffer_size) {}

absl::StatusOr<bool> BufferedReader::Fill() {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == capacity_) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  absl::StatusOr<size_t> n = source_->Read(buffer_.get() + end_, capacity_ - end_);
  if (!n.ok()) return n.status();
  if (*n == 0) {
    saw_eof_ = true;
    return false;
  }
  end_ += *n;
  return true;
}

absl::StatusOr<std::string> BufferedReader::ReadLine(size_t max_length, LineEnding ending,
                                                     bool* partial) {
  std::string line;
  for (;;) {
    const char* start = buffer_.get() + begin_;
    const void* lf = std::memchr(start, '\n', end_ - begin_);
    const size_t take = lf ? static_cast<const char*>(lf) - start + 1 : end_ - begin_;
    if (line.size() + take > max_length) {
      return absl::ResourceExhaustedError(
          absl::StrCat("line longer than the limit of ", max_length, " bytes"));
    }
    line.append(start, take);
    begin_ += take;
    consumed_ += take;
    if (lf != nullptr) break;
    absl::StatusOr<bool> more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) {
      if (partial != nullptr) *partial = !line.empty();
      return absl::OutOfRangeError(
          line.empty() ? "end of stream" : absl::StrCat("end of stream inside a line after ",
                                                        line.size(), " bytes"));
    }
  }
  line.pop_back();
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  } else if (ending == LineEnding::kCrlf) {
    return absl::InvalidArgumentError("line not ended by CRLF");
  }
  return line;
}

absl::StatusOr<size_t> BufferedReader::Read(char* out, size_t n) {
  if (n == 0) return 0;
  if (begin_ == end_) {
    // Large reads bypass the buffer.
    if (n >= capacity_) {
      absl::StatusOr<size_t> got = source_->Read(out, n);
      if (got.ok()) {
        if (*got == 0) saw_eof_ = true;
        consumed_ += *got;
      }
      return got;
    }
    absl::StatusOr<bool> more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) return 0;
  }
  const size_t count = std::min(n, end_ - begin_);
  std::memcpy(out, buffer_.get() + begin_, count);
  begin_ += count;
  consumed_ += count;
  return count;
}

void BufferedReader::Skip(size_t n) {
  n = std::min(n, end_ - begin_);
  begin_ += n;
  consumed_ += n;
}

absl::StatusOr<bool> BufferedReader::Peek() {
  if (begin_ != end_) return true;
  return Fill();
}

}  // namespace h1::wire
