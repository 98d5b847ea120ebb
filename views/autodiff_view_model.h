#pragma once
// What the autodiff view shows, computed by the engine without any widget: the backward graph
// of a forward graph (for its first scalar output, or for the sum of its first output when no
// output is a scalar), the forward-vs-reverse cost report, the finite-difference comparison per
// differentiated value, and the "gradient of gradient" graph.
#include <QString>
#include <atomic>
#include <vector>

#include "autodiff/mode_costs.h"
#include "autodiff/reverse_mode.h"
#include "runtime/executor.h"

struct AutodiffAnalysis {
    adj::Graph forward;            // verified copy of the graph that was differentiated
    std::string output;            // the scalar output differentiated
    QString description;           // "∂loss/∂(w1, b1, …)" or "gradient of ‖∇f‖²"
    adj::BackwardGraph backward;   // verified
    adj::AutodiffCostReport costs;
    int order = 1;                 // 1: gradient; 2: gradient of the gradient
};

struct FiniteDifferenceRow {
    QString name;
    QString shape;
    std::int64_t elements = 0;
    double maxGradient = 0;     // max |reverse-mode gradient|
    double maxDifference = 0;   // max |reverse - numeric|
    double maxErrorEstimate = 0;  // max numeric error estimate
    std::int64_t checked = 0;   // entries differenced (all, or an evenly spread sample)
    bool agrees = false;        // difference within the estimate (with a float32 margin)
};

/// The finite-difference comparison's budget: at most this many entries over all values
/// (each costs about 4 evaluations of the graph), shared evenly between them, at most
/// kFiniteDifferenceEntriesPerValue and at least kFiniteDifferenceMinEntriesPerValue each. The
/// lecture's graphs are checked entry by entry; a large model in seconds, not minutes.
inline constexpr std::int64_t kFiniteDifferenceEntries = 2048;
inline constexpr std::int64_t kFiniteDifferenceEntriesPerValue = 256;
inline constexpr std::int64_t kFiniteDifferenceMinEntriesPerValue = 8;
/// And at most this many node evaluations in all (graph runs times nodes): on a model of
/// thousands of weights, the first values only, in a few seconds (the view says how many).
inline constexpr std::int64_t kFiniteDifferenceNodeRuns = 3'000'000;
/// And at most this many FLOPs in all (graph runs times the forward graph's FLOPs): a ResNet's
/// forward pass costs a few hundred MFLOP, so its check takes seconds (fewer entries, one
/// value), not the minutes the node count alone would allow.
inline constexpr double kFiniteDifferenceFlops = 2e10;

/// Builds the backward graph. Throws adj::Error naming the problem (an invalid graph, no
/// output, an op without a VJP rule).
AutodiffAnalysis analyseAutodiff(const adj::Graph& graph);
/// The backward graph of 0.5·‖∇f‖² (summed over every gradient output) with respect to the same
/// values: a Hessian-vector product H·∇f built by reverse over reverse.
AutodiffAnalysis gradientOfGradient(const AutodiffAnalysis& first);
/// Random inputs (uniform in [-1, 1], fixed seed; dynamic dimensions bound to 2) for a graph.
adj::Bindings sampleBindings(const adj::Graph& graph, std::uint64_t seed = 7);
/// Reverse-mode gradients against central differences at sampleBindings, on the CPU, within the
/// budget above. When `cancel` is raised (checked before each entry) it stops and returns the
/// rows done so far.
std::vector<FiniteDifferenceRow> compareWithFiniteDifferences(const AutodiffAnalysis& analysis,
                                                              const std::atomic<bool>* cancel = nullptr);
