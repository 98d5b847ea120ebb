// adjoint-cli export: the graph (or its backward graph, or its optimized form) as a file of the
// kind its extension names (io/graph_file.h); a .py file is a PyTorch module, and --train adds
// the script that trains it as `train` would, under torchrun too (train/pytorch_training_script.h).
#include <filesystem>
#include <optional>
#include <ostream>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "base/files.h"
#include "commands.h"
#include "io/graph_file.h"
#include "io/npy.h"
#include "io/pytorch_export.h"
#include "runtime/executor.h"
#include "train/pytorch_training_script.h"
#include "train/trainer.h"
#include "training_options.h"

namespace adj::cli {

namespace {

/// What --train writes, checked before anything is written.
struct TrainingExport {
    train::PyTorchTrainingOptions options;
    std::optional<train::Dataset> data;  // the data the options name, if any
};

/// --train's options, the data they name and the model checked as `train` checks them (a
/// Trainer is built on the data, so that export --train accepts what train accepts).
TrainingExport prepareTrainingExport(const Args& args, const Graph& model, const std::string& graphPath, const std::string& modulePath) {
    if (model.inputNodes().size() != 1 || model.outputs().size() != 1)
        throw BadInput(graphPath + ": export --train needs a model graph with one input (the features) and one output (the predictions); this one has " +
                       std::to_string(model.inputNodes().size()) + " inputs and " + std::to_string(model.outputs().size()) + " outputs");
    train::TrainerConfig config = trainerConfigFromArgs(args);
    TrainingExport t;
    const std::string stem = std::filesystem::path(modulePath).stem().string();
    t.options.moduleName = stem;
    t.options.optimizer = config.optimizer;
    t.options.steps = config.steps;
    t.options.batch = config.batchSize;
    t.options.seed = config.seed;
    if (args.has("--dataset") || args.has("--data") || args.has("--csv")) {
        t.data = trainingDataFromArgs(args);
        config.loss = trainingLossFromArgs(args, *t.data);
        try {
            auto cpu = makeCpuExecutor();
            train::Trainer check(model, *t.data, config, *cpu);
        } catch (const Error& e) {
            throw BadInput(graphPath + ": " + e.what());
        }
        t.options.loss = config.loss;
        t.options.classLabels = t.data->isClassification();
        t.options.dataFile = stem + "_x.npy";
        t.options.labelsFile = stem + "_y.npy";
    } else if (auto l = args.value("--loss")) {
        auto k = train::parseLossKind(*l);
        if (!k) throw UsageError("--loss must be cross-entropy or mse, got '" + *l + "'");
        t.options.loss = *k;
        t.options.classLabels = *k != train::LossKind::MeanSquaredError;
    }
    return t;
}

/// The training script beside the module, and the training split of the data (if any) as
/// <stem>_x.npy and <stem>_y.npy. Returns the files written.
std::vector<std::string> writeTrainingExport(const TrainingExport& t, const std::string& modulePath) {
    auto beside = [&](const std::string& name) { return (std::filesystem::path(modulePath).parent_path() / name).string(); };
    std::vector<std::string> written{beside(t.options.moduleName + "_train.py")};
    try {
        if (t.data) {
            const train::DataSplit& split = t.data->train;
            Tensor labels = split.targets;
            if (t.data->isClassification())
                labels = Tensor::fromInts({split.size()}, std::vector<std::int64_t>(split.labels.begin(), split.labels.end()));
            writeNpy(beside(t.options.dataFile), split.x);
            writeNpy(beside(t.options.labelsFile), labels);
            written.push_back(beside(t.options.dataFile));
            written.push_back(beside(t.options.labelsFile));
        }
        writeFileAtomically(written.front(), train::pytorchTrainingScript(t.options));
    } catch (const Error& e) {
        throw BadInput(e.what());
    }
    return written;
}

}  // namespace

int cmdExport(const std::vector<std::string>& argv, Context& ctx) {
    std::vector<OptionSpec> specs = trainingOptionSpecs();
    specs.insert(specs.end(), {{"--output", true, false, "-o"}, {"--backward", false}, {"--of"}, {"--optimized", true, false, "", true},
                               {"--train", false}});
    Args args(argv, specs);
    const std::string path = graphArgument(args, "export");
    auto outPath = args.value("--output");
    if (!outPath) throw UsageError("export needs -o FILE");
    const bool train = args.has("--train");
    if (train && graphFileKindFromExtension(*outPath) != GraphFileKind::PyTorch)
        throw UsageError("--train writes a PyTorch training script beside a PyTorch module: -o must name a .py file");
    if (train && args.has("--backward")) throw UsageError("--train trains the forward graph: leave out --backward");
    for (const auto& spec : trainingOptionSpecs())
        if (!train && args.has(spec.name)) throw UsageError(spec.name + " goes with --train");
    Graph g = loadCheckedGraph(path);
    std::vector<NodeId> forwardNodes;  // of a backward graph: drawn going down, its backward pass going up
    if (args.has("--backward")) {
        // the backward graph of the output named by --of, or of the graph's first scalar output
        std::string of;
        if (args.has("--of")) of = outputArgument(args, g);
        else
            for (const auto& o : g.outputs())
                if (of.empty() && numel(g.type(o.value).shape) == 1) of = o.name;
        if (of.empty()) throw BadInput(path + ": export --backward needs a scalar output; name one with --of");
        try {
            BackwardGraph backward = buildBackward(g, of, {});
            g = std::move(backward.graph);
            forwardNodes = std::move(backward.forwardNodes);
        } catch (const Error& e) {
            throw BadInput(path + ": " + e.what());
        }
    }
    if (args.has("--optimized")) optimizeOrFail(g, optimizeOptionsFrom(args.value("--optimized").value_or(""), ""), path);
    std::optional<TrainingExport> training;  // checked before anything is written
    if (train) training = prepareTrainingExport(args, g, path, *outPath);
    DotOptions drawing;
    if (args.has("--backward")) drawing.layBackwardPassUpwards(g, forwardNodes);
    saveGraphOrFail(g, *outPath, drawing);
    ctx.out << "wrote " << *outPath << "\n";
    if (graphFileKindFromExtension(*outPath) == GraphFileKind::PyTorch) ctx.out << "wrote " << pytorchParametersPath(*outPath) << "\n";
    if (training)
        for (const auto& f : writeTrainingExport(*training, *outPath)) ctx.out << "wrote " << f << "\n";
    return kOk;
}

}  // namespace adj::cli
