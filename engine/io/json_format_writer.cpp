// Writing the JSON graph format (json_format.h): small tensors inline, larger ones in base64 or
// in a sidecar file next to the JSON; writes are atomic.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "io/json_format.h"
#include "io/json_format_text.h"
#include "base/files.h"
#include "base/errors.h"

namespace adj {

using namespace json_io;

namespace {

struct SidecarItem {
    std::uint64_t offset;
    Tensor tensor;  // contiguous
};

class Writer {
public:
    Writer(const std::string& where, const JsonWriteOptions& options, std::string sidecarName)
        : where_(where), opt_(options), sidecarName_(std::move(sidecarName)) {}

    ojson build(const Graph& g) {
        ojson root;
        root["format"] = kFormatName;
        root["version"] = kFormatVersion;
        root["name"] = g.name;
        if (!g.description.empty()) root["description"] = g.description;
        ojson inputs = ojson::array(), params = ojson::array(), nodes = ojson::array();
        const std::vector<NodeId> ids = g.nodeIds();
        int lastRank = 0;
        bool canonical = true;
        for (NodeId id : ids) {
            const Node& n = g.node(id);
            const int rank = n.op == Op::Input ? 0 : n.op == Op::Parameter ? 1 : 2;
            canonical = canonical && rank >= lastRank;
            lastRank = std::max(lastRank, rank);
            ojson e;
            e["name"] = n.name;
            if (n.op == Op::Input) {
                e["shape"] = n.declaredShape;
                if (n.declaredDType != DType::F32) e["dtype"] = std::string(dtypeName(n.declaredDType));
                bool anyDim = false;
                for (const auto& d : n.dimNames) anyDim = anyDim || !d.empty();
                if (anyDim) {
                    ojson dims = ojson::array();
                    for (std::size_t i = 0; i < n.declaredShape.size(); ++i) {
                        const std::string d = i < n.dimNames.size() ? n.dimNames[i] : std::string();
                        dims.push_back(d.empty() ? ojson(nullptr) : ojson(d));
                    }
                    e["dims"] = dims;
                }
                writeMeta(n, e);
                inputs.push_back(std::move(e));
            } else if (n.op == Op::Parameter) {
                writeTensor(n, "parameter", e);
                writeMeta(n, e);
                params.push_back(std::move(e));
            } else if (n.op == Op::Constant) {
                e["op"] = "constant";
                writeTensor(n, "constant", e);
                writeMeta(n, e);
                nodes.push_back(std::move(e));
            } else {
                e["op"] = std::string(opName(n.op));
                ojson ins = ojson::array();
                for (const ValueRef& v : n.inputs) ins.push_back(g.contains(v.node) ? ojson(g.valueName(v)) : ojson(nullptr));
                e["inputs"] = std::move(ins);
                if (!n.attrs.map().empty()) {
                    ojson a = ojson::object();
                    for (const auto& [k, v] : n.attrs.map()) a[k] = attrToJson(n, k, v);
                    e["attrs"] = std::move(a);
                }
                writeMeta(n, e);
                nodes.push_back(std::move(e));
            }
        }
        root["inputs"] = std::move(inputs);
        root["parameters"] = std::move(params);
        root["nodes"] = std::move(nodes);
        ojson outs = ojson::array();
        for (const auto& o : g.outputs()) {
            ojson e;
            e["name"] = o.name;
            e["value"] = g.contains(o.value.node) ? ojson(g.valueName(o.value)) : ojson(nullptr);
            outs.push_back(std::move(e));
        }
        root["outputs"] = std::move(outs);
        if (!canonical) {
            ojson order = ojson::array();
            for (NodeId id : ids) order.push_back(g.node(id).name);
            root["order"] = std::move(order);
        }
        return root;
    }

    const std::vector<SidecarItem>& sidecar() const { return sidecar_; }

private:
    [[noreturn]] void fail(const std::string& what) const { throw FormatError(where_ + ": " + what); }

    void writeMeta(const Node& n, ojson& e) const {
        if (n.meta.empty()) return;
        ojson m = ojson::object();
        for (const auto& [k, v] : n.meta) m[k] = v;
        e["meta"] = std::move(m);
    }

