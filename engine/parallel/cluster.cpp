#include "parallel/cluster.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <atomic>
#include <thread>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/errors.h"
#include "base/files.h"
#include "cost/machine_model.h"

namespace adj::parallel {

using json = nlohmann::json;

int Cluster::linkBetween(int a, int b) const {
    for (std::size_t i = 0; i < links.size(); ++i)
        if ((links[i].a == a && links[i].b == b) || (links[i].a == b && links[i].b == a)) return int(i);
    return -1;
}

std::vector<int> Cluster::route(int from, int to) const {
    if (from == to) return {};
    if (int direct = linkBetween(from, to); direct >= 0) return {direct};
    // Breadth first over devices: fewest hops; among equal hop counts the widest bottleneck.
    const int n = int(devices.size());
    std::vector<int> hops(std::size_t(n), -1), via(std::size_t(n), -1);
    std::vector<double> width(std::size_t(n), 0);
    hops[std::size_t(from)] = 0;
    width[std::size_t(from)] = INFINITY;
    std::deque<int> queue{from};
    while (!queue.empty()) {
        const int d = queue.front();
        queue.pop_front();
        for (std::size_t i = 0; i < links.size(); ++i) {
            const ClusterLink& l = links[i];
            if (l.a != d && l.b != d) continue;
            const int next = l.a == d ? l.b : l.a;
            const double w = std::min(width[std::size_t(d)], l.bandwidth);
            if (hops[std::size_t(next)] < 0) {
                hops[std::size_t(next)] = hops[std::size_t(d)] + 1;
                queue.push_back(next);
            } else if (hops[std::size_t(next)] != hops[std::size_t(d)] + 1 || w <= width[std::size_t(next)]) {
                continue;
            }
            width[std::size_t(next)] = w;
            via[std::size_t(next)] = int(i);
        }
    }
    if (hops[std::size_t(to)] < 0)
        throw Error("cluster '" + name + "': no link joins " + devices[std::size_t(from)].name + " and " + devices[std::size_t(to)].name);
    std::vector<int> path;
    for (int d = to; d != from;) {
        const ClusterLink& l = links[std::size_t(via[std::size_t(d)])];
        path.push_back(via[std::size_t(d)]);
        d = l.a == d ? l.b : l.a;
    }
    std::reverse(path.begin(), path.end());
    return path;
}

Cluster Cluster::firstDevices(int n) const {
    if (n < 1) throw Error("a cluster needs at least one device");
    if (n > int(devices.size()))
        throw Error("cluster '" + name + "' has " + std::to_string(devices.size()) + " devices, not " + std::to_string(n));
    Cluster c = *this;
    c.devices.resize(std::size_t(n));
    c.links.clear();
    for (const ClusterLink& l : links)
        if (l.a < n && l.b < n) c.links.push_back(l);
    return c;
}

Cluster Cluster::withLinkBandwidthScaled(double factor) const {
    Cluster c = *this;
    for (ClusterLink& l : c.links) l.bandwidth *= factor;
    return c;
}

namespace {

class Reader {
public:
    explicit Reader(std::string where) : where_(std::move(where)) {}

