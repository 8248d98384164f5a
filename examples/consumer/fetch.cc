// A program that uses h1transport from another workspace: fetches a URL
// twice with one Transport, each within a 10 s deadline, and prints, for
// each response, its status, its body's size and which connection served it.
#include <iostream>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "transport/transport.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fetch http://HOST[:PORT]/PATH\n";
    return 2;
  }
  h1::Transport transport;  // Thread-safe; share one per process.
  for (int i = 0; i < 2; ++i) {
    h1::Request request = h1::Get(argv[1]);
    // The request and the reading of its body; h1::CancelHandle cancels too.
    request.deadline = absl::Now() + absl::Seconds(10);
    absl::StatusOr<h1::Response> response = transport.RoundTrip(std::move(request));
    if (!response.ok()) {
      std::cerr << "fetch: " << response.status() << "\n";
      return 1;
    }
    absl::StatusOr<std::string> body = response->body->ReadAll();
    if (!body.ok()) {
      std::cerr << "fetch: " << body.status() << "\n";
      return 1;
    }
    std::cout << response->status << " " << body->size() << " bytes, connection "
              << response->conn.id << (response->conn.reused ? " (reused)" : " (new)") << "\n";
    // A 4xx or 5xx is a response, not an error Status, as in Go.
    if (response->status >= 400) return 1;
  }
  return 0;
}
