#include "autodiff/numeric.h"

#include <cmath>
#include <limits>

#include "ir/errors.h"
#include "ir/verifier.h"

namespace adj {

NumericGradient numericGradient(const Graph& graphIn, const std::string& of, const std::vector<std::string>& wrt, const Bindings& bindingsIn,
                                Executor& executor) {
    Graph graph = graphIn;
    verifyOrThrow(graph);
    std::size_t outIndex = graph.outputs().size();
    for (std::size_t i = 0; i < graph.outputs().size(); ++i)
        if (graph.outputs()[i].name == of) outIndex = i;
    if (outIndex == graph.outputs().size()) throw GraphError("the graph has no output named '" + of + "'");
    graph.setOutputs({graph.outputs()[outIndex]});

    Bindings bindings = bindingsIn;
    // parameters are perturbed through bindings too
    for (const auto& name : wrt) {
        auto id = graph.findNode(name);
        if (!id || (graph.node(*id).op != Op::Input && graph.node(*id).op != Op::Parameter))
            throw GraphError("cannot differentiate with respect to '" + name + "': it is not a graph input or parameter");
        if (!bindings.count(name)) {
            if (graph.node(*id).op == Op::Parameter) bindings[name] = graph.node(*id).value;
            else throw Error("graph input '" + name + "' has no binding");
        }
        bindings[name] = bindings[name].clone();
    }
    auto eval = [&]() -> double {
        RunResult r = executor.run(graph, bindings);
        if (r.outputs[0].numel() != 1) throw GraphError("output '" + of + "' is not a scalar: numeric gradients need one");
        return double(r.outputs[0].flatAt(0));
    };
    NumericGradient res;
    const double f0 = std::fabs(eval());
    res.evaluations = 1;
    const double eps = std::numeric_limits<float>::epsilon();
    for (const auto& name : wrt) {
        Tensor& x = bindings[name];
        Tensor grad = Tensor::zeros(x.shape()), err = Tensor::zeros(x.shape());
        float* xd = x.data();
        for (std::int64_t i = 0; i < x.numel(); ++i) {
            const float x0 = xd[i];
            const double h = std::cbrt(eps) * std::max(1.0, std::fabs(double(x0)));
            auto central = [&](double step) {
                xd[i] = float(double(x0) + step);
                const double actualPlus = double(xd[i]) - double(x0);
                const double fp = eval();
                xd[i] = float(double(x0) - step);
                const double actualMinus = double(x0) - double(xd[i]);
                const double fm = eval();
                xd[i] = x0;
                return (fp - fm) / (actualPlus + actualMinus);
            };
            const double d1 = central(h), d2 = central(h / 2);
            res.evaluations += 4;
            grad.data()[i] = float(d2);
            // truncation (the two steps disagree) plus rounding of float32 evaluations
            err.data()[i] = float(std::fabs(d1 - d2) + 4 * eps * std::max(f0, 1e-30) / h);
        }
        res.gradients.push_back(grad);
        res.errors.push_back(err);
    }
    return res;
}

}  // namespace adj
