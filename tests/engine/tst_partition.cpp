// The partitioning simulator (issue #20): the event simulator on hand-made steps whose times are
// worked out by hand; data parallelism's all-reduce volumes against the analytic 2(n-1)/n;
// tree against ring; pipeline schedules' bubbles and memory; Megatron splits; placement by hand;
// the fast-link/slow-link flip between data and pipeline parallelism; cluster files' errors; and
// adjoint-cli partition's contract.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <fstream>

#include "base/errors.h"
#include "io/graph_file.h"
#include "parallel/cluster.h"
#include "parallel/collectives.h"
#include "parallel/event_simulator.h"
#include "parallel/step_workload.h"
#include "parallel/strategies.h"
#include "test_support.h"

using namespace adj;
using namespace adj::parallel;
using adj::test::runCli;

namespace {

/// x [batch, width] -> (matmul, relu) x layers -> logits [batch, classes].
Graph mlp(int layers, int width, int batch, int classes, int in = 0) {
    Graph g;
    g.name = "mlp";
    if (in == 0) in = width;
    ValueRef h{g.addInput("x", {batch, in}), 0};
    int fan = in;
    for (int l = 0; l < layers; ++l) {
        const int out = l + 1 == layers ? classes : width;
        const NodeId w = g.addParameter("w" + std::to_string(l), Tensor::full({fan, out}, 0.01f));
        h = {g.addNode(Op::MatMul, {h, {w, 0}}, {}, "fc" + std::to_string(l)), 0};
        if (l + 1 < layers) h = {g.addNode(Op::Relu, {h}, {}, "relu" + std::to_string(l)), 0};
        fan = out;
    }
    g.addOutput("logits", h);
    return g;
}

/// n identical devices, every pair linked.
Cluster uniformCluster(int n, double flops, double bandwidth, double linkBandwidth, double latency, double memory = 1e12) {
    Cluster c;
    c.name = "test";
    for (int i = 0; i < n; ++i) c.devices.push_back({"d" + std::to_string(i), flops, bandwidth, memory, 0});
    for (int a = 0; a < n; ++a)
        for (int b = a + 1; b < n; ++b) c.links.push_back({a, b, linkBandwidth, latency});
    return c;
}

double totalLinkBytes(const PartitionResult& r) {
    double s = 0;
    for (const LinkUse& l : r.links) s += l.bytes;
    return s;
}

QString writeText(const std::string& name, const std::string& text) {
    const std::string path = adj::test::tempDir() + "/" + name;
    std::ofstream(path) << text;
    return QString::fromStdString(path);
}

}  // namespace

