// A program that uses h1transport from another workspace: fetches a URL
// twice with one Transport and prints, for each response, its status, its
// body's size and which connection served it.
#include <iostream>
#include <string>

#include "absl/status/statusor.h"
#include "transport/transport.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fetch http://HOST[:PORT]/PATH\n";
    return 2;
  }
  h1::Transport transport;  // Thread-safe; share one per process.
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<h1::Response> response = transport.RoundTrip(h1::Get(argv[1]));
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
