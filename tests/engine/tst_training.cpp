// Training: losses and update rules against PyTorch (tests/fixtures/make_training_fixtures.py),
// the training-step graph (one graph that saves and runs), the loop (determinism, cancellation,
// NaN detection naming the node), checkpoints with bit-identical resume, and adjoint-cli train
// (bad input; the acceptance runs on spirals and digits are in tst_training_acceptance).
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <atomic>
#include <cstring>
#include <fstream>
#include <string>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "io/json_format.h"
#include "io/npy.h"
#include "runtime/executor.h"
#include "test_support.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

using namespace adj;
using namespace adj::train;

Q_DECLARE_METATYPE(std::string)
Q_DECLARE_METATYPE(adj::train::LossKind)
Q_DECLARE_METATYPE(adj::train::OptimizerKind)

namespace {

Tensor fixture(const std::string& name) { return readNpy(test::sourcePath("tests/fixtures/training/" + name + ".npy")); }

bool sameBits(const Tensor& a, const Tensor& b) {
    const Tensor x = a.contiguous(), y = b.contiguous();
    return x.shape() == y.shape() && std::memcmp(x.data(), y.data(), std::size_t(x.numel()) * sizeof(float)) == 0;
}

Graph loadExample(const std::string& name) { return loadGraphJson(test::sourcePath("resources/examples/" + name)); }

/// A 2-8-K tanh model written inline (seeded init), for short runs.
Graph smallModel(int inputs, int classes, const std::string& extra = {}) {
    const std::string text = R"({"format": "adjoint-graph", "version": 1, "name": "small",
      "inputs": [{"name": "x", "shape": [4, )" + std::to_string(inputs) + R"(], "dims": ["N", null]}],
      "parameters": [{"name": "w1", "shape": [)" + std::to_string(inputs) + R"(, 8], "init": {"kind": "normal", "std": 0.5, "seed": 1}},
                     {"name": "b1", "shape": [8], "init": {"kind": "zeros"}},
                     {"name": "w2", "shape": [8, )" + std::to_string(classes) + R"(], "init": {"kind": "normal", "std": 0.5, "seed": 2}},
                     {"name": "b2", "shape": [)" + std::to_string(classes) + R"(], "init": {"kind": "zeros"}}],
      "nodes": [{"name": "fc1", "op": "gemm", "inputs": ["x", "w1", "b1"]},
                {"name": "h1", "op": "tanh", "inputs": ["fc1"]},
                {"name": "fc2", "op": "gemm", "inputs": ["h1", "w2", "b2"]})" +
                             extra + R"(],
      "outputs": [{"name": "logits", "value": ")" + std::string(extra.empty() ? "fc2" : "bad_log") + R"("}]})";
    return parseGraphJson(text, "small.json");
}

TrainerConfig shortConfig(std::int64_t steps, std::uint64_t seed = 1) {
    TrainerConfig c;
    c.steps = steps;
    c.batchSize = 16;
    c.seed = seed;
    c.optimizer.kind = OptimizerKind::Adam;
    c.optimizer.learningRate = 0.02f;
    return c;
}

QJsonObject parseLine(const QString& line) { return QJsonDocument::fromJson(line.toUtf8()).object(); }

QStringList lines(const QString& s) { return s.split('\n', Qt::SkipEmptyParts); }

}  // namespace

class TestTraining : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void lossesMatchTorch_data();
    void lossesMatchTorch();
    void crossEntropyIsStableForHugeLogits();
    void updateRulesMatchTorch_data();
    void updateRulesMatchTorch();
    void stepGraphIsOneGraphThatSavesAndRuns();
    void accuracyOnTheCpu();
    void trainingIsDeterministicBySeed();
    void regressionLearnsSine();
    void cancellation();
    void nanNamesTheNode();
    void stepsUpdateParametersInPlace();
    void checkpointRoundTrip();
    void resumeIsBitIdentical();
    void modelChecks();
    void cliResumeIsBitIdentical();
    void cliNanAndHugeLearningRate();
    void cliBadInput();
};

