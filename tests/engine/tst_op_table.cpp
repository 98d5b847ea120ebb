// The op table (engine/ir/ops.def) checked as data: every elementwise op's derivative formula
// against finite differences of its own scalar expression, forward mode against reverse mode, its
// fusion against the unfused op (CPU and Vulkan), its ONNX round trip, its attribute constraints,
// and the formulas and the generated GLSL of the whole table. An op added to the table is tested
// here without a line of this file changing (PyTorch's values: tst_torch_reference and
// tst_autodiff over tests/fixtures/ops; ONNX Runtime: onnxruntime_ops).
#include <QtTest>

#include <cmath>
#include <random>

#include "autodiff/forward_mode.h"
#include "autodiff/reverse_mode.h"
#include "io/json_format.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "base/errors.h"
#include "ir/formula.h"
#include "ir/fused_program.h"
#include "ir/verifier.h"
#include "cost/cost_model.h"
#include "passes/pipeline.h"
#include "runtime/elementwise_functions.h"
#include "runtime/executor.h"
#include "runtime/vulkan/elementwise_glsl.h"
#include "runtime/vulkan/vulkan_executor.h"
#include "test_support.h"

using namespace adj;

namespace {

constexpr std::int64_t kCount = 48;  // elements per input

/// A row: an elementwise op with its default attributes, or with every attribute set to another
/// value its constraints allow.
struct Row {
    Op op;
    Attributes attrs;
    std::string name;
};

std::vector<Row> rows() {
    std::vector<Row> r;
    for (const OpInfo& info : allOps()) {
        if (!hasScalarExpr(info.op)) continue;
        r.push_back({info.op, {}, std::string(info.name)});
        if (info.attrs.empty()) continue;
        Attributes other;
        const double values[] = {0.3, 0.45, 1.7};
        for (std::size_t i = 0; i < info.attrs.size(); ++i) other.set(info.attrs[i].name, values[i % 3]);
        r.push_back({info.op, other, std::string(info.name) + "[other attributes]"});
    }
    return r;
}

void addRows(bool (*keep)(const Row&) = nullptr) {
    QTest::addColumn<int>("index");
    const auto all = rows();
    for (std::size_t i = 0; i < all.size(); ++i)
        if (!keep || keep(all[i])) QTest::newRow(all[i].name.c_str()) << int(i);
}

float scalar(const Row& row, float a, float b, float c) {
    return visitElementwise(row.op, ewParams(row.op, row.attrs), [&](auto, auto f) { return f(a, b, c); });
}

/// Central differences of the scalar expression in input k at (a, b, c), fourth order, in double
/// where the expression allows (it is float: step h = 2^-7 keeps rounding near 1e-5 relative).
double finiteDifference(const Row& row, std::array<float, 3> x, std::size_t k, double h) {
    auto at = [&](double d) {
        auto y = x;
        y[k] = float(double(x[k]) + d);
        return double(scalar(row, y[0], y[1], y[2]));
    };
    return (8.0 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12.0 * h);
}

/// Points where the op is defined and smooth: uniform in [-3, 3] (or [0.25, 3] for ops not
/// defined on negatives: log, sqrt, pow), moved away from kinks and jumps, which show
/// as finite differences that disagree between two step sizes.
std::vector<std::array<float, 3>> smoothPoints(const Row& row, int arity, std::mt19937& rng) {
    std::uniform_real_distribution<float> any(-3.f, 3.f), pos(0.25f, 3.f);
    const float probe = scalar(row, -1.5f, 0.5f, 1.f);
    const bool positive = probe != probe;
    std::vector<std::array<float, 3>> pts;
    while (pts.size() < std::size_t(kCount)) {
        std::array<float, 3> x{0.f, 0.f, 0.f};
        for (int k = 0; k < arity; ++k) x[std::size_t(k)] = positive ? pos(rng) : any(rng);
        if (row.op == Op::Where) x[0] = float(rng() % 2);  // a condition: 0 or 1
        const float y = scalar(row, x[0], x[1], x[2]);
        if (!std::isfinite(y)) continue;
        bool smooth = true;
        for (int k = 0; k < arity && smooth; ++k) {
            // three steps: a kink within two steps of x can make two of them agree by accident
            const double d1 = finiteDifference(row, x, std::size_t(k), 1.0 / 64), d2 = finiteDifference(row, x, std::size_t(k), 1.0 / 128),
                         d3 = finiteDifference(row, x, std::size_t(k), 1.0 / 256);
            smooth = std::isfinite(d1) && std::abs(d1 - d2) <= 1e-3 * (1.0 + std::abs(d2)) && std::abs(d2 - d3) <= 1e-3 * (1.0 + std::abs(d3));
        }
        if (smooth) pts.push_back(x);
    }
    return pts;
}

/// y = op(x0, x1, ...) over kCount elements, and loss = sum(y * w).
Graph opGraph(const Row& row, int arity) {
    Graph g;
    g.name = row.name;
    std::vector<ValueRef> ins;
    for (int k = 0; k < arity; ++k) ins.push_back({g.addInput("x" + std::to_string(k), {kCount}), 0});
    GraphBuilder b(g);
    const ValueRef y = b.op(row.op, ins, row.attrs, "y");
    g.addOutput("y", y);
    g.addOutput("loss", b.sum(b.mul(y, {g.addInput("w", {kCount}), 0}), {0}, false));
    return g;
}

Bindings bindingsOf(const std::vector<std::array<float, 3>>& pts, int arity, std::mt19937& rng) {
    Bindings b;
    for (int k = 0; k < arity; ++k) {
        std::vector<float> v;
        for (const auto& p : pts) v.push_back(p[std::size_t(k)]);
        b["x" + std::to_string(k)] = Tensor::fromVector({kCount}, v);
    }
    std::uniform_real_distribution<float> w(-1.f, 1.f);
    std::vector<float> wv(kCount);
    for (auto& x : wv) x = w(rng);
    b["w"] = Tensor::fromVector({kCount}, wv);
    return b;
}

int arityOf(Op op) { return opInfo(op).minInputs; }

bool bitIdentical(const Tensor& a, const Tensor& b) {
    const auto va = a.toVector(), vb = b.toVector();
    return va.size() == vb.size() && std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) == 0;
}

}  // namespace

