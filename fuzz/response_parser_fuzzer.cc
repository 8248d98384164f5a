// Fuzzes the response side of the wire format with adversarial bytes and
// adversarial arrival (how the bytes are split across reads). The input is
// decoded into a script first:
//   byte 0: bits 0-1 request method (GET, HEAD, POST, GET), bit 2 a small
//           header limit, bits 3-5 the body read size
//   byte 1: number of piece sizes that follow (mod 16)
//   then:   that many piece sizes, then the response bytes.
// Up to four responses are read back to back from the stream, as a kept-alive
// connection would. Invariants: every error has a message; a body framed by
// Content-Length yields exactly that many bytes; a body taken whole from the
// buffer (TakeWholeBody) is exactly what the streaming reader decodes; a
// body ended early from the buffer (SkipRestIfBuffered with no data left)
// loses no byte; nothing is consumed past the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "transport/wire/body_framing.h"
#include "transport/wire/body_reader.h"
#include "transport/wire/buffered_reader.h"
#include "transport/wire/byte_source.h"
#include "transport/wire/message_head.h"
#include "transport/wire/whole_body.h"

namespace {

struct Script {
  std::string method;
  size_t max_header_bytes;
  size_t read_size;
  std::vector<size_t> pieces;
  std::string bytes;
};

Script Decode(const uint8_t* data, size_t size) {
  static const char* const kMethods[] = {"GET", "HEAD", "POST", "GET"};
  Script script;
  const uint8_t flags = size > 0 ? data[0] : 0;
  script.method = kMethods[flags & 3];
  script.max_header_bytes = (flags & 4) ? 64 : h1::wire::kDefaultMaxHeaderBytes;
  script.read_size = size_t{1} << ((flags >> 3) & 7) * 2;  // 1 .. 16384
  size_t pos = size > 0 ? 1 : 0;
  const size_t count = pos < size ? data[pos++] % 16 : 0;
  for (size_t i = 0; i < count && pos < size; ++i) script.pieces.push_back(data[pos++]);
  script.bytes.assign(reinterpret_cast<const char*>(data) + pos, size - pos);
  return script;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Script script = Decode(data, size);
  h1::wire::ScriptedByteSource source(script.bytes, script.pieces);
  h1::wire::BufferedReader in(&source, 64);
  std::string buf(script.read_size, '\0');
  for (int message = 0; message < 4; ++message) {
    absl::StatusOr<h1::wire::ResponseHead> head =
        h1::wire::ReadFinalResponseHead(in, script.max_header_bytes);
    if (!head.ok()) {
      Check(!head.status().message().empty());
      break;
    }
    Check(head->status >= 200 && head->status <= 999);
    absl::StatusOr<h1::wire::BodyFraming> framing =
        h1::wire::ResponseBodyFraming(*head, script.method);
    if (!framing.ok()) {
      Check(!framing.status().message().empty());
      break;
    }
    // A body already buffered in full may be taken at once; it must be what
    // the streaming reader decodes from the same bytes, and end where it ends.
    const std::string buffered(in.buffered_bytes());
    const uint64_t consumed_before = in.consumed();
    if (std::optional<h1::wire::WholeBody> whole =
            h1::wire::TakeWholeBody(in, *framing, h1::wire::kDefaultMaxHeaderBytes)) {
      h1::wire::ScriptedByteSource same_bytes(buffered);
      h1::wire::BufferedReader again(&same_bytes);
      h1::wire::BodyReader streamed(&again, *framing);
      absl::StatusOr<std::string> expected = h1::wire::ReadToEnd(streamed);
      Check(expected.ok() && *expected == whole->bytes && streamed.trailers() == whole->trailers);
      Check(in.consumed() - consumed_before == again.consumed());
      if (!h1::wire::ResponseAllowsReuse(*head, *framing)) break;
      continue;
    }
    Check(in.consumed() == consumed_before);
    h1::wire::BodyReader body(&in, *framing);
    absl::StatusOr<size_t> got;
    uint64_t total = 0;
    while ((got = body.Read(buf.data(), buf.size())).ok() && *got > 0) {
      Check(*got <= buf.size());
      total += *got;
      // Ending the body with its last bytes drops none: every check below
      // still holds.
      if (body.SkipRestIfBuffered(0)) Check(body.done() && total == body.bytes_read());
    }
    if (!got.ok()) {
      Check(!got.status().message().empty());
      break;
    }
    Check(body.done() && total == body.bytes_read());
    if (framing->kind == h1::wire::BodyFraming::Kind::kContentLength) {
      Check(total == framing->length);
    }
    if (!h1::wire::ResponseAllowsReuse(*head, *framing)) break;
  }
  Check(in.consumed() <= script.bytes.size());
  return 0;
}
