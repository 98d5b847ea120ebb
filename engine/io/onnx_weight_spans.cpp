#include "io/onnx_weight_spans.h"

#include <onnx/onnx_pb.h>

#include <cstdint>

namespace adj::onnx_io {

namespace {

thread_local const WeightSpans* tCurrent = nullptr;

// ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.raw_data = 9 (onnx.proto).
constexpr std::uint32_t kModelGraph = 7, kGraphInitializer = 5, kTensorRawData = 9;
constexpr int kLengthDelimited = 2;

/// A reader of protobuf's wire format over a byte range; every read checks its bounds.
struct Wire {
    const char* p;
    const char* end;

    bool varint(std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p == end) return false;
            const auto b = std::uint8_t(*p++);
            v |= std::uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return true;
        }
        return false;
    }
    /// One field: its number, wire type, and the whole field's bytes (tag included); for a
    /// length-delimited field also its payload.
    bool field(std::uint32_t& number, int& type, std::string_view& whole, std::string_view& payload) {
        const char* start = p;
        std::uint64_t tag;
        if (!varint(tag) || tag >> 3 == 0 || tag >> 3 > 0x1fffffff) return false;
        number = std::uint32_t(tag >> 3);
        type = int(tag & 7);
        payload = {};
        switch (type) {
            case 0: {
                std::uint64_t ignored;
                if (!varint(ignored)) return false;
                break;
            }
            case 1:
                if (end - p < 8) return false;
                p += 8;
                break;
            case 5:
                if (end - p < 4) return false;
                p += 4;
                break;
            case kLengthDelimited: {
                std::uint64_t n;
                if (!varint(n) || n > std::uint64_t(end - p)) return false;
                payload = std::string_view(p, std::size_t(n));
                p += n;
                break;
            }
            default: return false;  // groups (3, 4) and unknown types: let protobuf judge
        }
        whole = std::string_view(start, std::size_t(p - start));
        return true;
    }
};

void putVarint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(char(std::uint8_t(v) | 0x80));
        v >>= 7;
    }
    out.push_back(char(v));
}

void putMessage(std::string& out, std::uint32_t number, const std::string& body) {
    putVarint(out, (std::uint64_t(number) << 3) | kLengthDelimited);
    putVarint(out, body.size());
    out += body;
}

/// A TensorProto without its raw_data when that is large: the data's place in `span`. (A tensor
/// with raw_data more than once, where protobuf keeps the last, is left whole.)
bool cutTensor(std::string_view bytes, std::string& out, std::string_view& span) {
    Wire w{bytes.data(), bytes.data() + bytes.size()};
    span = {};
    int rawFields = 0;
    while (w.p != w.end) {
        std::uint32_t number;
        int type;
        std::string_view whole, payload;
        if (!w.field(number, type, whole, payload)) return false;
        if (number == kTensorRawData) ++rawFields;
        if (number == kTensorRawData && type == kLengthDelimited && payload.size() >= kWeightSpanMinBytes) {
            span = payload;
            continue;
        }
        out += whole;
    }
    if (rawFields > 1 && !span.empty()) {
        out.assign(bytes.data(), bytes.size());
        span = {};
    }
    return true;
}

/// Copies a message's fields to `out`, except each length-delimited field `number`, whose payload
/// `rewrite(payload, body)` turns into the body written in its place. False on malformed bytes or
/// when `rewrite` fails.
template <typename Rewrite>
bool rewriteField(std::string_view bytes, std::uint32_t number, std::string& out, Rewrite&& rewrite) {
    Wire w{bytes.data(), bytes.data() + bytes.size()};
    while (w.p != w.end) {
        std::uint32_t n;
        int type;
        std::string_view whole, payload;
        if (!w.field(n, type, whole, payload)) return false;
        if (n == number && type == kLengthDelimited) {
            std::string body;
            if (!rewrite(payload, body)) return false;
            putMessage(out, n, body);
            continue;
        }
        out += whole;
    }
    return true;
}

}  // namespace

bool cutInitializerData(std::string_view bytes, std::string& cut, std::vector<std::pair<int, std::string_view>>& spans) {
    cut.clear();
    spans.clear();
    int index = 0;  // initializers of every occurrence of the graph field, as protobuf merges them
    return rewriteField(bytes, kModelGraph, cut, [&](std::string_view graph, std::string& graphOut) {
        return rewriteField(graph, kGraphInitializer, graphOut, [&](std::string_view tensor, std::string& tensorOut) {
            std::string_view span;
            if (!cutTensor(tensor, tensorOut, span)) return false;
            if (!span.empty()) spans.emplace_back(index, span);
            ++index;
            return true;
        });
    });
}

ScopedWeightSpans::ScopedWeightSpans(const WeightSpans* spans) : previous_(tCurrent) { tCurrent = spans; }
ScopedWeightSpans::~ScopedWeightSpans() { tCurrent = previous_; }

std::string_view rawData(const onnx::TensorProto& t) {
    if (tCurrent)
        if (auto it = tCurrent->find(&t); it != tCurrent->end()) return it->second;
    return t.raw_data();
}

bool hasRawData(const onnx::TensorProto& t) {
    if (tCurrent && tCurrent->count(&t)) return true;
    return t.has_raw_data();
}

}  // namespace adj::onnx_io
