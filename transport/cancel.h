// CancelHandle: how a caller cancels a request from any thread, like the
// cancel function of Go's context.WithCancel. The Transport registers what
// must happen on cancellation for the phase the request is in (stop waiting
// for a connection, stop a dial, close the connection mid-exchange), so the
// cancelling thread itself wakes every wait: nothing polls the handle.
//
//   h1::CancelHandle cancel;
//   request.cancel = cancel;  // Copies share one state.
//   ... on any thread: cancel.Cancel();
#ifndef H1_TRANSPORT_CANCEL_H_
#define H1_TRANSPORT_CANCEL_H_

#include <cstdint>
#include <functional>
#include <memory>

namespace h1 {

// Thread-safe. Copies share one state: cancelling one cancels all.
class CancelHandle {
 public:
  // A handle not yet cancelled.
  CancelHandle();

  // Cancels: runs the registered callbacks on this thread, then returns.
  // Only the first call does anything.
  void Cancel() const;
  bool IsCancelled() const;

  class Registration;
  // Runs `on_cancel` once when the handle is cancelled; at once, on this
  // thread, if it already is. Destroying the registration withdraws it,
  // waiting for a call already running on another thread to return, so
  // what the callback uses may be destroyed right after. `on_cancel` must
  // not destroy its own registration.
  [[nodiscard]] Registration OnCancel(std::function<void()> on_cancel) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Movable; empty when default-constructed or moved from.
class CancelHandle::Registration {
 public:
  Registration() = default;
  Registration(Registration&& other) noexcept;
  Registration& operator=(Registration&& other) noexcept;
  ~Registration() { Reset(); }

  // Withdraws the callback now (see OnCancel).
  void Reset();

 private:
  friend class CancelHandle;
  Registration(std::shared_ptr<State> state, uint64_t id) : state_(std::move(state)), id_(id) {}

  std::shared_ptr<State> state_;
  uint64_t id_ = 0;
};

}  // namespace h1

#endif  // H1_TRANSPORT_CANCEL_H_
