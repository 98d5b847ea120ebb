#include "cost/machine_model.h"

#include "base/files.h"
#include "base/parallel.h"

#include "runtime/cpu/gemm_packed.h"

#include <array>
#include <optional>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>


namespace adj {

double MachineModel::attainable(double intensity) const { return std::min(peakFlops, intensity * bandwidth); }

double MachineModel::predictSeconds(const Cost& c) const {
    const double tc = peakFlops > 0 ? c.flops / peakFlops : 0;
    const double tm = bandwidth > 0 ? c.bytes() / bandwidth : 0;
    return std::max(tc, tm);
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

/// FLOP/s of independent multiply-add chains on 4-wide vectors (the SIMD width the kernels are
/// compiled for by default), all threads.
double measureFlops(int threads) {
    typedef float v4 __attribute__((vector_size(16)));
    const std::int64_t iters = 1 << 20;
    constexpr int kChains = 8;
    std::atomic<float> sink{0};
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = Clock::now();
        adj::parallelEach(0, threads, [&](int t) {
            v4 acc[kChains];
            for (int k = 0; k < kChains; ++k) acc[k] = v4{1.f, 1.f, 1.f, 1.f} + float(k + t) * 1e-3f;
            const v4 m = {0.999999f, 0.999999f, 0.999999f, 0.999999f}, a = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
            for (std::int64_t i = 0; i < iters; ++i)
                for (int k = 0; k < kChains; ++k) acc[k] = acc[k] * m + a;
            float s = 0;
            for (const v4& v : acc) s += v[0] + v[1] + v[2] + v[3];
            sink.store(sink.load() + s);
        });
        const double dt = seconds(t0);
        best = std::max(best, double(threads) * double(iters) * kChains * 4.0 * 2.0 / dt);
    }
    return best;
}

/// FLOP/s of the packed GEMM (the widest micro-kernel this CPU has) on 512 x 512 products: what
/// matmul and conv nodes can reach, above what 4-wide arithmetic shows on AVX2/AVX-512 machines.
double measureGemmFlops() {
    const std::int64_t n = 512;
    std::vector<float> a(std::size_t(n * n), 0.5f), b(std::size_t(n * n), 0.25f), c(std::size_t(n * n));
    double best = 0;
    for (int rep = 0; rep < 4; ++rep) {
        const auto t0 = Clock::now();
        cpu::gemmStrided(n, n, n, a.data(), n, 1, b.data(), n, 1, c.data(), n, true);
        best = std::max(best, 2.0 * double(n) * double(n) * double(n) / seconds(t0));
    }
    return best;
}

/// Bytes/s of a parallel copy of a buffer much larger than the caches (on one thread when called
/// inside an arena of one).
double measureBandwidth() {
    const std::size_t n = std::size_t(1) << 24;  // 64 MiB per buffer
    std::vector<float> a(n, 1.f), b(n, 0.f);
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = Clock::now();
        adj::parallelBlocks(std::size_t(0), n, std::size_t(1) << 16, [&](std::size_t begin, std::size_t end) {
            std::copy(a.begin() + std::ptrdiff_t(begin), a.begin() + std::ptrdiff_t(end), b.begin() + std::ptrdiff_t(begin));
        });
        const double dt = seconds(t0);
        best = std::max(best, 2.0 * double(n) * sizeof(float) / dt);
    }
    return best;
}

std::string fmt(double v, const char* f = "%.3g") {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string escapeXml(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else if (c == '&') o += "&amp;";
        else if (c == '"') o += "&quot;";
        else o += c;
    }
    return o;
}

}  // namespace

MachineModel calibrateMachine() {
    MachineModel m;
    m.threads = tbb::info::default_concurrency();
    m.peakFlops = std::max(measureFlops(m.threads), measureGemmFlops());
    m.bandwidth = measureBandwidth();
    tbb::task_arena one(1);
    one.execute([&] {
        m.threadPeakFlops = std::max(measureFlops(1), measureGemmFlops());
        m.threadBandwidth = measureBandwidth();
    });
    return m;
}

std::string machineCachePath() {
    std::filesystem::path base;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) base = x;
    else if (const char* h = std::getenv("HOME"); h && *h) base = std::filesystem::path(h) / ".cache";
    else base = std::filesystem::temp_directory_path();
    return (base / "adjoint" / "machine.json").string();
}

