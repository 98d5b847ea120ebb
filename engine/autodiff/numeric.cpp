#include "autodiff/numeric.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "base/errors.h"
#include "base/rng.h"
#include "ir/formula.h"
#include "ir/verifier.h"

namespace adj {
namespace {

/// The rounding noise of the float32 evaluation of f at the bindings: f at 8 points 2^-20
/// (relative) apart along a fixed pseudo-random direction is a straight line up to rounding (its
/// curvature over that span is far below float32 resolution), so what a least-squares line leaves
/// is the noise (root mean square, corrected for the 2 fitted coefficients).
double evaluationNoise(Bindings& bindings, const std::vector<std::string>& wrt, const std::function<double()>& eval) {
    std::vector<std::vector<float>> base;
    for (const auto& name : wrt) base.push_back(bindings[name].toVector());
    XorShift64 rng(0x9e3779b97f4a7c15ull);
    auto sign = [&] { return (rng.next() & 1) ? 1.0 : -1.0; };
    std::vector<std::vector<double>> direction(wrt.size());
    for (std::size_t w = 0; w < wrt.size(); ++w)
        for (float x : base[w]) direction[w].push_back(sign() * std::ldexp(std::max(1.0, std::fabs(double(x))), -20));

    constexpr int kPoints = 8;
    double f[kPoints];
    for (int k = 0; k < kPoints; ++k) {
        for (std::size_t w = 0; w < wrt.size(); ++w) {
            float* d = bindings[wrt[w]].data();
            for (std::size_t i = 0; i < base[w].size(); ++i) d[i] = float(double(base[w][i]) + k * direction[w][i]);
        }
        f[k] = eval();
    }
    for (std::size_t w = 0; w < wrt.size(); ++w) std::copy(base[w].begin(), base[w].end(), bindings[wrt[w]].data());

    double meanK = (kPoints - 1) / 2.0, meanF = 0;
    for (double v : f) meanF += v / kPoints;
    double sxy = 0, sxx = 0;
    for (int k = 0; k < kPoints; ++k) sxy += (k - meanK) * (f[k] - meanF), sxx += (k - meanK) * (k - meanK);
    const double slope = sxy / sxx;
    double ss = 0;
    for (int k = 0; k < kPoints; ++k) {
        const double r = f[k] - (meanF + slope * (k - meanK));
        ss += r * r;
    }
    return std::sqrt(ss / (kPoints - 2));
}

/// Adds to `g` (whose only output is f) one output per non-smooth node that f depends on, whose
/// signs say which side of its kink the node is on: the kinks formula of its ops.def entry (the
/// input of relu, abs and sign, a - b for maximum and minimum, the condition of where, the 0/1
/// result of greater and equal, ...). Two points
/// with equal signs lie on the same smooth piece of f (as far as these ops go; max and max_pool
/// selections are not tracked and are left to the curvature check below).
void addRegimeOutputs(Graph& g) {
    int k = 0;
    auto add = [&](ValueRef v) { g.addOutput("__regime_" + std::to_string(k++), v); };
    GraphBuilder b(g, "__kink_");
    for (NodeId id : g.liveTopoOrder()) {
        const Formula& f = opFormula(g.node(id).op, FormulaColumn::Kinks);
        if (f.empty()) continue;
        const Node n = g.node(id);  // a copy: building adds nodes
        std::map<std::string, ValueRef> names{{"out", ValueRef{id, 0}}};
        for (std::size_t i = 0; i < n.inputs.size(); ++i) names[formulaInputName(i)] = n.inputs[i];
        for (const auto& [target, v] : buildFormula(b, f, names, &n)) add(v);
    }
}

}  // namespace

std::vector<std::int64_t> sampledEntries(std::int64_t count, std::int64_t budget) {
    std::vector<std::int64_t> out;
    if (count <= 0) return out;
    if (budget <= 0 || budget >= count) {
        out.resize(std::size_t(count));
        for (std::int64_t i = 0; i < count; ++i) out[std::size_t(i)] = i;
        return out;
    }
    if (budget == 1) return {0};
    for (std::int64_t k = 0; k < budget; ++k) {
        const std::int64_t i = k * (count - 1) / (budget - 1);  // 0 ... count-1, strictly rising
        if (out.empty() || out.back() != i) out.push_back(i);
    }
    return out;
}

NumericGradient numericGradient(const Graph& graphIn, const std::string& of, const std::vector<std::string>& wrt, const Bindings& bindingsIn,
                                Executor& executor, const NumericOptions& options) {
    Graph graph = graphIn;
    verifyOrThrow(graph);
    std::size_t outIndex = graph.outputs().size();
    for (std::size_t i = 0; i < graph.outputs().size(); ++i)
        if (graph.outputs()[i].name == of) outIndex = i;
    if (outIndex == graph.outputs().size()) throw GraphError("the graph has no output named '" + of + "'");
    graph.setOutputs({graph.outputs()[outIndex]});
    addRegimeOutputs(graph);

    Bindings bindings = bindingsIn;
    // parameters are perturbed through bindings too
    for (const auto& name : wrt) {
        auto id = graph.findNode(name);
        if (!id || (graph.node(*id).op != Op::Input && graph.node(*id).op != Op::Parameter))
            throw GraphError("cannot differentiate with respect to '" + name + "': it is not a graph input or parameter");
        if (graph.node(*id).op == Op::Input && graph.node(*id).declaredDType != DType::F32)
            throw GraphError("cannot differentiate with respect to '" + name + "': it holds integer indices, which have no derivative");
        if (!bindings.count(name)) {
            if (graph.node(*id).op == Op::Parameter) bindings[name] = graph.node(*id).value;
            else throw Error("graph input '" + name + "' has no binding");
        }
        bindings[name] = bindings[name].contiguous().clone();
    }
    NumericGradient res;
    std::vector<bool> regime;  // of the last evaluation
    std::function<double()> eval = [&]() -> double {
        RunResult r = executor.run(graph, bindings);
        ++res.evaluations;
        if (r.outputs[0].numel() != 1) throw GraphError("output '" + of + "' is not a scalar: numeric gradients need one");
        regime.clear();
        for (std::size_t o = 1; o < r.outputs.size(); ++o)
            for (float v : r.outputs[o].toVector()) regime.push_back(v > 0);
        return double(r.outputs[0].flatAt(0));
    };
    const double f0 = eval();
    const std::vector<bool> regime0 = regime;
    const double noise = evaluationNoise(bindings, wrt, eval);
    const double eps = std::numeric_limits<float>::epsilon();
    for (const auto& name : wrt) {
        Tensor& x = bindings[name];
        Tensor grad = Tensor::zeros(x.shape()), err = Tensor::zeros(x.shape());
        float* xd = x.data();
        std::vector<std::int64_t> entries = sampledEntries(x.numel(), options.maxEntriesPerValue);
        for (std::size_t e = 0; e < entries.size(); ++e) {
            if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
                res.cancelled = true;
                entries.resize(e);
                break;
            }
            const std::int64_t i = entries[e];
            const float x0 = xd[i];
            // f at x0 + step, and the step actually taken once x0 + step is rounded to float32
            bool crossed = false;
            auto at = [&](double step, double& taken) {
                xd[i] = float(double(x0) + step);
                taken = double(xd[i]) - double(x0);
                const double f = eval();
                crossed = crossed || regime != regime0;
                xd[i] = x0;
                return f;
            };
            // The steps must stay on x0's smooth piece: while one crosses a kink (a tracked
            // non-smooth node changes sides), quarter the step, down to 1/256 of the first.
            double h = std::cbrt(eps) * std::max(1.0, std::fabs(double(x0)));
            double hp1, hm1, hp2, hm2, fp1, fm1, fp2, fm2;
            for (int shrink = 0;; ++shrink, h /= 4) {
                crossed = false;
                fp1 = at(h, hp1), fm1 = at(-h, hm1), fp2 = at(h / 2, hp2), fm2 = at(-h / 2, hm2);
                if (!crossed || shrink == 4) break;
            }
            const double d1 = (fp1 - fm1) / (hp1 - hm1), d2 = (fp2 - fm2) / (hp2 - hm2);
            // one-sided slopes at h/2, and second differences at both steps
            const double forward = (fp2 - f0) / hp2, backward = (f0 - fm2) / -hm2;
            const double curvature1 = ((fp1 - f0) / hp1 - (f0 - fm1) / -hm1) / ((hp1 - hm1) / 2);
            const double curvature2 = (forward - backward) / ((hp2 - hm2) / 2);
            grad.data()[i] = float(d2);
            // Truncation: for smooth f, d(h/2)'s error is |d(h) - d(h/2)| / 3 (Richardson); reported
            // as twice the disagreement, which also bounds a kink (a point where f's slope jumps, as
            // ReLU's does at 0) at least h/4 away. A nearer kink shows as second differences that
            // disagree between the two steps (a smooth f's agree to O(h^2)); there d(h/2) averages
            // the two slopes and is off by at most half their difference, |forward - backward| / 2.
            // A kink still crossed at the smallest step lies (almost) at x0, where f has no
            // derivative: the reference may be either one-sided slope, |forward - backward| apart.
            double error = 2 * std::fabs(d1 - d2);
            if (crossed) error += std::fabs(forward - backward);
            else if (std::fabs(curvature2 - curvature1) > 0.1 * std::max(std::fabs(curvature1), std::fabs(curvature2)))
                error += std::fabs(forward - backward) / 2;
            // Rounding: each evaluation of f carries the measured noise (3 sigma), divided by the step.
            error += 3 * std::sqrt(2.0) * noise / (hp2 - hm2) + eps * std::fabs(d2);
            err.data()[i] = float(error);
        }
        res.gradients.push_back(grad);
        res.errors.push_back(err);
        res.entries.push_back(std::move(entries));
        if (res.cancelled) break;
    }
    return res;
}

}  // namespace adj
