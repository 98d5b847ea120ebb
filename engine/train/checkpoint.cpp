#include "train/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "base/files.h"

namespace adj::train {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(const unsigned char* p, std::size_t n) {
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    for (std::size_t i = 0; i < n; i += 3) {
        const std::uint32_t a = p[i], b = i + 1 < n ? p[i + 1] : 0, c = i + 2 < n ? p[i + 2] : 0;
        const std::uint32_t v = (a << 16) | (b << 8) | c;
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += i + 1 < n ? kB64[(v >> 6) & 63] : '=';
        out += i + 2 < n ? kB64[v & 63] : '=';
    }
    return out;
}

bool unbase64(const std::string& s, std::string& out) {
    if (s.size() % 4) return false;
    out.clear();
    for (std::size_t i = 0; i < s.size(); i += 4) {
        std::uint32_t v = 0;
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char ch = s[i + std::size_t(k)];
            int d;
            if (ch == '=' && i + 4 == s.size() && k >= 2) { d = 0; ++pad; }
            else {
                const char* f = std::strchr(kB64, ch);
                if (!f || ch == '\0' || pad) return false;
                d = int(f - kB64);
            }
            v = (v << 6) | std::uint32_t(d);
        }
        out += char((v >> 16) & 255);
        if (pad < 2) out += char((v >> 8) & 255);
        if (pad < 1) out += char(v & 255);
    }
    return true;
}

nlohmann::json tensorJson(const std::string& name, const Tensor& t) {
    const Tensor c = t.contiguous();
    return {{"name", name},
            {"shape", c.shape()},
            {"base64", base64(reinterpret_cast<const unsigned char*>(c.data()), std::size_t(c.numel()) * sizeof(float))}};
}

std::string hex64(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

/// An integer JSON number that fits in int64 (a float, or an unsigned beyond int64, would be
/// converted with undefined behaviour by nlohmann's get<std::int64_t>).
bool integerIn(const nlohmann::json& v, std::int64_t& out) {
    if (v.is_number_integer() && !v.is_number_unsigned()) {
        out = v.get<std::int64_t>();
        return true;
    }
    if (v.is_number_unsigned() && v.get<std::uint64_t>() <= std::uint64_t(INT64_MAX)) {
        out = std::int64_t(v.get<std::uint64_t>());
        return true;
    }
    return false;
}

}  // namespace

std::string checkpointToJson(const Checkpoint& c) {
    nlohmann::json j{{"format", "adjoint-checkpoint"}, {"version", 1}, {"step", c.step}, {"seed", std::to_string(c.seed)},
                     {"loss", c.loss}, {"optimizer", c.optimizer}, {"batch", c.batchSize}};
    nlohmann::json rng = nlohmann::json::array();
    for (auto w : c.sampler.rng) rng.push_back(hex64(w));
    j["sampler"] = {{"rng", rng}, {"order", c.sampler.order}, {"position", c.sampler.position}, {"epoch", c.sampler.epoch}};
    j["parameters"] = nlohmann::json::array();
    for (const auto& [n, t] : c.parameters) j["parameters"].push_back(tensorJson(n, t));
    j["state"] = nlohmann::json::array();
    for (const auto& [n, t] : c.state) j["state"].push_back(tensorJson(n, t));
    return j.dump() + "\n";
}

Checkpoint parseCheckpoint(const std::string& text, const std::string& where) {
    auto fail = [&](const std::string& what) -> FormatError { return FormatError(where + ": " + what); };
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        throw fail(std::string("not JSON (") + e.what() + ")");
    }
    auto integer = [&](const nlohmann::json& v, const std::string& what) {
        std::int64_t out = 0;
        if (!integerIn(v, out)) throw fail(what + " must be an integer, got " + v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).substr(0, 40));
        return out;
    };
    auto integers = [&](const nlohmann::json& v, const std::string& what) {
        if (!v.is_array()) throw fail(what + " must be an array of integers");
        std::vector<std::int64_t> out;
        out.reserve(v.size());
        for (const auto& e : v) out.push_back(integer(e, what + " entry"));
        return out;
    };
    try {
        if (!j.is_object() || j.value("format", "") != "adjoint-checkpoint") throw fail("not an adjoint checkpoint (format must be \"adjoint-checkpoint\")");
        if (j.value("version", 0) != 1) throw fail("unsupported checkpoint version");
        Checkpoint c;
        c.step = integer(j.at("step"), "step");
        if (c.step < 0) throw fail("negative step");
        c.seed = std::stoull(j.at("seed").get<std::string>());
        c.loss = j.at("loss").get<std::string>();
        c.optimizer = j.at("optimizer").get<std::string>();
        c.batchSize = integer(j.at("batch"), "batch");
        const auto& s = j.at("sampler");
        const auto& rng = s.at("rng");
        if (!rng.is_array() || rng.size() != 4) throw fail("sampler.rng must hold 4 words");
        for (std::size_t i = 0; i < 4; ++i) c.sampler.rng[i] = std::stoull(rng[i].get<std::string>(), nullptr, 16);
        c.sampler.order = integers(s.at("order"), "sampler.order");
        c.sampler.position = integer(s.at("position"), "sampler.position");
        c.sampler.epoch = integer(s.at("epoch"), "sampler.epoch");
        for (const char* section : {"parameters", "state"}) {
            auto& dst = std::string(section) == "parameters" ? c.parameters : c.state;
            for (const auto& e : j.at(section)) {
                const std::string name = e.at("name").get<std::string>();
                const Shape shape = integers(e.at("shape"), std::string(section) + " '" + name + "' shape");
                if (!shapeIsSane(shape)) throw fail(std::string(section) + " '" + name + "': bad shape");
                std::string bytes;
                if (!unbase64(e.at("base64").get<std::string>(), bytes)) throw fail(std::string(section) + " '" + name + "': bad base64");
                if (bytes.size() != std::size_t(numel(shape)) * sizeof(float))
                    throw fail(std::string(section) + " '" + name + "': " + std::to_string(bytes.size()) + " bytes of data for shape " + shapeToString(shape));
                Tensor t = Tensor::empty(shape);
                if (!bytes.empty()) std::memcpy(t.data(), bytes.data(), bytes.size());
                dst.emplace_back(name, t);
            }
        }
        return c;
    } catch (const FormatError&) {
        throw;
    } catch (const std::exception& e) {
        throw fail(std::string("malformed checkpoint (") + e.what() + ")");
    }
}

void saveCheckpoint(const std::string& path, const Checkpoint& c) { writeFileAtomically(path, checkpointToJson(c)); }

Checkpoint loadCheckpoint(const std::string& path) { return parseCheckpoint(readFileBytes(path), path); }

}  // namespace adj::train
