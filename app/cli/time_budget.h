#pragma once
// --timeout SECONDS, taken by every adjoint-cli command: a budget of wall time. A command that has
// not finished when it runs out is stopped: "error: <command> did not finish within its time budget
// of S s (--timeout)" on stderr and exit status 1, instead of running away. The process ends there
// and then; every file the CLI writes is written atomically (to a temporary, then renamed), so what
// was there before stays whole.
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace adj::cli {

/// Removes "--timeout S" or "--timeout=S" from `args` and returns S (seconds, > 0); nullopt when
/// absent. UsageError when the value is missing, not a number or not positive.
std::optional<double> takeTimeout(std::vector<std::string>& args);

/// A watchdog for one command: armed on construction, disarmed when it goes out of scope.
class TimeBudget {
public:
    TimeBudget(double seconds, std::string command);
    ~TimeBudget();
    TimeBudget(const TimeBudget&) = delete;
    TimeBudget& operator=(const TimeBudget&) = delete;

private:
    std::mutex mutex_;
    std::condition_variable finished_;
    bool done_ = false;
    std::thread watchdog_;
};

}  // namespace adj::cli
