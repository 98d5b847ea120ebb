#include "common.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <cstring>
#include <utility>

#include "io/graph_file.h"
#include "io/npy.h"
#include "runtime/fallback_executor.h"
#include "runtime/memory_plan.h"
#include "tensor/dtype.h"
#include "tensor/dtype_visit.h"
#include "runtime/vulkan/vulkan_executor.h"
#include "base/errors.h"
#include "ir/verifier.h"

namespace adj::cli {

namespace {

/// The small --input files, read as they are (int64 kept); an unreadable one is left for
/// readBindings to report.
KnownInputs knownInputsOf(const Args& args) {
    KnownInputs known;
    for (const auto& spec : args.values("--input")) {
        const auto eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) continue;
        const std::string file = spec.substr(eq + 1);
        std::error_code ec;
        const auto size = std::filesystem::file_size(file, ec);
        if (ec || size > kKnownInputBytes) continue;
        try {
            known[spec.substr(0, eq)] = readNpy(file, NpyIntegers::Keep);
        } catch (const Error&) {
        }
    }
    return known;
}

Graph loadVerified(const std::string& path, const KnownInputs& known) {
    Graph g;
    try {
        g = loadGraphFile(path, known);
    } catch (const Error& e) {
        throw BadInput(e.what());
    }
    auto diags = verifyGraph(g);
    if (!diags.empty()) {
        std::vector<std::string> lines;
        for (const auto& d : diags) lines.push_back(path + ": " + d.message);
        throw BadInput(lines);
    }
    return g;
}

}  // namespace

Graph loadCheckedGraph(const std::string& path) { return loadVerified(path, {}); }

Graph loadCheckedGraph(const std::string& path, const Args& args) { return loadVerified(path, knownInputsOf(args)); }

void saveGraphOrFail(const Graph& graph, const std::string& path, const DotOptions& drawing) {
    try {
        saveGraphFile(graph, path, drawing);
    } catch (const Error& e) {
        throw BadInput(e.what());
    }
}

std::string graphArgument(const Args& args, const std::string& command) {
    if (args.positional().empty()) throw UsageError(command + " needs a GRAPH file");
    if (args.positional().size() > 1) throw UsageError(command + " takes one GRAPH file, got '" + args.positional()[1] + "' too");
    return args.positional().front();
}

namespace {

/// `t` (as read from `file`) as input `name` of type `want`: the same type as it is; integers
/// widened or narrowed when every value fits; float32 or float16 widened to f64 exactly; uint16
/// bits as bf16 (NumPy has no bfloat16; .npy files hold its bits as '<u2'). Anything that would
/// round or reinterpret values is refused, naming the input, the file and both types.
Tensor convertedForInput(const Tensor& t, DType want, const std::string& file, const std::string& name) {
    if (t.dtype() == want) return t;
    const Tensor c = t.contiguous();
    if (want == DType::BF16 && c.dtype() == DType::U16) {
        Tensor bits = Tensor::empty(c.shape(), DType::BF16);
        std::memcpy(bits.bytes(), c.bytes(), std::size_t(c.numel()) * 2);
        return bits;
    }
    if (want == DType::F64 && (c.dtype() == DType::F32 || c.dtype() == DType::F16)) {
        Tensor wide = Tensor::empty(c.shape(), DType::F64);
        const std::vector<float> values = c.toVector();
        std::copy(values.begin(), values.end(), wide.ptr<double>());
        return wide;
    }
    if (isInteger(want) && isInteger(c.dtype())) {
        Tensor converted = Tensor::empty(c.shape(), want);
        const bool wideUnsigned = c.dtype() == DType::U64;
        visitIntegerDType(want, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const std::vector<std::int64_t> values = c.toInts();
            for (std::size_t k = 0; k < values.size(); ++k) {
                const bool fits = wideUnsigned ? std::in_range<T>(std::uint64_t(values[k])) : std::in_range<T>(values[k]);
                if (!fits)
                    throw BadInput(file + ": input '" + name + "' takes " + std::string(dtypeName(want)) + " values; element " + std::to_string(k) + " is " +
                                   (wideUnsigned ? std::to_string(std::uint64_t(values[k])) : std::to_string(values[k])));
                converted.ptr<T>()[k] = wideUnsigned ? T(std::uint64_t(values[k])) : T(values[k]);
            }
        });
        return converted;
    }
    // NumPy's name of each type, for the advice
    const auto numpyName = [](DType t) -> std::string {
        switch (t) {
            case DType::F32: return "float32";
            case DType::F64: return "float64";
            case DType::F16: return "float16";
            case DType::BF16: return "uint16 holding the bfloat16 bits";
            case DType::Bool: return "bool";
            default: {
                const std::string n(dtypeName(t));
                return (n[0] == 'u' ? "uint" : "int") + n.substr(1);
            }
        }
    };
    throw BadInput(file + ": input '" + name + "' takes " + std::string(dtypeName(want)) + " values; the file holds " + std::string(dtypeName(c.dtype())) +
                   " (save it as " + numpyName(want) + ")");
}

}  // namespace