void TestTraining::lossesMatchTorch_data() {
    QTest::addColumn<LossKind>("kind");
    QTest::addColumn<std::string>("stem");
    QTest::addColumn<std::string>("target");
    QTest::newRow("cross-entropy") << LossKind::CrossEntropy << std::string("ce") << std::string("onehot");
    QTest::newRow("mse") << LossKind::MeanSquaredError << std::string("mse") << std::string("target");
    QTest::newRow("binary-cross-entropy") << LossKind::BinaryCrossEntropy << std::string("bce") << std::string("binary");
}

void TestTraining::lossesMatchTorch() {
    QFETCH(LossKind, kind);
    QFETCH(std::string, stem);
    QFETCH(std::string, target);
    Graph g;
    const NodeId z = g.addInput("z", {4, 3});
    const NodeId y = g.addInput("y", {4, 3});
    GraphBuilder b(g, "loss.");
    g.addOutput("loss", addLoss(b, kind, {z, 0}, {y, 0}));
    BackwardGraph bw = buildBackward(g, "loss", {{"z"}, false, true});
    auto exec = makeCpuExecutor();
    RunResult r = exec->run(bw.graph, {{"z", fixture("z")}, {"y", fixture(target)}});
    std::string why;
    QVERIFY2(test::allClose(r.outputs[1].reshape({1}), fixture(stem + "_loss"), 1e-5, 1e-6, &why), why.c_str());
    QVERIFY2(test::allClose(r.outputs[0], fixture(stem + "_grad"), 1e-4, 1e-6, &why), why.c_str());
}

void TestTraining::crossEntropyIsStableForHugeLogits() {
    for (LossKind kind : {LossKind::CrossEntropy, LossKind::BinaryCrossEntropy}) {
        Graph g;
        const NodeId z = g.addInput("z", {2, 2});
        const NodeId y = g.addInput("y", {2, 2});
        GraphBuilder b(g);
        g.addOutput("loss", addLoss(b, kind, {z, 0}, {y, 0}));
        BackwardGraph bw = buildBackward(g, "loss", {{"z"}, false, true});
        RunResult r = makeCpuExecutor()->run(bw.graph, {{"z", Tensor::fromVector({2, 2}, {1000, -1000, -500, 800})}, {"y", Tensor::fromVector({2, 2}, {1, 0, 1, 0})}},
                                             RunOptions{false, true});
        for (float v : r.outputs[0].toVector()) QVERIFY(std::isfinite(v));
        QVERIFY(std::isfinite(r.outputs[1].toVector()[0]));
    }
}

void TestTraining::updateRulesMatchTorch_data() {
    QTest::addColumn<OptimizerKind>("kind");
    QTest::addColumn<std::string>("stem");
    QTest::newRow("sgd") << OptimizerKind::Sgd << std::string("sgd");
    QTest::newRow("momentum") << OptimizerKind::Momentum << std::string("momentum");
    QTest::newRow("adam") << OptimizerKind::Adam << std::string("adam");
}