    ojson attrToJson(const Node& n, const std::string& key, const AttrValue& v) const {
        auto finite = [&](double d) {
            if (!std::isfinite(d)) fail("node " + sq(n.name) + ": attribute " + sq(key) + " is not finite, which JSON cannot hold");
            return d;
        };
        switch (v.index()) {
            case 0: return std::get<0>(v);
            case 1: return finite(std::get<1>(v));
            case 2: return std::get<2>(v);
            case 3: return std::get<3>(v);
            default: {
                ojson a = ojson::array();
                for (double d : std::get<4>(v)) a.push_back(finite(d));
                return a;
            }
        }
    }

    void writeTensor(const Node& n, const char* what, ojson& e) {
        if (!n.value.defined()) fail(std::string(what) + " " + sq(n.name) + " has no value");
        if (n.op == Op::Constant && isIntegral(n.value.dtype())) {  // integers and bools: "dtype" and whole numbers, inline
            e["shape"] = n.value.shape();
            e["dtype"] = std::string(dtypeName(n.value.dtype()));
            ojson vals = ojson::array();
            if (n.value.dtype() == DType::U64) {  // (beyond int64's range as unsigned numbers)
                const Tensor c = n.value.contiguous();
                for (std::int64_t i = 0; i < c.numel(); ++i) vals.push_back(c.ptr<std::uint64_t>()[i]);
            } else {
                for (std::int64_t v : n.value.toInts()) vals.push_back(v);
            }
            e["values"] = std::move(vals);
            return;
        }
        if (n.value.dtype() != DType::F32)
            fail(std::string(what) + " " + sq(n.name) + " is " + std::string(dtypeName(n.value.dtype())) + "; only f32 parameters are written");
        const Tensor t = n.value.contiguous();
        e["shape"] = t.shape();
        const std::int64_t count = t.numel();
        const float* p = t.data();
        bool finite = true;
        for (std::int64_t i = 0; i < count && finite; ++i) finite = std::isfinite(p[i]);
        const std::int64_t bytes = count * 4;
        if (finite && count <= opt_.inlineMaxElements) {
            ojson vals = ojson::array();
            char buf[32];
            for (std::int64_t i = 0; i < count; ++i) {
                // %.9g round-trips float32; parsing it back gives the shortest double that prints so
                std::snprintf(buf, sizeof buf, "%.9g", double(p[i]));
                vals.push_back(std::strtod(buf, nullptr));
            }
            e["values"] = std::move(vals);
        } else if (bytes <= opt_.base64MaxBytes || sidecarName_.empty()) {
            e["base64"] = base64Encode(reinterpret_cast<const unsigned char*>(p), std::size_t(bytes));
        } else {
            const std::uint64_t offset = (sidecarEnd_ + kSidecarAlign - 1) / kSidecarAlign * kSidecarAlign;
            sidecar_.push_back({offset, t});
            sidecarEnd_ = offset + std::uint64_t(bytes);
            ojson f;
            f["path"] = sidecarName_;
            f["offset"] = offset;
            f["bytes"] = bytes;
            e["file"] = std::move(f);
        }
    }

    const std::string& where_;
    const JsonWriteOptions& opt_;
    std::string sidecarName_;
    std::vector<SidecarItem> sidecar_;
    std::uint64_t sidecarEnd_ = 0;
};

}  // namespace

std::string graphToJson(const Graph& graph, const JsonWriteOptions& options) {
    const std::string where = "graph " + sq(graph.name);
    Writer w(where, options, {});
    return dumpDocument(w.build(graph), options.pretty);
}

void saveGraphJson(const Graph& graph, const std::string& path, const JsonWriteOptions& options) {
    const std::filesystem::path p(path);
    std::string sidecarName = p.stem().string() + ".bin";
    if (sidecarName == p.filename().string()) sidecarName = p.stem().string() + ".sidecar.bin";
    Writer w(path, options, sidecarName);
    const std::string text = dumpDocument(w.build(graph), options.pretty);
    if (!w.sidecar().empty()) {
        const std::string sidecarPath = (p.parent_path() / sidecarName).string();
        AtomicFileWriter side(sidecarPath);
        static const char zeros[kSidecarAlign] = {};
        for (const SidecarItem& item : w.sidecar()) {
            side.write(zeros, std::size_t(item.offset - side.size()));
            side.write(item.tensor.data(), std::size_t(item.tensor.numel()) * 4);
        }
        side.commit();
    }
    writeFileAtomically(path, text);
}

}  // namespace adj
