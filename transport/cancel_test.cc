// Tests of CancelHandle: callbacks run once, on the cancelling thread or at
// registration; a withdrawn one never runs; withdrawing waits for a running
// one.
#include "transport/cancel.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace h1 {
namespace {

TEST(CancelHandleTest, RunsEachCallbackOnceAndCopiesShareTheState) {
  CancelHandle handle;
  const CancelHandle copy = handle;
  int runs = 0;
  CancelHandle::Registration registration = copy.OnCancel([&runs] { ++runs; });
  EXPECT_FALSE(handle.IsCancelled());
  handle.Cancel();
  handle.Cancel();
  EXPECT_TRUE(copy.IsCancelled());
  EXPECT_EQ(runs, 1);
}

TEST(CancelHandleTest, RegisteringOnACancelledHandleRunsAtOnce) {
  CancelHandle handle;
  handle.Cancel();
  int runs = 0;
  CancelHandle::Registration registration = handle.OnCancel([&runs] { ++runs; });
  EXPECT_EQ(runs, 1);
}

TEST(CancelHandleTest, AWithdrawnCallbackNeverRuns) {
  CancelHandle handle;
  int runs = 0;
  { CancelHandle::Registration registration = handle.OnCancel([&runs] { ++runs; }); }
  handle.Cancel();
  EXPECT_EQ(runs, 0);
}

TEST(CancelHandleTest, WithdrawingWaitsForTheRunningCallback) {
  CancelHandle handle;
  absl::Notification running, may_return;
  bool returned = false;
  CancelHandle::Registration registration = handle.OnCancel([&] {
    running.Notify();
    may_return.WaitForNotification();
    returned = true;
  });
  std::thread canceller([&handle] { handle.Cancel(); });
  running.WaitForNotification();
  std::thread releaser([&may_return] { may_return.Notify(); });
  registration.Reset();  // Returns only once the callback has.
  EXPECT_TRUE(returned);
  canceller.join();
  releaser.join();
}

}  // namespace
}  // namespace h1