MachineModel machineModel() {
    const std::string path = machineCachePath();
    const int threads = tbb::info::default_concurrency();
    try {
        std::ifstream f(path);
        if (f) {
            auto j = nlohmann::json::parse(f);
            // threads must be the integer of this machine (a float or a huge number in a damaged
            // cache would convert to int with undefined behaviour)
            const auto& t = j.at("threads");
            if (t.is_number_integer() && t == threads) {
                MachineModel m{j.at("peak_flops").get<double>(), j.at("bandwidth").get<double>(), threads,
                               j.at("thread_peak_flops").get<double>(), j.at("thread_bandwidth").get<double>()};
                if (j.value("version", 0) == 4 && m.peakFlops > 0 && m.bandwidth > 0 && m.threadPeakFlops > 0 && m.threadBandwidth > 0) return m;
            }
        }
    } catch (const std::exception&) {
        // recalibrate
    }
    MachineModel m = calibrateMachine();
    try {
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        // atomically: two processes calibrating at once, or a full disk, never leave half a file
        writeFileAtomically(path, nlohmann::json{{"version", 4}, {"peak_flops", m.peakFlops}, {"bandwidth", m.bandwidth}, {"threads", m.threads},
                                                          {"thread_peak_flops", m.threadPeakFlops}, {"thread_bandwidth", m.threadBandwidth}}.dump(1) + "\n");
    } catch (const std::exception&) {
        // a cache we cannot write is no error
    }
    return m;
}

