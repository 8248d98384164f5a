// See response.h.
#include "transport/response.h"

#include "transport/wire/body_reader.h"

namespace h1 {

absl::StatusOr<std::string> ResponseBody::ReadAll(size_t max_bytes) {
  absl::StatusOr<std::string> all = wire::ReadToEnd(*this, max_bytes);
  if (!all.ok()) Close();
  return all;
}

}  // namespace h1
