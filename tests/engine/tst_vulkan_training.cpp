// Training on Vulkan against the same run on the CPU, through
// adjoint-cli: spirals with the 2-32-32-2 tanh MLP and Adam for 100 steps, the losses agreeing
// within 1e-3 relative; no Vulkan device is a clear error, or the CPU with a note under --fallback.
// A device lost mid-run (injected at a queue submission, vk::injectSubmitFailure): training goes on
// on the CPU from the failed step with a note, and ends where a run on the CPU alone ends; without
// a fallback the failure is an error naming the step.
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcessEnvironment>
#include <QtTest>

#include <cmath>

#include "io/graph_file.h"
#include "io/npy.h"
#include "runtime/fallback_executor.h"
#include "runtime/vulkan/vk_check.h"
#include "runtime/vulkan/vulkan_executor.h"
#include "test_support.h"
#include "train/trainer.h"

using namespace adj;

namespace {

QJsonObject parseLine(const QString& line) { return QJsonDocument::fromJson(line.toUtf8()).object(); }
QStringList lines(const QString& s) { return s.split('\n', Qt::SkipEmptyParts); }

/// Runs adjoint-cli with an extra environment variable.
test::CliResult runCliWithEnv(const QStringList& args, const QString& key, const QString& value) {
    const QByteArray old = qgetenv(key.toUtf8().constData());
    const bool had = qEnvironmentVariableIsSet(key.toUtf8().constData());
    qputenv(key.toUtf8().constData(), value.toUtf8());
    test::CliResult r = test::runCli(args);
    if (had) qputenv(key.toUtf8().constData(), old);
    else qunsetenv(key.toUtf8().constData());
    return r;
}

}  // namespace

