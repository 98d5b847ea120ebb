// adjoint-cli ops: the op table (engine/ir/ops.def) as text or JSON, so that documentation,
// scripts and the fixture generator read the one table instead of copies of it.
#include <nlohmann/json.hpp>

#include <iomanip>
#include <ostream>

#include "commands.h"

namespace adj::cli {

namespace {

std::string costKindName(CostKind k) {
    switch (k) {
        case CostKind::None: return "none";
        case CostKind::Copy: return "copy";
        case CostKind::PerOutput: return "per_output";
        case CostKind::PerInput: return "per_input";
        case CostKind::Fused: return "fused";
        case CostKind::MatMul: return "matmul";
        case CostKind::Gemm: return "gemm";
        case CostKind::Conv: return "conv";
        case CostKind::Pool: return "pool";
        case CostKind::PoolGrad: return "pool_grad";
    }
    return "?";
}

std::vector<std::string> groupNames(std::uint32_t g) {
    static const std::pair<std::uint32_t, const char*> names[] = {{SRC, "source"},   {EW, "elementwise"}, {UN, "unary"},    {BIN, "binary"},
                                                                  {COMM, "commutative"}, {RED, "reduction"}, {MOVE, "movement"}, {NN, "nn"},
                                                                  {LIN, "linear"},   {NORM, "normalization"}, {MULTI, "multi_output"},
                                                                  {GRAD, "derivative"}, {DECOMP, "decomposed"}};
    std::vector<std::string> r;
    for (const auto& [bit, name] : names)
        if (g & bit) r.push_back(name);
    return r;
}

std::string arityText(const OpInfo& info) {
    if (info.maxInputs < 0) return std::to_string(info.minInputs) + "+";
    if (info.minInputs == info.maxInputs) return std::to_string(info.minInputs);
    return std::to_string(info.minInputs) + "-" + std::to_string(info.maxInputs);
}

nlohmann::json opJson(const OpInfo& info) {
    nlohmann::json attrs = nlohmann::json::array();
    for (const auto& a : info.attrs) {
        nlohmann::json j{{"name", a.name}, {"type", std::string(attrTypeName(a.type))}, {"required", a.required}};
        if (!a.defaultText.empty()) j["default"] = a.defaultText;
        nlohmann::json c = nlohmann::json::array();
        for (const auto& k : a.constraints) c.push_back(k.text());
        if (!c.empty()) j["constraints"] = c;
        attrs.push_back(j);
    }
    nlohmann::json j{{"name", std::string(info.name)},
                     {"min_inputs", info.minInputs},
                     {"max_inputs", info.maxInputs},
                     {"groups", groupNames(info.groups)},
                     {"family", std::string(opFamilyName(info.family))},
                     {"cost", costKindName(info.cost)},
                     {"flops_per_element", info.flopsPerElement},
                     {"onnx", std::string(info.onnx)},
                     {"doc", std::string(info.doc)},
                     {"attributes", attrs}};
    if (info.family == OpFamily::Elementwise)
        j["elementwise"] = {{"expression", std::string(info.scalarExpr)},
                            {"derivative", std::string(info.derivative)},
                            {"kinks", std::string(info.kinks)},
                            {"decomposition", std::string(info.decomposition)}};
    return j;
}

}  // namespace

int cmdOps(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--json", false}});
    if (!args.positional().empty()) throw UsageError("ops takes no arguments");
    if (args.has("--json")) {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& info : allOps()) all.push_back(opJson(info));
        ctx.out << all.dump(1) << "\n";
        return kOk;
    }
    for (const auto& info : allOps()) {
        ctx.out << std::left << std::setw(20) << info.name << std::setw(5) << arityText(info) << std::setw(13) << opFamilyName(info.family)
                << std::setw(20) << (info.onnx.empty() ? "-" : std::string(info.onnx)) << info.doc << "\n";
        for (const auto& a : info.attrs) {
            ctx.out << "    " << a.name << ": " << attrTypeName(a.type);
            if (!a.defaultText.empty()) ctx.out << " = " << a.defaultText;
            else if (a.required) ctx.out << " (required)";
            for (const auto& k : a.constraints) ctx.out << " (" << k.text() << ")";
            ctx.out << "\n";
        }
    }
    return kOk;
}

}  // namespace adj::cli
