// Recomputation (passes/checkpointing.h): on deep MLPs, plain and residual, the sqrt(n) and
// every-k policies give gradients bit-identical to the backward graph without checkpointing,
// keep a fraction of its activations (sqrt: at most 0.25x on 64 layers, the figure Chen et al.
// report), run each copy just before the node that needs it, and lower both the planned and the
// measured peak; the CLI's --checkpoint does the same on files.
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <cstring>
#include <random>

#include "autodiff/reverse_mode.h"
#include "cost/cost_model.h"
#include "io/graph_file.h"
#include "io/npy.h"
#include "ir/builder.h"
#include "ir/verifier.h"
#include "passes/checkpoint_budget.h"
#include "passes/checkpointing.h"
#include "passes/pipeline.h"
#include "passes/rewriter.h"
#include "passes/trace_replay.h"
#include "runtime/executor.h"
#include "runtime/memory_plan.h"
#include "test_support.h"

using namespace adj;

namespace {


/// `layers` blocks of h = tanh(h W + b) (residual: h = h + tanh(h W + b)) on a [32, 64] input;
/// output "loss" = sum(h * h).
Graph deepMlp(int layers, bool residual) {
    Graph g;
    g.name = residual ? "residual_mlp" : "deep_mlp";
    const NodeId x = g.addInput("x", {32, 64});
    GraphBuilder b(g);
    ValueRef h{x, 0};
    for (int i = 0; i < layers; ++i) {
        const NodeId w = g.addParameter("w" + std::to_string(i), test::normalTensor({64, 64}, 10u + unsigned(i), 0.15f));
        const NodeId bias = g.addParameter("b" + std::to_string(i), test::normalTensor({64}, 500u + unsigned(i), 0.1f));
        const ValueRef t = b.op(Op::Tanh, {b.op(Op::Gemm, {h, {w, 0}, {bias, 0}})});
        h = residual ? b.op(Op::Add, {h, t}) : t;
    }
    g.addOutput("loss", b.op(Op::Sum, {b.op(Op::Mul, {h, h})}));
    verifyOrThrow(g);
    return g;
}


struct Measured {
    std::int64_t activationBytes = 0, plannedPeak = 0, runPeak = 0;
    double recomputeFlops = 0;
    std::vector<Tensor> gradients;
};

Measured measure(const Graph& model, const CheckpointPolicy& policy) {
    Graph g = buildBackward(model, "loss").graph;
    const ValueRef loss = model.outputs().at(0).value;
    const CheckpointResult r = applyCheckpointing(g, loss, policy);
    Measured m;
    m.recomputeFlops = r.recomputeFlops;
    const MemoryPlan plan = planMemory(g);
    m.plannedPeak = plan.plannedPeakBytes();
    m.activationBytes = savedActivationBytes(g, plan, g.dependencies(loss.node));
    auto exec = makeCpuExecutor();
    const RunResult run = exec->run(g, {{"x", test::normalTensor({32, 64}, 1, 1.f)}});
    m.runPeak = run.peakLiveBytes;
    m.gradients = run.outputs;
    return m;
}

}  // namespace

