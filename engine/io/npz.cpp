#include "io/npz.h"

#include <zlib.h>

#include <cstdint>
#include <limits>
#include <set>

#include "base/errors.h"
#include "base/files.h"
#include "io/npy.h"

namespace adj {

namespace {

void put16(std::string& out, std::uint32_t v) {
    out += char(v & 0xff);
    out += char((v >> 8) & 0xff);
}
void put32(std::string& out, std::uint32_t v) {
    put16(out, v & 0xffff);
    put16(out, v >> 16);
}

constexpr std::uint32_t kDosDate = (0u << 9) | (1u << 5) | 1u;  // 1980-01-01, ZIP's earliest: no clock in the file

}  // namespace

void writeNpz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& entries) {
    std::string archive, directory;
    std::set<std::string> keys;
    for (const auto& [key, tensor] : entries) {
        if (!keys.insert(key).second) throw FormatError(path + ": the key '" + key + "' appears twice");
        const std::string name = key + ".npy";
        const std::string bytes = encodeNpy(tensor);
        if (archive.size() + bytes.size() + name.size() + 30 > std::numeric_limits<std::uint32_t>::max() || name.size() > 0xffff)
            throw FormatError(path + ": over 4 GiB of tensors (a ZIP without its 64-bit extension)");
        const auto crc = std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), uInt(bytes.size())));
        const auto offset = std::uint32_t(archive.size());
        auto common = [&](std::string& out) {
            put16(out, 20);  // version needed: 2.0
            put16(out, 0);   // flags
            put16(out, 0);   // stored, not compressed
            put16(out, 0);   // time
            put16(out, kDosDate);
            put32(out, crc);
            put32(out, std::uint32_t(bytes.size()));  // compressed size
            put32(out, std::uint32_t(bytes.size()));  // size
            put16(out, std::uint32_t(name.size()));
            put16(out, 0);  // extra field
        };
        put32(archive, 0x04034b50);  // local file header
        common(archive);
        archive += name;
        archive += bytes;
        put32(directory, 0x02014b50);  // central directory entry
        put16(directory, 20);          // made by: version 2.0
        common(directory);
        put16(directory, 0);  // comment
        put16(directory, 0);  // disk
        put16(directory, 0);  // internal attributes
        put32(directory, 0);  // external attributes
        put32(directory, offset);
        directory += name;
    }
    if (archive.size() + directory.size() > std::numeric_limits<std::uint32_t>::max() || entries.size() > 0xffff)
        throw FormatError(path + ": over 4 GiB or 65,535 tensors (a ZIP without its 64-bit extension)");
    const auto directoryOffset = std::uint32_t(archive.size());
    archive += directory;
    put32(archive, 0x06054b50);  // end of central directory
    put16(archive, 0);
    put16(archive, 0);
    put16(archive, std::uint32_t(entries.size()));
    put16(archive, std::uint32_t(entries.size()));
    put32(archive, std::uint32_t(directory.size()));
    put32(archive, directoryOffset);
    put16(archive, 0);  // comment
    writeFileAtomically(path, archive);  // a FileError (a FormatError) names the path
}

}  // namespace adj
