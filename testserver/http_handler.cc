// See http_handler.h.
#include "testserver/http_handler.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "transport/wire/body_framing.h"
#include "transport/wire/request_head.h"

namespace h1::testserver {
namespace {

// Written bytes held back, so that a small body gets a Content-Length (Go
// holds 2 KiB before it starts chunking).
constexpr size_t kBufferBeforeChunking = 2048;
// Left-over request body drained to keep the connection; past it, the
// connection is closed instead (Go drains 256 KiB).
constexpr uint64_t kMaxDrain = 256 * 1024;

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 500: return "Internal Server Error";
    default: return "Status";
  }
}

}  // namespace

ResponseWriter::ResponseWriter(const ServerRequest& request, PeerConn& conn)
    : head_request_(request.method() == "HEAD"),
      http10_(request.head().version_minor == 0),
      client_asked_close_(request.head().version_minor == 0
                              ? !request.headers().HasToken("Connection", "keep-alive")
                              : request.headers().HasToken("Connection", "close")),
      conn_(conn) {}

void ResponseWriter::WriteHeader(int status) {
  if (framing_ == Framing::kUnsent) status_ = status;
}

bool ResponseWriter::BodyAllowed() const {
  return !head_request_ && status_ >= 200 && status_ != 204 && status_ != 304;
}

absl::Status ResponseWriter::Write(absl::string_view bytes) {
  if (hijacked_) return absl::FailedPreconditionError("the connection was hijacked");
  if (framing_ == Framing::kUnsent) {
    if (std::optional<std::string> length = headers_.Get("Content-Length")) {
      uint64_t declared = 0;
      if (absl::SimpleAtoi(*length, &declared)) declared_length_ = declared;
    }
  }
  if (declared_length_.has_value() && body_sent_ + buffered_.size() + bytes.size() > *declared_length_) {
    broken_ = true;
    return absl::InvalidArgumentError("handler wrote more than its Content-Length");
  }
  buffered_.append(bytes.data(), bytes.size());
  if (framing_ == Framing::kUnsent && buffered_.size() <= kBufferBeforeChunking) {
    return absl::OkStatus();
  }
  return Flush();
}

absl::Status ResponseWriter::Flush() {
  if (hijacked_) return absl::FailedPreconditionError("the connection was hijacked");
  if (framing_ == Framing::kUnsent) {
    if (absl::Status s = SendHead(/*complete=*/false); !s.ok()) return s;
  }
  std::string bytes;
  bytes.swap(buffered_);
  return SendBody(bytes);
}

absl::Status ResponseWriter::SendHead(bool complete) {
  wire::Headers head = headers_;
  if (!BodyAllowed()) {
    framing_ = Framing::kNone;
  } else if (declared_length_.has_value() || head.Has("Content-Length")) {
    framing_ = Framing::kContentLength;
  } else if (complete) {
    framing_ = Framing::kContentLength;
    head.Add("Content-Length", absl::StrCat(buffered_.size()));
  } else if (http10_) {
    framing_ = Framing::kUntilClose;
  } else {
    framing_ = Framing::kChunked;
    head.Add("Transfer-Encoding", "chunked");
  }
  if ((client_asked_close_ || framing_ == Framing::kUntilClose) &&
      !head.HasToken("Connection", "close")) {
    head.Add("Connection", "close");
  }
  std::string bytes = absl::StrCat("HTTP/1.1 ", status_, " ", Reason(status_), "\r\n");
  for (const auto& [name, value] : head.fields()) absl::StrAppend(&bytes, name, ": ", value, "\r\n");
  bytes += "\r\n";
  absl::Status status = conn_.Write(bytes);
  if (!status.ok()) broken_ = true;
  return status;
}

absl::Status ResponseWriter::SendBody(absl::string_view bytes) {
  if (bytes.empty() || framing_ == Framing::kNone) return absl::OkStatus();
  absl::Status status = framing_ == Framing::kChunked
                            ? conn_.Write(absl::StrCat(wire::ChunkSizeLine(bytes.size()), bytes,
                                                       wire::kChunkEnd))
                            : conn_.Write(bytes);
  if (!status.ok()) broken_ = true;
  body_sent_ += bytes.size();
  return status;
}

PeerConn& ResponseWriter::Hijack() {
  hijacked_ = true;
  return conn_;
}

bool ResponseWriter::Finish() {
  if (hijacked_) return false;
  if (framing_ == Framing::kUnsent) {
    if (!SendHead(/*complete=*/true).ok()) return false;
    std::string bytes;
    bytes.swap(buffered_);
    SendBody(bytes).IgnoreError();
  } else if (!buffered_.empty()) {
    Flush().IgnoreError();
  }
  if (framing_ == Framing::kChunked && !broken_) {
    broken_ = !conn_.Write(wire::kLastChunk).ok();
  }
  // A body cut short of its own Content-Length leaves the client waiting:
  // the connection ends, as Go ends it.
  const bool short_body = framing_ == Framing::kContentLength && declared_length_.has_value() &&
                          body_sent_ < *declared_length_;
  if (broken_ || short_body || client_asked_close_ || framing_ == Framing::kUntilClose ||
      headers_.HasToken("Connection", "close")) {
    return false;
  }
  // What the handler left of the request body is read, to keep the stream
  // in step; too much of it, and the connection ends instead.
  absl::StatusOr<uint64_t> drained = conn_.SkipBody(kMaxDrain);
  return drained.ok() && conn_.body_done();
}

void ServeHttp(PeerConn& conn, const Handler& handler) {
  for (;;) {
    absl::StatusOr<wire::RequestHead> head = conn.ReadRequestHead();
    if (!head.ok()) {
      // A malformed request gets a 400 before the connection closes; a
      // closed one gets nothing.
      if (absl::IsInvalidArgument(head.status())) {
        conn.Write("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            .IgnoreError();
      }
      return;
    }
    ServerRequest request(*std::move(head), conn);
    ResponseWriter writer(request, conn);
    handler(request, writer);
    if (!writer.Finish()) return;
  }
}

}  // namespace h1::testserver
