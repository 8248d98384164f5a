// Canned responses and scripts that many tests share.
#ifndef H1_TESTSERVER_CANNED_H_
#define H1_TESTSERVER_CANNED_H_

#include <string>

#include "absl/strings/string_view.h"
#include "testserver/test_server.h"

namespace h1::testserver {

// A 200 response with a Content-Length body.
std::string OkResponse(absl::string_view body, absl::string_view extra_headers = "");

// A script that answers every request on a connection with `response`,
// keeping the connection open until the client closes it.
TestServer::Script AnswerEvery(std::string response);

}  // namespace h1::testserver

#endif  // H1_TESTSERVER_CANNED_H_
