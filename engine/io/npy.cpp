#include "io/npy.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "base/errors.h"
#include "base/files.h"
#include "tensor/dtype_visit.h"

static_assert(std::endian::native == std::endian::little, "the .npy reader and writer assume a little-endian host");

namespace adj {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
/// Longest header accepted (NumPy itself refuses more than 10000 bytes by default).
constexpr std::uint64_t kMaxHeaderLen = 1u << 20;

/// A file's element type is one of ours (kNpyTypes); bf16 has no NumPy dtype and is written as
/// '<u2' holding the raw bits.
struct NpyType {
    const char* descr;
    DType dtype;
};
constexpr NpyType kNpyTypes[] = {{"<f4", DType::F32}, {"<f8", DType::F64}, {"<f2", DType::F16}, {"<i8", DType::I64},
                                 {"<i4", DType::I32}, {"<i2", DType::I16}, {"|i1", DType::I8},  {"|u1", DType::U8},
                                 {"<u2", DType::U16}, {"<u4", DType::U32}, {"<u8", DType::U64}, {"|b1", DType::Bool}};

struct NpyHeader {
    DType type = DType::F32;
    Shape shape;
    std::uint64_t dataOffset = 0;
};

std::string pyShape(const Shape& s) {
    std::string r = "(";
    for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    if (s.size() == 1) r += ",";
    return r + ")";
}

std::string quoteForMessage(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
    std::string r;
    for (char c : text.substr(0, 120)) r += (c >= 32 && c < 127) ? c : '?';
    if (text.size() > 120) r += "...";
    return r;
}

/// A parser for the Python dict literal NumPy writes as the header:
///   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
public:
    HeaderParser(std::string_view text, const std::string& where) : t_(text), where_(where) {}

    void parse(std::string& descr, bool& fortran, Shape& shape, std::string& shapeText) {
        bool haveDescr = false, haveFortran = false, haveShape = false;
        skipWs();
        expect('{');
        for (;;) {
            skipWs();
            if (peek() == '}') {
                ++i_;
                break;
            }
            std::string key = parseString();
            skipWs();
            expect(':');
            skipWs();
            if (key == "descr") {
                if (peek() != '\'' && peek() != '"') fail("'descr' must be a string (structured dtypes are not supported)");
                descr = parseString();
                haveDescr = true;
            } else if (key == "fortran_order") {
                fortran = parseBool();
                haveFortran = true;
            } else if (key == "shape") {
                const std::size_t start = i_;
                shape = parseTuple();
                shapeText = std::string(t_.substr(start, i_ - start));
                haveShape = true;
            } else {
                fail("unexpected key '" + quoteForMessage(key) + "'");
            }
            skipWs();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() == '}') {
                ++i_;
                break;
            }
            fail("expected ',' or '}'");
        }
        skipWs();
        if (i_ != t_.size()) fail("unexpected text after the dict");
        if (!haveDescr) fail("the dict has no 'descr'");
        if (!haveFortran) fail("the dict has no 'fortran_order'");
        if (!haveShape) fail("the dict has no 'shape'");
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw FormatError(where_ + ": cannot parse the .npy header (" + what + " at character " + std::to_string(i_) +
                          "): " + quoteForMessage(t_));
    }
    char peek() const { return i_ < t_.size() ? t_[i_] : '\0'; }
    void skipWs() {
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }
    std::string parseString() {
        char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string");
        ++i_;
        std::string s;
        while (i_ < t_.size() && t_[i_] != q) {
            if (t_[i_] == '\\') fail("escapes are not supported");
            s += t_[i_++];
            if (s.size() > 64) fail("string too long");
        }
        expect(q);
        return s;
    }
    bool parseBool() {
        if (t_.substr(i_, 4) == "True") {
            i_ += 4;
            return true;
        }
        if (t_.substr(i_, 5) == "False") {
            i_ += 5;
            return false;
        }
        fail("expected True or False");
    }
    Shape parseTuple() {
        expect('(');
        Shape s;
        for (;;) {
            skipWs();
            if (peek() == ')') {
                ++i_;
                break;
            }
            if (peek() == '-') throw FormatError(where_ + ": the .npy header has a negative dimension in its shape");
            if (peek() < '0' || peek() > '9') fail("expected a dimension");
            std::int64_t v = 0;
            while (peek() >= '0' && peek() <= '9') {
                // saturate above kMaxElements: shapeIsSane rejects it later with a clear message
                if (v <= kMaxElements) v = v * 10 + (peek() - '0');
                ++i_;
            }
            if (peek() == 'L') ++i_;  // Python 2 longs
            if (s.size() > std::size_t(kMaxRank))
                throw FormatError(where_ + ": the .npy shape has more than " + std::to_string(kMaxRank) + " dimensions");
            s.push_back(std::min(v, kMaxElements + 1));
            skipWs();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() != ')') fail("expected ',' or ')'");
        }
        return s;
    }

    std::string_view t_;
    const std::string& where_;
    std::size_t i_ = 0;
};

