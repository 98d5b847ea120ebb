#pragma once
// What ONNX import and export share (engine-internal; Qt-free, includes ONNX's generated protobuf
// classes). Public entry points are in onnx_import.h and onnx_export.h.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/onnx_weight_spans.h"
#include "tensor/tensor.h"

namespace adj::onnx_io {

/// The opset the exporter writes, and the range the importer reads (default domain).
inline constexpr std::int64_t kExportOpset = 17;
inline constexpr std::int64_t kImportOpsetMin = 11;
inline constexpr std::int64_t kImportOpsetMax = 17;
/// IR version matching opset 17 (ONNX 1.12).
inline constexpr std::int64_t kExportIrVersion = 8;
/// The custom domain for the derivative ops that have no ONNX equivalent (docs/ONNX.md).
inline constexpr const char* kAdjointDomain = "ai.adjoint";
/// ONNX's training domain, whose optimizers (Adagrad, Momentum, Adam) the importer reads.
inline constexpr const char* kTrainingDomain = "ai.onnx.preview.training";
inline constexpr std::int64_t kAdjointDomainVersion = 1;
/// metadata_props key prefix: "adjoint.declared_shape.<input>" = "3,5,16" keeps the declared
/// sizes of an input with dynamic dimensions (the importer's defaults for them, 1 without it).
inline constexpr const char* kDeclaredShapeKey = "adjoint.declared_shape.";
/// metadata_props key prefix: "adjoint.output_name.<onnx output>" = the graph output's own name,
/// when the exporter had to rename it (an input of the same name; ONNX has one namespace).
inline constexpr const char* kOutputNameKey = "adjoint.output_name.";
/// protobuf cannot read messages of 2 GiB or more.
inline constexpr std::int64_t kMaxModelBytes = (std::int64_t(1) << 31) - 1;

/// Parses a serialized ModelProto with protobuf's limits (total size, recursion depth). Throws
/// FormatError "<where>: ..." when the bytes are empty, not a protobuf message, or not a model.
/// With `spans`, the large initializers' data is left in `bytes` (onnx_weight_spans.h): `bytes`
/// must then outlive every read of the model's tensors (under ScopedWeightSpans).
void parseModel(std::string_view bytes, const std::string& where, onnx::ModelProto& model, WeightSpans* spans = nullptr);

/// "FLOAT", "INT64", ... for a TensorProto data type.
std::string dataTypeName(int dataType);

/// A tensor's dims after the checks every reader needs: each dim >= 0, rank <= kMaxRank and the
/// element count sane (shapeIsSane). Throws FormatError "<what>: ..." otherwise.
Shape tensorShape(const onnx::TensorProto& t, const std::string& what);

/// Checks a tensor's data against its dims without reading it: external data, the byte count of
/// raw_data or the value count of the typed field. Returns the shape (see tensorShape).
Shape checkTensorData(const onnx::TensorProto& t, const std::string& what);

/// Reads a FLOAT or DOUBLE tensor's data as a contiguous F32 tensor; checks the data size against
/// the dims before allocating anything. Throws FormatError "<what>: ..." (external data, wrong
/// size, other types).
Tensor readFloatTensor(const onnx::TensorProto& t, const std::string& what);

/// Reads an integer or BOOL tensor's data (INT8 to UINT64, BOOL) as int64 values, at most
/// `maxElements` of them. Throws FormatError "<what>: ..." as readFloatTensor does.
std::vector<std::int64_t> readIntTensor(const onnx::TensorProto& t, const std::string& what, std::int64_t maxElements);

bool isFloatType(int dataType);
bool isIntegerType(int dataType);  // the integer types and BOOL

/// Our element type for an ONNX data type (FLOAT16 f16, UINT8 u8, BOOL bool...); nullopt for
/// STRING, complex and the others we have no type for.
std::optional<DType> dtypeOfOnnx(int dataType);
/// ONNX's data type for ours.
int onnxDataType(DType t);

}  // namespace adj::onnx_io
