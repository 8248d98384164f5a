// See whole_body.h.
#include "transport/wire/whole_body.h"

#include <algorithm>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/byte_source.h"

namespace h1::wire {
namespace {

// Serves a view and then reports end of stream: decoding from it never waits.
class ViewSource final : public ByteSource {
 public:
  explicit ViewSource(absl::string_view bytes) : left_(bytes) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t count = std::min(n, left_.size());
    std::memcpy(buf, left_.data(), count);
    left_.remove_prefix(count);
    return count;
  }

 private:
  absl::string_view left_;
};

}  // namespace

std::optional<WholeBody> TakeWholeBody(BufferedReader& in, const BodyFraming& framing,
                                       size_t max_trailer_bytes) {
  const absl::string_view buffered = in.buffered_bytes();
  switch (framing.kind) {
    case BodyFraming::Kind::kContentLength: {
      if (buffered.size() < framing.length) return std::nullopt;
      WholeBody whole{std::string(buffered.substr(0, framing.length)), {}};
      in.Skip(framing.length);
      return whole;
    }
    case BodyFraming::Kind::kChunked: {
      // A trial decode of the buffered bytes alone: it ends early at their end.
      ViewSource source(buffered);
      BufferedReader trial(&source, 4096);
      BodyReader body(&trial, framing, max_trailer_bytes);
      absl::StatusOr<std::string> bytes = ReadToEnd(body);
      if (!bytes.ok()) return std::nullopt;
      WholeBody whole{*std::move(bytes), body.trailers()};
      in.Skip(trial.consumed());
      return whole;
    }
    case BodyFraming::Kind::kNone:
    case BodyFraming::Kind::kUntilClose:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace h1::wire