    Cluster read(const std::string& text) {
        linked_.clear();
        json root;
        try {
            root = json::parse(text, nullptr, true, false);
        } catch (const json::exception& e) {
            fail("", std::string("not JSON: ") + e.what());
        }
        if (!root.is_object()) fail("", "the top level must be a JSON object");
        keys(root, "", {"name", "description", "devices", "links"});
        Cluster c;
        c.name = optionalString(root, "", "name");
        c.description = optionalString(root, "", "description");
        const json& devices = required(root, "", "devices");
        if (!devices.is_array() || devices.empty()) fail("devices", "must be a non-empty array");
        for (std::size_t i = 0; i < devices.size(); ++i) readDevice(devices[i], "devices[" + std::to_string(i) + "]", c);
        if (c.devices.size() > 1024) fail("devices", "more than 1024 devices");
        if (const auto it = root.find("links"); it != root.end()) {
            if (!it->is_array()) fail("links", "must be an array");
            if (it->size() > kMaxLinks) fail("links", "more than " + std::to_string(kMaxLinks) + " links");
            for (std::size_t i = 0; i < it->size(); ++i) readLink((*it)[i], "links[" + std::to_string(i) + "]", c);
        }
        if (c.devices.size() > 1 && c.links.empty()) fail("links", "several devices and no link between them");
        if (c.name.empty()) c.name = "cluster";
        return c;
    }

private:
    [[noreturn]] void fail(const std::string& field, const std::string& what) const {
        throw Error(where_ + (field.empty() ? "" : ": " + field) + ": " + what);
    }
    void keys(const json& object, const std::string& field, std::initializer_list<const char*> allowed) const {
        for (auto it = object.begin(); it != object.end(); ++it) {
            const std::string key = it.key();
            if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
                fail(field, "unknown field \"" + key + "\"");
        }
    }
    const json& required(const json& object, const std::string& field, const char* key) const {
        const auto it = object.find(key);
        if (it == object.end()) fail(field, std::string("missing \"") + key + "\"");
        return *it;
    }
    std::string optionalString(const json& object, const std::string& field, const char* key) const {
        const auto it = object.find(key);
        if (it == object.end()) return {};
        if (!it->is_string()) fail(field.empty() ? key : field + "." + key, "must be a string");
        return it->get<std::string>();
    }
    double number(const json& object, const std::string& field, const char* key, bool needed, double fallback, bool zeroAllowed) const {
        const auto it = object.find(key);
        if (it == object.end()) {
            if (needed) fail(field, std::string("missing \"") + key + "\"");
            return fallback;
        }
        const std::string name = field + "." + key;
        if (!it->is_number()) fail(name, "must be a number");
        const double v = it->get<double>();
        if (!std::isfinite(v) || v < 0 || (!zeroAllowed && v == 0)) fail(name, zeroAllowed ? "must be a number >= 0" : "must be a number > 0");
        return v;
    }
    void readDevice(const json& d, const std::string& field, Cluster& c) const {
        if (!d.is_object()) fail(field, "must be an object");
        keys(d, field, {"name", "count", "peak_flops", "memory_bandwidth", "memory_bytes", "launch_seconds", "measured"});
        ClusterDevice device;
        const json& name = required(d, field, "name");
        if (!name.is_string() || name.get<std::string>().empty()) fail(field + ".name", "must be a non-empty string");
        device.name = name.get<std::string>();
        device.peakFlops = number(d, field, "peak_flops", true, 0, false);
        device.memoryBandwidth = number(d, field, "memory_bandwidth", true, 0, false);
        device.memoryBytes = number(d, field, "memory_bytes", true, 0, false);
        device.launchSeconds = number(d, field, "launch_seconds", false, 0, true);
        if (const auto it = d.find("measured"); it != d.end()) {
            if (!it->is_boolean()) fail(field + ".measured", "must be true or false");
            device.measured = it->get<bool>();
        }
        const double count = number(d, field, "count", false, 1, false);
        if (count != std::floor(count) || count > 1024) fail(field + ".count", "must be a whole number from 1 to 1024");
        for (int k = 0; k < int(count); ++k) {
            ClusterDevice copy = device;
            if (count > 1) copy.name += std::to_string(k);
            for (const ClusterDevice& other : c.devices)
                if (other.name == copy.name) fail(field + ".name", "a second device named '" + copy.name + "'");
            c.devices.push_back(std::move(copy));
            if (c.devices.size() > 1024) fail("devices", "more than 1024 devices");
        }
    }
    int deviceIndex(const Cluster& c, const json& name, const std::string& field) const {
        if (!name.is_string()) fail(field, "must name a device");
        for (std::size_t i = 0; i < c.devices.size(); ++i)
            if (c.devices[i].name == name.get<std::string>()) return int(i);
        fail(field, "no device named '" + name.get<std::string>() + "'");
    }
    void readLink(const json& l, const std::string& field, Cluster& c) {
        if (!l.is_object()) fail(field, "must be an object");
        keys(l, field, {"between", "bandwidth", "latency_seconds"});
        const json& between = required(l, field, "between");
        ClusterLink link;
        link.bandwidth = number(l, field, "bandwidth", true, 0, false);
        link.latencySeconds = number(l, field, "latency_seconds", true, 0, true);
        std::vector<std::pair<int, int>> pairs;
        if (between.is_string() && between.get<std::string>() == "all") {
            for (int a = 0; a < int(c.devices.size()); ++a)
                for (int b = a + 1; b < int(c.devices.size()); ++b) pairs.emplace_back(a, b);
        } else {
            if (!between.is_array() || between.size() != 2) fail(field + ".between", "must be two device names, or \"all\"");
            const int a = deviceIndex(c, between[0], field + ".between[0]"), b = deviceIndex(c, between[1], field + ".between[1]");
            if (a == b) fail(field + ".between", "joins '" + c.devices[std::size_t(a)].name + "' to itself");
            pairs.emplace_back(a, b);
        }
        for (const auto& [a, b] : pairs) {
            if (!linked_.insert({std::min(a, b), std::max(a, b)}).second)
                fail(field, "a second link between '" + c.devices[std::size_t(a)].name + "' and '" + c.devices[std::size_t(b)].name + "'");
            link.a = a;
            link.b = b;
            c.links.push_back(link);
            if (c.links.size() > kMaxLinks) fail("links", "more than " + std::to_string(kMaxLinks) + " links");
        }
    }

