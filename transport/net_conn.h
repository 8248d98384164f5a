// NetConn: the byte stream under one connection, and the TCP implementation.
// The Transport's Dial hook returns NetConns, so tests can wrap them to record
// every dial and close (like Go's makeTestDial).
#ifndef H1_TRANSPORT_NET_CONN_H_
#define H1_TRANSPORT_NET_CONN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "transport/cancel.h"
#include "transport/wire/byte_source.h"

namespace h1 {

// Thread-safety: one thread may Read while another Writes; Shutdown may be
// called from any thread at any time and makes blocked Read/Write return.
// The descriptor is released only by the destructor, once no thread uses it.
class NetConn : public wire::ByteSource {
 public:
  // Reads up to `n` bytes; 0 at end of stream.
  absl::StatusOr<size_t> Read(char* buf, size_t n) override = 0;
  // Writes all of `pieces`, in order, as one stream, or fails. The pieces
  // are gathered (one system call where the OS allows), so a message's head
  // and a piece of its body need not be copied together first. Sets
  // `written` to the number of bytes the socket accepted, on failure too: a
  // request of which not one byte was accepted may be sent elsewhere.
  virtual absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) = 0;
  // Writes what of `pieces` the socket takes without blocking, in one
  // system call, and returns how many bytes that was (0 if it would block).
  // The Transport uses it to write a small request on the caller's thread
  // and leaves the rest, or all of it on an error, to the writer's Write.
  // This default takes nothing: every byte goes through Write.
  virtual absl::StatusOr<size_t> TryWrite(absl::Span<const absl::string_view> pieces) {
    (void)pieces;
    return 0;
  }
  // Whether a Read would return at once (bytes, end of stream or an error
  // are waiting). Never blocks.
  virtual bool InputPending() = 0;
  // Waits until InputPending, taking nothing, or fails with
  // absl::DeadlineExceededError after `timeout` (absl::InfiniteDuration():
  // no limit). Shutdown ends the wait.
  virtual absl::Status AwaitInput(absl::Duration timeout) = 0;
  // Ends the stream in both directions and wakes blocked Reads and Writes.
  virtual void Shutdown() = 0;
};

// Forwards every call to an inner NetConn. Dial hooks derive from it to
// observe a socket (record dials and closes, log) without re-implementing it.
// Thread-safety as NetConn.
class ForwardingNetConn : public NetConn {
 public:
  explicit ForwardingNetConn(std::unique_ptr<NetConn> inner) : inner_(std::move(inner)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override { return inner_->Read(buf, n); }
  absl::Status Write(absl::Span<const absl::string_view> pieces, size_t& written) override {
    return inner_->Write(pieces, written);
  }
  bool InputPending() override { return inner_->InputPending(); }
  absl::Status AwaitInput(absl::Duration timeout) override {
    return inner_->AwaitInput(timeout);
  }
  void Shutdown() override { inner_->Shutdown(); }

 protected:
  // TryWrite is not forwarded: NetConn's takes nothing, so that a subclass
  // that overrides Write sees every byte written. A subclass that leaves
  // writes alone overrides TryWrite with this, keeping the inner socket's.
  absl::StatusOr<size_t> ForwardTryWrite(absl::Span<const absl::string_view> pieces) {
    return inner_->TryWrite(pieces);
  }
  // Closes the inner socket now, for a destructor that reports the close.
  void CloseInner() { inner_.reset(); }

 private:
  std::unique_ptr<NetConn> inner_;
};

// What a dial must respect, like the context of Go's DialContext: it should
// fail once `deadline` passes (the Transport's dial timeout) or `cancel`
// fires (the request that wanted the connection gave up).
struct DialContext {
  absl::Time deadline = absl::InfiniteFuture();
  CancelHandle cancel;
};

// Called on a dial thread of the Transport, never on the caller's: the
// caller stops waiting when its request is cancelled, whatever the dial
// does, and a dial that ignores `context` only delays its own thread.
using DialFunction = std::function<absl::StatusOr<std::unique_ptr<NetConn>>(
    const std::string& host, uint16_t port, const DialContext& context)>;

// Connects over TCP (TCP_NODELAY), giving up with DEADLINE_EXCEEDED at the
// context's deadline or CANCELLED when it fires; name resolution is not
// interrupted. Errors name the host and port.
absl::StatusOr<std::unique_ptr<NetConn>> DialTcp(const std::string& host, uint16_t port,
                                                 const DialContext& context);

// Wraps a connected socket descriptor; takes ownership.
std::unique_ptr<NetConn> NetConnFromFd(int fd);

}  // namespace h1

#endif  // H1_TRANSPORT_NET_CONN_H_
