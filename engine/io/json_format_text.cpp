#include "io/json_format_text.h"

#include <cstring>
#include <limits>

#include "base/errors.h"

namespace adj::json_io {

std::string sq(const std::string& s) { return "'" + s + "'"; }

std::string brief(const json& j) {
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
}

bool asInt64(const json& j, std::int64_t& out) {
    if (j.is_number_integer() && !j.is_number_unsigned()) {
        out = j.get<std::int64_t>();
        return true;
    }
    if (j.is_number_unsigned()) {
        const std::uint64_t u = j.get<std::uint64_t>();
        if (u > std::uint64_t(std::numeric_limits<std::int64_t>::max())) return false;
        out = std::int64_t(u);
        return true;
    }
    return false;
}

float toFloat32(double v) {
    if (v >= kFloatLimit) return std::numeric_limits<float>::infinity();
    if (v <= -kFloatLimit) return -std::numeric_limits<float>::infinity();
    return float(v);
}

namespace {

const char kB64Chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string base64Encode(const unsigned char* p, std::size_t n) {
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const std::uint32_t v = (std::uint32_t(p[i]) << 16) | (std::uint32_t(p[i + 1]) << 8) | p[i + 2];
        out += kB64Chars[(v >> 18) & 63];
        out += kB64Chars[(v >> 12) & 63];
        out += kB64Chars[(v >> 6) & 63];
        out += kB64Chars[v & 63];
    }
    if (i < n) {
        std::uint32_t v = std::uint32_t(p[i]) << 16;
        if (i + 1 < n) v |= std::uint32_t(p[i + 1]) << 8;
        out += kB64Chars[(v >> 18) & 63];
        out += kB64Chars[(v >> 12) & 63];
        out += i + 1 < n ? kB64Chars[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

int base64Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

namespace {

std::string formatSeparator(bool pretty) { return pretty ? ", " : ","; }

/// Compact JSON with a space after ',' and ':' (pretty) or none.
void dumpCompact(const ojson& j, std::string& out, bool pretty) {
    const char* colon = pretty ? ": " : ":";
    if (j.is_object()) {
        out += '{';
        bool first = true;
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (!first) out += formatSeparator(pretty);
            first = false;
            out += ojson(it.key()).dump(-1, ' ', false, ojson::error_handler_t::replace);
            out += colon;
            dumpCompact(it.value(), out, pretty);
        }
        out += '}';
    } else if (j.is_array()) {
        out += '[';
        bool first = true;
        for (const auto& e : j) {
            if (!first) out += formatSeparator(pretty);
            first = false;
            dumpCompact(e, out, pretty);
        }
        out += ']';
    } else {
        out += j.dump(-1, ' ', false, ojson::error_handler_t::replace);
    }
}

}  // namespace

std::string dumpDocument(const ojson& root, bool pretty) {
    std::string out;
    if (!pretty) {
        dumpCompact(root, out, false);
        return out + "\n";
    }
    out += "{\n";
    bool first = true;
    for (auto it = root.begin(); it != root.end(); ++it) {
        if (!first) out += ",\n";
        first = false;
        out += "  " + ojson(it.key()).dump(-1, ' ', false, ojson::error_handler_t::replace) + ": ";
        const ojson& v = it.value();
        if (v.is_array() && !v.empty() && (v.front().is_object() || v.front().is_array())) {
            out += "[\n";
            for (std::size_t i = 0; i < v.size(); ++i) {
                out += "    ";
                dumpCompact(v[i], out, true);
                out += i + 1 < v.size() ? ",\n" : "\n";
            }
            out += "  ]";
        } else {
            dumpCompact(v, out, true);
        }
    }
    return out + "\n}\n";
}

// ---- reading ----

namespace {

/// Rejects nesting deeper than kMaxNesting before any DOM is built.
void checkNesting(const std::string& text, const std::string& where) {
    int depth = 0;
    bool inString = false;
    std::size_t line = 1, lineStart = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            lineStart = i + 1;
        }
        if (inString) {
            if (c == '\\') ++i;
            else if (c == '"') inString = false;
            continue;
        }
        if (c == '"') inString = true;
        else if (c == '[' || c == '{') {
            if (++depth > kMaxNesting)
                throw FormatError(where + ": line " + std::to_string(line) + ", column " + std::to_string(i - lineStart + 1) +
                                  ": nesting deeper than " + std::to_string(kMaxNesting) + " levels");
        } else if (c == ']' || c == '}') {
            if (depth > 0) --depth;
        }
    }
}

}  // namespace

json parseJsonText(const std::string& text, const std::string& where) {
    checkNesting(text, where);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw FormatError(where + ": the file is empty (not a JSON graph)");
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        std::string msg = e.what();
        auto p = msg.find("parse error");
        if (p != std::string::npos) msg = msg.substr(p + std::strlen("parse error"));
        if (msg.rfind(" at ", 0) == 0) msg = msg.substr(4);
        const bool truncated = msg.find("unexpected end of input") != std::string::npos;
        throw FormatError(where + (truncated ? ": the JSON ends early (truncated?): " : ": not valid JSON: ") + msg);
    } catch (const json::exception& e) {
        // e.g. out_of_range.406 "number overflow parsing '1e400'"
        std::string msg = e.what();
        auto p = msg.find("] ");
        throw FormatError(where + ": not valid JSON: " + (p == std::string::npos ? msg : msg.substr(p + 2)));
    }
}

}  // namespace adj::json_io