    static constexpr std::size_t kMaxLinks = 1 << 16;
    std::string where_;
    std::set<std::pair<int, int>> linked_;
};

Cluster uniform(const std::string& name, const std::string& description, const std::string& stem, int n, ClusterDevice device, double linkBandwidth,
                double latency) {
    Cluster c;
    c.name = name;
    c.description = description;
    for (int i = 0; i < n; ++i) {
        device.name = stem + std::to_string(i);
        c.devices.push_back(device);
    }
    for (int a = 0; a < n; ++a)
        for (int b = a + 1; b < n; ++b) c.links.push_back({a, b, linkBandwidth, latency});
    return c;
}

/// Seconds from one thread's setting a flag to another's seeing it while it spins (as the
/// devices of a real run wait, parallel/real_execution.h): the median of 2,000 one-way hand-offs
/// between two threads, measured once per process.
double threadHandOffSeconds() {
    static const double seconds = [] {
        constexpr int kRounds = 2000;
        std::atomic<int> turn{0};  // even: the first thread's move, odd: the second's
        std::vector<double> oneWay;
        oneWay.reserve(2 * kRounds);
        std::atomic<std::int64_t> sentAt{0};
        auto stamp = [] { return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
        auto play = [&](int parity, bool record) {
            for (int k = 0; k < kRounds; ++k) {
                const int mine = 2 * k + parity;
                for (int spins = 0; turn.load(std::memory_order_acquire) != mine; ++spins)
                    if (spins > 1000) std::this_thread::yield();  // (a machine of one core)
                if (record) oneWay.push_back(double(stamp() - sentAt.load(std::memory_order_relaxed)) * 1e-9);
                sentAt.store(stamp(), std::memory_order_relaxed);
                turn.store(mine + 1, std::memory_order_release);
            }
        };
        std::thread other([&] { play(1, false); });
        play(0, true);
        other.join();
        oneWay.erase(oneWay.begin());  // (the first waited for the thread to start)
        std::nth_element(oneWay.begin(), oneWay.begin() + std::ptrdiff_t(oneWay.size() / 2), oneWay.end());
        return oneWay[oneWay.size() / 2];
    }();
    return seconds;
}

// A data-centre GPU's float32 roofs (an A100's order of magnitude): 19.5 TFLOP/s, 1.9 TB/s of
// HBM, 5 us per kernel launch.
ClusterDevice gpu(double memoryBytes) { return {"", 19.5e12, 1.9e12, memoryBytes, 5e-6, false}; }

}  // namespace

Cluster parseCluster(const std::string& text, const std::string& where) { return Reader(where).read(text); }

Cluster loadCluster(const std::string& path) { return parseCluster(readFileBytes(path), path); }

std::string clusterJson(const Cluster& c) {
    nlohmann::ordered_json root;
    root["name"] = c.name;
    if (!c.description.empty()) root["description"] = c.description;
    root["devices"] = nlohmann::ordered_json::array();
    for (const ClusterDevice& d : c.devices) {
        nlohmann::ordered_json device{{"name", d.name},
                                      {"peak_flops", d.peakFlops},
                                      {"memory_bandwidth", d.memoryBandwidth},
                                      {"memory_bytes", d.memoryBytes},
                                      {"launch_seconds", d.launchSeconds}};
        if (d.measured) device["measured"] = true;
        root["devices"].push_back(std::move(device));
    }
    root["links"] = nlohmann::ordered_json::array();
    for (const ClusterLink& l : c.links)
        root["links"].push_back({{"between", {c.devices[std::size_t(l.a)].name, c.devices[std::size_t(l.b)].name}},
                                 {"bandwidth", l.bandwidth},
                                 {"latency_seconds", l.latencySeconds}});
    return root.dump(2) + "\n";
}

const std::vector<std::string>& clusterPresetNames() {
    static const std::vector<std::string> kNames{"pcie2", "nvlink8", "ethernet2", "local"};
    return kNames;
}

std::optional<Cluster> clusterPreset(const std::string& name) {
    if (name == "pcie2")
        return uniform(name, "2 GPUs in one host over PCIe 4.0 x16 (25 GB/s each way, 10 us)", "gpu", 2, gpu(40e9), 25e9, 10e-6);
    if (name == "nvlink8")
        return uniform(name, "8 GPUs joined by NVLink through a switch (300 GB/s each way, 3 us)", "gpu", 8, gpu(80e9), 300e9, 3e-6);
    if (name == "ethernet2")
        return uniform(name, "2 hosts of one GPU each over 25 Gb/s Ethernet (3.1 GB/s each way, 50 us)", "host", 2, gpu(40e9), 3.125e9, 50e-6);
    if (name == "local") {
        const MachineModel m = machineModel();
        const int threads = std::max(1, m.threads);
        const double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
        // One device per thread with one thread's roofs, its node times measured; a transfer
        // between two is a copy at one thread's copy bandwidth after a hand-off between threads.
        ClusterDevice core{"", m.threadPeakFlops, m.threadBandwidth, memory / threads, 1e-6, true};
        return uniform(name, "this machine: one device per thread, node times measured on one thread", "cpu", threads, core,
                       m.threadBandwidth, threadHandOffSeconds());
    }
    return std::nullopt;
}

Cluster clusterFromArgument(const std::string& presetOrPath) {
    if (auto preset = clusterPreset(presetOrPath)) return *preset;
    return loadCluster(presetOrPath);
}

}  // namespace adj::parallel
