// Response: what RoundTrip returns once the response head has arrived, with
// a body to read and the facts about the connection that served it.
#ifndef H1_TRANSPORT_RESPONSE_H_
#define H1_TRANSPORT_RESPONSE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "transport/headers.h"

namespace h1 {

// Which connection served a response, like Go's httptrace.GotConnInfo.
struct ConnInfo {
  uint64_t id = 0;          // Per Transport, from 1, in dial order.
  bool reused = false;      // The connection had served an earlier request.
  bool was_idle = false;    // It was taken from the idle pool.
  absl::Duration idle_time;  // How long it had been idle, if was_idle.
};

// A response body. The exchange ends, and the connection may return to the
// idle pool, as soon as the body's end is known: when the Read that
// delivers its last bytes also finds its end (always with Content-Length),
// or when Read returns 0. A body that arrived whole with its head (or no
// body) has released its connection already. Closing or destroying a body
// earlier closes the connection, unless the rest of it has already arrived,
// which is then skipped. Thread-compatible.
class ResponseBody {
 public:
  virtual ~ResponseBody() = default;
  // Reads up to `n` bytes; 0 at the end. Errors name the cause, e.g.
  // "unexpected EOF: 5 of 10 body bytes", and close the connection.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // Stops reading; closes the connection unless the rest of the body has
  // already arrived. A Read afterwards fails.
  virtual void Close() = 0;
  // Chunked trailers, once the end was reached.
  virtual const Headers& trailers() const = 0;

  // Reads the rest of the body. Past `max_bytes` it stops, closes the body
  // (as Close does) and fails with RESOURCE_EXHAUSTED.
  absl::StatusOr<std::string> ReadAll(
      size_t max_bytes = std::numeric_limits<size_t>::max());
};

struct Response {
  int status = 0;
  std::string reason;
  int version_minor = 1;
  Headers headers;
  // The declared Content-Length, also for HEAD responses.
  std::optional<uint64_t> content_length;
  std::unique_ptr<ResponseBody> body;  // Never null.
  ConnInfo conn;
};

}  // namespace h1

#endif  // H1_TRANSPORT_RESPONSE_H_
