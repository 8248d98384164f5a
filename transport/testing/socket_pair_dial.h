// SocketPairDial: a Dial hook that connects the Transport to an in-process
// peer through a Unix socketpair instead of TCP. No port, no TIME_WAIT, no
// delayed ACK: a harness that opens thousands of connections a second (the
// timing fuzzer) gets them at the cost of a system call.
#ifndef H1_TRANSPORT_TESTING_SOCKET_PAIR_DIAL_H_
#define H1_TRANSPORT_TESTING_SOCKET_PAIR_DIAL_H_

#include <functional>

#include "transport/net_conn.h"

namespace h1::testing {

// Each dial makes a socketpair, hands one end to `serve` (which owns it from
// then on) and gives the other to the Transport. Host and port are ignored.
// Thread-safe if `serve` is.
DialFunction SocketPairDial(std::function<void(int peer_fd)> serve);

}  // namespace h1::testing

#endif  // H1_TRANSPORT_TESTING_SOCKET_PAIR_DIAL_H_
