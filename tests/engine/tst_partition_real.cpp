// The partitioning simulator's steps run for real (issue #20, point 4): two oneTBB arenas of one
// thread as two devices, transfers as copies. Data parallelism (a ring all-reduce in several
// buckets) and pipeline parallelism (GPipe and 1F1B, four micro-batches) reach the parameters of
// the same SGD step on one device, and each device sends exactly the ring's 2(n-1)/n of the
// gradient bytes. How close the simulated step time comes to the measured one is a figure of
// bench/bench_partition.sh (on a quiet machine), not a test: tests assert no wall-clock time.
#include <QtTest>

#include "base/errors.h"
#include "parallel/collectives.h"
#include "parallel/real_execution.h"
#include "parallel/step_workload.h"
#include "test_support.h"

using namespace adj;
using namespace adj::parallel;

namespace {

Graph mlp(int layers, int width, int batch, int classes) {
    Graph g;
    g.name = "mlp";
    ValueRef h{g.addInput("x", {batch, width}), 0};
    for (int l = 0; l < layers; ++l) {
        const int out = l + 1 == layers ? classes : width;
        const NodeId w = g.addParameter("w" + std::to_string(l), test::normalTensor({width, out}, 10 + unsigned(l), 0.1f));
        const NodeId b = g.addParameter("b" + std::to_string(l), test::normalTensor({out}, 20 + unsigned(l), 0.1f));
        h = {g.addNode(Op::Gemm, {h, {w, 0}, {b, 0}}, {}, "fc" + std::to_string(l)), 0};
        if (l + 1 < layers) h = {g.addNode(Op::Tanh, {h}, {}, "tanh" + std::to_string(l)), 0};
    }
    g.addOutput("logits", h);
    return g;
}

/// Two devices with this machine's roofs (one thread each), linked by copies through memory.
Cluster twoCores() {
    Cluster c = *clusterPreset("local");
    while (c.devices.size() < 2) {
        c.devices.push_back(c.devices.front());
        c.devices.back().name = "cpu" + std::to_string(c.devices.size() - 1);
    }
    c = c.firstDevices(2);
    if (c.links.empty()) c.links.push_back({0, 1, c.devices[0].memoryBandwidth, 5e-6});
    return c;
}

Tensor oneHot(int rows, int classes) {
    Tensor t = Tensor::zeros({rows, classes});
    for (int r = 0; r < rows; ++r) t.data()[r * classes + (r * 7) % classes] = 1.f;
    return t;
}

void compareParameters(const RealStep& real, const std::map<std::string, Tensor>& reference) {
    QCOMPARE(real.parameters.size(), reference.size());
    for (const auto& [name, value] : reference) {
        const auto it = real.parameters.find(name);
        QVERIFY2(it != real.parameters.end(), name.c_str());
        std::string why;
        QVERIFY2(test::allClose(it->second, value, 1e-5, 1e-6, &why), (name + ": " + why).c_str());
    }
}

}  // namespace

