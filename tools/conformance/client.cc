// See client.h.
#include "tools/conformance/client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "tools/h1fetch/fetch.h"
#include "tools/h1fetch/request_spec.h"
#include "transport/testing/recording_dialer.h"
#include "transport/thread_registry.h"

extern char** environ;

namespace h1::conformance {
namespace {

// How long a run waits for a transport's threads and sockets to go: long
// enough for a loaded sanitizer run, and only ever spent on a leak.
constexpr absl::Duration kLeakWait = absl::Seconds(10);

std::vector<fetch::RequestSpec> Specs(const testserver::Scenario& scenario,
                                      const std::string& base_url) {
  std::vector<fetch::RequestSpec> specs;
  for (size_t i = 0; i < scenario.requests.size(); ++i) {
    const testserver::ClientRequest& request = scenario.requests[i];
    fetch::RequestSpec spec{request.method,
                            absl::StrCat(base_url, "/", scenario.name, "/", i + 1)};
    if (request.body_bytes > 0) spec.body_bytes = request.body_bytes;
    spec.sleep_before = request.delay_before;
    specs.push_back(std::move(spec));
  }
  return specs;
}

void Record(const fetch::Outcome& got, ClientRun& run) {
  run.outcomes.push_back(
      {got.status.value_or(0), got.body_bytes, got.body_prefix, got.error.has_value()});
  run.errors.push_back(got.error.value_or(""));
}

// Sends every request through `transport`, in order.
void FetchAll(Transport& transport, const std::vector<fetch::RequestSpec>& specs,
              const std::function<void(int)>& after, ClientRun& run) {
  for (size_t i = 0; i < specs.size(); ++i) {
    absl::SleepFor(specs[i].sleep_before);
    Record(fetch::Fetch(transport, specs[i], static_cast<int>(i + 1)), run);
    after(static_cast<int>(i + 1));
  }
}

class InProcess final : public Client {
 public:
  explicit InProcess(absl::Duration deadline) : deadline_(deadline) {}
  std::string name() const override { return "h1::Transport"; }

  ClientRun Run(const testserver::Scenario& scenario, const std::string& base_url,
                const std::function<void(int)>& after) override {
    // On its own thread, so that a client stuck inside a request is reported
    // rather than waited for; what it uses lives as long as it does.
    struct Shared {
      testing::RecordingDialer dialer;
      absl::Mutex mu;
      ClientRun run ABSL_GUARDED_BY(mu);
      absl::Notification done;
    };
    auto shared = std::make_shared<Shared>();
    std::thread([shared, &scenario, base_url, after] {
      ClientRun run;
      {
        TransportOptions options;
        options.dial = shared->dialer.Dial();
        options.response_header_timeout = scenario.header_timeout;
        Transport transport(options);
        FetchAll(transport, Specs(scenario, base_url), after, run);
      }
      absl::MutexLock lock(&shared->mu);
      shared->run = std::move(run);
      shared->done.Notify();
    }).detach();
    if (!shared->done.WaitForNotificationWithTimeout(deadline_)) {
      ClientRun run;
      run.hung = true;
      run.failure = absl::StrCat("hung: no end within ", absl::FormatDuration(deadline_));
      return run;
    }
    ThreadRegistry& threads = ThreadRegistry::Global();
    threads.WaitForAtMost(0, kLeakWait);
    shared->dialer.AwaitOpenAtMost(0, kLeakWait);
    absl::MutexLock lock(&shared->mu);
    ClientRun run = std::move(shared->run);
    run.threads_left = threads.LiveCount();
    run.sockets_left = shared->dialer.open();
    return run;
  }

 private:
  const absl::Duration deadline_;
};

class SharedTransport final : public Client {
 public:
  explicit SharedTransport(Transport& transport) : transport_(transport) {}
  std::string name() const override { return "h1::Transport (shared)"; }

  ClientRun Run(const testserver::Scenario& scenario, const std::string& base_url,
                const std::function<void(int)>& after) override {
    ClientRun run;
    FetchAll(transport_, Specs(scenario, base_url), after, run);
    return run;
  }

