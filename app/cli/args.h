#pragma once
// Command-line parsing for adjoint-cli: positional arguments, `--name value`, `--name=value`,
// repeatable options and flags. Unknown options are usage errors (exit 2).
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace adj::cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    OptionSpec(std::string name_, bool takesValue_ = true, bool repeatable_ = false, std::string alias_ = {}, bool optionalValue_ = false)
        : name(std::move(name_)), takesValue(takesValue_), repeatable(repeatable_), alias(std::move(alias_)), optionalValue(optionalValue_) {}
    std::string name;            // "--input" or "-o"
    bool takesValue = true;      // false: a flag
    bool repeatable = false;
    std::string alias;           // "-o" for "--output", optional
    bool optionalValue = false;  // "--optimized" or "--optimized=-O2"
};

class Args {
public:
    /// Parses `args` against the options; throws UsageError.
    Args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs);
    const std::vector<std::string>& positional() const { return positional_; }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::vector<std::string> values(const std::string& name) const;
    /// A numeric option; UsageError when it does not parse.
    std::optional<long long> integer(const std::string& name) const;
    std::optional<double> number(const std::string& name) const;

private:
    std::vector<std::string> positional_;
    std::map<std::string, std::vector<std::string>> values_;
};

/// Removes "--timeout S" or "--timeout=S" from `args` and returns S (seconds, > 0); nullopt when
/// absent. UsageError when the value is missing, not a number or not positive. Every command
/// takes it (cli.cpp arms a TimeBudget with it).
std::optional<double> takeTimeout(std::vector<std::string>& args);

}  // namespace adj::cli
