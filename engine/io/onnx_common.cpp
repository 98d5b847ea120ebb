#include "io/onnx_common.h"

#include <google/protobuf/io/coded_stream.h>

#include <cstring>

#include "base/errors.h"
#include "io/onnx_weight_spans.h"

namespace adj::onnx_io {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& msg) { throw FormatError(what + ": " + msg); }

/// Bytes per element of the raw_data of a type; 0 for types without a fixed size.
std::size_t rawElementSize(int t) {
    using T = onnx::TensorProto;
    switch (t) {
        case T::FLOAT: case T::INT32: case T::UINT32: return 4;
        case T::DOUBLE: case T::INT64: case T::UINT64: return 8;
        case T::INT16: case T::UINT16: case T::FLOAT16: case T::BFLOAT16: return 2;
        case T::INT8: case T::UINT8: case T::BOOL: return 1;
        default: return 0;
    }
}

void rejectExternal(const onnx::TensorProto& t, const std::string& what) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
        fail(what, "its data is stored in an external file, which this importer does not read (save the model with its data inside)");
    if (t.has_segment()) fail(what, "segmented tensors are not supported");
}

std::string sizeText(std::int64_t have, std::int64_t want, const Shape& shape, const char* unit) {
    return "has " + std::to_string(have) + " " + unit + " of data, but dims " + shapeToString(shape) + " need " + std::to_string(want);
}

}  // namespace

namespace {
void parseWhole(std::string_view bytes, const std::string& where, onnx::ModelProto& model) {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()), int(bytes.size()));
    in.SetTotalBytesLimit(int(bytes.size()));
    in.SetRecursionLimit(64);
    if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
        fail(where, "not an ONNX model (the bytes do not parse as an ONNX ModelProto; the file may be truncated or of another kind)");
}
}  // namespace

void parseModel(std::string_view bytes, const std::string& where, onnx::ModelProto& model, WeightSpans* spans) {
    if (bytes.empty()) fail(where, "the file is empty (not an ONNX model)");
    if (std::int64_t(bytes.size()) > kMaxModelBytes) fail(where, "the file is 2 GiB or larger, more than protobuf can read");
    std::string cut;
    std::vector<std::pair<int, std::string_view>> cuts;
    if (spans && cutInitializerData(bytes, cut, cuts) && !cuts.empty()) {
        parseWhole(cut, where, model);
        spans->clear();
        for (const auto& [index, data] : cuts) {
            if (index >= model.graph().initializer_size()) {  // (cannot be: the same bytes, read the same way)
                spans->clear();
                model.Clear();
                parseWhole(bytes, where, model);
                break;
            }
            (*spans)[&model.graph().initializer(index)] = data;
        }
    } else {
        parseWhole(bytes, where, model);
    }
    if (!model.has_graph()) fail(where, "not an ONNX model (it has no graph)");
    if (model.ir_version() <= 0) fail(where, "not an ONNX model (ir_version is missing)");
}

std::string dataTypeName(int t) {
    if (onnx::TensorProto_DataType_IsValid(t)) return onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(t));
    return "type " + std::to_string(t);
}

bool isFloatType(int t) { return t == onnx::TensorProto::FLOAT || t == onnx::TensorProto::DOUBLE; }

namespace {
struct TypePair {
    int onnx;
    DType ours;
};
constexpr TypePair kTypePairs[] = {
    {onnx::TensorProto::FLOAT, DType::F32},  {onnx::TensorProto::DOUBLE, DType::F64}, {onnx::TensorProto::FLOAT16, DType::F16},
    {onnx::TensorProto::BFLOAT16, DType::BF16}, {onnx::TensorProto::INT64, DType::I64}, {onnx::TensorProto::INT32, DType::I32},
    {onnx::TensorProto::INT16, DType::I16},  {onnx::TensorProto::INT8, DType::I8},    {onnx::TensorProto::UINT64, DType::U64},
    {onnx::TensorProto::UINT32, DType::U32}, {onnx::TensorProto::UINT16, DType::U16}, {onnx::TensorProto::UINT8, DType::U8},
    {onnx::TensorProto::BOOL, DType::Bool}};
}  // namespace

std::optional<DType> dtypeOfOnnx(int dataType) {
    for (const TypePair& p : kTypePairs)
        if (p.onnx == dataType) return p.ours;
    return std::nullopt;
}

int onnxDataType(DType t) {
    for (const TypePair& p : kTypePairs)
        if (p.ours == t) return p.onnx;
    return onnx::TensorProto::UNDEFINED;
}

bool isIntegerType(int t) {
    using T = onnx::TensorProto;
    switch (t) {
        case T::INT8: case T::UINT8: case T::INT16: case T::UINT16: case T::INT32: case T::UINT32: case T::INT64: case T::UINT64:
        case T::BOOL: return true;
        default: return false;
    }
}

Shape tensorShape(const onnx::TensorProto& t, const std::string& what) {
    if (t.dims_size() > kMaxRank) fail(what, "has " + std::to_string(t.dims_size()) + " dimensions, more than " + std::to_string(kMaxRank));
    Shape s;
    for (auto d : t.dims()) {
        if (d < 0) fail(what, "has a negative dimension (" + std::to_string(d) + ")");
        s.push_back(d);
    }
    if (!shapeIsSane(s)) fail(what, "dims " + shapeToString(s) + " are too large");
    return s;
}