DType parseDescr(const std::string& descr, const std::string& where) {
    if (descr == "?" || descr == "<b1") return DType::Bool;
    if (descr == "<i1") return DType::I8;
    if (descr == "<u1") return DType::U8;
    for (const NpyType& t : kNpyTypes)
        if (descr == t.descr) return t.dtype;
    if (!descr.empty() && descr[0] == '>')
        throw FormatError(where + ": big-endian dtype '" + quoteForMessage(descr) + "' is not supported (use '<f4')");
    throw FormatError(where + ": unsupported dtype '" + quoteForMessage(descr) +
                      "' (expected float32 '<f4', float64 '<f8', float16 '<f2', int64 '<i8', int32 '<i4', int16 '<i2', int8 '|i1', "
                      "uint8 '|u1', uint16 '<u2', uint32 '<u4', uint64 '<u8' or bool '|b1')");
}

std::uint32_t readLe(const unsigned char* p, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

/// Parses the preamble and header from the first `avail` bytes of a file of `fileSize` bytes and
/// checks the data size against the file.
NpyHeader parseHeader(const char* bytes, std::size_t avail, std::uint64_t fileSize, const std::string& where) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes);
    if (fileSize == 0) throw FormatError(where + ": the file is empty (not a .npy file)");
    if (avail < kMagicLen && std::memcmp(bytes, kMagic, avail) == 0)
        throw FormatError(where + ": truncated .npy header (the file holds " + std::to_string(fileSize) + " bytes)");
    if (avail < kMagicLen || std::memcmp(bytes, kMagic, kMagicLen) != 0)
        throw FormatError(where + ": not a .npy file (bad magic; expected \\x93NUMPY)");
    if (avail < 8) throw FormatError(where + ": truncated .npy header (the file holds " + std::to_string(fileSize) + " bytes)");
    const int major = p[6], minor = p[7];
    if (major < 1 || major > 3 || minor != 0)
        throw FormatError(where + ": unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                          " (1.0, 2.0 and 3.0 are read)");
    const std::size_t lenBytes = major == 1 ? 2 : 4;
    const std::size_t pre = 8 + lenBytes;
    if (avail < pre) throw FormatError(where + ": truncated .npy header (the file holds " + std::to_string(fileSize) + " bytes)");
    const std::uint64_t headerLen = readLe(p + 8, int(lenBytes));
    if (headerLen > kMaxHeaderLen)
        throw FormatError(where + ": .npy header length " + std::to_string(headerLen) + " is absurd (at most " +
                          std::to_string(kMaxHeaderLen) + ")");
    if (pre + headerLen > fileSize || pre + headerLen > avail)
        throw FormatError(where + ": .npy header length " + std::to_string(headerLen) + " goes beyond the end of the file (" +
                          std::to_string(fileSize) + " bytes)");
    std::string_view text(bytes + pre, std::size_t(headerLen));
    std::string descr;
    bool fortran = false;
    std::string shapeText;
    NpyHeader h;
    HeaderParser(text, where).parse(descr, fortran, h.shape, shapeText);
    h.type = parseDescr(descr, where);
    if (fortran) throw FormatError(where + ": Fortran-order arrays are not supported (save with numpy.ascontiguousarray)");
    if (!shapeIsSane(h.shape))
        throw FormatError(where + ": .npy shape " + quoteForMessage(shapeText) + " is absurd (negative, or more than 2^34 elements)");
    h.dataOffset = pre + headerLen;
    const std::uint64_t want = std::uint64_t(numel(h.shape)) * dtypeSize(h.type);
    const std::uint64_t have = fileSize - h.dataOffset;
    if (want != have)
        throw FormatError(where + ": header says shape " + pyShape(h.shape) + " (" + std::to_string(want) +
                          " bytes of data) but the file holds " + std::to_string(have) + " bytes");
    return h;
}

