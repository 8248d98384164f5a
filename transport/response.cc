// See response.h.
#include "transport/response.h"

namespace h1 {

absl::StatusOr<std::string> ResponseBody::ReadAll() {
  std::string all;
  char buf[16 * 1024];
  for (;;) {
    absl::StatusOr<size_t> n = Read(buf, sizeof(buf));
    if (!n.ok()) return n.status();
    if (*n == 0) return all;
    all.append(buf, *n);
  }
}

}  // namespace h1
