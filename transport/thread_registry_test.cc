// Tests for ThreadRegistry: registration lifetime, moves, and the wait that
// the leak checks rely on.
#include "transport/thread_registry.h"

#include <optional>
#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace h1 {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ThreadRegistryTest, ARegistrationLastsAsLongAsItsObject) {
  ThreadRegistry registry;
  {
    ThreadRegistry::Scoped reader("reader", registry);
    ThreadRegistry::Scoped writer("writer", registry);
    EXPECT_THAT(registry.LiveThreads(), ElementsAre("reader", "writer"));
  }
  EXPECT_THAT(registry.LiveThreads(), IsEmpty());
}

TEST(ThreadRegistryTest, AMovedRegistrationIsEndedOnceByItsNewOwner) {
  ThreadRegistry registry;
  std::optional<ThreadRegistry::Scoped> moved;
  {
    ThreadRegistry::Scoped original("reader", registry);
    moved.emplace(std::move(original));
  }
  EXPECT_THAT(registry.LiveThreads(), ElementsAre("reader"));
  moved.reset();
  EXPECT_EQ(registry.LiveCount(), 0);
}

TEST(ThreadRegistryTest, WaitForAtMostIsWokenByAThreadLeaving) {
  ThreadRegistry registry;
  ThreadRegistry::Scoped registration("worker", registry);
  absl::Notification waiting;
  std::thread worker([registration = std::move(registration), &waiting]() mutable {
    auto scoped = std::move(registration);
    waiting.WaitForNotification();
  });
  EXPECT_FALSE(registry.WaitForAtMost(0, absl::ZeroDuration()));
  waiting.Notify();
  EXPECT_TRUE(registry.WaitForAtMost(0, absl::InfiniteDuration()));
  worker.join();
}

TEST(ThreadRegistryTest, WaitForNoneNamedWaitsOnlyForThatName) {
  ThreadRegistry registry;
  ThreadRegistry::Scoped other("h1-reader-1", registry);
  ThreadRegistry::Scoped registration("h1-dial-1", registry);
  absl::Notification leave;
  std::thread dial([registration = std::move(registration), &leave]() mutable {
    auto scoped = std::move(registration);
    leave.WaitForNotification();
  });
  EXPECT_FALSE(registry.WaitForNoneNamed("h1-dial-", absl::ZeroDuration()));
  EXPECT_TRUE(registry.WaitForNoneNamed("h1-writer-", absl::ZeroDuration()));
  leave.Notify();
  EXPECT_TRUE(registry.WaitForNoneNamed("h1-dial-", absl::InfiniteDuration()));
  EXPECT_EQ(registry.LiveCount(), 1);
  dial.join();
}

}  // namespace
}  // namespace h1
