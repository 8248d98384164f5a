// See stats.h.
#include "transport/stats.h"

#include "absl/strings/str_cat.h"

namespace h1 {

const char* CloseCauseName(CloseCause cause) {
  switch (cause) {
    case CloseCause::kEarlyResponse:
      return "early_response";
    case CloseCause::kPeerClosed:
      return "peer_closed";
    case CloseCause::kUnsolicitedBytes:
      return "unsolicited_bytes";
    case CloseCause::kProtocolError:
      return "protocol_error";
    case CloseCause::kWriteError:
      return "write_error";
    case CloseCause::kTimeout:
      return "timeout";
    case CloseCause::kCancelled:
      return "cancelled";
    case CloseCause::kNotReusable:
      return "not_reusable";
    case CloseCause::kPoolFull:
      return "pool_full";
    case CloseCause::kTransportClosed:
      return "transport_closed";
  }
  return "unknown";
}

std::string TransportStats::ToString() const {
  std::string closes;
  for (int i = 0; i < kCloseCauses; ++i) {
    if (closed[i] == 0) continue;
    absl::StrAppend(&closes, closes.empty() ? "" : " ", CloseCauseName(static_cast<CloseCause>(i)),
                    "=", closed[i]);
  }
  return absl::StrCat("dials=", dials, " dial_failures=", dial_failures, " reuses=", reuses,
                      " retries=", retries, " closed{", closes,
                      "} waiting_for_slot=", waiting_for_slot, " dials_in_flight=", dials_in_flight,
                      " live_connections=", live_connections, " live_threads=", live_threads);
}

TransportStats StatsRecorder::Snapshot() const {
  TransportStats s;
  s.dials = dials_;
  s.dial_failures = dial_failures_;
  s.reuses = reuses_;
  s.retries = retries_;
  for (int i = 0; i < kCloseCauses; ++i) s.closed[i] = closed_[i];
  s.waiting_for_slot = waiting_for_slot_;
  s.dials_in_flight = dials_in_flight_;
  s.live_connections = live_connections_;
  s.live_threads = live_threads_;
  return s;
}

}  // namespace h1
