#include "base/time_budget.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace adj {

TimeBudget::TimeBudget(double seconds, std::string message) {
    watchdog_ = std::thread([this, seconds, message = std::move(message)] {
        std::unique_lock lock(mutex_);
        if (finished_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; })) return;
        std::fprintf(stderr, "%s\n", message.c_str());
        std::fflush(stderr);
        std::_Exit(1);
    });
}

TimeBudget::~TimeBudget() {
    {
        std::lock_guard lock(mutex_);
        done_ = true;
    }
    finished_.notify_all();
    watchdog_.join();
}

std::string timeBudgetExceeded(double seconds) {
    std::ostringstream s;
    s << "did not finish within its time budget of " << seconds << " s (--timeout)";
    return s.str();
}

}  // namespace adj
