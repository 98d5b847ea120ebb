#pragma once
// Datasets for training: generated 2-D toy problems (spirals, moons, circles, xor, blobs), a 1-D
// regression (sine), the 8x8 handwritten digits (resources/datasets/digits.csv.gz), and user data
// (.npy features + labels, or a CSV file whose last column is the label).
//
// Generated datasets come from Rng (base/rng.h) with a fixed per-dataset seed (independent of the
// training seed, so every run sees the same data) and have a fixed held-out split: the training
// and validation points are drawn from the same distribution by separate streams. Digits and
// user data are split by a fixed permutation (seeded by kSplitSeed): the last 20% are held out.
//
// Classification sets carry integer labels 0..numClasses-1; the data pipeline turns them into
// one-hot float rows (or a single 0/1 column for a one-output binary model) when it builds a
// batch. Regression sets (numClasses == 0) carry float targets.
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace adj::train {

struct DataSplit {
    /// [n, features]
    Tensor x;
    /// Classification: the class of each row. Empty for regression.
    std::vector<int> labels;
    /// Regression: [n, outputs]. Undefined for classification.
    Tensor targets;
    std::int64_t size() const { return x.defined() ? x.shape()[0] : 0; }
};

struct Dataset {
    std::string name;
    DataSplit train;
    DataSplit validation;
    /// 0 for regression.
    int numClasses = 0;
    std::int64_t featureCount() const { return train.x.shape()[1]; }
    bool isClassification() const { return numClasses > 0; }
};

/// The seed of the fixed train/validation permutation of digits and user data.
inline constexpr std::uint64_t kSplitSeed = 20260101;

/// Names accepted by makeDataset.
std::vector<std::string> datasetNames();

/// Builds a named dataset. Throws adj::Error naming the dataset when unknown, or when the digits
/// file cannot be read. `datasetDir` locates digits.csv.gz (empty: datasetDirectory()).
Dataset makeDataset(const std::string& name, const std::string& datasetDir = {});

/// resources/datasets: the ADJOINT_DATASET_DIR environment variable when set, else the installed
/// copy beside the program (<prefix>/share/adjoint/datasets), else the source tree's directory
/// compiled in.
std::string datasetDirectory();

/// User data: features [n, d] and labels [n] or [n, 1] (integers >= 0: classification with
/// max+1 classes; any non-integer value: regression with [n, 1] targets; [n, k] with k > 1:
/// regression targets). Throws adj::Error naming the file and the problem.
Dataset datasetFromArrays(const std::string& name, const Tensor& x, const Tensor& y);
Dataset loadNpyDataset(const std::string& xPath, const std::string& yPath);
/// A CSV file of numbers (an optional header line is skipped when it does not parse); the last
/// column is the label.
Dataset loadCsvDataset(const std::string& path);

/// Features of the given rows, [rows, d].
Tensor gatherRows(const Tensor& x, const std::vector<std::int64_t>& rows);
/// One-hot rows [labels.size(), numClasses].
Tensor oneHot(const std::vector<int>& labels, int numClasses);

/// Scales every feature column to [0, 1] with the training split's min and max (applied to both
/// splits; constant columns become 0).
void normalizeFeatures(Dataset& d);

}  // namespace adj::train
