#include "base/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <cstdint>
#include <cstring>
#include <random>

namespace adj {
namespace {

std::string errnoText() { return std::strerror(errno); }

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::random_device rd;
    std::mt19937_64 rng((std::uint64_t(rd()) << 32) ^ rd() ^ std::uint64_t(::getpid()));
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string tmp = path_ + ".tmp-" + std::to_string(::getpid()) + "-";
        std::uint64_t r = rng();
        for (int i = 0; i < 6; ++i) tmp += kHex[(r >> (4 * i)) & 15];
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            if (errno == EEXIST) continue;
            const std::string why = errnoText();
            throw FileError(FileError::Step::Create, path_ + ": cannot create a temporary file for writing (" + why + ")", why);
        }
        file_ = ::fdopen(fd, "wb");
        if (!file_) {
            const std::string why = errnoText();
            ::close(fd);
            ::unlink(tmp.c_str());
            throw FileError(FileError::Step::Create, path_ + ": cannot open a temporary file for writing (" + why + ")", why);
        }
        tmpPath_ = tmp;
        return;
    }
    throw FileError(FileError::Step::Create, path_ + ": cannot create a temporary file for writing (too many attempts)",
                    "too many attempts");
}

AtomicFileWriter::~AtomicFileWriter() {
    if (file_) std::fclose(file_);
    if (!committed_ && !tmpPath_.empty()) ::unlink(tmpPath_.c_str());
}

void AtomicFileWriter::write(const void* data, std::size_t bytes) {
    if (!file_) throw FormatError(path_ + ": write after commit");
    if (bytes == 0) return;
    if (std::fwrite(data, 1, bytes, file_) != bytes) {
        const std::string why = errnoText();
        throw FileError(FileError::Step::Write, path_ + ": write error (" + why + ")", why);
    }
    written_ += bytes;
}

void AtomicFileWriter::commit() {
    if (!file_) throw FormatError(path_ + ": commit twice");
    std::FILE* f = file_;
    file_ = nullptr;
    std::string error;
    if (std::fflush(f) != 0) error = errnoText();
    if (std::fclose(f) != 0 && error.empty()) error = errnoText();
    if (!error.empty()) throw FileError(FileError::Step::Write, path_ + ": write error (" + error + ")", error);
    if (std::rename(tmpPath_.c_str(), path_.c_str()) != 0) {
        const std::string why = errnoText();
        throw FileError(FileError::Step::Replace, path_ + ": cannot replace the file (" + why + ")", why);
    }
    committed_ = true;
    removeLeftoverTemporaries();
}

void AtomicFileWriter::removeLeftoverTemporaries() const noexcept {
    // "<name>.tmp-<pid>-XXXXXX" of a process that is gone (kill(pid, 0) fails with ESRCH). A pid
    // reused by a live process keeps its file: the safe side.
    std::error_code ec;
    const std::filesystem::path target(path_);
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    const std::string prefix = target.filename().string() + ".tmp-";
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        char* rest = nullptr;
        const long pid = std::strtol(name.c_str() + prefix.size(), &rest, 10);
        if (pid <= 0 || !rest || *rest != '-' || pid == long(::getpid())) continue;
        if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) std::filesystem::remove(it->path(), ec);
    }
}

void writeFileAtomically(const std::string& path, std::string_view bytes) {
    AtomicFileWriter w(path);
    w.write(bytes);
    w.commit();
}

MappedFile::MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const std::string why = errnoText();
        throw FileError(FileError::Step::Open, path + ": cannot open (" + why + ")", why);
    }
    struct stat st {};
    const bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular && st.st_size > 0) {
        void* p = mmap(nullptr, std::size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            map_ = p;
            size_ = std::size_t(st.st_size);
#ifdef MADV_SEQUENTIAL
            madvise(p, size_, MADV_SEQUENTIAL);  // read once, front to back: read ahead
#endif
        }
    }
    ::close(fd);
    if (!map_) copy_ = readFileBytes(path);  // (its errors: not a regular file, a read error)
}

MappedFile::~MappedFile() {
    if (map_) munmap(map_, size_);
}

std::string readFileBytes(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        const std::string why = errnoText();
        throw FileError(FileError::Step::Open, path + ": cannot open (" + why + ")", why);
    }
    struct Closer {
        std::FILE* f;
        ~Closer() { std::fclose(f); }
    } closer{f};
    struct stat st {};
    if (fstat(fileno(f), &st) != 0) {
        const std::string why = errnoText();
        throw FileError(FileError::Step::Read, path + ": cannot read (" + why + ")", why);
    }
    if (!S_ISREG(st.st_mode)) throw FileError(FileError::Step::Open, path + ": not a regular file", "not a regular file");
    std::string out(std::size_t(st.st_size), '\0');
    const std::size_t got = out.empty() ? 0 : std::fread(out.data(), 1, out.size(), f);
    if (std::ferror(f)) {
        const std::string why = errnoText();
        throw FileError(FileError::Step::Read, path + ": read error (" + why + ")", why);
    }
    out.resize(got);
    return out;
}

}  // namespace adj
