// See thread_registry.h.
#include "transport/thread_registry.h"

#include <algorithm>
#include <utility>

namespace h1 {

ThreadRegistry& ThreadRegistry::Global() {
  static auto* registry = new ThreadRegistry;
  return *registry;
}

std::vector<std::string> ThreadRegistry::LiveThreads() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> names;
  for (const auto& [id, name] : live_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

int ThreadRegistry::LiveCount() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(live_.size());
}

bool ThreadRegistry::WaitForAtMost(int count, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto reached = [this, count]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return static_cast<int>(live_.size()) <= count;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

bool ThreadRegistry::WaitForNoneNamed(const std::string& prefix, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto none = [this, &prefix]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return std::none_of(live_.begin(), live_.end(), [&prefix](const auto& entry) {
      return entry.second.compare(0, prefix.size(), prefix) == 0;
    });
  };
  return mu_.AwaitWithTimeout(absl::Condition(&none), timeout);
}

ThreadRegistry::Scoped::Scoped(std::string name, ThreadRegistry& registry)
    : registry_(registry) {
  absl::MutexLock lock(&registry_.mu_);
  id_ = registry_.next_id_++;
  registry_.live_.emplace(id_, std::move(name));
}

ThreadRegistry::Scoped::Scoped(Scoped&& other) noexcept
    : registry_(other.registry_), id_(std::exchange(other.id_, -1)) {}

ThreadRegistry::Scoped::~Scoped() {
  if (id_ < 0) return;
  absl::MutexLock lock(&registry_.mu_);
  registry_.live_.erase(id_);
}

}  // namespace h1
