// TransportStats: what a Transport's pool has done and holds now, for
// dashboards and tests (Transport::Stats()); StatsRecorder, where the pool,
// its connections and their threads count it.
#ifndef H1_TRANSPORT_STATS_H_
#define H1_TRANSPORT_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace h1 {

// Why a connection closed.
enum class CloseCause {
  // The response came before the request was completely written.
  kEarlyResponse,
  // The server closed the connection, or reset it, while it was idle or
  // before a byte of the response.
  kPeerClosed,
  // Bytes arrived that no request asked for (on an idle connection, or
  // behind a response).
  kUnsolicitedBytes,
  // A response that breaks HTTP/1.1: a malformed head, bad framing, a body
  // cut short.
  kProtocolError,
  // Writing the request failed (the socket, or the caller's BodySource).
  kWriteError,
  // The response header timeout, the request's deadline, the idle timeout
  // or the reuse grace period ran out.
  kTimeout,
  // The request was cancelled, or its caller closed the body before its end.
  kCancelled,
  // The request or the response asked to close (or keep-alives are off).
  kNotReusable,
  // The idle pool was full (MaxIdleConnsPerHost, MaxIdleConns).
  kPoolFull,
  // CloseIdleConnections, or the Transport was destroyed.
  kTransportClosed,
};
inline constexpr int kCloseCauses = static_cast<int>(CloseCause::kTransportClosed) + 1;

// A name for logs: "early_response", "peer_closed", ...
const char* CloseCauseName(CloseCause cause);

// A snapshot; the counts since the Transport was made, the rest now.
struct TransportStats {
  uint64_t dials = 0;          // Dials started.
  uint64_t dial_failures = 0;  // Of those, how many failed.
  uint64_t reuses = 0;         // Requests sent on a connection that had served.
  uint64_t retries = 0;        // Requests sent again on another connection.
  // Connections closed, by cause (index: CloseCause).
  std::array<uint64_t, kCloseCauses> closed{};
  int waiting_for_slot = 0;  // Requests queued by MaxConnsPerHost.
  int dials_in_flight = 0;
  int live_connections = 0;  // Open, idle or serving.
  int live_threads = 0;      // Reader, writer and dial threads not yet exited.

  uint64_t closed_by(CloseCause cause) const { return closed[static_cast<int>(cause)]; }
  // One line, for logs and h1fetch --verbose.
  std::string ToString() const;
};

// Thread-safe. Shared by the Transport, its connections and their threads,
// which may outlive it.
class StatsRecorder {
 public:
  void DialStarted() {
    ++dials_;
    ++dials_in_flight_;
  }
  void DialEnded(bool ok) {
    --dials_in_flight_;
    if (!ok) ++dial_failures_;
  }
  void Reused() { ++reuses_; }
  void Retried() { ++retries_; }
  void ConnectionOpened() { ++live_connections_; }
  void ConnectionClosed(CloseCause cause) {
    --live_connections_;
    ++closed_[static_cast<int>(cause)];
  }
  void SetWaitingForSlot(int n) { waiting_for_slot_ = n; }

  // Counts a live thread for as long as it is held; movable, so a thread
  // can hold it on its stack to its end.
  class LiveThread {
   public:
    explicit LiveThread(std::shared_ptr<StatsRecorder> stats) : stats_(std::move(stats)) {
      ++stats_->live_threads_;
    }
    LiveThread(LiveThread&&) = default;
    LiveThread& operator=(LiveThread&&) = delete;
    ~LiveThread() {
      if (stats_ != nullptr) --stats_->live_threads_;
    }

   private:
    std::shared_ptr<StatsRecorder> stats_;
  };

  TransportStats Snapshot() const;

 private:
  std::atomic<uint64_t> dials_{0};
  std::atomic<uint64_t> dial_failures_{0};
  std::atomic<uint64_t> reuses_{0};
  std::atomic<uint64_t> retries_{0};
  std::array<std::atomic<uint64_t>, kCloseCauses> closed_{};
  std::atomic<int> waiting_for_slot_{0};
  std::atomic<int> dials_in_flight_{0};
  std::atomic<int> live_connections_{0};
  std::atomic<int> live_threads_{0};
};

}  // namespace h1

#endif  // H1_TRANSPORT_STATS_H_