void TestTraining::updateRulesMatchTorch() {
    QFETCH(OptimizerKind, kind);
    QFETCH(std::string, stem);
    Graph model;
    model.name = "linear";
    const NodeId x = model.addInput("x", {4, 3}, {"N", ""});
    const NodeId w = model.addParameter("w", fixture("w0"));
    const NodeId bias = model.addParameter("b", fixture("b0"));
    GraphBuilder b(model);
    model.addOutput("logits", b.op(Op::Gemm, {{x, 0}, {w, 0}, {bias, 0}}));
    OptimizerConfig cfg;
    cfg.kind = kind;
    cfg.learningRate = 0.1f;
    cfg.weightDecay = 0.01f;
    const TrainingStepGraph s = buildTrainingStep(model, LossKind::CrossEntropy, cfg, 4);
    auto exec = makeCpuExecutor();
    Bindings bind{{"x", fixture("x")}, {s.targetInput, fixture("y")}, {s.learningRateInput, Tensor::scalar(0.1f)}};
    std::map<std::string, Tensor> params{{"w", fixture("w0")}, {"b", fixture("b0")}};
    for (std::size_t i = 0; i < s.parameters.size(); ++i)
        for (const auto& st : s.stateInputs[i]) bind[st] = Tensor::zeros(params[s.parameters[i]].shape());
    std::vector<float> losses;
    for (int t = 1; t <= 3; ++t) {
        bind[s.stepInput] = Tensor::scalar(float(t));
        for (const auto& [n, v] : params) bind[n] = v;
        RunResult r = exec->run(s.graph, bind);
        losses.push_back(r.outputs[0].toVector()[0]);
        std::size_t k = 2;
        for (const auto& p : s.parameters) params[p] = r.outputs[k++];
        for (std::size_t i = 0; i < s.parameters.size(); ++i)
            for (const auto& st : s.stateInputs[i]) bind[st] = r.outputs[k++];
    }
    std::string why;
    QVERIFY2(test::allClose(Tensor::fromVector({3}, losses), fixture(stem + "_losses"), 1e-5, 1e-6, &why), why.c_str());
    QVERIFY2(test::allClose(params["w"], fixture(stem + "_w"), 1e-4, 1e-6, &why), why.c_str());
    QVERIFY2(test::allClose(params["b"], fixture(stem + "_b"), 1e-4, 1e-6, &why), why.c_str());
}

void TestTraining::stepGraphIsOneGraphThatSavesAndRuns() {
    const Graph model = loadExample("spirals_mlp.json");
    const TrainingStepGraph s = buildTrainingStep(model, LossKind::CrossEntropy, OptimizerConfig{}, 8);
    const Graph& g = s.graph;
    for (const char* in : {"x", "targets", "lr", "step", "state.w1.m", "state.w1.v", "state.b3.v"}) QVERIFY2(g.findNode(in), in);
    std::vector<std::string> outs;
    for (const auto& o : g.outputs()) outs.push_back(o.name);
    QCOMPARE(outs.front(), std::string("loss"));
    QCOMPARE(outs[1], std::string("logits"));
    QVERIFY(std::find(outs.begin(), outs.end(), "new.w2") != outs.end());
    QVERIFY(std::find(outs.begin(), outs.end(), "new.state.b1.m") != outs.end());
    QVERIFY(g.findNode("update.w1.new"));
    // save, reload, and run both: the same numbers bit for bit
    const std::string path = test::tempDir() + "/step.json";
    saveGraphJson(g, path);
    const Graph back = loadGraphJson(path);
    const Dataset d = makeDataset("spirals");
    std::vector<std::int64_t> rows{0, 1, 2, 3, 4, 5, 6, 7};
    Bindings bind{{"x", gatherRows(d.train.x, rows)}, {"targets", oneHot(std::vector<int>(d.train.labels.begin(), d.train.labels.begin() + 8), 2)},
                  {"lr", Tensor::scalar(0.01f)}, {"step", Tensor::scalar(1)}};
    for (std::size_t i = 0; i < s.parameters.size(); ++i)
        for (const auto& st : s.stateInputs[i]) bind[st] = Tensor::zeros(model.node(*model.findNode(s.parameters[i])).value.shape());
    auto exec = makeCpuExecutor();
    RunResult a = exec->run(g, bind), c = exec->run(back, bind);
    QCOMPARE(a.outputs.size(), c.outputs.size());
    for (std::size_t i = 0; i < a.outputs.size(); ++i) QVERIFY(sameBits(a.outputs[i], c.outputs[i]));
    QVERIFY(!sameBits(a.outputs[2], model.node(*model.findNode("w1")).value));  // the update changed w1
}

void TestTraining::accuracyOnTheCpu() {
    QCOMPARE(accuracy(Tensor::fromVector({3, 2}, {1, 0, 0, 1, 5, 4}), {0, 1, 1}), 2.0 / 3.0);
    QCOMPARE(accuracy(Tensor::fromVector({2, 1}, {0.5, -0.5}), {1, 1}), 0.5);
}

