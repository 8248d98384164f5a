// See whole_body.h.
#include "transport/wire/whole_body.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/byte_source.h"

namespace h1::wire {

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
      ViewByteSource source(buffered);
      BufferedReader trial(&source, 4096);
      BodyReader body(&trial, framing, max_trailer_bytes);
      absl::StatusOr<std::string> bytes = ReadToEnd(body);
      if (!bytes.ok()) return std::nullopt;
      WholeBody whole{*std::move(bytes), body.trailers()};
      in.Skip(trial.consumed());
      return whole;
    }
    case BodyFraming::Kind::kNone:
      return WholeBody{};
    case BodyFraming::Kind::kUntilClose:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace h1::wire
