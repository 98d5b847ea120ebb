#include "time_budget.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "args.h"

namespace adj::cli {

std::optional<double> takeTimeout(std::vector<std::string>& args) {
    std::optional<double> seconds;
    for (std::size_t i = 0; i < args.size();) {
        std::string text;
        if (args[i] == "--timeout") {
            if (i + 1 >= args.size()) throw UsageError("--timeout needs a number of seconds");
            text = args[i + 1];
            args.erase(args.begin() + std::ptrdiff_t(i), args.begin() + std::ptrdiff_t(i) + 2);
        } else if (args[i].rfind("--timeout=", 0) == 0) {
            text = args[i].substr(10);
            args.erase(args.begin() + std::ptrdiff_t(i));
        } else {
            ++i;
            continue;
        }
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !std::isfinite(v) || v <= 0)
            throw UsageError("--timeout takes a positive number of seconds, got '" + text + "'");
        seconds = v;
    }
    return seconds;
}

TimeBudget::TimeBudget(double seconds, std::string command) {
    watchdog_ = std::thread([this, seconds, command = std::move(command)] {
        std::unique_lock lock(mutex_);
        if (finished_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; })) return;
        std::fprintf(stderr, "error: %s did not finish within its time budget of %g s (--timeout)\n", command.c_str(), seconds);
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

}  // namespace adj::cli