void TestTraining::trainingIsDeterministicBySeed() {
    auto exec = makeCpuExecutor();
    auto run = [&](std::uint64_t seed) {
        Trainer t(smallModel(2, 2), makeDataset("moons"), shortConfig(30, seed), *exec);
        std::vector<double> losses;
        t.train([&](const StepReport& r) { losses.push_back(r.loss); });
        return losses;
    };
    const auto a = run(1), b = run(1), c = run(2);
    QCOMPARE(a.size(), std::size_t(30));
    QCOMPARE(a, b);
    QVERIFY(a != c);
}

void TestTraining::regressionLearnsSine() {
    auto exec = makeCpuExecutor();
    TrainerConfig c = shortConfig(300);
    c.loss = LossKind::MeanSquaredError;
    c.batchSize = 32;
    Trainer t(smallModel(1, 1), makeDataset("sine"), c, *exec);
    const double before = t.evaluate(t.dataset().validation).loss;
    t.train();
    const Evaluation after = t.evaluate(t.dataset().validation);
    QVERIFY(std::isnan(after.accuracy));
    QVERIFY2(after.loss < 0.3 * before, qPrintable(QString("%1 -> %2").arg(before).arg(after.loss)));
}

void TestTraining::cancellation() {
    auto exec = makeCpuExecutor();
    Trainer t(smallModel(2, 2), makeDataset("xor"), shortConfig(100), *exec);
    std::atomic<bool> cancel{false};
    const auto done = t.train([&](const StepReport& r) { if (r.step == 5) cancel = true; }, &cancel);
    QCOMPARE(done, std::int64_t(5));
    QCOMPARE(t.step(), std::int64_t(5));
}

void TestTraining::nanNamesTheNode() {
    auto exec = makeCpuExecutor();
    // log of a negative value inside the model
    Trainer t(smallModel(2, 2, R"(, {"name": "bad_log", "op": "log", "inputs": ["fc2"]})"), makeDataset("moons"), shortConfig(10), *exec);
    try {
        t.train();
        QFAIL("no error");
    } catch (const TrainingError& e) {
        const std::string m = e.what();
        QVERIFY2(m.find("step 1") != std::string::npos && m.find("'bad_log'") != std::string::npos && m.find("NaN") != std::string::npos, m.c_str());
    }
}

/// The trainer donates its parameters and optimizer state to each step (RunOptions::
/// donatedInputs): the update is written over the tensor it replaces, unless someone else holds
/// that tensor (the model's own values at step 1, a snapshot taken from parameters()), whose
/// values then stay as they were.
void TestTraining::stepsUpdateParametersInPlace() {
    auto exec = makeCpuExecutor();
    TrainerConfig config = shortConfig(10);
    config.optimizer.kind = OptimizerKind::Adam;
    Trainer t(loadExample("spirals_mlp.json"), makeDataset("spirals"), config, *exec);
    const std::string name = t.parameters().begin()->first;
    const Tensor original = t.trainedModel().node(*t.trainedModel().findNode(name)).value.clone();
    t.runStep();  // step 1: the model's values are shared with the trainer's copy of the model
    const Tensor snapshot = t.parameters().at(name);
    const std::vector<float> saved = snapshot.toVector();
    t.runStep();  // step 2: the snapshot is shared
    QCOMPARE(snapshot.toVector(), saved);
    QVERIFY(!t.parameters().at(name).sharesStorageWith(snapshot));
    const float* before = t.parameters().at(name).data();
    t.runStep();  // step 3: nobody else holds step 2's values: written over
    QCOMPARE(t.parameters().at(name).data(), before);
    QVERIFY(!t.parameters().at(name).sharesStorageWith(snapshot));
    QVERIFY(t.parameters().at(name).toVector() != saved);
    QVERIFY(t.parameters().at(name).toVector() != original.toVector());
}