/// float(v), with values beyond float32's range becoming +-inf as in NumPy's astype (a plain
/// cast of such a value is undefined behaviour).
float doubleToFloat(double v) {
    constexpr double kLimit = 3.4028235677973366e38;  // FLT_MAX plus just under half an ulp
    if (v >= kLimit) return std::numeric_limits<float>::infinity();
    if (v <= -kLimit) return -std::numeric_limits<float>::infinity();
    return float(v);
}

/// Converts `n` elements of type `type` at `src` (unaligned) into floats at `dst`: integers
/// exactly below 2^24, f64 rounded to nearest (beyond float32's range: +-inf), f16 exactly, bools 0/1.
void convertToFloat(DType type, const char* src, float* dst, std::size_t n) {
    if (type == DType::F32) {
        std::memcpy(dst, src, n * 4);
        return;
    }
    visitDType(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        for (std::size_t i = 0; i < n; ++i) {
            T v;
            std::memcpy(&v, src + sizeof(T) * i, sizeof(T));
            if constexpr (std::is_same_v<T, double>) dst[i] = doubleToFloat(v);
            else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) dst[i] = toFloat(v);
            else if constexpr (decltype(tag)::dtype == DType::Bool) dst[i] = v ? 1.f : 0.f;
            else dst[i] = float(v);
        }
    });
}

/// The tensor a file of `type` is read into: with NpyIntegers::Keep, the file's own type; F32
/// otherwise.
DType readDType(DType type, NpyIntegers ints) { return ints == NpyIntegers::Keep ? type : DType::F32; }

/// Converts `n` elements of type `type` at `src` into `t`'s elements from flat index `at` on.
void convertInto(DType type, const char* src, Tensor& t, std::size_t at, std::size_t n) {
    if (t.dtype() == DType::F32) {
        convertToFloat(type, src, t.data() + at, n);
        return;
    }
    // kept as it is: the file's own element type (readDType)
    std::memcpy(t.bytes() + at * dtypeSize(t.dtype()), src, n * dtypeSize(t.dtype()));
    if (t.dtype() == DType::Bool)  // (any nonzero byte is true)
        for (std::size_t i = 0; i < n; ++i) t.ptr<std::uint8_t>()[at + i] = t.ptr<std::uint8_t>()[at + i] != 0;
}

std::string npyHeaderBytes(const Shape& shape, DType dtype) {
    const char* descr = "<u2";  // (bf16: its raw bits)
    for (const NpyType& t : kNpyTypes)
        if (t.dtype == dtype) descr = t.descr;
    std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + pyShape(shape) + ", }";
    // magic(6) + version(2) + length(2) + dict + padding + '\n' is a multiple of 64
    std::size_t total = 10 + dict.size() + 1;
    std::size_t padded = (total + 63) / 64 * 64;
    dict.append(padded - total, ' ');
    dict += '\n';
    std::string out(kMagic, kMagicLen);
    out += char(1);
    out += char(0);
    out += char(dict.size() & 0xff);
    out += char((dict.size() >> 8) & 0xff);
    return out + dict;
}

Tensor checkedContiguous(const Tensor& t, const std::string& where) {
    if (!t.defined()) throw FormatError(where + ": cannot write an undefined tensor");
    return t.contiguous();
}

std::string errnoText() { return std::strerror(errno); }