std::string rooflineSvg(const Graph& g, const MachineModel& mm, const std::vector<double>& micros) {
    struct Dot {
        std::string label;
        double x, y, measured;
    };
    std::vector<Dot> dots;
    for (NodeId id : g.liveTopoOrder()) {
        const Node& n = g.node(id);
        if (!isKernelOp(n.op)) continue;
        const Cost c = nodeCost(g, id);
        if (c.bytes() <= 0) continue;
        const double x = std::max(c.intensity(), 1e-3);
        double meas = 0;
        if (std::size_t(id) < micros.size() && micros[std::size_t(id)] > 0) meas = c.flops / (micros[std::size_t(id)] * 1e-6);
        dots.push_back({n.name + " (" + std::string(opName(n.op)) + ")", x, std::max(mm.attainable(x), 1.0), meas});
    }
    const double W = 900, H = 600, L = 90, R = 30, T = 40, B = 70;
    double xmin = 1e-2, xmax = std::max(1e3, mm.ridge() * 10);
    double ymax = std::max(mm.peakFlops * 3, 1e9), ymin = std::max(1.0, std::min(ymax / 1e6, mm.bandwidth * xmin / 3));
    for (const auto& d : dots) {
        xmin = std::min(xmin, d.x / 2);
        xmax = std::max(xmax, d.x * 2);
        if (d.measured > 0) ymin = std::min(ymin, d.measured / 2);
    }
    auto px = [&](double x) { return L + (std::log10(x) - std::log10(xmin)) / (std::log10(xmax) - std::log10(xmin)) * (W - L - R); };
    auto py = [&](double y) { return H - B - (std::log10(y) - std::log10(ymin)) / (std::log10(ymax) - std::log10(ymin)) * (H - T - B); };
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(W, "%.0f") + "\" height=\"" + fmt(H, "%.0f") +
                    "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    s += "<text x=\"" + fmt(W / 2, "%.0f") + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Roofline of " + escapeXml(g.name.empty() ? "graph" : g.name) +
         ": peak " + fmt(mm.peakFlops / 1e9) + " GFLOP/s, " + fmt(mm.bandwidth / 1e9) + " GB/s (" + std::to_string(mm.threads) + " threads)</text>\n";
    // grid and axes (decades)
    for (double d = std::pow(10.0, std::ceil(std::log10(xmin))); d <= xmax; d *= 10)
        s += "<line x1=\"" + fmt(px(d), "%.1f") + "\" y1=\"" + fmt(T, "%.0f") + "\" x2=\"" + fmt(px(d), "%.1f") + "\" y2=\"" + fmt(H - B, "%.0f") +
             "\" stroke=\"#eee\"/><text x=\"" + fmt(px(d), "%.1f") + "\" y=\"" + fmt(H - B + 16, "%.0f") + "\" text-anchor=\"middle\">" + fmt(d, "%g") + "</text>\n";
    for (double d = std::pow(10.0, std::ceil(std::log10(ymin))); d <= ymax; d *= 10)
        s += "<line x1=\"" + fmt(L, "%.0f") + "\" y1=\"" + fmt(py(d), "%.1f") + "\" x2=\"" + fmt(W - R, "%.0f") + "\" y2=\"" + fmt(py(d), "%.1f") +
             "\" stroke=\"#eee\"/><text x=\"" + fmt(L - 6, "%.0f") + "\" y=\"" + fmt(py(d) + 4, "%.1f") + "\" text-anchor=\"end\">" + fmt(d, "%.0e") + "</text>\n";
    s += "<rect x=\"" + fmt(L, "%.0f") + "\" y=\"" + fmt(T, "%.0f") + "\" width=\"" + fmt(W - L - R, "%.0f") + "\" height=\"" + fmt(H - T - B, "%.0f") + "\" fill=\"none\" stroke=\"black\"/>\n";
    s += "<text x=\"" + fmt((L + W - R) / 2, "%.0f") + "\" y=\"" + fmt(H - 20, "%.0f") + "\" text-anchor=\"middle\">arithmetic intensity (FLOP/byte)</text>\n";
    s += "<text transform=\"translate(22," + fmt((T + H - B) / 2, "%.0f") + ") rotate(-90)\" text-anchor=\"middle\">performance (FLOP/s)</text>\n";
    // roofs: memory slope up to the ridge, then the compute roof
    const double r = mm.ridge();
    const double x0 = std::max(xmin, ymin / mm.bandwidth);
    s += "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"" + fmt(px(x0), "%.1f") + "," + fmt(py(mm.bandwidth * x0), "%.1f") + " " +
         fmt(px(r), "%.1f") + "," + fmt(py(mm.peakFlops), "%.1f") + " " + fmt(px(xmax), "%.1f") + "," + fmt(py(mm.peakFlops), "%.1f") + "\"/>\n";
    s += "<text x=\"" + fmt(px(r) + 6, "%.1f") + "\" y=\"" + fmt(py(mm.peakFlops) - 6, "%.1f") + "\" fill=\"#c0392b\">ridge " + fmt(r) + " FLOP/B</text>\n";
    // labels that would overlap one already placed move down a line, or are left to the tooltip
    std::vector<std::array<double, 4>> placed;  // x0, y0, x1, y1
    auto place = [&](double x, double y, std::size_t chars) -> std::optional<double> {
        const double w = 5.0 * double(chars), h = 10;
        for (int k = 0; k < 4; ++k, y += h + 1) {
            bool free = x + w <= W - R;
            for (const auto& b : placed)
                if (x < b[2] && b[0] < x + w && y - h < b[3] && b[1] < y) free = false;
            if (free) {
                placed.push_back({x, y - h, x + w, y});
                return y;
            }
        }
        return std::nullopt;
    };
    bool anyMeasured = false;
    for (const auto& d : dots) {
        const std::string cx = fmt(px(d.x), "%.1f"), cy = fmt(py(d.y), "%.1f");
        const bool compute = d.x >= r;
        if (d.measured > 0) {
            anyMeasured = true;
            const std::string my = fmt(py(std::max(d.measured, ymin)), "%.1f");
            s += "<line x1=\"" + cx + "\" y1=\"" + cy + "\" x2=\"" + cx + "\" y2=\"" + my + "\" stroke=\"#bbb\" stroke-dasharray=\"2,2\"/>";
            s += "<circle cx=\"" + cx + "\" cy=\"" + my + "\" r=\"4\" fill=\"white\" stroke=\"#555\"><title>" + escapeXml(d.label) + " measured " +
                 fmt(d.measured / 1e9) + " GFLOP/s</title></circle>\n";
        }
        s += "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"4\" fill=\"" + std::string(compute ? "#2471a3" : "#d68910") + "\"><title>" + escapeXml(d.label) + "</title></circle>";
        if (auto ly = place(px(d.x) + 6, py(d.y) + 12, d.label.size()))
            s += "<text x=\"" + fmt(px(d.x) + 6, "%.1f") + "\" y=\"" + fmt(*ly, "%.1f") + "\" font-size=\"9\">" + escapeXml(d.label) + "</text>";
        s += "\n";
    }
    // legend, bottom right inside the plot
    const double lx = W - R - 258, ly = H - B - (anyMeasured ? 62 : 46);
    s += "<rect x=\"" + fmt(lx, "%.0f") + "\" y=\"" + fmt(ly, "%.0f") + "\" width=\"250\" height=\"" + (anyMeasured ? "56" : "40") +
         "\" fill=\"white\" stroke=\"#ccc\"/>\n";
    auto legend = [&](int row, const std::string& fill, const std::string& stroke, const std::string& text) {
        const double y = ly + 14 + 16 * row;
        s += "<circle cx=\"" + fmt(lx + 12, "%.0f") + "\" cy=\"" + fmt(y - 4, "%.0f") + "\" r=\"4\" fill=\"" + fill + "\" stroke=\"" + stroke + "\"/><text x=\"" +
             fmt(lx + 22, "%.0f") + "\" y=\"" + fmt(y, "%.0f") + "\">" + text + "</text>\n";
    };
    legend(0, "#d68910", "none", "memory-bound: attainable (predicted)");
    legend(1, "#2471a3", "none", "compute-bound: attainable (predicted)");
    if (anyMeasured) legend(2, "white", "#555", "measured on this machine");
    s += "</svg>\n";
    return s;
}

}  // namespace adj
