// See request.h.
#include "transport/request.h"

#include <algorithm>
#include <cstring>

namespace h1 {
namespace {

class StringBodySource final : public BodySource {
 public:
  explicit StringBodySource(std::string bytes) : bytes_(std::move(bytes)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t count = std::min(n, bytes_.size() - offset_);
    std::memcpy(buf, bytes_.data() + offset_, count);
    offset_ += count;
    return count;
  }

 private:
  std::string bytes_;
  size_t offset_ = 0;
};

}  // namespace

std::unique_ptr<BodySource> StringBody(std::string bytes) {
  return std::make_unique<StringBodySource>(std::move(bytes));
}

Request Get(std::string url) {
  Request request;
  request.url = std::move(url);
  return request;
}

Request Post(std::string url, std::string body) {
  Request request;
  request.method = "POST";
  request.url = std::move(url);
  request.content_length = body.size();
  request.body = StringBody(std::move(body));
  return request;
}

}  // namespace h1
