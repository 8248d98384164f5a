// See response.h.
#include "transport/response.h"

#include "transport/wire/body_reader.h"

namespace h1 {

absl::StatusOr<std::string> ResponseBody::ReadAll() { return wire::ReadToEnd(*this); }

}  // namespace h1