class TestPartitionReal : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qputenv("XDG_CACHE_HOME", QByteArray::fromStdString(test::tempDir())); }

    void dataParallelForRealIsTheOneDeviceStep() {
        const Graph model = mlp(3, 64, 64, 10);
        const Tensor x = test::normalTensor({64, 64}, 1, 1.f), y = oneHot(64, 10);
        PartitionOptions o;
        o.kind = StrategyKind::DataParallel;
        o.batch = 64;
        o.bucketBytes = 8e3;  // several buckets
        const PartitionResult plan = simulatePartition(model, twoCores(), o);
        QVERIFY(plan.buckets.size() >= 3);
        const RealStep real = runStepForReal(plan, x, y, 0.5f);
        compareParameters(real, referenceStep(model, train::LossKind::CrossEntropy, x, y, 0.5f));
        // each device sends 2(n-1)/n of the gradients: here all of them (to within a float per
        // chunk, where a bucket's floats do not split evenly)
        const double analytic = ringAllReduceBytesPerDevice(plan.gradientBytes, 2);
        for (double sent : real.allReduceBytes) QVERIFY2(std::abs(sent - analytic) <= 4.0 * 2 * double(plan.buckets.size()), qPrintable(QString::number(sent)));
        QCOMPARE(real.allReduceBytes[0], plan.allReduceBytesPerDevice);
        for (std::size_t i = 0; i < real.spans.size(); ++i) QVERIFY(real.spans[i].end >= real.spans[i].start);
    }

    void pipelineForRealIsTheOneDeviceStep() {
        const Graph model = mlp(4, 32, 64, 8);
        const Tensor x = test::normalTensor({64, 32}, 2, 1.f), y = oneHot(64, 8);
        const auto reference = referenceStep(model, train::LossKind::CrossEntropy, x, y, 0.5f);
        for (PipelineSchedule schedule : {PipelineSchedule::GPipe, PipelineSchedule::OneFOneB}) {
            PartitionOptions o;
            o.kind = StrategyKind::PipelineParallel;
            o.batch = 64;
            o.microbatches = 4;
            o.schedule = schedule;
            const PartitionResult plan = simulatePartition(model, twoCores(), o);
            const RealStep real = runStepForReal(plan, x, y, 0.5f);
            compareParameters(real, reference);
            // activations went forward and adjoints back: both devices sent something
            QVERIFY(real.sentBytes[0] > 0 && real.sentBytes[1] > 0);
            QCOMPARE(real.allReduceBytes[0], 0.0);
        }
    }

    void stepsRepeatedOnTheSameDevicesAreTheSameStep() {
        // Devices made once, two warm-up steps and three timed ones: each step starts from the
        // same parameters and inputs, so each ends where the one-device step does.
        const Graph model = mlp(3, 32, 64, 8);
        const Tensor x = test::normalTensor({64, 32}, 4, 1.f), y = oneHot(64, 8);
        const auto reference = referenceStep(model, train::LossKind::CrossEntropy, x, y, 0.5f);
        for (StrategyKind kind : {StrategyKind::DataParallel, StrategyKind::PipelineParallel}) {
            PartitionOptions o;
            o.kind = kind;
            o.batch = 64;
            const std::vector<RealStep> steps = runStepsForReal(simulatePartition(model, twoCores(), o), x, y, 0.5f, 2, 3);
            QCOMPARE(steps.size(), std::size_t(3));
            for (const RealStep& step : steps) {
                compareParameters(step, reference);
                QVERIFY(step.stepSeconds > 0);
                for (const TaskSpan& span : step.spans) QVERIFY(span.start >= 0 && span.end >= span.start && span.end <= step.stepSeconds);
            }
        }
        QVERIFY_THROWS_EXCEPTION(adj::Error, runStepsForReal(simulatePartition(model, twoCores(), {}), x, y, 0.5f, 0, 0));
    }

    void whatItCannotRunIsAnError() {
        const Graph model = mlp(2, 16, 8, 4);
        const Tensor x = test::normalTensor({8, 16}, 3, 1.f), y = oneHot(8, 4);
        PartitionOptions o;
        o.kind = StrategyKind::TensorParallel;
        QVERIFY_THROWS_EXCEPTION(adj::Error, runStepForReal(simulatePartition(model, twoCores(), o), x, y, 0.1f));
        o.kind = StrategyKind::DataParallel;
        o.allReduce = AllReduceAlgorithm::Tree;
        QVERIFY_THROWS_EXCEPTION(adj::Error, runStepForReal(simulatePartition(model, twoCores(), o), x, y, 0.1f));
        o.allReduce = AllReduceAlgorithm::Ring;
        const Tensor fewer = test::normalTensor({4, 16}, 3, 1.f);
        QVERIFY_THROWS_EXCEPTION(adj::Error, runStepForReal(simulatePartition(model, twoCores(), o), fewer, oneHot(4, 4), 0.1f));
    }
};

QTEST_GUILESS_MAIN(TestPartitionReal)
#include "tst_partition_real.moc"
