// See request.h.
#include "transport/request.h"

#include <algorithm>
#include <cstring>

namespace h1 {
namespace {

// Shares its bytes with the request's get_body, so a replay copies nothing.
class StringBodySource final : public BodySource {
 public:
  explicit StringBodySource(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t count = std::min(n, bytes_->size() - offset_);
    std::memcpy(buf, bytes_->data() + offset_, count);
    offset_ += count;
    return count;
  }

 private:
  const std::shared_ptr<const std::string> bytes_;
  size_t offset_ = 0;
};

}  // namespace

std::unique_ptr<BodySource> StringBody(std::string bytes) {
  return std::make_unique<StringBodySource>(std::make_shared<const std::string>(std::move(bytes)));
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
  auto bytes = std::make_shared<const std::string>(std::move(body));
  request.body = std::make_unique<StringBodySource>(bytes);
  request.get_body = [bytes]() -> absl::StatusOr<std::unique_ptr<BodySource>> {
    return std::make_unique<StringBodySource>(bytes);
  };
  return request;
}

}  // namespace h1
