// ThreadRegistry: the names of the connection threads that are alive, so
// tests can prove that no reader or writer thread outlives its connection,
// the way Go's tests look for leaked goroutines. (TSan reports a thread leak
// only for a finished, unjoined thread; a thread blocked forever is silent.)
#ifndef H1_TRANSPORT_THREAD_REGISTRY_H_
#define H1_TRANSPORT_THREAD_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace h1 {

// Thread-safe.
class ThreadRegistry {
 public:
  // The process-wide registry every connection thread registers in.
  static ThreadRegistry& Global();

  // Names of the live registered threads, sorted.
  std::vector<std::string> LiveThreads() const;
  int LiveCount() const;

  // Waits until at most `count` threads are alive or `timeout` passes;
  // returns whether the count was reached. Woken by each thread's exit.
  bool WaitForAtMost(int count, absl::Duration timeout) const;
  // Waits until no live thread's name starts with `prefix` ("h1-dial-",
  // "h1-dial-2") or `timeout` passes; returns whether none is left.
  bool WaitForNoneNamed(const std::string& prefix, absl::Duration timeout) const;

  // Registers the calling thread for the lifetime of the object. Declare it
  // first in a thread's body, so it unregisters after everything else the
  // thread owned (its connection reference, hence its socket) is released.
  class Scoped {
   public:
    explicit Scoped(std::string name, ThreadRegistry& registry = Global());
    ~Scoped();
    // Movable, so a registration made before a thread starts can be handed
    // to it by value and kept on its stack: then only std::thread's own
    // state, which the thread's start routine still holds on its stack, is
    // freed after the thread unregisters. (A heap-allocated registration
    // was reported as leaked by a leak check run as the count reached zero.)
    Scoped(Scoped&& other) noexcept;
    Scoped(const Scoped&) = delete;
    Scoped& operator=(const Scoped&) = delete;
    Scoped& operator=(Scoped&&) = delete;

   private:
    ThreadRegistry& registry_;
    int id_;  // -1 once moved from.
  };

 private:
  mutable absl::Mutex mu_;
  int next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int, std::string> live_ ABSL_GUARDED_BY(mu_);
};

}  // namespace h1

#endif  // H1_TRANSPORT_THREAD_REGISTRY_H_
