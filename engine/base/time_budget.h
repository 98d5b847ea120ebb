#pragma once
// A budget of wall time for a whole run of a program (adjoint-cli's --timeout, adjoint's
// --screenshot --timeout): a watchdog thread that, when the run has not finished in time, prints
// its message on stderr and ends the process with exit status 1, whatever the run's threads are
// doing (a layout Graphviz cannot interrupt, a long kernel). Every file the project writes is
// written atomically, so what was on disk before stays whole.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace adj {

class TimeBudget {
public:
    /// Armed on construction; `message` is printed as it is (one line) when the time runs out.
    TimeBudget(double seconds, std::string message);
    /// Disarms it.
    ~TimeBudget();
    TimeBudget(const TimeBudget&) = delete;
    TimeBudget& operator=(const TimeBudget&) = delete;

private:
    std::mutex mutex_;
    std::condition_variable finished_;
    bool done_ = false;
    std::thread watchdog_;
};

/// "did not finish within its time budget of S s (--timeout)", for messages.
std::string timeBudgetExceeded(double seconds);

}  // namespace adj