/// A regular file open for reading, closed when this goes out of scope; FormatError naming the
/// path when it cannot be opened or is not a regular file.
class RegularFile {
public:
    explicit RegularFile(const std::string& path) : file_(std::fopen(path.c_str(), "rb")) {
        if (!file_) throw FormatError(path + ": cannot open (" + errnoText() + ")");
        struct stat st {};
        if (fstat(fileno(file_.get()), &st) != 0) throw FormatError(path + ": cannot read (" + errnoText() + ")");
        if (!S_ISREG(st.st_mode)) throw FormatError(path + ": not a regular file");
        size_ = std::uint64_t(st.st_size);
    }
    std::FILE* get() const { return file_.get(); }
    std::uint64_t size() const { return size_; }

private:
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Closer> file_;
    std::uint64_t size_ = 0;
};

}  // namespace

// ---- reading ----

Tensor parseNpy(const std::string& bytes, const std::string& where, NpyIntegers ints) {
    NpyHeader h = parseHeader(bytes.data(), bytes.size(), bytes.size(), where);
    Tensor t = Tensor::empty(h.shape, readDType(h.type, ints));
    convertInto(h.type, bytes.data() + h.dataOffset, t, 0, std::size_t(t.numel()));
    return t;
}

Tensor readNpy(const std::string& path, NpyIntegers ints) {
    const RegularFile file(path);
    std::FILE* f = file.get();
    const std::uint64_t fileSize = file.size();

    std::string prefix(std::size_t(std::min<std::uint64_t>(fileSize, 12 + kMaxHeaderLen)), '\0');
    // read the fixed preamble first, then only as much header as it announces
    std::size_t got = std::fread(prefix.data(), 1, std::min<std::size_t>(prefix.size(), 12), f);
    if (got >= 10 && std::memcmp(prefix.data(), kMagic, kMagicLen) == 0) {
        const auto* p = reinterpret_cast<const unsigned char*>(prefix.data());
        const std::size_t pre = p[6] == 1 ? 10 : 12;
        const std::uint64_t headerLen = got >= pre ? readLe(p + 8, int(pre - 8)) : 0;
        const std::size_t want = std::size_t(std::min<std::uint64_t>(pre + headerLen, prefix.size()));
        if (want > got) got += std::fread(prefix.data() + got, 1, want - got, f);
    }
    if (std::ferror(f)) throw FormatError(path + ": read error (" + errnoText() + ")");
    NpyHeader h = parseHeader(prefix.data(), got, fileSize, path);

    Tensor t = Tensor::empty(h.shape, readDType(h.type, ints));
    if (std::fseek(f, long(h.dataOffset), SEEK_SET) != 0) throw FormatError(path + ": cannot seek (" + errnoText() + ")");
    const std::size_t n = std::size_t(t.numel());
    const std::size_t esize = dtypeSize(h.type);
    if (t.dtype() == h.type && t.dtype() != DType::Bool) {
        void* dst = t.bytes();  // (the file's own type, bit for bit)
        if (std::fread(dst, esize, n, f) != n) throw FormatError(path + ": the file is shorter than its header says (read error)");
        return t;
    }
    std::vector<char> chunk;
    constexpr std::size_t kChunk = 1 << 16;
    for (std::size_t i = 0; i < n; i += kChunk) {
        const std::size_t m = std::min(kChunk, n - i);
        chunk.resize(m * esize);
        if (std::fread(chunk.data(), esize, m, f) != m) throw FormatError(path + ": the file is shorter than its header says (read error)");
        convertInto(h.type, chunk.data(), t, i, m);
    }
    return t;
}

// ---- writing ----

std::string encodeNpy(const Tensor& t) {
    Tensor c = checkedContiguous(t, "encodeNpy");
    std::string out = npyHeaderBytes(c.shape(), c.dtype());
    out.append(reinterpret_cast<const char*>(c.storage()->data()) + std::size_t(c.offset()) * dtypeSize(c.dtype()),
               std::size_t(c.numel()) * dtypeSize(c.dtype()));
    return out;
}

void writeNpy(const std::string& path, const Tensor& t) {
    Tensor c = checkedContiguous(t, path);
    AtomicFileWriter w(path);
    w.write(npyHeaderBytes(c.shape(), c.dtype()));
    w.write(c.storage()->data() + std::size_t(c.offset()) * dtypeSize(c.dtype()), std::size_t(c.numel()) * dtypeSize(c.dtype()));
    w.commit();
}

}  // namespace adj
