#include "train/datasets.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "base/errors.h"
#include "base/files.h"
#include "base/rng.h"
#include "io/npy.h"

#ifndef ADJOINT_DATASET_DIR
#define ADJOINT_DATASET_DIR "resources/datasets"
#endif

namespace adj::train {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Point {
    double x0, x1;
    int label;
};

using PointGenerator = Point (*)(Rng&, std::int64_t index, std::int64_t count);

// Each generator makes point `index` of `count` (classes interleaved: index % classes).
Point spiralPoint(Rng& rng, std::int64_t index, std::int64_t count) {
    const int c = int(index % 2);
    const double t = rng.uniform();  // position along the arm
    const double r = 0.1 + 0.9 * t;
    const double a = 3.0 * kPi * t + c * kPi;  // one and a half turns, arms opposite
    (void)count;
    return {r * std::cos(a) + 0.02 * rng.normal(), r * std::sin(a) + 0.02 * rng.normal(), c};
}

Point moonPoint(Rng& rng, std::int64_t index, std::int64_t) {
    const int c = int(index % 2);
    const double a = kPi * rng.uniform();
    const double x = c == 0 ? std::cos(a) : 1.0 - std::cos(a);
    const double y = c == 0 ? std::sin(a) : 0.5 - std::sin(a);
    return {x + 0.1 * rng.normal(), y + 0.1 * rng.normal(), c};
}

Point circlePoint(Rng& rng, std::int64_t index, std::int64_t) {
    const int c = int(index % 2);
    const double a = 2.0 * kPi * rng.uniform();
    const double r = c == 0 ? 1.0 : 0.5;
    return {r * std::cos(a) + 0.05 * rng.normal(), r * std::sin(a) + 0.05 * rng.normal(), c};
}

Point xorPoint(Rng& rng, std::int64_t, std::int64_t) {
    const double x = rng.uniform(-1, 1), y = rng.uniform(-1, 1);
    return {x, y, (x > 0) != (y > 0) ? 1 : 0};
}

Point blobPoint(Rng& rng, std::int64_t index, std::int64_t) {
    static constexpr double centers[3][2] = {{-1.0, -0.5}, {1.0, -0.5}, {0.0, 1.2}};
    const int c = int(index % 3);
    return {centers[c][0] + 0.4 * rng.normal(), centers[c][1] + 0.4 * rng.normal(), c};
}

DataSplit makePoints(PointGenerator gen, std::int64_t n, std::uint64_t seed) {
    Rng rng(seed);
    DataSplit s;
    s.x = Tensor::empty({n, 2});
    s.labels.resize(std::size_t(n));
    float* x = s.x.data();
    for (std::int64_t i = 0; i < n; ++i) {
        const Point p = gen(rng, i, n);
        x[2 * i] = float(p.x0);
        x[2 * i + 1] = float(p.x1);
        s.labels[std::size_t(i)] = p.label;
    }
    return s;
}

Dataset makeGenerated(const std::string& name, PointGenerator gen, int classes, std::uint64_t seed) {
    Dataset d;
    d.name = name;
    d.numClasses = classes;
    d.train = makePoints(gen, 1000, seed);
    d.validation = makePoints(gen, 400, seed ^ 0x5A5A5A5A5A5A5A5Aull);
    return d;
}

DataSplit makeSine(std::int64_t n, std::uint64_t seed) {
    Rng rng(seed);
    DataSplit s;
    s.x = Tensor::empty({n, 1});
    s.targets = Tensor::empty({n, 1});
    for (std::int64_t i = 0; i < n; ++i) {
        const double x = rng.uniform(-kPi, kPi);
        s.x.data()[i] = float(x);
        s.targets.data()[i] = float(std::sin(x) + 0.05 * rng.normal());
    }
    return s;
}

std::vector<std::int64_t> splitPermutation(std::int64_t n) {
    std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) perm[std::size_t(i)] = i;
    Rng rng(kSplitSeed);
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(perm[std::size_t(i)], perm[rng.below(std::uint64_t(i + 1))]);
    return perm;
}

DataSplit takeRows(const Tensor& x, const std::vector<int>& labels, const Tensor& targets, const std::vector<std::int64_t>& rows) {
    DataSplit s;
    s.x = gatherRows(x, rows);
    if (targets.defined()) s.targets = gatherRows(targets, rows);
    for (std::int64_t r : rows)
        if (!labels.empty()) s.labels.push_back(labels[std::size_t(r)]);
    return s;
}

