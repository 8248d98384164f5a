// Measures one thread hand-off through h1::Channel, the unit of cost the
// connection design pays several times per request: two threads bounce a
// token through two capacity-1 channels; a round trip is two hand-offs.
//
//   bazel run -c opt //bench:handoff_bench [-- --round_trips=N]
#include <cstdio>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "transport/channel.h"
#include "transport/close_signal.h"

int main(int argc, char** argv) {
  int round_trips = 200000;
  if (argc > 1) {
    absl::string_view arg = argv[1];
    if (!absl::ConsumePrefix(&arg, "--round_trips=") || !absl::SimpleAtoi(arg, &round_trips)) {
      std::fprintf(stderr, "usage: handoff_bench [--round_trips=N]\n");
      return 2;
    }
  }
  h1::CloseSignal closed;
  h1::Channel<int> ping(1, closed);
  h1::Channel<int> pong(1, closed);
  std::thread echo([&] {
    while (std::optional<int> token = ping.Recv()) pong.Send(*token);
  });
  const absl::Time begin = absl::Now();
  for (int i = 0; i < round_trips; ++i) {
    ping.Send(i);
    pong.Recv();
  }
  const absl::Duration elapsed = absl::Now() - begin;
  closed.Fire();
  echo.join();
  std::printf("one h1::Channel hand-off between two threads: %.2f us (%d round trips in %s)\n",
              absl::ToDoubleMicroseconds(elapsed) / (2.0 * round_trips), round_trips,
              absl::FormatDuration(elapsed).c_str());
  return 0;
}
