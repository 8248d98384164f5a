// See stats.h.
#include "bench/stats.h"

#include <algorithm>

namespace h1::bench {

void Samples::Merge(const Samples& other) {
  latencies.insert(latencies.end(), other.latencies.begin(), other.latencies.end());
  wall += other.wall;
  requests += other.requests;
  errors += other.errors;
}

double Samples::RequestsPerSecond() const {
  const double seconds = absl::ToDoubleSeconds(wall);
  return seconds > 0 ? requests / seconds : 0;
}

absl::Duration Samples::Quantile(double q) const {
  if (latencies.empty()) return absl::ZeroDuration();
  std::vector<absl::Duration> sorted = latencies;
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()));
  std::nth_element(sorted.begin(), sorted.begin() + index, sorted.end());
  return sorted[index];
}

}  // namespace h1::bench
