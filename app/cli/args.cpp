#include "args.h"

#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstdlib>

namespace adj::cli {

Args::Args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs) {
    auto find = [&](const std::string& n) -> const OptionSpec* {
        for (const auto& s : specs)
            if (s.name == n || (!s.alias.empty() && s.alias == n)) return &s;
        return nullptr;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'))) {
            std::string name = a, inlineValue;
            bool hasInline = false;
            auto eq = a.find('=');
            if (eq != std::string::npos && a.rfind("--", 0) == 0) {
                name = a.substr(0, eq);
                inlineValue = a.substr(eq + 1);
                hasInline = true;
            }
            const OptionSpec* spec = find(name);
            if (!spec) throw UsageError("unknown option '" + name + "'");
            std::string value;
            if (spec->takesValue && !spec->optionalValue) {
                if (hasInline) value = inlineValue;
                else if (i + 1 < args.size()) value = args[++i];
                else throw UsageError("option '" + name + "' needs a value");
            } else if (hasInline) {
                if (!spec->optionalValue) throw UsageError("option '" + name + "' takes no value");
                value = inlineValue;
            }
            auto& slot = values_[spec->name];
            if (!slot.empty() && !spec->repeatable) throw UsageError("option '" + name + "' given twice");
            slot.push_back(value);
        } else {
            positional_.push_back(a);
        }
    }
}

std::optional<std::string> Args::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::vector<std::string> Args::values(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::optional<long long> Args::integer(const std::string& name) const {
    auto v = value(name);
    if (!v) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long long r = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || errno != 0) throw UsageError("option '" + name + "' needs an integer, got '" + *v + "'");
    return r;
}

std::optional<double> Args::number(const std::string& name) const {
    auto v = value(name);
    if (!v) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    double r = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || errno != 0) throw UsageError("option '" + name + "' needs a number, got '" + *v + "'");
    return r;
}

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

}  // namespace adj::cli
