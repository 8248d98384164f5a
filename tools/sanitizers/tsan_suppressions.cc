// TSan suppressions compiled into every binary under --config=tsan. Each names
// one third-party function and the upstream bug it works around; the
// project's own code is never suppressed.

// absl::Mutex runs its internals with TSan synchronisation ignored, so the
// atomic in synchronization_internal::Waiter::Post() on another thread's
// freshly allocated ThreadIdentity is reported as racing with that allocation.
// False positive: google/sanitizers#953, abseil/abseil-cpp#217.
extern "C" const char* __tsan_default_suppressions() {
  return "race:absl::*::synchronization_internal::Waiter::Post\n";
}