class TestOpTable : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyEntryIsConsistent() {
        for (const OpInfo& info : allOps()) {
            const std::string what = std::string(info.name);
            QVERIFY2(isSource(info.op) == (info.family == OpFamily::Source), what.c_str());
            QVERIFY2(info.family != OpFamily::View || info.cost == CostKind::None, what.c_str());
            QVERIFY2(!info.doc.empty(), (what + ": no description").c_str());
            if (info.family != OpFamily::Elementwise) {
                QVERIFY2(info.scalarExpr.empty() && info.derivative.empty() && info.kinks.empty(), what.c_str());
                continue;
            }
            QVERIFY2(info.minInputs == info.maxInputs && info.minInputs >= 1 && info.minInputs <= 3, what.c_str());
            QVERIFY2(info.cost == CostKind::PerOutput && info.flopsPerElement >= 1, what.c_str());
            // an op without an ONNX op of its own is written through its decomposition
            QVERIFY2(!info.onnx.empty() || !info.decomposition.empty(), (what + ": neither an ONNX op nor a decomposition").c_str());
            QVERIFY2(!hasDecomposition(info.op) || !info.decomposition.empty(), what.c_str());
        }
    }

    // Every formula of the table parses and builds on inputs of the op's arity; derivatives define
    // only da, db, dc (and temporaries), decompositions y.
    void formulasBuild_data() { addRows(); }
    void formulasBuild() {
        QFETCH(int, index);
        const Row row = rows()[std::size_t(index)];
        const int arity = arityOf(row.op);
        Graph g = opGraph(row, arity);
        verifyOrThrow(g);
        GraphBuilder b(g);
        const Node& n = g.node(*g.findNode("y"));
        std::map<std::string, ValueRef> names{{"out", {n.id, 0}}, {"g", {n.id, 0}}};
        for (int k = 0; k < arity; ++k) names[formulaInputName(std::size_t(k))] = n.inputs[std::size_t(k)];
        try {
            for (FormulaColumn c : {FormulaColumn::Derivative, FormulaColumn::Kinks, FormulaColumn::Decomposition}) {
                const auto built = buildFormula(b, opFormula(row.op, c), names, &n);
                if (c == FormulaColumn::Decomposition && !opFormula(row.op, c).empty()) QVERIFY(built.count("y"));
            }
            for (const char* d : {"da", "db", "dc"}) {
                const auto* st = opFormula(row.op, FormulaColumn::Derivative).find(d);
                if (st) QVERIFY2(std::string(d).back() - 'a' < arity, ("derivative of a missing input: " + std::string(d)).c_str());
            }
        } catch (const Error& e) {
            QFAIL(e.what());
        }
    }

    // The derivative formula (reverse mode, through the backward graph) against fourth-order
    // central differences of the op's scalar expression, at smooth points (negatives and values
    // near zero included where the op is defined): |reverse - fd| <= 2e-3 (1 + |fd|). Forward mode
    // gives the same gradient as reverse mode.
    void derivativeMatchesFiniteDifferences_data() { addRows(); }
    void derivativeMatchesFiniteDifferences() {
        QFETCH(int, index);
        try {
            checkDerivative(rows()[std::size_t(index)], index);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
    // The op inside a fusion group (between two other elementwise ops) gives the unfused graph's
    // values exactly on the CPU (both run the table's expression in the same loop), and within
    // 1e-4 on Vulkan, where the group is a generated GLSL kernel calling the generated function.
    void fusedEqualsUnfused_data() { addRows(); }
    void fusedEqualsUnfused() {
        QFETCH(int, index);
        const Row row = rows()[std::size_t(index)];
        const int arity = arityOf(row.op);
        std::mt19937 rng(std::uint32_t(2000 + index));
        const auto pts = smoothPoints(row, arity, rng);
        Graph g;
        g.name = "chain";
        GraphBuilder b(g);
        std::vector<ValueRef> ins;
        for (int k = 0; k < arity; ++k) ins.push_back({g.addInput("x" + std::to_string(k), {kCount}), 0});
        ins[0] = b.mul(ins[0], b.constant(1.f));
        const ValueRef y = b.add(b.op(row.op, ins, row.attrs), b.constant(0.25f));
        g.addOutput("y", y);
        verifyOrThrow(g);
        Graph fused = g;
        OptimizeOptions opt;
        opt.passes = {"fusion"};
        optimizeGraph(fused, opt);
        int groups = 0;
        for (NodeId id : fused.liveTopoOrder())
            if (fused.node(id).op == Op::Fused) {
                ++groups;
                const FusedProgram p = parseFusedProgram(fused.node(id).attrs.getString(Op::Fused, "program"));
                QCOMPARE(int(p.instrs.size()), 3);
                QVERIFY(p.instrs[1].op == row.op);
                QVERIFY(p.instrs[1].params == ewParams(row.op, row.attrs));
            }
        QCOMPARE(groups, 1);
        Bindings bind = bindingsOf(pts, arity, rng);
        auto cpu = makeCpuExecutor();
        const Tensor want = cpu->run(g, bind).outputs[0];
        QVERIFY(bitIdentical(cpu->run(fused, bind).outputs[0], want));
        std::string why;
        QVERIFY2(test::allClose(vulkan().run(fused, bind).outputs[0], want, 1e-4, 1e-5, &why), why.c_str());
        QVERIFY2(test::allClose(vulkan().run(g, bind).outputs[0], want, 1e-4, 1e-5, &why), why.c_str());
    }

    // Export to ONNX (the table's ONNX op with its attributes, or the decomposition), which ONNX's
    // checker accepts, and read back: the same values, and the op itself where ONNX has it.
    void onnxRoundTrip_data() { addRows(); }
    void onnxRoundTrip() {
        QFETCH(int, index);
        try {
            checkOnnxRoundTrip(rows()[std::size_t(index)], index);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }


    // An attribute value outside the op's constraints is refused by the verifier, by adjoint-cli
    // (exit 1, an error line naming the node and the attribute) and by the ONNX importer.
    void attributeConstraintsAreEnforced() {
        int checked = 0;
        for (const OpInfo& info : allOps()) {
            if (!hasScalarExpr(info.op)) continue;
            for (const AttrSpec& spec : info.attrs)
                for (const AttrConstraint& c : spec.constraints) {
                    const bool lower = c.kind == AttrConstraint::Kind::Greater || c.kind == AttrConstraint::Kind::GreaterEqual;
                    const double bad = lower ? c.bound - 1.0 : c.bound + 1.0;
                    Row row{info.op, {{spec.name, bad}}, std::string(info.name)};
                    Graph g = opGraph(row, info.minInputs);
                    const auto diags = verifyGraph(g);
                    QVERIFY2(!diags.empty(), (row.name + "." + spec.name + " = " + std::to_string(bad) + " was accepted").c_str());
                    const std::string msg = diags[0].message;
                    QVERIFY2(msg.find("'y'") != std::string::npos && msg.find("'" + spec.name + "'") != std::string::npos, msg.c_str());
                    const std::string dir = test::tempDir();
                    saveGraphJson(g, dir + "/bad.json");
                    const auto r = test::runCli({"validate", QString::fromStdString(dir + "/bad.json")});
                    QCOMPARE(r.exitCode, 1);
                    QVERIFY2(r.err.startsWith("error:") && r.err.contains("'y'") && r.err.contains(QString::fromStdString("'" + spec.name + "'")),
                             qPrintable(r.err));
                    try {
                        parseGraphOnnx(graphToOnnx(g), "bad.onnx");
                        QFAIL(("the ONNX importer accepted " + row.name + "." + spec.name + " = " + std::to_string(bad)).c_str());
                    } catch (const Error& e) {
                        QVERIFY2(std::string(e.what()).find("'" + spec.name + "'") != std::string::npos, e.what());
                    }
                    ++checked;
                }
        }
        qInfo("%d constrained attributes checked", checked);
    }

    // The generated GLSL has one function per elementwise op and a case per op in ew_apply.
    void glslHasEveryOp() {
        const std::string src = vk::elementwiseGlslSource();
        int ops = 0;
        for (const OpInfo& info : allOps()) ops += hasScalarExpr(info.op) ? 1 : 0;
        int functions = 0, cases = 0;
        for (std::size_t p = 0; (p = src.find("\nfloat ew_", p)) != std::string::npos; ++p) ++functions;
        for (std::size_t p = 0; (p = src.find("case ", p)) != std::string::npos; ++p) ++cases;
        QCOMPARE(functions - 1, ops);  // and ew_apply
        QCOMPARE(cases, ops);
    }

    // FLOPs per element come from the table, transcendentals weighted (exp costs more than add).
    void costComesFromTheTable() {
        for (const OpInfo& info : allOps()) {
            if (!hasScalarExpr(info.op)) continue;
            Graph g = opGraph({info.op, {}, std::string(info.name)}, info.minInputs);
            verifyOrThrow(g);
            QCOMPARE(nodeCost(g, *g.findNode("y")).flops, double(kCount) * info.flopsPerElement);
        }
        QVERIFY(opInfo(Op::Exp).flopsPerElement > 5 * opInfo(Op::Add).flopsPerElement);
    }

private:
    void checkOnnxRoundTrip(const Row& row, int index) {
        const int arity = arityOf(row.op);
        std::mt19937 rng(std::uint32_t(3000 + index));
        const auto pts = smoothPoints(row, arity, rng);
        Graph g = opGraph(row, arity);
        verifyOrThrow(g);
        const std::string bytes = graphToOnnx(g);
        QVERIFY2(onnxCheckerProblems(bytes).empty(), onnxCheckerProblems(bytes).c_str());
        Graph back = parseGraphOnnx(bytes, row.name + ".onnx");
        verifyOrThrow(back);
        const bool direct = !opInfo(row.op).onnx.empty() && row.op != Op::Where && row.op != Op::Greater && row.op != Op::Equal;
        if (direct) {
            const Node& n = back.node(*back.findNode("y"));
            QVERIFY2(n.op == row.op, (row.name + " read back as " + std::string(opName(n.op))).c_str());
            QVERIFY(ewParams(n.op, n.attrs) == ewParams(row.op, row.attrs));
        }
        Bindings bind = bindingsOf(pts, arity, rng);
        auto cpu = makeCpuExecutor();
        std::string why;
        QVERIFY2(test::allClose(cpu->run(back, bind).outputs[0], cpu->run(g, bind).outputs[0], direct ? 0.0 : 1e-5, direct ? 0.0 : 1e-6, &why),
                 why.c_str());
    }

    void checkDerivative(const Row& row, int index) {
        const int arity = arityOf(row.op);
        std::mt19937 rng(std::uint32_t(1000 + index));
        const auto pts = smoothPoints(row, arity, rng);
        Graph g = opGraph(row, arity);
        verifyOrThrow(g);
        Bindings bind = bindingsOf(pts, arity, rng);
        std::vector<std::string> wrt;
        for (int k = 0; k < arity; ++k)
            if (!(row.op == Op::Where && k == 0)) wrt.push_back("x" + std::to_string(k));
        BackwardOptions opt;
        opt.wrt = wrt;
        const BackwardGraph bw = buildBackward(g, "loss", opt);
        auto cpu = makeCpuExecutor();
        const RunResult r = cpu->run(bw.graph, bind);
        const std::vector<Tensor> fwd = forwardModeGradient(g, "loss", wrt, bind, *cpu);
        const auto w = bind["w"].toVector();
        for (std::size_t j = 0; j < wrt.size(); ++j) {
            const std::size_t k = std::size_t(wrt[j][1] - '0');
            std::size_t out = 0;
            while (bw.graph.outputs()[out].name != "grad_" + wrt[j]) ++out;
            const auto rev = r.outputs.at(out).toVector();
            const auto fm = fwd[j].toVector();
            for (std::int64_t i = 0; i < kCount; ++i) {
                const double fd = double(w[std::size_t(i)]) * finiteDifference(row, pts[std::size_t(i)], k, 1.0 / 128);
                const double got = rev[std::size_t(i)];
                const std::string where = row.name + " d/d" + wrt[j] + " at element " + std::to_string(i) + " (x = " +
                                          std::to_string(pts[std::size_t(i)][k]) + "): reverse " + std::to_string(got) + ", finite differences " +
                                          std::to_string(fd) + ", forward " + std::to_string(fm[std::size_t(i)]);
                QVERIFY2(std::abs(got - fd) <= 2e-3 * (1.0 + std::abs(fd)), where.c_str());
                QVERIFY2(std::abs(double(fm[std::size_t(i)]) - got) <= 1e-5 * (1.0 + std::abs(got)), where.c_str());
            }
        }
    }

    VulkanExecutor& vulkan() {
        if (!vk_) vk_ = std::make_unique<VulkanExecutor>();  // no device: an adj::Error fails the test
        return *vk_;
    }
    std::unique_ptr<VulkanExecutor> vk_;
};

QTEST_APPLESS_MAIN(TestOpTable)
#include "tst_op_table.moc"