Shape checkTensorData(const onnx::TensorProto& t, const std::string& what) {
    using T = onnx::TensorProto;
    rejectExternal(t, what);
    const int type = t.data_type();
    const Shape shape = tensorShape(t, what);
    const std::int64_t n = numel(shape);
    if (hasRawData(t)) {
        const std::size_t elem = rawElementSize(type);
        const auto have = std::int64_t(rawData(t).size());
        if (elem && have != n * std::int64_t(elem)) fail(what, sizeText(have, n * std::int64_t(elem), shape, "bytes"));
        return shape;
    }
    std::int64_t have = -1;
    switch (type) {
        case T::FLOAT: have = t.float_data_size(); break;
        case T::DOUBLE: have = t.double_data_size(); break;
        case T::INT64: have = t.int64_data_size(); break;
        case T::UINT32: case T::UINT64: have = t.uint64_data_size(); break;
        case T::INT8: case T::UINT8: case T::INT16: case T::UINT16: case T::INT32: case T::BOOL: case T::FLOAT16: case T::BFLOAT16:
            have = t.int32_data_size();
            break;
        case T::STRING: have = t.string_data_size(); break;
        default: break;
    }
    if (have >= 0 && have != n) fail(what, sizeText(have, n, shape, "values"));
    return shape;
}

Tensor readFloatTensor(const onnx::TensorProto& t, const std::string& what) {
    rejectExternal(t, what);
    const int type = t.data_type();
    if (!isFloatType(type)) fail(what, "has data type " + dataTypeName(type) + " where FLOAT is expected");
    const Shape shape = tensorShape(t, what);
    const std::int64_t n = numel(shape);
    Tensor out;
    if (hasRawData(t)) {
        const std::size_t elem = rawElementSize(type);
        const auto have = std::int64_t(rawData(t).size());
        if (have != n * std::int64_t(elem)) fail(what, sizeText(have, n * std::int64_t(elem), shape, "bytes"));
        out = Tensor::empty(shape);
        float* d = out.data();
        if (type == onnx::TensorProto::FLOAT) {
            if (n) std::memcpy(d, rawData(t).data(), std::size_t(n) * 4);
        } else {
            for (std::int64_t i = 0; i < n; ++i) {
                double v;
                std::memcpy(&v, rawData(t).data() + i * 8, 8);
                d[i] = float(v);
            }
        }
        return out;
    }
    const std::int64_t have = type == onnx::TensorProto::FLOAT ? t.float_data_size() : t.double_data_size();
    if (have != n) fail(what, sizeText(have, n, shape, "values"));
    out = Tensor::empty(shape);
    float* d = out.data();
    for (std::int64_t i = 0; i < n; ++i) d[i] = type == onnx::TensorProto::FLOAT ? t.float_data(int(i)) : float(t.double_data(int(i)));
    return out;
}

std::vector<std::int64_t> readIntTensor(const onnx::TensorProto& t, const std::string& what, std::int64_t maxElements) {
    using T = onnx::TensorProto;
    rejectExternal(t, what);
    const int type = t.data_type();
    if (!isIntegerType(type)) fail(what, "has data type " + dataTypeName(type) + " where an integer type is expected");
    const Shape shape = checkTensorData(t, what);
    const std::int64_t n = numel(shape);
    if (n > maxElements)
        fail(what, "is an integer tensor of " + std::to_string(n) + " elements; integer tensors (shapes, axes, indices) are limited to " +
                       std::to_string(maxElements));
    std::vector<std::int64_t> out;
    if (hasRawData(t)) {
        const std::size_t elem = rawElementSize(type);
        const auto have = std::int64_t(rawData(t).size());
        if (have != n * std::int64_t(elem)) fail(what, sizeText(have, n * std::int64_t(elem), shape, "bytes"));
        const char* p = rawData(t).data();
        out.resize(std::size_t(n));
        for (std::int64_t i = 0; i < n; ++i) {
            const char* e = p + i * std::int64_t(elem);
            std::int64_t v = 0;
            switch (type) {
                case T::INT8: { std::int8_t x; std::memcpy(&x, e, 1); v = x; break; }
                case T::UINT8: case T::BOOL: { std::uint8_t x; std::memcpy(&x, e, 1); v = x; break; }
                case T::INT16: { std::int16_t x; std::memcpy(&x, e, 2); v = x; break; }
                case T::UINT16: { std::uint16_t x; std::memcpy(&x, e, 2); v = x; break; }
                case T::INT32: { std::int32_t x; std::memcpy(&x, e, 4); v = x; break; }
                case T::UINT32: { std::uint32_t x; std::memcpy(&x, e, 4); v = x; break; }
                case T::INT64: { std::memcpy(&v, e, 8); break; }
                case T::UINT64: {
                    std::uint64_t x;
                    std::memcpy(&x, e, 8);
                    if (x > std::uint64_t(INT64_MAX)) fail(what, "holds a UINT64 value too large for int64");
                    v = std::int64_t(x);
                    break;
                }
                default: break;
            }
            out[std::size_t(i)] = v;
        }
        return out;
    }
    if (type == T::INT64) {
        if (t.int64_data_size() != n) fail(what, sizeText(t.int64_data_size(), n, shape, "values"));
        out.assign(t.int64_data().begin(), t.int64_data().end());
    } else if (type == T::UINT32 || type == T::UINT64) {
        if (t.uint64_data_size() != n) fail(what, sizeText(t.uint64_data_size(), n, shape, "values"));
        for (auto v : t.uint64_data()) {
            if (v > std::uint64_t(INT64_MAX)) fail(what, "holds a value too large for int64");
            out.push_back(std::int64_t(v));
        }
    } else {
        if (t.int32_data_size() != n) fail(what, sizeText(t.int32_data_size(), n, shape, "values"));
        out.assign(t.int32_data().begin(), t.int32_data().end());
    }
    return out;
}

}  // namespace adj::onnx_io