class TestVulkanTraining : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("ADJOINT_CACHE_DIR", QByteArray::fromStdString(test::tempDir())); }

    void spiralsLossesMatchTheCpu() {
        const QString graph = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
        const QStringList common{"train", graph, "--dataset", "spirals", "--optimizer", "adam", "--steps", "100", "--seed", "1", "--json"};
        const auto cpu = test::runCli(common + QStringList{"--backend", "cpu"}, 300000);
        const auto gpu = test::runCli(common + QStringList{"--backend", "vulkan"}, 300000);
        QVERIFY2(cpu.exitCode == 0, qPrintable(cpu.err));
        QVERIFY2(gpu.exitCode == 0, qPrintable(gpu.err));  // no device here is a failure, not a skip
        const QStringList a = lines(cpu.out), b = lines(gpu.out);
        QCOMPARE(a.size(), b.size());
        QVERIFY(a.size() >= 2);
        int compared = 0;
        for (int i = 0; i < a.size(); ++i) {
            const QJsonObject x = parseLine(a[i]), y = parseLine(b[i]);
            const double lx = x["loss"].toDouble(), ly = y["loss"].toDouble();
            QVERIFY2(std::isfinite(ly), qPrintable(b[i]));
            QVERIFY2(std::fabs(lx - ly) <= 1e-3 * std::fabs(lx), qPrintable(a[i] + " vs " + b[i]));
            ++compared;
        }
        const QJsonObject sa = parseLine(a.last()), sb = parseLine(b.last());
        QCOMPARE(sb["backend"].toString(), QString("vulkan"));
        QVERIFY(!sb["device"].toString().isEmpty());
        QVERIFY2(std::fabs(sa["accuracy"].toDouble() - sb["accuracy"].toDouble()) <= 0.02, qPrintable(a.last() + " vs " + b.last()));
        qInfo("compared %d loss lines; vulkan summary: %s", compared, qPrintable(b.last()));
    }

    void noDeviceIsAClearError() {
        const QString graph = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
        const QStringList args{"train", graph, "--dataset", "spirals", "--steps", "3", "--backend", "vulkan", "--json"};
        const auto r = runCliWithEnv(args, "VK_ICD_FILENAMES", "/nonexistent.json");
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("error:"), qPrintable(r.err));
        QVERIFY2(r.err.contains("Vulkan"), qPrintable(r.err));
        QVERIFY2(r.err.contains("--fallback"), qPrintable(r.err));
    }

    void fallbackRunsOnTheCpuWithANote() {
        const QString graph = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
        const QStringList args{"train", graph, "--dataset", "spirals", "--steps", "3", "--backend", "vulkan", "--fallback", "--json"};
        const auto r = runCliWithEnv(args, "VK_ICD_FILENAMES", "/nonexistent.json");
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains("note:") && r.err.contains("CPU"), qPrintable(r.err));
        QCOMPARE(parseLine(lines(r.out).last())["backend"].toString(), QString("cpu"));
    }

    void deviceLostMidRunGoesOnOnTheCpu() {
        const Graph model = loadGraphFile(test::sourcePath("resources/examples/spirals_mlp.json"));
        const train::Dataset data = train::makeDataset("spirals");
        train::TrainerConfig config;
        config.steps = 30;
        config.seed = 3;
        config.optimizer.kind = train::OptimizerKind::Adam;

        auto cpuAlone = makeCpuExecutor();
        train::Trainer reference(model, data, config, *cpuAlone);
        reference.train();

        std::vector<std::string> notes;
        FallbackExecutor exec(makeVulkanExecutor(), makeCpuExecutor(), [&notes](const std::string& why) { notes.push_back(why); });
        QCOMPARE(QString::fromStdString(exec.name()), QString("vulkan"));
        train::Trainer trainer(model, data, config, exec);
        std::vector<double> losses;
        for (int i = 0; i < 5; ++i) losses.push_back(trainer.runStep().loss);  // on the device
        vk::injectSubmitFailure(1);  // the device is lost at the next submission, and stays lost
        try {
            trainer.train([&losses](const train::StepReport& r) { losses.push_back(r.loss); });
        } catch (...) {
            vk::injectSubmitFailure(0);
            throw;
        }
        vk::injectSubmitFailure(0);

        QCOMPARE(trainer.step(), config.steps);
        QCOMPARE(int(losses.size()), int(config.steps));
        QVERIFY(exec.fellBack());
        QCOMPARE(QString::fromStdString(exec.name()), QString("cpu"));
        QCOMPARE(int(notes.size()), 1);  // told once
        const QString note = QString::fromStdString(notes.front());
        QVERIFY2(note.contains("VK_ERROR_DEVICE_LOST") && note.contains("CPU"), qPrintable(note));
        // The failed step ran again on the same batch: the parameters end where the CPU's do.
        for (const auto& [name, value] : reference.parameters()) {
            std::string why;
            QVERIFY2(test::allClose(trainer.parameters().at(name), value, 1e-3, 1e-4, &why), qPrintable(QString::fromStdString(name + ": " + why)));
        }
    }

    void deviceLostWithoutFallbackNamesTheStep() {
        const Graph model = loadGraphFile(test::sourcePath("resources/examples/spirals_mlp.json"));
        train::TrainerConfig config;
        config.steps = 10;
        auto vulkan = makeVulkanExecutor();
        train::Trainer trainer(model, train::makeDataset("spirals"), config, *vulkan);
        trainer.runStep();
        trainer.runStep();
        vk::injectSubmitFailure(1);
        QString message;
        try {
            trainer.train();
        } catch (const train::TrainingError& e) {
            message = e.what();
        }
        vk::injectSubmitFailure(0);
        QVERIFY2(message.contains("step 3") && message.contains("VK_ERROR_DEVICE_LOST"), qPrintable(message));
        QCOMPARE(trainer.step(), std::int64_t(2));  // nothing of the failed step was kept
    }

    void integerGraphFallsBackToTheCpuWithANote() {
        // the Vulkan backend has float32 tensors only: a graph of token ids runs on the CPU with
        // --fallback (and FallbackExecutor, as the GUI's training uses it), with a note saying why
        Graph g;
        const NodeId ids = g.addInput("ids", {3}, {}, DType::I64);
        const NodeId table = g.addParameter("table", Tensor::fromVector({4, 2}, {0, 1, 2, 3, 4, 5, 6, 7}));
        g.addOutput("y", {g.addNode(Op::Gather, {{table, 0}, {ids, 0}}, {{"axis", std::int64_t(0)}}, "lookup"), 0});
        const Bindings b{{"ids", Tensor::fromInts({3}, {3, 0, 3})}};
        auto vulkan = makeVulkanExecutor();
        try {
            vulkan->run(g, b);
            QFAIL("Vulkan ran an i64 graph");
        } catch (const BackendUnsupported& e) {
            QVERIFY2(QString(e.what()).contains("'ids'") && QString(e.what()).contains("i64"), e.what());
        }
        std::vector<std::string> notes;
        FallbackExecutor exec(makeVulkanExecutor(), makeCpuExecutor(), [&notes](const std::string& why) { notes.push_back(why); });
        QCOMPARE(exec.run(g, b).outputs.at(0).toVector(), (std::vector<float>{6, 7, 0, 1, 6, 7}));
        QVERIFY(exec.fellBack());
        QCOMPARE(int(notes.size()), 1);
        QVERIFY2(QString::fromStdString(notes.front()).contains("float32 tensors only") && QString::fromStdString(notes.front()).contains("CPU"),
                 notes.front().c_str());
        // the CLI: refused without --fallback (exit 1, naming the input), run on the CPU with it
        const QString file = QString::fromStdString(test::tempDir() + "/ids.json");
        saveGraphFile(g, file.toStdString());
        const QString idsFile = QString::fromStdString(test::tempDir() + "/ids.npy");
        writeNpy(idsFile.toStdString(), b.at("ids"));
        const QString out = QString::fromStdString(test::tempDir());
        auto r = test::runCli({"run", file, "--input", "ids=" + idsFile, "--backend", "vulkan", "--out", out});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("error:") && r.err.contains("'ids'"), qPrintable(r.err));
        r = test::runCli({"run", file, "--input", "ids=" + idsFile, "--backend", "vulkan", "--fallback", "--out", out});
        QVERIFY2(r.exitCode == 0 && r.err.contains("note:") && r.err.contains("float32 tensors only"), qPrintable(r.err));
    }

    void runAndGradNameTheDevice() {
        // the lecture's scalar function f(x1, x2): forward and gradient on Vulkan, against the CPU
        const QString graph = QString::fromStdString(test::sourcePath("resources/examples/scalar_function.json"));
        const QString in = QString::fromStdString(test::sourcePath("resources/examples/inputs/scalar_function/"));
        const QStringList inputs{"--input", "x1=" + in + "x1.npy", "--input", "x2=" + in + "x2.npy", "--json"};
        for (const QString& cmd : {QString("run"), QString("grad")}) {
            QStringList args{cmd, graph};
            if (cmd == "grad") args << "--of" << "f" << "--wrt" << "all";
            const QString dirCpu = QString::fromStdString(test::tempDir()), dirVk = QString::fromStdString(test::tempDir());
            const auto cpu = test::runCli(args + inputs + QStringList{"--out", dirCpu, "--backend", "cpu"});
            const auto vk = test::runCli(args + inputs + QStringList{"--out", dirVk, "--backend", "vulkan"});
            QVERIFY2(cpu.exitCode == 0, qPrintable(cpu.err));
            QVERIFY2(vk.exitCode == 0, qPrintable(vk.err));
            const QJsonObject j = parseLine(lines(vk.out).last());
            QCOMPARE(j["backend"].toString(), QString("vulkan"));
            QVERIFY2(!j["device"].toString().isEmpty(), qPrintable(vk.out));
            const QStringList files = QDir(dirCpu).entryList({"*.npy"}, QDir::Files);
            QVERIFY(!files.isEmpty());
            for (const QString& f : files) {
                const Tensor a = readNpy((dirCpu + "/" + f).toStdString()), b = readNpy((dirVk + "/" + f).toStdString());
                std::string why;
                QVERIFY2(test::allClose(b, a, 1e-4, 1e-5, &why), qPrintable(cmd + " " + f + ": " + QString::fromStdString(why)));
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestVulkanTraining)
#include "tst_vulkan_training.moc"
