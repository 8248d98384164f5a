// See transport.h.
#include "transport/transport.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/conn_manager.h"
#include "transport/connection.h"
#include "transport/url.h"
#include "transport/wire/request_head.h"

namespace h1 {
namespace {

// Fresh connections after stale pooled ones; each failed try has removed a
// dead connection from the pool, so this bounds a burst of stale ones.
constexpr int kMaxAttempts = 4;

// Go's isReplayable: bodiless, or with a body that can be made again, and
// idempotent by its method or by an Idempotency-Key (non-standard, widely
// used to mean that a POST may be repeated; golang/go#19943).
bool IsReplayable(const Request& request) {
  const std::string& m = request.method;
  return (request.body == nullptr || request.get_body != nullptr) &&
         (m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" ||
          request.headers.Has("Idempotency-Key") || request.headers.Has("X-Idempotency-Key"));
}

// As in Go, a zero (or negative) duration means no limit.
absl::Duration NoLimitIfZero(absl::Duration limit) {
  return limit > absl::ZeroDuration() ? limit : absl::InfiniteDuration();
}

// The head to send: Host, the caller's fields, then the framing and close
// fields the transport derives.
wire::RequestHead OutgoingHead(const Request& request, const HttpUrl& url,
                               bool disable_keep_alives) {
  wire::RequestHead head;
  head.method = request.method;
  head.target = url.target;
  head.headers.Add("Host", request.host.empty() ? url.HostHeader() : request.host);
  for (const auto& [name, value] : request.headers.fields()) head.headers.Add(name, value);
  if (request.body != nullptr) {
    if (request.content_length.has_value()) {
      head.headers.Add("Content-Length", absl::StrCat(*request.content_length));
    } else {
      head.headers.Add("Transfer-Encoding", "chunked");
    }
  } else if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    head.headers.Add("Content-Length", "0");
  }
  if (disable_keep_alives && !request.headers.HasToken("Connection", "close")) {
    head.headers.Add("Connection", "close");
  }
  return head;
}

// The bytes a Host value may hold (Go's httpguts.ValidHostHeader): a
// reg-name, an IP literal in brackets, a port.
bool IsHostValue(absl::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return absl::ascii_isalnum(c) ||
           absl::string_view("!$%&'()*+,-.:;=@[]_~").find(c) != absl::string_view::npos;
  });
}

// Checks the request before a byte of it is written; `head` is its
// OutgoingHead.
absl::Status Validate(const Request& request, const wire::RequestHead& head) {
  if (!request.host.empty() && !IsHostValue(request.host)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid request: host \"", absl::CHexEscape(request.host), "\" is not a Host value"));
  }
  if (absl::Status s = wire::ValidateRequestHead(head); !s.ok()) return s;
  for (const char* derived : {"Host", "Content-Length", "Transfer-Encoding"}) {
    if (request.headers.Has(derived)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid request: do not set the ", derived,
                       " header; the transport derives it",
                       absl::string_view(derived) == "Host" ? " (set Request::host to send another)"
                                                             : ""));
    }
  }
  if (request.body == nullptr && request.content_length.value_or(0) != 0) {
    return absl::InvalidArgumentError("invalid request: content_length set without a body");
  }
  return absl::OkStatus();
}

// Why `request` must not be sent (cancelled, or past its deadline), or OK.
absl::Status StoppedBeforeSending(const Request& request) {
  if (request.cancel.has_value() && request.cancel->IsCancelled()) {
    return absl::CancelledError("request cancelled before it was sent");
  }
  if (absl::Now() >= request.deadline) {
    return absl::DeadlineExceededError("request deadline exceeded before it was sent");
  }
  return absl::OkStatus();
}

}  // namespace

Transport::Transport(TransportOptions options)
    : options_(std::move(options)),
      manager_(ConnManager::Create(ConnManagerOptions{
          options_.dial, NoLimitIfZero(options_.dial_timeout), options_.max_conns_per_host,
          options_.max_idle_conns_per_host, options_.max_idle_conns,
          ConnectionOptions{options_.disable_keep_alives, options_.reuse_grace_period,
                            NoLimitIfZero(options_.response_header_timeout),
                            NoLimitIfZero(options_.idle_conn_timeout),
                            options_.max_response_header_bytes, options_.expect_continue_timeout,
                            options_.read_buffer_size, options_.test_hook}})) {}

// Connections still serving responses hold the pool too: it must refuse
// them once the Transport is gone, or they would outlive it there.
Transport::~Transport() { manager_->Shutdown(); }

void Transport::CloseIdleConnections() { manager_->CloseIdle(); }

int Transport::IdleConnectionCount() const { return manager_->IdleCount(); }

TransportStats Transport::Stats() const { return manager_->Stats(); }

absl::StatusOr<Response> Transport::RoundTrip(Request request) {
  absl::StatusOr<HttpUrl> url = ParseHttpUrl(request.url);
  if (!url.ok()) return url.status();
  const wire::RequestHead head = OutgoingHead(request, *url, options_.disable_keep_alives);
  if (absl::Status s = Validate(request, head); !s.ok()) return s;
  const std::string head_bytes = wire::SerializeRequestHead(head);
  const std::string key = url->PoolKey();
  // Judged before the first attempt, while the request still holds its body.
  const bool replayable = IsReplayable(request);
  const bool has_body = request.body != nullptr;

  for (int attempt = 1;; ++attempt) {
    if (absl::Status stopped = StoppedBeforeSending(request); !stopped.ok()) return stopped;
    absl::StatusOr<ConnManager::Acquired> acquired =
        manager_->Get(key, url->host, url->port, request.cancel, request.deadline);
    if (!acquired.ok()) return acquired.status();
    const std::shared_ptr<Connection>& conn = acquired->conn;
    if (absl::Status stopped = StoppedBeforeSending(request); !stopped.ok()) {
      manager_->PutBack(conn);  // It has served nothing for this request.
      return stopped;
    }
    const bool reused = conn->IsReused();
    RetryHint hint = RetryHint::kNone;
    absl::StatusOr<Response> response = conn->RoundTrip(request, head_bytes, &hint);
    if (response.ok()) {
      response->conn.was_idle = acquired->was_idle;
      response->conn.idle_time = acquired->idle_time;
      return response;
    }
    // Go's shouldRetryRequest: only a connection that served before (or sat
    // in the idle pool) can have gone stale under the request; a fresh one
    // failing means the server refuses the request itself, and retrying
    // could loop.
    const bool retry = attempt < kMaxAttempts && reused &&
                       (hint == RetryHint::kNothingWritten ||
                        (hint == RetryHint::kClosedBeforeResponse && replayable));
    if (!retry) return response.status();
    if (absl::Status stopped = StoppedBeforeSending(request); !stopped.ok()) {
      return absl::Status(
          response.status().code(),
          absl::StrCat(response.status().message(), "; not retried: ", stopped.message()));
    }
    if (hint == RetryHint::kClosedBeforeResponse && has_body) {
      // The body went to the failed connection: make it again (Go's
      // rewindBody).
      absl::StatusOr<std::unique_ptr<BodySource>> body = request.get_body();
      if (!body.ok()) {
        return absl::Status(
            response.status().code(),
            absl::StrCat(response.status().message(),
                         "; not retried: get_body failed: ", body.status().message()));
      }
      request.body = *std::move(body);
    }
    manager_->stats().Retried();
  }
}

}  // namespace h1