class TestCheckpointing : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void policiesParse() {
        std::string why;
        QVERIFY(parseCheckpointPolicy("none")->kind == CheckpointPolicy::Kind::None);
        QVERIFY(parseCheckpointPolicy("sqrt")->kind == CheckpointPolicy::Kind::Sqrt);
        QCOMPARE(parseCheckpointPolicy("every:3")->k, 3);
        QCOMPARE(checkpointPolicyName(*parseCheckpointPolicy("every:3")), std::string("every:3"));
        QCOMPARE(parseCheckpointPolicy("budget:100")->budgetBytes, std::int64_t(100));
        QCOMPARE(checkpointPolicyName(*parseCheckpointPolicy("budget:4096")), std::string("budget:4096"));
        for (const char* bad : {"every:0", "every:", "every:x", "every:99999999", "sqrtt", "budget:0", "budget:", "budget:1e6", "budget:-5", ""}) {
            QVERIFY2(!parseCheckpointPolicy(bad, &why), bad);
            QVERIFY(!why.empty());
        }
    }

    /// A late node runs just before the first node that needs it, not as soon as it can.
    void lateNodesRunLate() {
        Graph g;
        const NodeId x = g.addInput("x", {4});
        GraphBuilder b(g);
        const ValueRef early = b.op(Op::Exp, {{x, 0}});
        const ValueRef late = b.op(Op::Sin, {{x, 0}});
        g.node(late.node).meta[Graph::kScheduleKey] = Graph::kScheduleLate;
        const ValueRef a = b.op(Op::Cos, {early});
        const ValueRef c = b.op(Op::Add, {a, late});
        g.addOutput("y", c);
        const std::vector<NodeId> order = g.liveTopoOrder();
        const auto pos = [&](ValueRef v) { return std::find(order.begin(), order.end(), v.node) - order.begin(); };
        QCOMPARE(pos(late) + 1, pos(c));
        QVERIFY(pos(a) < pos(late));
        QCOMPARE(order.size(), std::size_t(5));
    }

    /// A long chain of late nodes, each with an input of its own that is not late: the order is
    /// complete and topological, and every late node comes after its own side input (a chain of
    /// 20,000 such nodes took quadratic work in a first version of the late order).
    void longLateChains() {
        Graph g;
        const NodeId x = g.addInput("x", {2});
        GraphBuilder b(g);
        ValueRef chain{x, 0};
        for (int i = 0; i < 20000; ++i) {
            // (names of their own: Graph::freshName probes "add_1", "add_2", ... one by one)
            const ValueRef side = b.op(Op::Exp, {{x, 0}}, {}, "side" + std::to_string(i));
            chain = b.op(Op::Add, {chain, side}, {}, "chain" + std::to_string(i));
            g.node(chain.node).meta[Graph::kScheduleKey] = Graph::kScheduleLate;
        }
        g.addOutput("y", b.op(Op::Neg, {chain}));
        const std::vector<NodeId> order = g.topoOrder();
        QCOMPARE(order.size(), g.nodeCount());
        std::vector<int> pos(std::size_t(g.idBound()), -1);
        for (std::size_t i = 0; i < order.size(); ++i) pos[std::size_t(order[i])] = int(i);
        for (NodeId id : order)
            for (const auto& in : g.node(id).inputs) QVERIFY(pos[std::size_t(in.node)] < pos[std::size_t(id)]);
        // the late chain runs just before the output's negation, all of it at the end
        QCOMPARE(pos[std::size_t(g.outputs()[0].value.node)], int(order.size()) - 1);
        QCOMPARE(pos[std::size_t(chain.node)], int(order.size()) - 2);
    }

    void gradientsAreBitIdentical_data() {
        QTest::addColumn<bool>("residual");
        QTest::addColumn<QString>("policy");
        for (bool residual : {false, true})
            for (const char* p : {"sqrt", "every:1", "every:3", "every:1000"})
                QTest::newRow(qPrintable(QString(residual ? "residual " : "plain ") + p)) << residual << QString(p);
    }
    void gradientsAreBitIdentical() {
        QFETCH(bool, residual);
        QFETCH(QString, policy);
        const Graph model = deepMlp(16, residual);
        const Measured none = measure(model, {});
        const Measured with = measure(model, *parseCheckpointPolicy(policy.toStdString()));
        QCOMPARE(with.gradients.size(), none.gradients.size());
        for (std::size_t i = 0; i < none.gradients.size(); ++i) QVERIFY2(test::sameBits(with.gradients[i], none.gradients[i]), qPrintable(policy));
        QVERIFY(with.activationBytes <= none.activationBytes);
        if (policy == "every:1") QCOMPARE(with.recomputeFlops, 0.0);  // every node a checkpoint
        else QVERIFY(with.recomputeFlops > 0);
    }

    /// Chen et al.'s figure: sqrt(n) keeps at most a quarter of the activations of a 64-layer
    /// network, for at most one more forward pass, and the peak falls with them.
    void sqrtKeepsAQuarter_data() {
        QTest::addColumn<bool>("residual");
        QTest::newRow("plain") << false;
        QTest::newRow("residual") << true;
    }
    void sqrtKeepsAQuarter() {
        QFETCH(bool, residual);
        const Graph model = deepMlp(64, residual);
        const Measured none = measure(model, {});
        const Measured sqrt = measure(model, {CheckpointPolicy::Kind::Sqrt, 0});
        const double forwardFlops = graphCostSummary(model).flops;
        qInfo("activations %lld -> %lld B (%.3fx); planned peak %lld -> %lld B; run peak %lld -> %lld B; recompute %.0f FLOPs (%.2fx a forward pass)",
              (long long)none.activationBytes, (long long)sqrt.activationBytes, double(sqrt.activationBytes) / double(none.activationBytes),
              (long long)none.plannedPeak, (long long)sqrt.plannedPeak, (long long)none.runPeak, (long long)sqrt.runPeak, sqrt.recomputeFlops,
              sqrt.recomputeFlops / forwardFlops);
        QVERIFY(double(sqrt.activationBytes) <= 0.25 * double(none.activationBytes));
        QVERIFY(sqrt.recomputeFlops <= forwardFlops);
        QVERIFY(sqrt.plannedPeak < none.plannedPeak);
        QVERIFY(sqrt.runPeak < none.runPeak);
        for (std::size_t i = 0; i < none.gradients.size(); ++i) QVERIFY(test::sameBits(sqrt.gradients[i], none.gradients[i]));
    }

    /// Every copy runs after the whole forward pass, with only other copies between it and the
    /// first node that reads it.
    void copiesRunJustInTime() {
        const Graph model = deepMlp(16, true);
        Graph g = buildBackward(model, "loss").graph;
        const CheckpointResult r = applyCheckpointing(g, model.outputs()[0].value, {CheckpointPolicy::Kind::Sqrt, 0});
        QVERIFY(!r.recomputed.empty());
        QVERIFY(!r.kept.empty());
        const std::vector<NodeId> order = g.liveTopoOrder();
        std::vector<int> pos(std::size_t(g.idBound()), -1);
        for (std::size_t i = 0; i < order.size(); ++i) pos[std::size_t(order[i])] = int(i);
        const std::vector<char> forward = g.dependencies(model.outputs()[0].value.node);
        int lastForward = 0;
        for (NodeId id : order)
            if (forward[std::size_t(id)]) lastForward = std::max(lastForward, pos[std::size_t(id)]);
        auto isCopy = [&](NodeId id) { return g.node(id).meta.count("recompute_of") > 0; };
        int copies = 0;
        for (NodeId id : order) {
            if (!isCopy(id)) continue;
            ++copies;
            QVERIFY(pos[std::size_t(id)] > lastForward);
            int firstUser = int(order.size());
            for (const Use& u : g.users(id)) firstUser = std::min(firstUser, pos[std::size_t(u.user)]);
            for (int p = pos[std::size_t(id)] + 1; p < firstUser; ++p) QVERIFY2(isCopy(order[std::size_t(p)]), g.node(id).name.c_str());
        }
        QCOMPARE(copies, int(r.recomputed.size()));
    }

    /// CSE leaves the copies alone (merging a copy with its original would undo the rewrite).
    void cseKeepsCopies() {
        const Graph model = deepMlp(16, false);
        Graph g = buildBackward(model, "loss").graph;
        const CheckpointResult r = applyCheckpointing(g, model.outputs()[0].value, {CheckpointPolicy::Kind::Sqrt, 0});
        auto copies = [](const Graph& h) {
            int n = 0;
            for (NodeId id : h.nodeIds()) n += h.node(id).meta.count("recompute_of") > 0;
            return n;
        };
        QCOMPARE(copies(g), int(r.recomputed.size()));
        OptimizeOptions cse;
        cse.passes = {"cse"};
        optimizeGraph(g, cse);
        QCOMPARE(copies(g), int(r.recomputed.size()));
    }

    /// The pass "checkpoint" (in no -O level): sqrt(n) recomputation of the backward pass, one
    /// trace step per copy (rule "recompute": the copy added, the backward reads it takes over
    /// retargeted); replaying the trace gives the optimized graph node for node; a graph without a
    /// backward pass, or one already checkpointed, is left alone.
    void checkpointPassIsTraced() {
        const Graph model = deepMlp(16, false);
        const Graph plain = buildBackward(model, "loss").graph;
        Graph g = plain;
        RewriteTrace trace;
        OptimizeOptions options;
        options.passes = {"checkpoint"};
        options.trace = &trace;
        optimizeGraph(g, options);
        Graph reference = plain;
        const CheckpointResult r = applyCheckpointing(reference, model.outputs()[0].value, {CheckpointPolicy::Kind::Sqrt, 0});
        QCOMPARE(trace.steps.size(), r.recomputed.size());
        QCOMPARE(g.nodeCount(), reference.nodeCount());
        std::size_t retargeted = 0;
        for (const RewriteStep& step : trace.steps) {
            QCOMPARE(step.pass, std::string("checkpoint"));
            QCOMPARE(step.rule, std::string("recompute"));
            QCOMPARE(step.added.size(), std::size_t(1));
            QVERIFY(step.removed.empty());
            QVERIFY(step.after.flops > step.before.flops);
            retargeted += step.retargeted.size();
        }
        QVERIFY(retargeted > 0);
        QVERIFY(trace.toJson(false).find("\"retargeted\":[{\"input\"") != std::string::npos);
        const Graph replayed = replayAfter(trace, int(trace.steps.size()));
        QCOMPARE(replayed.nodeCount(), g.nodeCount());
        for (NodeId id : g.nodeIds()) {
            const Node& n = g.node(id);
            const auto other = replayed.findNode(n.name);
            QVERIFY2(other, n.name.c_str());
            QCOMPARE(replayed.node(*other).op, n.op);
            QCOMPARE(replayed.node(*other).inputs.size(), n.inputs.size());
            for (std::size_t i = 0; i < n.inputs.size(); ++i)
                QCOMPARE(replayed.valueName(replayed.node(*other).inputs[i]), g.valueName(n.inputs[i]));
        }
        QVERIFY(planMemory(g).plannedPeakBytes() < planMemory(plain).plannedPeakBytes());
        for (const Graph* unchanged : std::initializer_list<const Graph*>{&model, &g}) {
            Graph h = *unchanged;
            RewriteTrace none;
            options.trace = &none;
            optimizeGraph(h, options);
            QCOMPARE(none.steps.size(), std::size_t(0));
            QCOMPARE(h.nodeCount(), unchanged->nodeCount());
        }
        QVERIFY(findDifferentiatedLoss(plain).has_value());
        QVERIFY(!findDifferentiatedLoss(model).has_value());
    }

    /// adjoint-cli: memory --checkpoint reports fewer activation bytes; grad --checkpoint writes
    /// the same gradients bit for bit.
    void cliCheckpoint() {
        const std::string dir = test::tempDir();
        saveGraphFile(deepMlp(16, false), dir + "/deep.json");
        writeNpy(dir + "/x.npy", test::normalTensor({32, 64}, 2, 1.f));
        const QString file = QString::fromStdString(dir + "/deep.json");
        auto memory = [&](const QStringList& extra) {
            const test::CliResult r = test::runCli(QStringList{"memory", file, "--backward", "--of", "loss", "--json"} + extra);
            return QJsonDocument::fromJson(r.out.toUtf8()).object();
        };
        const QJsonObject plain = memory({}), sqrt = memory({"--checkpoint", "sqrt"});
        QVERIFY(sqrt.value("activation_bytes").toInteger() < plain.value("activation_bytes").toInteger());
        QVERIFY(sqrt.value("recomputed").toInt() > 0);
        QCOMPARE(sqrt.value("checkpoint").toString(), QString("sqrt"));
        for (const char* policy : {"none", "sqrt"}) {
            const test::CliResult r = test::runCli({"grad", file, "--of", "loss", "--wrt", "w0,w7", "--input",
                                                    QString::fromStdString("x=" + dir + "/x.npy"), "--checkpoint", policy, "--out",
                                                    QString::fromStdString(dir + "/" + policy), "--json"});
            QCOMPARE(r.exitCode, 0);
        }
        for (const char* w : {"grad_w0.npy", "grad_w7.npy"})
            QVERIFY(test::sameBits(readNpy(dir + "/none/" + w), readNpy(dir + "/sqrt/" + w)));
        const test::CliResult tiny = test::runCli({"grad", file, "--of", "loss", "--input", QString::fromStdString("x=" + dir + "/x.npy"),
                                                   "--checkpoint", "budget:10", "--out", QString::fromStdString(dir + "/tiny")});
        QCOMPARE(tiny.exitCode, 1);
        QVERIFY2(tiny.err.startsWith("error:") && tiny.err.contains("smallest peak"), qPrintable(tiny.err));
        QCOMPARE(test::runCli({"grad", file, "--of", "loss", "--checkpoint", "budget:ten"}).exitCode, 2);
        QCOMPARE(test::runCli({"grad", file, "--of", "loss", "--mode", "numeric", "--checkpoint", "sqrt"}).exitCode, 2);
        QCOMPARE(test::runCli({"memory", file, "--checkpoint", "sqrt"}).exitCode, 2);  // needs --backward or --train
    }
    /// The budget policy against the exact answer: on graphs small enough to rewrite and plan
    /// every set of checkpoints, the exact search is the optimum; the heuristic (what larger
    /// graphs get) must fit every budget from its own smallest peak up, recompute no less than the
    /// optimum (a check of both), no more than sqrt(n) wherever sqrt(n) fits, and nothing when
    /// the plain graph fits; its smallest peak is within 10% of the true one.
    void budgetHeuristicAgainstExact_data() {
        QTest::addColumn<int>("layers");
        QTest::addColumn<bool>("residual");
        QTest::newRow("plain 5 layers") << 5 << false;
        QTest::newRow("residual 3 layers") << 3 << true;
    }
    void budgetHeuristicAgainstExact() {
        QFETCH(int, layers);
        QFETCH(bool, residual);
        const Graph model = deepMlp(layers, residual);
        const Graph g = buildBackward(model, "loss").graph;
        const ValueRef loss = model.outputs()[0].value;
        QVERIFY(checkpointCandidates(g, loss).size() <= std::size_t(kExactCandidates));
        const std::int64_t plainPeak = planMemory(g).plannedPeakBytes();
        const CheckpointChoice exactFloor = chooseCheckpointsExact(g, loss, 0), heuristicFloor = chooseCheckpointsHeuristic(g, loss, 0);
        QVERIFY(!exactFloor.fits && exactFloor.exact && !heuristicFloor.fits);
        QCOMPARE(exactFloor.evaluated, 1 << checkpointCandidates(g, loss).size());
        Graph sqrtGraph = g;
        const double sqrtFlops = applyCheckpointing(sqrtGraph, loss, {CheckpointPolicy::Kind::Sqrt, 0}).recomputeFlops;
        const std::int64_t sqrtPeak = planMemory(sqrtGraph).plannedPeakBytes();
        qInfo("plain peak %lld B; smallest feasible peak: exact %lld B, heuristic %lld B; sqrt(n): %lld B for %.0f FLOPs",
              (long long)plainPeak, (long long)exactFloor.peakBytes, (long long)heuristicFloor.peakBytes, (long long)sqrtPeak, sqrtFlops);
        QVERIFY(exactFloor.peakBytes < plainPeak);
        QVERIFY(exactFloor.peakBytes <= heuristicFloor.peakBytes);
        QVERIFY(double(heuristicFloor.peakBytes) <= 1.10 * double(exactFloor.peakBytes));
        const int steps = 8;
        for (int i = 0; i <= steps; ++i) {
            const std::int64_t budget = exactFloor.peakBytes + (plainPeak - exactFloor.peakBytes) * i / steps;
            const CheckpointChoice exact = chooseCheckpointsExact(g, loss, budget), heuristic = chooseCheckpointsHeuristic(g, loss, budget);
            qInfo("budget %lld B: exact %.0f FLOPs (peak %lld B), heuristic %s %.0f FLOPs (peak %lld B, %d sets planned)", (long long)budget,
                  exact.recomputeFlops, (long long)exact.peakBytes, heuristic.fits ? "fits," : "does not fit,", heuristic.recomputeFlops,
                  (long long)heuristic.peakBytes, heuristic.evaluated);
            QVERIFY(exact.fits && exact.peakBytes <= budget);
            if (budget >= heuristicFloor.peakBytes) QVERIFY(heuristic.fits && heuristic.peakBytes <= budget);
            if (heuristic.fits) QVERIFY(heuristic.recomputeFlops >= exact.recomputeFlops);
            if (budget >= sqrtPeak) QVERIFY(heuristic.recomputeFlops <= sqrtFlops);
            if (budget >= plainPeak) {
                QCOMPARE(exact.recomputeFlops, 0.0);
                QCOMPARE(heuristic.recomputeFlops, 0.0);
            }
        }
    }

    /// budget:BYTES on 64 layers (the heuristic): the planned peak fits, the gradients are
    /// bit-identical, it recomputes no more than sqrt(n) at sqrt(n)'s peak, and a budget below
    /// every peak it can plan is an error naming the smallest.
    void budgetPolicyOnDeepNetworks() {
        const Graph model = deepMlp(64, false);
        const Measured none = measure(model, {}), sqrt = measure(model, {CheckpointPolicy::Kind::Sqrt, 0});
        for (std::int64_t budget : {sqrt.plannedPeak, (sqrt.plannedPeak + none.plannedPeak) / 2}) {
            CheckpointPolicy policy{CheckpointPolicy::Kind::Budget, 0};
            policy.budgetBytes = budget;
            const Measured m = measure(model, policy);
            qInfo("budget %lld B: planned peak %lld B, %.0f FLOPs recomputed (sqrt(n): %lld B, %.0f FLOPs; none: %lld B)", (long long)budget,
                  (long long)m.plannedPeak, m.recomputeFlops, (long long)sqrt.plannedPeak, sqrt.recomputeFlops, (long long)none.plannedPeak);
            QVERIFY(m.plannedPeak <= budget);
            QVERIFY(m.recomputeFlops <= sqrt.recomputeFlops);
            if (budget > sqrt.plannedPeak) QVERIFY(m.recomputeFlops < sqrt.recomputeFlops);
            for (std::size_t i = 0; i < none.gradients.size(); ++i) QVERIFY(test::sameBits(m.gradients[i], none.gradients[i]));
        }
        Graph g = buildBackward(model, "loss").graph;
        CheckpointPolicy tiny{CheckpointPolicy::Kind::Budget, 0};
        tiny.budgetBytes = 1000;
        try {
            applyCheckpointing(g, model.outputs()[0].value, tiny);
            QFAIL("a budget of 1000 B fitted");
        } catch (const CheckpointBudgetError& e) {
            QVERIFY(e.smallestPeakBytes > 1000 && e.smallestPeakBytes <= sqrt.plannedPeak);
            QVERIFY2(std::string(e.what()).find(std::to_string(e.smallestPeakBytes)) != std::string::npos, e.what());
        }
    }

    /// grad --memory-limit without --checkpoint: below what any order plans, Adjoint recomputes
    /// (budget at the limit) and writes the same gradients; below the smallest peak it can reach
    /// with recomputation, exit 1 naming that peak. train takes a policy and a file as --checkpoint.
    void cliMemoryLimitRecomputes() {
        const std::string dir = test::tempDir();
        const Graph model = deepMlp(16, false);
        saveGraphFile(model, dir + "/deep.json");
        writeNpy(dir + "/x.npy", test::normalTensor({32, 64}, 2, 1.f));
        const Graph back = buildBackward(model, "loss").graph;
        const ValueRef loss = model.outputs()[0].value;
        std::int64_t orderFloor = std::min(planMemory(back).plannedPeakBytes(), planMemory(back, {}, ScheduleOrder::MinPeak).plannedPeakBytes());
        std::int64_t floor = orderFloor;
        for (ScheduleOrder order : {ScheduleOrder::Topological, ScheduleOrder::MinPeak})
            floor = std::min(floor, chooseCheckpoints(back, loss, 0, {{}, order}).peakBytes);
        QVERIFY(floor < orderFloor);
        const QStringList base{"grad", QString::fromStdString(dir + "/deep.json"), "--of", "loss", "--input",
                               QString::fromStdString("x=" + dir + "/x.npy"), "--json", "--out"};
        const test::CliResult plain = test::runCli(base + QStringList{QString::fromStdString(dir + "/plain")});
        QCOMPARE(plain.exitCode, 0);
        const std::int64_t limit = (floor + orderFloor) / 2;
        const test::CliResult fit = test::runCli(base + QStringList{QString::fromStdString(dir + "/fit"), "--memory-limit", QString::number(limit)});
        QVERIFY2(fit.exitCode == 0, qPrintable(fit.err));
        const QJsonObject j = QJsonDocument::fromJson(fit.out.toUtf8()).object();
        QCOMPARE(j.value("checkpoint").toString(), "budget:" + QString::number(limit));
        QVERIFY(j.value("recomputed").toInt() > 0);
        QVERIFY(j.value("planned_peak_bytes").toInteger() <= limit);
        for (const char* w : {"grad_w0.npy", "grad_w9.npy"})
            QVERIFY(test::sameBits(readNpy(dir + "/plain/" + w), readNpy(dir + "/fit/" + w)));
        const test::CliResult no = test::runCli(base + QStringList{QString::fromStdString(dir + "/no"), "--memory-limit", QString::number(floor - 1)});
        QCOMPARE(no.exitCode, 1);
        QVERIFY2(no.err.startsWith("error:") && no.err.contains(QString::number(floor) + " B") && no.err.contains("recomputing"), qPrintable(no.err));
        // an explicit policy is kept: sqrt within a limit it does not fit names sqrt's smallest peak
        const test::CliResult sqrtTooTight =
            test::runCli(base + QStringList{QString::fromStdString(dir + "/s"), "--checkpoint", "sqrt", "--memory-limit", QString::number(floor - 1)});
        QCOMPARE(sqrtTooTight.exitCode, 1);
        QVERIFY2(sqrtTooTight.err.contains("--checkpoint sqrt"), qPrintable(sqrtTooTight.err));

        // train: --checkpoint POLICY and --checkpoint FILE together; the losses are the plain run's
        const QString spirals = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
        const QString state = QString::fromStdString(dir + "/state.ckpt");
        const QStringList trainBase{"train", spirals, "--dataset", "spirals", "--steps", "3", "--seed", "4", "--json"};
        const test::CliResult trainPlain = test::runCli(trainBase);
        const test::CliResult trainSqrt = test::runCli(trainBase + QStringList{"--checkpoint", "sqrt", "--checkpoint", state});
        QVERIFY2(trainSqrt.exitCode == 0, qPrintable(trainSqrt.err));
        QVERIFY(QFileInfo::exists(state));
        const QStringList a = trainPlain.out.split('\n', Qt::SkipEmptyParts), b = trainSqrt.out.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(a.size(), b.size());
        for (int i = 0; i + 1 < a.size(); ++i)
            QCOMPARE(QJsonDocument::fromJson(a[i].toUtf8()).object().value("loss").toDouble(),
                     QJsonDocument::fromJson(b[i].toUtf8()).object().value("loss").toDouble());
        const QJsonObject summary = QJsonDocument::fromJson(b.last().toUtf8()).object();
        QCOMPARE(summary.value("checkpoint").toString(), QString("sqrt"));
        QVERIFY(summary.value("recomputed").toInt() > 0);
        QCOMPARE(test::runCli(trainBase + QStringList{"--checkpoint", "every:x"}).exitCode, 2);
        QCOMPARE(test::runCli(trainBase + QStringList{"--checkpoint", "sqrt", "--checkpoint", "every:2"}).exitCode, 2);
    }
};

QTEST_APPLESS_MAIN(TestCheckpointing)
#include "tst_checkpointing.moc"
