// Self-check: a value handed between threads through h1::Channel. TSan must
// stay quiet: the channel orders the write before the read.
#include <thread>

#include "transport/channel.h"
#include "transport/close_signal.h"

int main() {
  h1::CloseSignal closed;
  h1::Channel<int*> ch(1, closed);
  int payload = 0;
  std::thread producer([&] {
    payload = 42;
    ch.Send(&payload);
  });
  std::optional<int*> got = ch.Recv();
  producer.join();
  return got.has_value() && **got == 42 ? 0 : 1;
}
