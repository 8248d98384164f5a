// Request: what a caller asks the Transport to send, and BodySource, where a
// request body's bytes come from.
#ifndef H1_TRANSPORT_REQUEST_H_
#define H1_TRANSPORT_REQUEST_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "transport/cancel.h"
#include "transport/headers.h"

namespace h1 {

// A request body, read by the connection's writer thread. Thread-compatible:
// only one thread at a time calls Read. The Transport destroys the source as
// soon as the body is written, or when its connection fails, and never reads
// it for a closed connection. When not one byte of the request reached the
// socket, the request goes to a new connection and the source is read on
// from where it was (what was read already is kept and sent first); if the
// connection failed during a Read, RoundTrip waits for that Read to return.
// A Read that blocks keeps the writer thread alive until it returns: the
// transport cannot interrupt it.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Reads up to `n` bytes; returns 0 at the end of the body. An error aborts
  // the request and closes its connection.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// A BodySource over bytes held in memory.
std::unique_ptr<BodySource> StringBody(std::string bytes);

// Makes a fresh BodySource with the same bytes, from the start (Go's
// Request.GetBody), so that a request can be sent again.
using BodyFactory = std::function<absl::StatusOr<std::unique_ptr<BodySource>>()>;

struct Request {
  std::string method = "GET";
  // Absolute http:// URL. https is not supported.
  std::string url;
  // Sent as given, after Host. Do not set Host, Content-Length or
  // Transfer-Encoding: the Transport derives them.
  Headers headers;
  // Null for no body.
  std::unique_ptr<BodySource> body;
  // With a body: sent as Content-Length if set; otherwise the body is sent
  // chunked. The source must produce exactly this many bytes: it is read
  // once more before the request's last write, and a byte more fails the
  // request before the server has all of it.
  std::optional<uint64_t> content_length;
  // Sent as the Host header instead of the URL's host[:port] if not empty
  // (Go's Request.Host): a virtual host on an address. Only the bytes Go's
  // ValidHostHeader allows: letters, digits and !$%&'()*+,-.:;=@[]_~.
  std::string host;
  // Cancels the request from any thread (see RoundTrip for what it does in
  // each phase). None: it cannot be cancelled.
  std::optional<CancelHandle> cancel;
  // The request fails with DEADLINE_EXCEEDED if it, or the reading of its
  // response body, is not over by then (Go's context deadline).
  absl::Time deadline = absl::InfiniteFuture();
  // With a body: makes it again, so that the request may be replayed on a
  // new connection when the server closed a reused one before answering
  // (see Transport::RoundTrip). Post() sets it. Called on the caller's
  // thread; an error ends the request with the first failure.
  BodyFactory get_body;
  // New members go last, so that aggregate initialisation keeps working.
};

// Convenience constructors. Post's body can be replayed (get_body).
Request Get(std::string url);
Request Post(std::string url, std::string body);

}  // namespace h1

#endif  // H1_TRANSPORT_REQUEST_H_