class TestPartition : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void theSimulatorRunsAStepAsWorkedOutByHand() {
        // d0: A (1 s) then X (1 s, after B) then Y (1 s); d1: C (1 s) then B (2 s, after A's data).
        // The transfer of 10 bytes at 10 B/s with 0.5 s latency takes 1.5 s.
        Cluster c = uniformCluster(2, 1, 1, 10, 0.5, 100);
        StepTasks t;
        const int a = t.compute(0, 1, TaskPhase::Forward, {}, "A");
        t.tasks()[std::size_t(a)].allocateBytes = 30;
        t.tasks()[std::size_t(a)].releaseBytes = 30;
        const int sent = t.send(c, 0, 1, 10, TaskPhase::Activation, {a}, "a");
        const int cc = t.compute(1, 1, TaskPhase::Forward, {}, "C");
        const int b = t.compute(1, 2, TaskPhase::Forward, {sent}, "B");
        const int x = t.compute(0, 1, TaskPhase::Backward, {b}, "X");
        const int y = t.compute(0, 1, TaskPhase::Backward, {}, "Y");  // no dependency, but after X on d0
        const SimResult r = simulate(c, t.tasks(), {5, 0});
        QCOMPARE(r.spans[std::size_t(a)].end, 1.0);
        QCOMPARE(r.spans[std::size_t(sent)].start, 1.0);
        QCOMPARE(r.spans[std::size_t(sent)].end, 2.5);
        QCOMPARE(r.spans[std::size_t(cc)].start, 0.0);
        QCOMPARE(r.spans[std::size_t(b)].start, 2.5);
        QCOMPARE(r.spans[std::size_t(x)].start, 4.5);
        QCOMPARE(r.spans[std::size_t(y)].start, 5.5);
        QCOMPARE(r.stepSeconds, 6.5);
        QCOMPARE(r.busySeconds[0], 3.0);
        QCOMPARE(r.busySeconds[1], 3.0);
        QCOMPARE(r.peakBytes[0], 35.0);
        QCOMPARE(r.linkBytes[0], 10.0);
        QCOMPARE(r.linkBusySeconds[0], 1.5);
    }

    void aLinkSendsFirstReadyFirstAndEachDirectionApart() {
        Cluster c = uniformCluster(2, 1, 1, 1, 0, 100);
        StepTasks t;
        const int late = t.compute(0, 2, TaskPhase::Forward, {}, "late");
        const int slow = t.send(c, 0, 1, 3, TaskPhase::Activation, {late}, "after late");  // ready at 2
        const int early = t.send(c, 0, 1, 1, TaskPhase::Activation, {}, "at once");         // ready at 0
        const int back = t.send(c, 1, 0, 4, TaskPhase::Activation, {}, "the other way");    // its own direction
        const SimResult r = simulate(c, t.tasks());
        QCOMPARE(r.spans[std::size_t(early)].start, 0.0);
        QCOMPARE(r.spans[std::size_t(slow)].start, 2.0);
        QCOMPARE(r.spans[std::size_t(back)].start, 0.0);
        QCOMPARE(r.stepSeconds, 5.0);
    }

    void aDeadlockIsAnErrorNotAHang() {
        Cluster c = uniformCluster(1, 1, 1, 1, 0);
        StepTasks t;
        t.compute(0, 1, TaskPhase::Forward, {1}, "waits for the next");  // d0 runs its tasks in order
        t.compute(0, 1, TaskPhase::Forward, {}, "next");
        QVERIFY_THROWS_EXCEPTION(adj::Error, simulate(c, t.tasks()));
    }

    void routesGoThroughIntermediateDevices() {
        Cluster c = uniformCluster(3, 1, 1, 1, 0);
        c.links = {{0, 1, 10, 0}, {1, 2, 5, 0}};
        QCOMPARE(c.route(0, 2).size(), std::size_t(2));
        StepTasks t;
        const int last = t.send(c, 0, 2, 10, TaskPhase::Activation, {}, "two hops");
        const SimResult r = simulate(c, t.tasks());
        QCOMPARE(r.spans[std::size_t(last)].end, 1.0 + 2.0);
        c.links.pop_back();
        QVERIFY_THROWS_EXCEPTION(adj::Error, c.route(0, 2));
    }

    void backwardWorkBelongsToForwardNodes() {
        const StepWorkload w = buildStepWorkload(mlp(3, 16, 8, 4), train::LossKind::CrossEntropy, 8);
        int backward = 0;
        for (NodeId id : w.order) {
            QVERIFY(w.owner[std::size_t(id)] != kNoNode);
            QVERIFY(w.isForward(w.owner[std::size_t(id)]));
            backward += !w.isForward(id);
        }
        QVERIFY(backward > 0);
        QCOMPARE(int(w.parameters.size()), 3);
        // the last layer's gradient is complete first
        QCOMPARE(QString::fromStdString(w.parameters.front().name), QString("w2"));
        // the weight gradient of fc1 is made by fc1's rule
        const NodeId fc1 = *w.graph.findNode("fc1");
        QCOMPARE(w.owner[std::size_t(w.parameters[1].gradient)], fc1);
        QCOMPARE(w.parameterBytes, double(16 * 16 + 16 * 16 + 16 * 4) * 4);
    }

    void aWeightUsedTwiceSumsItsGradientWhereItLives() {
        // fc0 and fc3 share w (tied weights, as a language model's embedding and its output layer)
        Graph g;
        ValueRef h{g.addInput("x", {16, 32}), 0};
        const NodeId w = g.addParameter("w", Tensor::full({32, 32}, 0.01f));
        for (int l = 0; l < 4; ++l) {
            const NodeId weight = l == 0 || l == 3 ? w : g.addParameter("v" + std::to_string(l), Tensor::full({32, 32}, 0.01f));
            h = {g.addNode(Op::MatMul, {h, {weight, 0}}, {}, "fc" + std::to_string(l)), 0};
            if (l < 3) h = {g.addNode(Op::Relu, {h}, {}, "relu" + std::to_string(l)), 0};
        }
        g.addOutput("logits", h);
        const StepWorkload work = buildStepWorkload(g, train::LossKind::CrossEntropy, 16);
        const ParameterGradient& tied = *std::find_if(work.parameters.begin(), work.parameters.end(), [](const ParameterGradient& p) { return p.name == "w"; });
        QCOMPARE(work.owner[std::size_t(tied.gradient)], *work.graph.findNode("fc0"));
        PartitionOptions o;
        o.kind = StrategyKind::PipelineParallel;
        for (PipelineSchedule schedule : {PipelineSchedule::GPipe, PipelineSchedule::OneFOneB}) {
            o.schedule = schedule;
            const PartitionResult r = simulatePartition(g, *clusterPreset("pcie2"), o);  // no deadlock
            QVERIFY(r.stepSeconds > 0);
            QCOMPARE(r.deviceOfNode.at("fc0"), 0);
            QCOMPARE(r.deviceOfNode.at("fc3"), 1);
        }
    }

    void ringAllReduceSendsTwoNMinusOneOverNOfTheGradients() {
        const Graph model = mlp(4, 256, 64, 10);
        for (int n : {2, 4, 8}) {
            PartitionOptions o;
            o.kind = StrategyKind::DataParallel;
            o.devices = n;
            o.bucketBytes = 300e3;  // several buckets
            const PartitionResult r = simulatePartition(model, *clusterPreset("nvlink8"), o);
            const double analytic = ringAllReduceBytesPerDevice(r.gradientBytes, n);
            QCOMPARE(r.gradientBytes, double(256 * 256 * 3 + 256 * 10) * 4);
            QVERIFY2(std::abs(r.allReduceBytesPerDevice - analytic) <= 1e-9 * analytic, qPrintable(QString::number(r.allReduceBytesPerDevice)));
            QVERIFY(std::abs(totalLinkBytes(r) - n * analytic) <= 1e-9 * analytic * n);
            QCOMPARE(r.batch, std::int64_t(64));
        }
    }

    void aTreeWinsOnLatencyARingOnBandwidth() {
        PartitionOptions o;
        o.kind = StrategyKind::DataParallel;
        auto step = [&](const Graph& model, const Cluster& c, AllReduceAlgorithm a) {
            o.allReduce = a;
            return simulatePartition(model, c, o).stepSeconds;
        };
        const Graph tiny = mlp(2, 8, 8, 2);
        const Cluster slowStart = uniformCluster(8, 1e15, 1e15, 1e9, 1e-3);
        QVERIFY(step(tiny, slowStart, AllReduceAlgorithm::Tree) < step(tiny, slowStart, AllReduceAlgorithm::Ring));
        const Graph wide = mlp(2, 2048, 8, 2048);
        const Cluster narrow = uniformCluster(8, 1e15, 1e15, 1e9, 1e-6);
        QVERIFY(step(wide, narrow, AllReduceAlgorithm::Ring) < step(wide, narrow, AllReduceAlgorithm::Tree));
    }

    void pipelineBubblesShrinkWithMicrobatchesAnd1F1BHoldsLess() {
        const Graph model = mlp(8, 512, 256, 512);
        const Cluster c = uniformCluster(4, 1e12, 1e15, 1e15, 0);
        PartitionOptions o;
        o.kind = StrategyKind::DataParallel;
        o.devices = 1;
        const double serial = simulatePartition(model, c, o).stepSeconds;
        o.kind = StrategyKind::PipelineParallel;
        o.devices = 4;
        o.microbatches = 8;
        o.schedule = PipelineSchedule::GPipe;
        const PartitionResult gpipe = simulatePartition(model, c, o);
        o.schedule = PipelineSchedule::OneFOneB;
        const PartitionResult oneF = simulatePartition(model, c, o);
        o.microbatches = 1;
        const PartitionResult one = simulatePartition(model, c, o);
        // the ideal is serial / 4; GPipe's bubble adds (S - 1) / M of it
        const double ideal = serial / 4, bubble = ideal * (8.0 + 4 - 1) / 8;
        QVERIFY2(gpipe.stepSeconds >= ideal * 0.99 && gpipe.stepSeconds <= bubble * 1.25,
                 qPrintable(QString("serial %1 gpipe %2").arg(serial).arg(gpipe.stepSeconds)));
        QVERIFY(one.stepSeconds > gpipe.stepSeconds * 2);  // one micro-batch: one stage works at a time
        QVERIFY(std::abs(oneF.stepSeconds - gpipe.stepSeconds) <= 0.05 * gpipe.stepSeconds);
        QVERIFY2(oneF.devices[0].peakBytes < gpipe.devices[0].peakBytes,
                 qPrintable(QString("%1 vs %2").arg(oneF.devices[0].peakBytes).arg(gpipe.devices[0].peakBytes)));
        for (int s = 0; s < 4; ++s) QCOMPARE(gpipe.deviceOfNode.at("fc" + std::to_string(2 * s)), s);
        QVERIFY(!gpipe.crossEdges.empty());
        // activations forward and adjoints back over each of the three cuts, for each micro-batch
        QCOMPARE(gpipe.crossEdges.size(), std::size_t(3 * 2));
    }

    void slowLinksFavourThePipelineFastLinksDataParallelism() {
        const Graph model = mlp(4, 2048, 1024, 2048);
        PartitionOptions o;
        o.microbatches = 4;
        const Cluster pcie = *clusterPreset("pcie2");
        auto stepOf = [](const std::vector<PartitionResult>& results, const std::string& key) {
            for (const PartitionResult& r : results)
                if (r.key == key) return r.stepSeconds;
            return -1.0;
        };
        const std::vector<PartitionResult> onFast = compareStrategies(model, pcie.withLinkBandwidthScaled(12), o);  // NVLink's 300 GB/s
        const std::vector<PartitionResult> onSlow = compareStrategies(model, pcie.withLinkBandwidthScaled(0.125), o);  // 3.1 GB/s
        QVERIFY(stepOf(onFast, "dp-ring") > 0 && stepOf(onFast, "pp-1f1b") > 0);
        QVERIFY2(stepOf(onFast, "dp-ring") < stepOf(onFast, "pp-1f1b"),
                 qPrintable(QString("fast: dp %1 pp %2").arg(stepOf(onFast, "dp-ring")).arg(stepOf(onFast, "pp-1f1b"))));
        QVERIFY2(stepOf(onSlow, "pp-1f1b") < stepOf(onSlow, "dp-ring"),
                 qPrintable(QString("slow: dp %1 pp %2").arg(stepOf(onSlow, "dp-ring")).arg(stepOf(onSlow, "pp-1f1b"))));
        QCOMPARE(onSlow.front().kind, StrategyKind::PipelineParallel);
    }

    void theLessonExampleFlipsBetweenPcieAndEthernet() {
        const Graph lesson = loadGraphFile(adj::test::sourcePath("resources/examples/partition_lesson.json"));
        const PartitionOptions o;
        QCOMPARE(compareStrategies(lesson, *clusterPreset("pcie2"), o).front().key, std::string("dp-ring"));
        QCOMPARE(compareStrategies(lesson, *clusterPreset("ethernet2"), o).front().kind, StrategyKind::PipelineParallel);
    }

    void tensorParallelSplitsAMatmulPairAsMegatronDoes() {
        const int batch = 32, in = 64, hidden = 128, classes = 16;
        const Graph model = mlp(4, hidden, batch, classes, in);
        PartitionOptions o;
        o.kind = StrategyKind::TensorParallel;
        const PartitionResult r = simulatePartition(model, *clusterPreset("pcie2"), o);
        QCOMPARE(r.deviceOfNode.at("fc0"), kSplitDevices);
        QCOMPARE(r.deviceOfNode.at("relu0"), kSplitDevices);
        QCOMPARE(r.deviceOfNode.at("fc1"), kSplitDevices);
        QCOMPARE(r.deviceOfNode.at("relu1"), kAllDevices);  // after the row split's all-reduce
        QCOMPARE(r.deviceOfNode.at("fc2"), kSplitDevices);
        // forward: the outputs of fc1 and fc3 (the row splits) all-reduced; backward: the gradient
        // of fc2's input (fc0's input, x, has none). Over 2 devices each all-reduce of b bytes
        // sends b from each device.
        const double expected = 2.0 * (double(batch * hidden) + double(batch * classes) + double(batch * hidden)) * 4;
        QCOMPARE(totalLinkBytes(r), expected);
        // a model without a weight matmul has nothing to split
        Graph plain;
        const NodeId x = plain.addInput("x", {4, 3});
        const NodeId b = plain.addParameter("b", Tensor::full({3}, 0.f));
        plain.addOutput("y", {plain.addNode(Op::Add, {{x, 0}, {b, 0}}, {}, "add"), 0});
        QVERIFY_THROWS_EXCEPTION(adj::Error, simulatePartition(plain, *clusterPreset("pcie2"), o));
    }

    void placementByHandSendsWhatCrosses() {
        Graph model = mlp(2, 64, 16, 8);
        model.node(*model.findNode("fc1")).meta[kDeviceMetaKey] = "gpu1";
        PartitionOptions o;
        o.kind = StrategyKind::Placement;
        const PartitionResult r = simulatePartition(model, *clusterPreset("pcie2"), o);
        QCOMPARE(r.deviceOfNode.at("fc0"), 0);
        QCOMPARE(r.deviceOfNode.at("fc1"), 1);
        bool relu = false;
        for (const CrossEdge& e : r.crossEdges) relu = relu || (e.from == "relu0" && e.to == "fc1" && e.fromDevice == 0 && e.toDevice == 1);
        QVERIFY(relu);
        QVERIFY(r.links.front().bytes >= 16 * 64 * 4 * 2);  // the activation and its adjoint
        model.node(*model.findNode("fc1")).meta[kDeviceMetaKey] = "gpu9";
        try {
            simulatePartition(model, *clusterPreset("pcie2"), o);
            QFAIL("an unknown device was accepted");
        } catch (const adj::Error& e) {
            QVERIFY2(std::string(e.what()).find("gpu9") != std::string::npos && std::string(e.what()).find("fc1") != std::string::npos, e.what());
        }
    }

    void aModelTooLargeForTheDevicesSaysWhichDevice() {
        Cluster c = *clusterPreset("pcie2");
        for (ClusterDevice& d : c.devices) d.memoryBytes = 100e3;
        PartitionOptions o;
        const PartitionResult r = simulatePartition(mlp(2, 256, 32, 10), c, o);
        QVERIFY(!r.fits());
        QVERIFY2(r.overflow.find("gpu0") != std::string::npos, r.overflow.c_str());
    }

    void clusterFilesNameWhatIsWrong() {
        auto problem = [](const std::string& text) -> std::string {
            try {
                parseCluster(text, "c.json");
            } catch (const adj::Error& e) {
                return e.what();
            }
            return "";
        };
        const std::string device = R"({"name": "gpu", "peak_flops": 1e12, "memory_bandwidth": 1e11, "memory_bytes": 1e9)";
        QVERIFY(problem(R"({"devices": [{"name": "gpu", "peak_flops": 1e12, "memory_bandwidth": 1e11}]})").find("devices[0]: missing \"memory_bytes\"") !=
                std::string::npos);
        QVERIFY(problem("{\"devices\": [" + device + ", \"flops\": 1}]}").find("unknown field \"flops\"") != std::string::npos);
        QVERIFY(problem("{\"devices\": [" + device + ", \"count\": 2}], \"links\": [{\"between\": [\"gpu0\", \"gpu9\"], \"bandwidth\": 1, "
                        "\"latency_seconds\": 0}]}")
                    .find("links[0].between[1]: no device named 'gpu9'") != std::string::npos);
        QVERIFY(problem("{\"devices\": [" + device + ", \"count\": 2}]}").find("no link") != std::string::npos);
        QVERIFY(problem(R"({"devices": [{"name": "g", "peak_flops": -1, "memory_bandwidth": 1, "memory_bytes": 1}]})").find("peak_flops: must be") !=
                std::string::npos);
        QVERIFY(problem("[1, 2").find("c.json") == 0);
        const Cluster four =
            parseCluster("{\"devices\": [" + device + ", \"count\": 4}], \"links\": [{\"between\": \"all\", \"bandwidth\": 1e9, \"latency_seconds\": 1e-6}]}", "c");
        QCOMPARE(four.devices.size(), std::size_t(4));
        QCOMPARE(four.devices[3].name, std::string("gpu3"));
        QCOMPARE(four.links.size(), std::size_t(6));
        QVERIFY(problem("{\"devices\": [" + device + ", \"measured\": 1}]}").find("devices[0].measured: must be true or false") != std::string::npos);
        const Cluster measured = parseCluster("{\"devices\": [" + device + ", \"measured\": true}]}", "c");
        QVERIFY(measured.devices[0].measured);
        QVERIFY(parseCluster(clusterJson(measured), "c").devices[0].measured);
        QVERIFY(!four.devices[0].measured);
        for (const char* name : {"pcie2", "nvlink8", "ethernet2"}) {
            const Cluster preset = *clusterPreset(name);
            const Cluster again = parseCluster(clusterJson(preset), name);
            QCOMPARE(again.devices.size(), preset.devices.size());
            QCOMPARE(again.links.size(), preset.links.size());
            QCOMPARE(again.links.front().bandwidth, preset.links.front().bandwidth);
        }
    }

    void aMeasuredDeviceTakesTheNodeTimesOfThisMachine() {
        // The local preset: this machine's threads, node times measured (not the roofs).
        const Cluster local = *clusterPreset("local");
        QVERIFY(!local.devices.empty());
        for (const ClusterDevice& d : local.devices) QVERIFY(d.measured && d.peakFlops > 0 && d.memoryBandwidth > 0);
        if (!local.links.empty()) QVERIFY(local.links.front().latencySeconds > 0 && local.links.front().latencySeconds < 1e-3);
        // The same two devices, measured and not: the measured step uses the times of its nodes
        // (each positive, a GEMM's far from the 1 PFLOP/s roof said here), the other the roofs.
        const Graph model = mlp(3, 128, 64, 10);
        Cluster roofs = uniformCluster(2, 1e15, 1e15, 1e9, 1e-6), measured = roofs;
        for (ClusterDevice& d : measured.devices) d.measured = true;
        PartitionOptions o;
        o.kind = StrategyKind::DataParallel;
        o.batch = 64;
        const PartitionResult byRoofs = simulatePartition(model, roofs, o), byTimes = simulatePartition(model, measured, o);
        QVERIFY(byRoofs.workload->measuredSeconds.empty());
        const StepWorkload& w = *byTimes.workload;
        QCOMPARE(w.measuredSeconds.size(), std::size_t(w.graph.idBound()));
        QVERIFY(w.measuredRunSeconds >= 0);
        for (NodeId id : w.order)
            if (w.graph.node(id).op == Op::MatMul) {
                QVERIFY(w.measuredSeconds[std::size_t(id)] > 0);
                QCOMPARE(nodeSeconds(w, id, measured.devices[0]), w.measuredSeconds[std::size_t(id)]);
                QVERIFY(nodeSeconds(w, id, roofs.devices[0]) < w.measuredSeconds[std::size_t(id)]);
            }
        QVERIFY(byTimes.stepSeconds > byRoofs.stepSeconds);
        // measured once: the slider's re-runs take the kept times
        QCOMPARE(simulatePartition(model, measured, o).workload->measuredSeconds, w.measuredSeconds);
    }

    void theCliKeepsItsContract() {
        const QString graph = writeText("p_mlp.json", R"({"format": "adjoint-graph", "version": 1, "name": "p",
 "inputs": [{"name": "x", "shape": [64, 32]}],
 "parameters": [{"name": "w", "shape": [32, 32], "init": {"kind": "normal", "std": 0.1, "seed": 1}},
                {"name": "v", "shape": [32, 4], "init": {"kind": "normal", "std": 0.1, "seed": 2}}],
 "nodes": [{"name": "h", "op": "matmul", "inputs": ["x", "w"]}, {"name": "r", "op": "relu", "inputs": ["h"]},
           {"name": "o", "op": "matmul", "inputs": ["r", "v"]}],
 "outputs": [{"name": "y", "value": "o"}]})");
        const auto r = runCli({"partition", graph, "--cluster", "pcie2", "--strategy", "dp", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QVERIFY(j["step_ms"].toDouble() > 0);
        QCOMPARE(j["devices"].toArray().size(), 2);
        QVERIFY(j["devices"].toArray()[0].toObject().contains("busy_ms"));
        QVERIFY(j["devices"].toArray()[0].toObject()["peak_bytes"].toDouble() > 0);
        QCOMPARE(j["links"].toArray().size(), 1);
        QCOMPARE(j["links"].toArray()[0].toObject()["bytes"].toDouble(), 2 * (32 * 32 + 32 * 4) * 4.0);  // 2 x (2(n-1)/n) x gradients
        const auto automatic = runCli({"partition", graph, "--cluster", "nvlink8", "--devices", "4", "--json"});
        QVERIFY2(automatic.exitCode == 0, qPrintable(automatic.err));
        QVERIFY(QJsonDocument::fromJson(automatic.out.toUtf8()).object()["candidates"].toArray().size() >= 3);
        const auto text = runCli({"partition", graph, "--cluster", "ethernet2", "--strategy", "pp", "--microbatches", "4"});
        QVERIFY2(text.exitCode == 0 && text.out.contains("step") && text.out.contains("host0 - host1"), qPrintable(text.out + text.err));

        const QString broken = writeText("broken_cluster.json", R"({"devices": [{"name": "g", "peak_flops": 1e12, "memory_bandwidth": 1e11}]})");
        const auto missing = runCli({"partition", graph, "--cluster", broken, "--strategy", "dp"});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.startsWith("error:") && missing.err.contains("memory_bytes") && missing.err.contains("broken_cluster.json"),
                 qPrintable(missing.err));
        const QString small = writeText("small_cluster.json", R"({"name": "tiny", "devices": [{"name": "g", "count": 2, "peak_flops": 1e12,
 "memory_bandwidth": 1e11, "memory_bytes": 1000}], "links": [{"between": "all", "bandwidth": 1e9, "latency_seconds": 1e-6}]})");
        const auto tooBig = runCli({"partition", graph, "--cluster", small});
        QCOMPARE(tooBig.exitCode, 1);
        QVERIFY2(tooBig.err.contains("does not fit") && tooBig.err.contains("g0"), qPrintable(tooBig.err));
        QCOMPARE(runCli({"partition", graph, "--cluster", "pcie2", "--strategy", "zp"}).exitCode, 2);
        QCOMPARE(runCli({"partition", graph}).exitCode, 2);
        const auto unknown = runCli({"partition", graph, "--cluster", "pcie3"});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("neither a preset"), qPrintable(unknown.err));
        QCOMPARE(runCli({"partition", graph, "--cluster", "pcie2", "--devices", "3"}).exitCode, 1);
        // --run on this machine: the measured step and, by phase, simulated against measured time
        const auto real = runCli({"partition", graph, "--cluster", "local", "--devices", "1", "--strategy", "dp", "--run", "--repeat", "2", "--json"});
        QVERIFY2(real.exitCode == 0, qPrintable(real.err));
        const QJsonObject rj = QJsonDocument::fromJson(real.out.toUtf8()).object();
        QVERIFY(rj["measured_ms"].toDouble() > 0);
        QCOMPARE(rj["measured_runs"].toInt(), 2);
        QStringList phases;
        for (const QJsonValue& p : rj["measured_phases"].toArray()) {
            phases << p.toObject()["phase"].toString();
            QVERIFY(p.toObject()["tasks"].toInt() >= 1 && p.toObject()["measured_ms"].toDouble() >= 0 && p.toObject()["simulated_ms"].toDouble() >= 0);
        }
        QVERIFY2(phases.contains("forward") && phases.contains("backward") && phases.contains("update"), qPrintable(phases.join(",")));
    }
};

QTEST_GUILESS_MAIN(TestPartition)
#include "tst_partition.moc"