 private:
  Transport& transport_;
};

// A child process whose standard output is read line by line.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      error_ = absl::StrCat("pipe: ", std::strerror(errno));
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    if (rc != 0) {
      pid_ = -1;
      error_ = absl::StrCat("cannot run ", argv[0], ": ", std::strerror(rc));
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  const std::string& error() const { return error_; }

  // The next line of output; false at its end or at `deadline`.
  bool ReadLine(absl::Time deadline, std::string& line) {
    for (;;) {
      const size_t newline = pending_.find('\n');
      if (newline != std::string::npos) {
        line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        return true;
      }
      pollfd p{out_, POLLIN, 0};
      const int wait_ms = static_cast<int>(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
      if (::poll(&p, 1, wait_ms) != 1) {
        timed_out_ = true;
        return false;
      }
      char buf[4096];
      const ssize_t n = ::read(out_, buf, sizeof(buf));
      if (n <= 0) return false;
      pending_.append(buf, static_cast<size_t>(n));
    }
  }
  bool timed_out() const { return timed_out_; }

  // Waits for the child to exit; its exit status, or -1 if it was killed.
  int Finish() {
    if (pid_ <= 0) return -1;
    if (timed_out_) ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string pending_;
  std::string error_;
  bool timed_out_ = false;
};

class Command final : public Client {
 public:
  Command(std::string command, absl::Duration deadline)
      : command_(std::move(command)), deadline_(deadline) {}
  std::string name() const override { return command_; }

  ClientRun Run(const testserver::Scenario& scenario, const std::string& base_url,
                const std::function<void(int)>& after) override {
    ClientRun run;
    std::vector<std::string> argv = absl::StrSplit(command_, ' ', absl::SkipEmpty());
    if (scenario.header_timeout > absl::ZeroDuration()) {
      argv.push_back(absl::StrCat("--response_header_timeout=",
                                  absl::ToDoubleSeconds(scenario.header_timeout)));
    }
    for (const fetch::RequestSpec& spec : Specs(scenario, base_url)) {
      std::string arg = absl::StrCat(spec.method, " ", spec.url);
      if (spec.body_bytes.has_value()) absl::StrAppend(&arg, " body=", *spec.body_bytes);
      if (spec.sleep_before > absl::ZeroDuration()) {
        absl::StrAppend(&arg, " sleep_before_ms=", absl::ToInt64Milliseconds(spec.sleep_before));
      }
      argv.push_back(std::move(arg));
    }
    Child child(argv);
    if (!child.error().empty()) {
      run.failure = child.error();
      return run;
    }
    const absl::Time deadline = absl::Now() + deadline_;
    std::string line;
    while (run.outcomes.size() < scenario.requests.size() && child.ReadLine(deadline, line)) {
      absl::StatusOr<fetch::Outcome> outcome = fetch::ParseJsonLine(line);
      if (!outcome.ok()) {
        run.failure = std::string(outcome.status().message());
        break;
      }
      Record(*outcome, run);
      after(static_cast<int>(run.outcomes.size()));
    }
    const int exit_status = child.Finish();
    if (run.failure.empty() && child.timed_out()) {
      run.failure = absl::StrCat("no outcome within ", absl::FormatDuration(deadline_));
    } else if (run.failure.empty() && run.outcomes.size() < scenario.requests.size()) {
      run.failure = absl::StrCat("exited (status ", exit_status, ") after ", run.outcomes.size(),
                                 " of ", scenario.requests.size(), " outcomes");
    }
    return run;
  }

 private:
  const std::string command_;
  const absl::Duration deadline_;
};

}  // namespace

std::unique_ptr<Client> InProcessClient(absl::Duration deadline) {
  return std::make_unique<InProcess>(deadline);
}

std::unique_ptr<Client> SharedTransportClient(Transport& transport) {
  return std::make_unique<SharedTransport>(transport);
}

std::unique_ptr<Client> CommandClient(std::string command, absl::Duration deadline) {
  return std::make_unique<Command>(std::move(command), deadline);
}

}  // namespace h1::conformance
