#pragma once
// What the JSON graph reader and writer share (json_format_reader.cpp, json_format_writer.cpp):
// the format's name and version, JSON text in and out (nesting limit, messages, the file's
// layout), base64 and float32 conversion. Not a public header: see json_format.h.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace adj::json_io {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

inline constexpr const char* kFormatName = "adjoint-graph";
inline constexpr std::int64_t kFormatVersion = 1;
/// Tensors in a sidecar file start at multiples of this many bytes.
inline constexpr std::size_t kSidecarAlign = 64;
/// Deepest nesting of arrays and objects a file may have.
inline constexpr int kMaxNesting = 64;

/// 'text', for messages.
std::string sq(const std::string& s);
/// A JSON value in a message: compact, cut after 60 characters.
std::string brief(const json& j);
/// An integer JSON number that fits in int64.
bool asInt64(const json& j, std::int64_t& out);

/// Largest |double| that rounds to a finite float32 (FLT_MAX plus just under half an ulp).
inline constexpr double kFloatLimit = 3.4028235677973366e38;
/// float(v) with values beyond float32's range becoming +-inf (a plain cast would be undefined).
float toFloat32(double v);

std::string base64Encode(const unsigned char* p, std::size_t n);
/// The value of one base64 character, or -1.
int base64Value(char c);

/// Parses JSON text; FormatError starting with `where` when it is empty, nests deeper than
/// kMaxNesting, or is not JSON.
json parseJsonText(const std::string& text, const std::string& where);
/// The file's text: the top-level object with one key a line and one section entry a line
/// (pretty), or all on one line.
std::string dumpDocument(const ojson& root, bool pretty);

}  // namespace adj::json_io
