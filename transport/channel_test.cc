#include "transport/channel.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "transport/close_signal.h"

namespace h1 {
namespace {

TEST(ChannelTest, DeliversInFifoOrder) {
  CloseSignal closed;
  Channel<int> ch(3, closed);
  EXPECT_TRUE(ch.Send(1));
  EXPECT_TRUE(ch.Send(2));
  EXPECT_TRUE(ch.Send(3));
  EXPECT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch.Recv(), 1);
  EXPECT_EQ(ch.Recv(), 2);
  EXPECT_EQ(ch.Recv(), 3);
  EXPECT_EQ(ch.TryRecv(), std::nullopt);
}

TEST(ChannelTest, TrySendRespectsCapacityAndKeepsValueOnFailure) {
  CloseSignal closed;
  Channel<std::unique_ptr<int>> ch(1, closed);
  auto first = std::make_unique<int>(1);
  auto second = std::make_unique<int>(2);
  EXPECT_TRUE(ch.TrySend(std::move(first)));
  EXPECT_FALSE(ch.TrySend(std::move(second)));
  ASSERT_NE(second, nullptr);  // Not moved from on failure.
  EXPECT_EQ(*second, 2);
  EXPECT_EQ(**ch.TryRecv(), 1);
  EXPECT_TRUE(ch.TrySend(std::move(second)));
  EXPECT_EQ(ch.capacity(), 1u);
}

TEST(ChannelTest, SendBlocksWhileFullUntilAReceive) {
  CloseSignal closed;
  Channel<int> ch(1, closed);
  ASSERT_TRUE(ch.Send(1));
  bool second_sent = false;
  std::thread sender([&] { second_sent = ch.Send(2); });
  ch.WaitUntilBlockedForTesting(1);
  EXPECT_EQ(ch.size(), 1u);  // The bound holds while the sender waits.
  EXPECT_EQ(ch.Recv(), 1);
  sender.join();
  EXPECT_TRUE(second_sent);
  EXPECT_EQ(ch.Recv(), 2);
}

TEST(ChannelTest, RecvBlocksUntilASend) {
  CloseSignal closed;
  Channel<std::string> ch(1, closed);
  std::optional<std::string> got;
  std::thread receiver([&] { got = ch.Recv(); });
  ch.WaitUntilBlockedForTesting(1);
  ASSERT_TRUE(ch.Send("hello"));
  receiver.join();
  EXPECT_EQ(got, "hello");
}

TEST(ChannelTest, RecvWithTimeoutTimesOutWhenEmpty) {
  CloseSignal closed;
  Channel<int> ch(1, closed);
  const absl::Time start = absl::Now();
  EXPECT_EQ(ch.RecvWithTimeout(absl::Milliseconds(20)), std::nullopt);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
  ASSERT_TRUE(ch.Send(7));
  EXPECT_EQ(ch.RecvWithTimeout(absl::Hours(1)), 7);
}

// The spin ends with the item, the close or the timeout, never runs its
// hour (the test would time out).
TEST(ChannelTest, SpinEndsWithAnItem) {
  CloseSignal closed;
  Channel<int> ch(1, closed);
  std::thread sender([&] { ASSERT_TRUE(ch.Send(5)); });
  EXPECT_EQ(ch.SpinThenRecvWithTimeout(absl::Hours(1), absl::Hours(1)), 5);
  sender.join();
  ASSERT_TRUE(ch.Send(6));
  EXPECT_EQ(ch.SpinThenRecvWithTimeout(absl::Hours(1), absl::Hours(1)), 6);
}

TEST(ChannelTest, SpinEndsWhenTheSignalFires) {
  CloseSignal closed;
  Channel<int> ch(1, closed);
  std::thread closer([&] { closed.Fire(); });
  EXPECT_EQ(ch.SpinThenRecvWithTimeout(absl::Hours(1), absl::Hours(1)), std::nullopt);
  closer.join();
}

TEST(ChannelTest, SpinEndsWithTheTimeout) {
  CloseSignal closed;
  Channel<int> ch(1, closed);
  const absl::Time start = absl::Now();
  EXPECT_EQ(ch.SpinThenRecvWithTimeout(absl::Hours(1), absl::Milliseconds(20)), std::nullopt);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
}

TEST(ChannelTest, FiringWakesEveryBlockedReceiverAndSender) {
  CloseSignal closed;
  Channel<int> empty(1, closed);
  Channel<int> full(1, closed);
  ASSERT_TRUE(full.Send(0));
  constexpr int kWaiters = 4;
  std::vector<std::thread> threads;
  std::vector<int> results(3 * kWaiters, -1);
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] { results[i] = empty.Recv().has_value(); });
    threads.emplace_back(
        [&, i] { results[kWaiters + i] = empty.RecvWithTimeout(absl::Hours(1)).has_value(); });
    threads.emplace_back([&, i] { results[2 * kWaiters + i] = full.Send(i + 1); });
  }
  empty.WaitUntilBlockedForTesting(2 * kWaiters);
  full.WaitUntilBlockedForTesting(kWaiters);
  EXPECT_TRUE(closed.Fire());
  for (auto& t : threads) t.join();
  for (int r : results) EXPECT_EQ(r, 0);
  EXPECT_FALSE(closed.Fire());  // Fires once.
}

TEST(ChannelTest, QueuedItemsSurviveTheSignalButSendsFail) {
  CloseSignal closed;
  Channel<int> ch(2, closed);
  ASSERT_TRUE(ch.Send(1));
  closed.Fire();
  EXPECT_FALSE(ch.Send(2));
  int value = 3;
  EXPECT_FALSE(ch.TrySend(std::move(value)));
  EXPECT_EQ(ch.Recv(), 1);
  EXPECT_EQ(ch.Recv(), std::nullopt);
  EXPECT_EQ(ch.RecvWithTimeout(absl::Hours(1)), std::nullopt);
}

TEST(ChannelTest, SignalOutlivesUnboundChannels) {
  CloseSignal closed;
  { Channel<int> short_lived(1, closed); }
  Channel<int> ch(1, closed);
  EXPECT_TRUE(closed.Fire());
  EXPECT_EQ(ch.Recv(), std::nullopt);
}

TEST(ChannelTest, ManyProducersAndConsumersDeliverEachItemExactlyOnce) {
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  constexpr int kItemsPerProducer = 5000;
  CloseSignal closed;
  Channel<int> ch(2, closed);
  absl::Mutex mu;
  std::vector<int> received;  // Guarded by mu.
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&] {
      while (std::optional<int> item = ch.Recv()) {
        absl::MutexLock lock(&mu);
        received.push_back(*item);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kItemsPerProducer; ++i) {
        ASSERT_TRUE(ch.Send(p * kItemsPerProducer + i));
      }
    });
  }
  for (auto& t : producers) t.join();
  {
    absl::MutexLock lock(&mu);
    const auto all_received = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return received.size() == static_cast<size_t>(kProducers * kItemsPerProducer);
    };
    mu.Await(absl::Condition(&all_received));
  }
  EXPECT_EQ(ch.size(), 0u);
  closed.Fire();  // Ends the consumers' Recv.
  for (auto& t : consumers) t.join();
  std::sort(received.begin(), received.end());
  std::vector<int> expected(kProducers * kItemsPerProducer);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(received, expected);
}

}  // namespace
}  // namespace h1