Bindings readBindings(const Args& args, const Graph& graph) {
    Bindings b;
    for (const auto& spec : args.values("--input")) {
        auto eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) throw UsageError("--input needs NAME=FILE.npy, got '" + spec + "'");
        std::string name = spec.substr(0, eq), file = spec.substr(eq + 1);
        auto id = graph.findNode(name);
        if (!id || (graph.node(*id).op != Op::Input && graph.node(*id).op != Op::Parameter))
            throw BadInput("--input " + name + ": the graph has no input or parameter named '" + name + "'");
        try {
            const Node& n = graph.node(*id);
            const DType want = n.op == Op::Input ? n.declaredDType : DType::F32;
            b[name] = convertedForInput(readNpy(file, want == DType::F32 ? NpyIntegers::ToFloat : NpyIntegers::Keep), want, file, name);
        } catch (const Error& e) {
            throw BadInput(e.what());
        }
    }
    return b;
}

namespace {

/// Bytes this process can still allocate: the smaller of MemAvailable and the address-space
/// limit less what is mapped; -1 when neither is known.
std::int64_t allocatableBytes() {
    std::int64_t available = -1;
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::int64_t kb = 0;
    std::string unit;
    while (meminfo >> key >> kb) {
        std::getline(meminfo, unit);
        if (key == "MemAvailable:") {
            available = kb * 1024;
            break;
        }
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        std::ifstream statm("/proc/self/statm");
        std::int64_t pages = 0;
        statm >> pages;
        const std::int64_t left = std::int64_t(limit.rlim_cur) - pages * std::int64_t(sysconf(_SC_PAGESIZE));
        available = available < 0 ? std::max<std::int64_t>(0, left) : std::min(available, std::max<std::int64_t>(0, left));
    }
    return available;
}

}  // namespace

std::map<std::string, Shape> shapesOf(const Bindings& bindings) {
    std::map<std::string, Shape> shapes;
    for (const auto& [name, tensor] : bindings) shapes[name] = tensor.shape();
    return shapes;
}

void checkMemoryFits(const Graph& graph, const Bindings& bindings, const std::string& what) {
    const std::map<std::string, Shape> shapes = shapesOf(bindings);
    MemoryPlan plan;
    try {
        plan = planMemory(graph, shapes);
    } catch (const Error&) {
        return;  // the run names the shape problem
    }
    // (doubles: a graph's declared sizes can overflow 64 bits)
    double need = double(plan.plannedPeakBytes());
    for (NodeId id : graph.inputNodes()) {
        const Node& n = graph.node(id);
        if (bindings.count(n.name)) continue;
        double elements = 1;
        for (std::int64_t d : n.declaredShape) elements *= double(std::max<std::int64_t>(d, 1));
        need += elements * double(dtypeSize(n.outputs.empty() ? DType::F32 : n.outputs.front().dtype));
    }
    const std::int64_t available = allocatableBytes();
    if (available < 0 || need <= double(available)) return;
    auto gb = [](double bytes) {
        std::ostringstream s;
        s.precision(bytes < 1e9 ? 3 : 4);
        s << bytes / 1e9 << " GB";
        return s.str();
    };
    throw BadInput(what + ": running it needs about " + gb(need) + " of memory (the peak of its memory plan" +
                   (need > double(plan.plannedPeakBytes()) ? ", inputs included" : "") + ") and " + gb(double(available)) +
                   " is available: stopped before allocating (adjoint-cli memory shows the plan)");
}

std::string fileNameFor(const std::string& tensorName) {
    std::string s = tensorName;
    for (char& c : s) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) c = '_';
    }
    return s;
}

void ensureDirectory(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) throw BadInput(dir + ": cannot create the output directory (" + ec.message() + ")");
}

int countArgument(const Args& args, const std::string& name, int fallback, int low, int high) {
    const auto given = args.value(name);
    if (!given) return fallback;
    const auto v = args.integer(name);  // UsageError when it does not parse
    if (!v || *v < low || *v > high)
        throw UsageError(name + " takes a count from " + std::to_string(low) + " to " + std::to_string(high) + ", got '" + *given + "'");
    return int(*v);
}

std::unique_ptr<Executor> makeBackend(const Args& args, std::ostream& err) {
    std::string name = args.value("--backend").value_or("cpu");
    if (name == "cpu") return makeCpuExecutor();
    if (name == "vulkan") {
        try {
            auto vulkan = makeVulkanExecutor();
            if (!args.has("--fallback")) return vulkan;
            // --fallback also covers a device that fails mid-run: the CPU runs that graph again.
            return std::make_unique<FallbackExecutor>(std::move(vulkan), makeCpuExecutor(), [&err](const std::string& why) {
                err << "note: " << why << " (--fallback)\n";
            });
        } catch (const Error& e) {
            if (args.has("--fallback")) {
                err << "note: " << e.what() << "; running on the CPU instead (--fallback)\n";
                return makeCpuExecutor();
            }
            throw BadInput(std::string("--backend vulkan: ") + e.what() + " (add --fallback to run on the CPU)");
        }
    }
    throw UsageError("--backend must be cpu or vulkan, got '" + name + "'");
}

std::string formatNumber(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

}  // namespace adj::cli
