#pragma once
// adjoint-cli as a library: the whole program behind one function, so that tests run it
// in-process (and under the sanitizers) as well as through the executable.
#include <iosfwd>
#include <string>
#include <vector>

namespace adj::cli {

/// Exit statuses: success, bad input (messages begin with "error:"), bad usage.
enum Exit : int { kOk = 0, kBadInput = 1, kUsage = 2 };

/// Runs adjoint-cli with `args` (without the program name); writes to `out` and `err`.
int runCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace adj::cli
