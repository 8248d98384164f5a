// See socket_pair_dial.h.
#include "transport/testing/socket_pair_dial.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace h1::testing {

DialFunction SocketPairDial(std::function<void(int peer_fd)> serve) {
  return
      [serve = std::move(serve)](const std::string&, uint16_t,
                                 const DialContext&) -> absl::StatusOr<std::unique_ptr<NetConn>> {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
          return absl::UnavailableError(absl::StrCat("socketpair: ", std::strerror(errno)));
        }
        serve(fds[1]);
        return NetConnFromFd(fds[0]);
      };
}

}  // namespace h1::testing
