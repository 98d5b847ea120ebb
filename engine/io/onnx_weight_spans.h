#pragma once
// Reading a model without protobuf copying its weights (engine-internal). A parsed ModelProto
// holds every initializer's raw_data in a std::string of its own: for a 500 MB VGG, 500 MB of
// fresh memory, written page by page (130,000 page faults, more than a second), before the
// importer copies it once more into tensors. Instead, the graph's large initializers are cut
// out of the bytes before parsing (the wire format is simple enough to rewrite at that level)
// and their data is read straight from the file's bytes (a mapped file: the page cache) when the
// importer builds their tensors: one copy in all.
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace onnx {
class TensorProto;  // (onnx/onnx_pb.h; not included here, so that tests can use the cutter alone)
}

namespace adj::onnx_io {

/// raw_data fields of at least this many bytes are cut out.
inline constexpr std::size_t kWeightSpanMinBytes = 64 * 1024;

/// Copies a serialized ModelProto leaving out the raw_data of the main graph's initializers of
/// kWeightSpanMinBytes or more, and lists where each of those lies in `bytes`, by initializer
/// index (in the order protobuf reads them). False when the bytes are not well-formed protobuf
/// on the way (the caller then parses them whole and protobuf names the problem); the outputs
/// are then unspecified.
bool cutInitializerData(std::string_view bytes, std::string& cut, std::vector<std::pair<int, std::string_view>>& spans);

/// The data cut out of a parsed model's initializers, by TensorProto.
using WeightSpans = std::unordered_map<const onnx::TensorProto*, std::string_view>;

/// While alive, rawData and hasRawData on this thread see `spans` (one import at a time).
class ScopedWeightSpans {
public:
    explicit ScopedWeightSpans(const WeightSpans* spans);
    ~ScopedWeightSpans();
    ScopedWeightSpans(const ScopedWeightSpans&) = delete;
    ScopedWeightSpans& operator=(const ScopedWeightSpans&) = delete;

private:
    const WeightSpans* previous_;
};

/// A tensor's raw_data: its own field, or the bytes cut out of it (ScopedWeightSpans).
std::string_view rawData(const onnx::TensorProto& t);
bool hasRawData(const onnx::TensorProto& t);

}  // namespace adj::onnx_io
