#include "autodiff_view_model.h"

#include <algorithm>
#include <QStringList>
#include <cmath>

#include "autodiff/numeric.h"
#include "base/errors.h"
#include "base/rng.h"
#include "cost/cost_model.h"
#include "runtime/bindings.h"
#include "io/graphviz.h"
#include "ir/verifier.h"

namespace {

void verifyCopy(adj::Graph& g) {
    const auto problems = adj::verifyGraph(g);
    if (!problems.empty())
        throw adj::GraphError("cannot differentiate an invalid graph: " + problems.front().message +
                              (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more)" : ""));
}

bool isScalar(const adj::Graph& g, adj::ValueRef v) { return g.hasType(v) && adj::numel(g.type(v).shape) == 1; }

QString wrtList(const std::vector<std::string>& wrt) {
    QStringList names;
    for (const auto& n : wrt) names << QString::fromStdString(n);
    if (names.size() > 4) names = names.mid(0, 3) << QStringLiteral("…");
    return names.join(QStringLiteral(", "));
}

}  // namespace

AutodiffAnalysis analyseAutodiff(const adj::Graph& graph) {
    AutodiffAnalysis a;
    a.forward = graph;
    verifyCopy(a.forward);
    if (a.forward.outputs().empty()) throw adj::GraphError("cannot differentiate: the graph has no output");
    for (const auto& out : a.forward.outputs())
        if (isScalar(a.forward, out.value)) {
            a.output = out.name;
            break;
        }
    if (a.output.empty()) {
        // No scalar output: differentiate the sum of the first one (a vector-Jacobian product
        // with a ones seed), added as an extra output.
        const adj::GraphOutput first = a.forward.outputs().front();
        const std::string name = a.forward.freshName("sum_" + first.name);
        const adj::NodeId s = a.forward.addNode(adj::Op::Sum, {first.value}, {}, name);
        a.forward.addOutput(name, {s, 0});
        verifyCopy(a.forward);
        a.output = name;
    }
    a.backward = adj::buildBackward(a.forward, a.output);
    verifyCopy(a.backward.graph);
    a.costs = adj::autodiffCosts(a.forward, a.output, a.backward.wrt);
    a.description = QStringLiteral("∂%1/∂(%2)").arg(QString::fromStdString(a.output), wrtList(a.backward.wrt));
    return a;
}

AutodiffAnalysis gradientOfGradient(const AutodiffAnalysis& first) {
    AutodiffAnalysis a;
    a.order = first.order + 1;
    a.forward = first.backward.graph;
    adj::Graph& g = a.forward;
    // 0.5 * sum_i sum(grad_i * grad_i), as a new scalar output of the backward graph.
    adj::ValueRef total{};
    for (const auto& out : first.backward.gradientOutputs) {
        auto it = std::find_if(g.outputs().begin(), g.outputs().end(), [&](const adj::GraphOutput& o) { return o.name == out; });
        if (it == g.outputs().end()) continue;
        const adj::NodeId sq = g.addNode(adj::Op::Mul, {it->value, it->value}, {}, g.freshName("sq_" + out));
        const adj::NodeId s = g.addNode(adj::Op::Sum, {{sq, 0}}, {}, g.freshName("sumsq_" + out));
        total = total.node == adj::kNoNode ? adj::ValueRef{s, 0}
                                           : adj::ValueRef{g.addNode(adj::Op::Add, {total, {s, 0}}, {}, g.freshName("gsum")), 0};
    }
    if (total.node == adj::kNoNode) throw adj::GraphError("the backward graph has no gradient output to differentiate");
    const adj::NodeId half = g.addConstant(adj::Tensor::scalar(0.5f), g.freshName("half"));
    const std::string name = g.freshName("half_grad_norm_sq");
    const adj::NodeId h = g.addNode(adj::Op::Mul, {total, {half, 0}}, {}, name);
    g.addOutput(name, {h, 0});
    verifyCopy(g);
    a.output = name;
    adj::BackwardOptions options;
    options.wrt = first.backward.wrt;
    a.backward = adj::buildBackward(g, name, options);
    verifyCopy(a.backward.graph);
    a.costs = adj::autodiffCosts(g, name, a.backward.wrt);
    a.description = QStringLiteral("∇(½‖∇%1‖²) = H·∇%1 w.r.t. (%2): reverse over reverse")
                        .arg(QString::fromStdString(first.output), wrtList(a.backward.wrt));
    return a;
}

adj::Bindings sampleBindings(const adj::Graph& graph, std::uint64_t seed) {
    adj::Bindings b;
    adj::Rng rng(seed);
    for (adj::NodeId id : graph.inputNodes()) {
        const adj::Node& n = graph.node(id);
        adj::Shape shape = n.declaredShape;
        for (auto& d : shape)
            if (d < 0) d = 2;
        if (n.declaredDType != adj::DType::F32) {  // indices, masks, f64 and half values in their own type
            b[n.name] = adj::sampleIntegerInput(graph, id, shape, rng);
            continue;
        }
        std::vector<float> values(std::size_t(adj::numel(shape)));
        for (float& v : values) v = float(rng.uniform(-1.0, 1.0));
        b[n.name] = adj::Tensor::fromVector(shape, values);
    }
    return b;
}

std::vector<FiniteDifferenceRow> compareWithFiniteDifferences(const AutodiffAnalysis& a, const std::atomic<bool>* cancel) {
    if (cancel && cancel->load(std::memory_order_relaxed)) return {};
    auto exec = adj::makeCpuExecutor();
    const adj::Bindings bindings = sampleBindings(a.forward);
    const adj::RunResult reverse = exec->run(a.backward.graph, bindings);
    std::vector<FiniteDifferenceRow> rows;
    const std::int64_t values = std::max<std::int64_t>(1, std::int64_t(a.backward.wrt.size()));
    // the runs the FLOP budget allows: a heavy model gets fewer entries per value
    const double runFlops = std::max(1.0, adj::graphCost(a.forward).flops);
    const auto runsByFlops = std::int64_t(std::min(1e12, kFiniteDifferenceFlops / runFlops));
    const std::int64_t perValue =
        std::min(std::clamp(kFiniteDifferenceEntries / values, kFiniteDifferenceMinEntriesPerValue, kFiniteDifferenceEntriesPerValue),
                 std::max<std::int64_t>(1, (runsByFlops - 9) / 4));
    // each value costs about 9 runs (the rounding-noise estimate) and 4 per entry differenced
    const std::int64_t perValueRuns = 9 + 4 * perValue;
    const std::int64_t nodes = std::max<std::int64_t>(1, std::int64_t(a.forward.nodeCount()));
    const std::size_t affordable = std::size_t(
        std::max<std::int64_t>(1, std::min(kFiniteDifferenceNodeRuns / (perValueRuns * nodes), runsByFlops / perValueRuns)));
    for (std::size_t i = 0; i < a.backward.wrt.size() && i < affordable; ++i) {
        if (cancel && cancel->load(std::memory_order_relaxed)) break;
        const std::string& name = a.backward.wrt[i];
        FiniteDifferenceRow row;
        row.name = QString::fromStdString(name);
        const auto& outs = a.backward.graph.outputs();
        auto it = std::find_if(outs.begin(), outs.end(), [&](const adj::GraphOutput& o) { return o.name == a.backward.gradientOutputs[i]; });
        if (it == outs.end()) continue;
        const adj::Tensor& g = reverse.outputs[std::size_t(it - outs.begin())];
        row.shape = QString::fromStdString(adj::shapeLabel(g.shape()));
        row.elements = g.numel();
        const float* gd = g.data();
        for (std::int64_t k = 0; k < g.numel(); ++k) row.maxGradient = std::max(row.maxGradient, double(std::fabs(gd[k])));
        adj::NumericOptions options;
        options.maxEntriesPerValue = perValue;
        options.cancel = cancel;
        const adj::NumericGradient num = adj::numericGradient(a.forward, a.output, {name}, bindings, *exec, options);
        if (num.cancelled) break;
        const float* nd = num.gradients.front().data();
        const float* ed = num.errors.front().data();
        row.checked = std::int64_t(num.entries.front().size());
        row.agrees = true;
        for (std::int64_t k : num.entries.front()) {
            const double diff = std::fabs(double(gd[k]) - double(nd[k]));
            row.maxDifference = std::max(row.maxDifference, diff);
            row.maxErrorEstimate = std::max(row.maxErrorEstimate, double(ed[k]));
            if (diff > 2 * double(ed[k]) + 1e-4 * (1 + std::fabs(double(gd[k])))) row.agrees = false;
        }
        rows.push_back(row);
    }
    return rows;
}