void TestTraining::checkpointRoundTrip() {
    Checkpoint c;
    c.step = 12;
    c.seed = 0xFFFFFFFFFFFFFFFFull;
    c.loss = "cross-entropy";
    c.optimizer = "adam";
    c.batchSize = 16;
    c.sampler.rng = {1, 2, 0xFFFFFFFFFFFFFFFFull, 4};
    c.sampler.order = {2, 0, 1};
    c.sampler.position = 1;
    c.sampler.epoch = 3;
    const float nanBits = std::numeric_limits<float>::quiet_NaN();
    c.parameters = {{"w", Tensor::fromVector({2, 2}, {1e-38f, -0.0f, nanBits, 3.25f})}};
    c.state = {{"state.w.m", Tensor::fromVector({1}, {7})}};
    const std::string path = test::tempDir() + "/c.ckpt";
    saveCheckpoint(path, c);
    const Checkpoint d = loadCheckpoint(path);
    QCOMPARE(d.step, c.step);
    QCOMPARE(d.seed, c.seed);
    QCOMPARE(d.sampler.rng, c.sampler.rng);
    QCOMPARE(d.sampler.order, c.sampler.order);
    QCOMPARE(d.sampler.epoch, std::int64_t(3));
    QVERIFY(sameBits(d.parameters[0].second, c.parameters[0].second));
    QCOMPARE(d.state[0].first, std::string("state.w.m"));
    // malformed files name the file
    std::ofstream(path) << "{\"format\": \"adjoint-checkpoint\", \"version\": 1}";
    try {
        loadCheckpoint(path);
        QFAIL("no error");
    } catch (const FormatError& e) {
        QVERIFY(std::string(e.what()).rfind(path, 0) == 0);
    }
}

void TestTraining::resumeIsBitIdentical() {
    auto exec = makeCpuExecutor();
    const Graph model = smallModel(2, 3);
    std::vector<double> full;
    Trainer a(model, makeDataset("blobs"), shortConfig(150), *exec);
    a.train([&](const StepReport& r) { full.push_back(r.loss); });

    const std::string path = test::tempDir() + "/run.ckpt";
    TrainerConfig half = shortConfig(150);
    half.steps = 67;  // stops mid-epoch (1000 rows / 16)
    Trainer b(model, makeDataset("blobs"), half, *exec);
    b.train();
    saveCheckpoint(path, b.checkpoint());

    Trainer c(model, makeDataset("blobs"), shortConfig(150), *exec);
    c.restore(loadCheckpoint(path));
    QCOMPARE(c.step(), std::int64_t(67));
    std::vector<double> resumed;
    c.train([&](const StepReport& r) { resumed.push_back(r.loss); });
    QCOMPARE(resumed.size(), std::size_t(150 - 67));
    QCOMPARE(resumed, std::vector<double>(full.begin() + 67, full.end()));
    for (const auto& [n, t] : a.parameters()) QVERIFY2(sameBits(t, c.parameters().at(n)), n.c_str());
    QCOMPARE(checkpointToJson(a.checkpoint()), checkpointToJson(c.checkpoint()));

    // a checkpoint of another optimizer does not fit
    TrainerConfig sgd = shortConfig(150);
    sgd.optimizer.kind = OptimizerKind::Sgd;
    Trainer d(model, makeDataset("blobs"), sgd, *exec);
    QVERIFY_THROWS_EXCEPTION(Error, d.restore(loadCheckpoint(path)));

    // a state tensor named twice (the checkpoint fuzzer's find) is refused, naming it, and leaves
    // the trainer as it was: the good checkpoint still restores
    Checkpoint twice = loadCheckpoint(path);
    QVERIFY(twice.state.size() >= 2);
    twice.state[1] = twice.state[0];
    try {
        c.restore(twice);
        QFAIL("a checkpoint with a state tensor named twice was accepted");
    } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("'" + twice.state[0].first + "' appears twice") != std::string::npos, e.what());
    }
    c.restore(loadCheckpoint(path));
    QCOMPARE(c.step(), std::int64_t(67));
}

void TestTraining::modelChecks() {
    auto exec = makeCpuExecutor();
    auto expectError = [&](const Graph& g, const std::string& data, const std::string& needle) {
        try {
            Trainer t(g, makeDataset(data), shortConfig(1), *exec);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
        }
    };
    expectError(loadExample("mlp.json"), "spirals", "one input");
    expectError(smallModel(2, 2), "blobs", "2 columns but dataset 'blobs' has 3 classes");
    expectError(smallModel(3, 2), "spirals", "2 features");
}

