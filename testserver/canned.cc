// See canned.h.
#include "testserver/canned.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace h1::testserver {

std::string OkResponse(absl::string_view body, absl::string_view extra_headers) {
  return absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(), "\r\n", extra_headers,
                      "\r\n", body);
}

TestServer::Script AnswerEvery(std::string response) {
  return [response = std::move(response)](PeerConn& conn) {
    while (conn.ReadRequest().ok()) {
      if (!conn.Write(response).ok()) return;
    }
  };
}

}  // namespace h1::testserver
