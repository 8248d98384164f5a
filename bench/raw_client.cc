// The floor: a blocking socket, a prebuilt request, and just enough parsing
// (Content-Length only) to find the end of each response.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_client.h"
#include "transport/net_conn.h"

namespace h1::bench {
namespace {

class RawSocketClient final : public BenchClient {
 public:
  explicit RawSocketClient(Target target) : target_(std::move(target)) {}

  absl::StatusOr<size_t> Fetch(absl::string_view method, absl::string_view path,
                               absl::string_view body) override {
    if (conn_ == nullptr) {
      absl::StatusOr<std::unique_ptr<NetConn>> conn = DialTcp(target_.host, target_.port, {});
      if (!conn.ok()) return conn.status();
      conn_ = *std::move(conn);
    }
    std::string request = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: ", target_.host,
                                       "\r\n");
    if (!body.empty()) absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
    request += "\r\n";
    size_t written;
    if (absl::Status s = conn_->Write({request, body}, written); !s.ok()) return s;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (absl::Status s = Fill(); !s.ok()) return s;
    }
    const std::string head = absl::AsciiStrToLower(buffer_.substr(0, head_end));
    const size_t at = head.find("content-length:");
    size_t length = 0;
    if (at == std::string::npos ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(head.substr(at + 15, head.find('\r', at) - at - 15)),
                          &length)) {
      return absl::InternalError("raw client: response without Content-Length");
    }
    const size_t total = head_end + 4 + length;
    while (buffer_.size() < total) {
      if (absl::Status s = Fill(); !s.ok()) return s;
    }
    buffer_.erase(0, total);
    return length;
  }

 private:
  absl::Status Fill() {
    char chunk[64 * 1024];
    absl::StatusOr<size_t> n = conn_->Read(chunk, sizeof(chunk));
    if (!n.ok()) return n.status();
    if (*n == 0) return absl::UnavailableError("raw client: server closed the connection");
    buffer_.append(chunk, *n);
    return absl::OkStatus();
  }

  const Target target_;
  std::unique_ptr<NetConn> conn_;
  std::string buffer_;
};

}  // namespace

ClientFactory RawSocketClients(Target target) {
  return [target] { return std::make_unique<RawSocketClient>(target); };
}

}  // namespace h1::bench