void TestTraining::cliResumeIsBitIdentical() {
    const std::string dir = test::tempDir();
    const QString graph = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
    const QStringList common{"train", graph, "--dataset", "spirals", "--batch", "32", "--seed", "3", "--json"};
    auto full = test::runCli(common + QStringList{"--steps", "60", "--checkpoint", QString::fromStdString(dir + "/full.ckpt")});
    QVERIFY2(full.exitCode == 0, qPrintable(full.err));
    auto first = test::runCli(common + QStringList{"--steps", "25", "--checkpoint", QString::fromStdString(dir + "/half.ckpt")});
    QVERIFY2(first.exitCode == 0, qPrintable(first.err));
    auto second = test::runCli(common + QStringList{"--steps", "60", "--resume", QString::fromStdString(dir + "/half.ckpt"), "--checkpoint",
                                                    QString::fromStdString(dir + "/resumed.ckpt")});
    QVERIFY2(second.exitCode == 0, qPrintable(second.err));
    // logged losses after step 25 are the same text (17 significant digits), step for step
    QStringList fullLosses, resumedLosses;
    for (const auto& l : lines(full.out)) {
        const auto o = parseLine(l);
        if (!o.contains("summary") && o["step"].toInt() > 25) fullLosses << QString::number(o["loss"].toDouble(), 'g', 17);
    }
    for (const auto& l : lines(second.out)) {
        const auto o = parseLine(l);
        if (!o.contains("summary")) resumedLosses << QString::number(o["loss"].toDouble(), 'g', 17);
    }
    QVERIFY(!fullLosses.isEmpty());
    QCOMPARE(resumedLosses, fullLosses);
    QCOMPARE(parseLine(lines(second.out).last())["loss"].toDouble(), parseLine(lines(full.out).last())["loss"].toDouble());
    // and the final states are byte-identical files
    const Checkpoint a = loadCheckpoint(dir + "/full.ckpt"), b = loadCheckpoint(dir + "/resumed.ckpt");
    QCOMPARE(checkpointToJson(a), checkpointToJson(b));
    QCOMPARE(a.step, std::int64_t(60));
}

void TestTraining::cliNanAndHugeLearningRate() {
    const std::string dir = test::tempDir();
    const std::string bad = dir + "/bad.json";
    saveGraphJson(smallModel(2, 2, R"(, {"name": "bad_log", "op": "log", "inputs": ["fc2"]})"), bad);
    auto r = test::runCli({"train", QString::fromStdString(bad), "--dataset", "moons", "--steps", "5"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.startsWith("error:") && r.err.contains("'bad_log'") && r.err.contains("NaN"), qPrintable(r.err));
    const QString graph = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
    r = test::runCli({"train", graph, "--dataset", "spirals", "--optimizer", "sgd", "--lr", "1e38", "--steps", "20"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.startsWith("error:") && r.err.contains("produced a NaN or Inf") && r.err.contains("node '"), qPrintable(r.err));
}

void TestTraining::cliBadInput() {
    const QString spirals = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
    auto r = test::runCli({"train", spirals, "--dataset", "mnist"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("error: unknown dataset 'mnist'"), qPrintable(r.err));
    r = test::runCli({"train", QString::fromStdString(test::sourcePath("resources/examples/mlp.json")), "--dataset", "spirals"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("one input"), qPrintable(r.err));
    r = test::runCli({"train", spirals, "--dataset", "blobs"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("2 columns but dataset 'blobs' has 3 classes"), qPrintable(r.err));
    r = test::runCli({"train", spirals});
    QCOMPARE(r.exitCode, 2);
    r = test::runCli({"train", spirals, "--dataset", "spirals", "--optimizer", "rmsprop"});
    QCOMPARE(r.exitCode, 2);
    r = test::runCli({"train", spirals, "--dataset", "spirals", "--resume", "/nonexistent/x.ckpt"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("/nonexistent/x.ckpt"), qPrintable(r.err));
}

QTEST_APPLESS_MAIN(TestTraining)
#include "tst_training.moc"
