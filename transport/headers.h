// h1::Headers: the header fields of a request or a response, in order, with
// names matched case-insensitively and repeats kept. The class lives in the
// wire format, which reads and writes it; this is its public name.
#ifndef H1_TRANSPORT_HEADERS_H_
#define H1_TRANSPORT_HEADERS_H_

#include "transport/wire/headers.h"

namespace h1 {

// Add, Set, Del, Get, GetAll, Has, HasToken, iteration. Thread-compatible.
using Headers = wire::Headers;

}  // namespace h1

#endif  // H1_TRANSPORT_HEADERS_H_