/// Splits rows by the fixed permutation: the first 80% train, the rest validation.
void splitRows(Dataset& d, const Tensor& x, const std::vector<int>& labels, const Tensor& targets) {
    const std::int64_t n = x.shape()[0];
    const auto perm = splitPermutation(n);
    std::int64_t nTrain = n < 5 ? n : n - n / 5;
    d.train = takeRows(x, labels, targets, {perm.begin(), perm.begin() + nTrain});
    d.validation = takeRows(x, labels, targets, {perm.begin() + nTrain, perm.end()});
}

std::string gunzipFile(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw Error(path + ": cannot open");
    std::string out;
    char buf[1 << 16];
    int got;
    while ((got = gzread(f, buf, sizeof buf)) > 0) out.append(buf, std::size_t(got));
    const bool bad = got < 0;
    gzclose(f);
    if (bad) throw Error(path + ": not a readable gzip file");
    return out;
}

/// Parses comma-separated numeric rows; a first line that does not parse is a header.
std::vector<std::vector<double>> parseCsv(const std::string& text, const std::string& where) {
    std::vector<std::vector<double>> rows;
    std::istringstream in(text);
    std::string line;
    std::size_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        std::vector<double> row;
        std::istringstream ls(line);
        std::string cell;
        bool ok = true;
        while (std::getline(ls, cell, ',')) {
            char* end = nullptr;
            const double v = std::strtod(cell.c_str(), &end);
            while (end && (*end == ' ' || *end == '\t')) ++end;
            if (end == cell.c_str() || (end && *end != '\0')) { ok = false; break; }
            row.push_back(v);
        }
        if (!ok) {
            if (rows.empty() && lineNo == 1) continue;  // header
            throw Error(where + ":" + std::to_string(lineNo) + ": not a row of numbers");
        }
        if (!rows.empty() && row.size() != rows.front().size())
            throw Error(where + ":" + std::to_string(lineNo) + ": " + std::to_string(row.size()) + " columns, the first row has " +
                        std::to_string(rows.front().size()));
        rows.push_back(std::move(row));
    }
    if (rows.empty()) throw Error(where + ": no data rows");
    if (rows.front().size() < 2) throw Error(where + ": needs at least two columns (features, then the label)");
    return rows;
}

Dataset datasetFromRows(const std::string& name, const std::vector<std::vector<double>>& rows) {
    const std::int64_t n = std::int64_t(rows.size()), d = std::int64_t(rows.front().size()) - 1;
    Tensor x = Tensor::empty({n, d}), y = Tensor::empty({n});
    for (std::int64_t i = 0; i < n; ++i) {
        for (std::int64_t j = 0; j < d; ++j) x.data()[i * d + j] = float(rows[std::size_t(i)][std::size_t(j)]);
        y.data()[i] = float(rows[std::size_t(i)][std::size_t(d)]);
    }
    return datasetFromArrays(name, x, y);
}

Dataset makeDigits(const std::string& dir) {
    const std::string path = (dir.empty() ? datasetDirectory() : dir) + "/digits.csv.gz";
    auto rows = parseCsv(gunzipFile(path), path);
    if (rows.front().size() != 65) throw Error(path + ": expected 64 pixels and a label per row");
    Dataset d = datasetFromRows("digits", rows);
    // pixels count 0..16 on-cells of a 4x4 block: scale to [0, 1]
    for (DataSplit* s : {&d.train, &d.validation})
        for (std::int64_t i = 0; i < s->x.numel(); ++i) s->x.data()[i] /= 16.0f;
    d.numClasses = 10;
    return d;
}

}  // namespace

std::vector<std::string> datasetNames() { return {"spirals", "moons", "circles", "xor", "blobs", "sine", "digits"}; }

std::string datasetDirectory() {
    if (const char* env = std::getenv("ADJOINT_DATASET_DIR"); env && *env) return env;
    // an installed program (make package) finds them beside itself: <prefix>/share/adjoint/datasets
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "adjoint" / "datasets";
        if (std::filesystem::is_directory(installed, ec)) return installed.string();
    }
    return ADJOINT_DATASET_DIR;
}

