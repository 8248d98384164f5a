// Latency samples and the figures the benchmark prints from them.
#ifndef H1_BENCH_STATS_H_
#define H1_BENCH_STATS_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace h1::bench {

// Thread-compatible.
struct Samples {
  std::vector<absl::Duration> latencies;
  absl::Duration wall;  // Summed over the runs merged in.
  int64_t requests = 0;
  int64_t errors = 0;

  void Merge(const Samples& other);
  double RequestsPerSecond() const;
  // `q` in [0, 1]; zero without samples.
  absl::Duration Quantile(double q) const;
};

}  // namespace h1::bench

#endif  // H1_BENCH_STATS_H_
