// adjoint-cli export: the graph (or its backward graph, or its optimized form) as a file of the
// kind its extension names (io/graph_file.h); a .py file is a PyTorch module, and --train adds
// the script that trains it as `train` would, under torchrun too (train/pytorch_training_script.h).
#include <filesystem>
#include <ostream>

#include "autodiff/reverse_mode.h"
#include "base/errors.h"
#include "base/files.h"
#include "commands.h"
#include "io/graph_file.h"
#include "io/npy.h"
#include "io/pytorch_export.h"
#include "train/pytorch_training_script.h"
#include "training_options.h"

namespace adj::cli {

namespace {

/// --train: the training script beside the module, and the training split of the data the
/// options name (if any) as <stem>_x.npy and <stem>_y.npy. Returns the files written.
std::vector<std::string> writeTrainingScript(const Args& args, const Graph& model, const std::string& modulePath) {
    const std::filesystem::path module(modulePath);
    const std::string stem = module.stem().string();
    auto beside = [&](const std::string& name) { return (module.parent_path() / name).string(); };
    if (model.inputNodes().size() != 1 || model.outputs().size() != 1)
        throw BadInput("export --train needs a model graph with one input (the features) and one output (the predictions); this one has " +
                       std::to_string(model.inputNodes().size()) + " inputs and " + std::to_string(model.outputs().size()) + " outputs");
    const train::TrainerConfig config = trainerConfigFromArgs(args);
    train::PyTorchTrainingOptions options;
    options.moduleName = stem;
    options.optimizer = config.optimizer;
    options.steps = config.steps;
    options.batch = config.batchSize;
    options.seed = config.seed;
    options.loss = train::LossKind::CrossEntropy;
    std::vector<std::string> written;
    if (args.has("--dataset") || args.has("--data") || args.has("--csv")) {
        const train::Dataset data = trainingDataFromArgs(args);
        options.loss = trainingLossFromArgs(args, data);
        options.classLabels = data.isClassification();
        options.dataFile = stem + "_x.npy";
        options.labelsFile = stem + "_y.npy";
        Tensor labels = data.train.targets;
        if (data.isClassification())
            labels = Tensor::fromInts({data.train.size()}, std::vector<std::int64_t>(data.train.labels.begin(), data.train.labels.end()));
        try {
            writeNpy(beside(options.dataFile), data.train.x);
            writeNpy(beside(options.labelsFile), labels);
        } catch (const Error& e) {
            throw BadInput(e.what());
        }
        written = {beside(options.dataFile), beside(options.labelsFile)};
    } else if (auto l = args.value("--loss")) {
        auto k = train::parseLossKind(*l);
        if (!k) throw UsageError("--loss must be cross-entropy or mse, got '" + *l + "'");
        options.loss = *k;
        options.classLabels = *k != train::LossKind::MeanSquaredError;
    }
    const std::string script = beside(stem + "_train.py");
    try {
        writeFileAtomically(script, train::pytorchTrainingScript(options));
    } catch (const Error& e) {
        throw BadInput(e.what());
    }
    written.insert(written.begin(), script);
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
    DotOptions drawing;
    if (args.has("--backward")) drawing.layBackwardPassUpwards(g, forwardNodes);
    saveGraphOrFail(g, *outPath, drawing);
    ctx.out << "wrote " << *outPath << "\n";
    if (graphFileKindFromExtension(*outPath) == GraphFileKind::PyTorch) ctx.out << "wrote " << pytorchParametersPath(*outPath) << "\n";
    if (train)
        for (const auto& f : writeTrainingScript(args, g, *outPath)) ctx.out << "wrote " << f << "\n";
    return kOk;
}

}  // namespace adj::cli
