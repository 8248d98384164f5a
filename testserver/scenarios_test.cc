// The scenario library is data: each scenario must be complete and
// consistent before any client is judged by it.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "testserver/scenario.h"

namespace h1::testserver {
namespace {

TEST(ScenariosTest, EveryScenarioIsComplete) {
  std::set<std::string> names;
  for (const Scenario& scenario : AllScenarios()) {
    SCOPED_TRACE(scenario.name);
    EXPECT_TRUE(names.insert(scenario.name).second) << "duplicate name";
    EXPECT_FALSE(scenario.hostile.empty());
    EXPECT_FALSE(scenario.connections.empty());
    ASSERT_EQ(scenario.expected.size(), scenario.requests.size());
    for (const Outcome& outcome : scenario.expected) {
      EXPECT_TRUE(outcome.status != 0 || outcome.error) << "neither a response nor an error";
      EXPECT_LE(outcome.body_prefix.size(), 16u);
    }
    // The log names each request by number, on connections the scenario
    // scripts.
    for (absl::string_view entry : absl::StrSplit(scenario.log_pattern, ' ')) {
      const std::vector<absl::string_view> parts = absl::StrSplit(entry, '@');
      ASSERT_EQ(parts.size(), 2u) << entry;
      int request = 0;
      int connection = 0;
      EXPECT_TRUE(absl::SimpleAtoi(parts[0], &request) && request >= 1 &&
                  request <= static_cast<int>(scenario.requests.size()))
          << entry;
      EXPECT_TRUE(absl::SimpleAtoi(parts[1], &connection) && connection >= 1) << entry;
    }
  }
  EXPECT_GE(names.size(), 40u);
}

}  // namespace
}  // namespace h1::testserver