Dataset makeDataset(const std::string& name, const std::string& datasetDir) {
    if (name == "spirals") return makeGenerated(name, spiralPoint, 2, 101);
    if (name == "moons") return makeGenerated(name, moonPoint, 2, 102);
    if (name == "circles") return makeGenerated(name, circlePoint, 2, 103);
    if (name == "xor") return makeGenerated(name, xorPoint, 2, 104);
    if (name == "blobs") return makeGenerated(name, blobPoint, 3, 105);
    if (name == "sine") {
        Dataset d;
        d.name = name;
        d.train = makeSine(1000, 106);
        d.validation = makeSine(400, 106 ^ 0x5A5A5A5A5A5A5A5Aull);
        return d;
    }
    if (name == "digits") return makeDigits(datasetDir);
    std::string names;
    for (const auto& n : datasetNames()) names += (names.empty() ? "" : ", ") + n;
    throw Error("unknown dataset '" + name + "' (datasets: " + names + ")");
}

Dataset datasetFromArrays(const std::string& name, const Tensor& xIn, const Tensor& yIn) {
    if (xIn.rank() != 2) throw Error(name + ": features must be [N, D], got " + shapeToString(xIn.shape()));
    const std::int64_t n = xIn.shape()[0];
    if (n < 1) throw Error(name + ": no rows");
    const bool column = yIn.rank() == 1 || (yIn.rank() == 2 && yIn.shape()[1] == 1);
    if (yIn.rank() < 1 || yIn.rank() > 2 || yIn.shape()[0] != n)
        throw Error(name + ": labels must be [" + std::to_string(n) + "] or [" + std::to_string(n) + ", K] to match " + std::to_string(n) +
                    " feature rows, got " + shapeToString(yIn.shape()));
    const Tensor x = xIn.contiguous();
    const std::vector<float> y = yIn.toVector();
    for (float v : x.toVector())
        if (!std::isfinite(v)) throw Error(name + ": features hold a NaN or Inf");
    for (float v : y)
        if (!std::isfinite(v)) throw Error(name + ": labels hold a NaN or Inf");
    bool integral = column;
    int maxLabel = 0;
    for (float v : y) {
        if (v < 0 || v != std::floor(v) || v > 65535) integral = false;
        else maxLabel = std::max(maxLabel, int(v));
    }
    Dataset d;
    d.name = name;
    if (integral) {
        d.numClasses = maxLabel + 1;
        std::vector<int> labels(y.begin(), y.end());
        splitRows(d, x, labels, Tensor{});
    } else {
        Tensor t = Tensor::fromVector({n, column ? 1 : yIn.shape()[1]}, y);
        splitRows(d, x, {}, t);
    }
    return d;
}

Dataset loadNpyDataset(const std::string& xPath, const std::string& yPath) {
    return datasetFromArrays(xPath, readNpy(xPath), readNpy(yPath));
}

Dataset loadCsvDataset(const std::string& path) {
    std::string text;
    try {
        text = readFileBytes(path);
    } catch (const FileError&) {
        throw Error(path + ": cannot open");
    }
    return datasetFromRows(path, parseCsv(text, path));
}

Tensor gatherRows(const Tensor& xIn, const std::vector<std::int64_t>& rows) {
    const Tensor x = xIn.contiguous();
    const std::int64_t d = x.numel() / std::max<std::int64_t>(1, x.shape()[0]);
    Shape shape = x.shape();
    shape[0] = std::int64_t(rows.size());
    Tensor out = Tensor::empty(shape);
    for (std::size_t i = 0; i < rows.size(); ++i) std::copy_n(x.data() + rows[i] * d, d, out.data() + std::int64_t(i) * d);
    return out;
}

Tensor oneHot(const std::vector<int>& labels, int numClasses) {
    Tensor t = Tensor::zeros({std::int64_t(labels.size()), numClasses});
    for (std::size_t i = 0; i < labels.size(); ++i) t.data()[std::int64_t(i) * numClasses + labels[i]] = 1.0f;
    return t;
}

void normalizeFeatures(Dataset& d) {
    const std::int64_t n = d.train.size(), f = d.featureCount();
    for (std::int64_t j = 0; j < f; ++j) {
        float lo = d.train.x.data()[j], hi = lo;
        for (std::int64_t i = 0; i < n; ++i) lo = std::min(lo, d.train.x.data()[i * f + j]), hi = std::max(hi, d.train.x.data()[i * f + j]);
        for (DataSplit* s : {&d.train, &d.validation})
            for (std::int64_t i = 0; i < s->size(); ++i) {
                float& v = s->x.data()[i * f + j];
                v = hi > lo ? (v - lo) / (hi - lo) : 0.0f;
            }
    }
}

}  // namespace adj::train
