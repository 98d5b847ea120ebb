#pragma once
// Whole files in and out: the one home for reading a file into a string and for atomic writes
// (a temporary file in the same directory, renamed over the target, so the target is never left
// half written). Every failure is a FileError whose message starts with the path.
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "base/errors.h"

namespace adj {

/// A file that cannot be read or written. what() is "path: problem (reason)"; step() and
/// reason() let a caller that words its own messages say what went wrong.
class FileError : public FormatError {
public:
    enum class Step {
        Open,     // the file cannot be opened, or is not a regular file
        Read,     // reading it failed
        Create,   // no temporary file can be made beside the target
        Write,    // writing, flushing or closing the temporary file failed
        Replace,  // renaming the temporary file over the target failed
    };
    FileError(Step step, const std::string& message, std::string reason)
        : FormatError(message), step_(step), reason_(std::move(reason)) {}
    Step step() const { return step_; }
    /// The system's reason (strerror), or a short phrase when there is none.
    const std::string& reason() const { return reason_; }

private:
    Step step_;
    std::string reason_;
};

/// Reads a whole file; FileError "path: cannot open (reason)" when it cannot.
std::string readFileBytes(const std::string& path);

/// A whole file's bytes without copying them: mapped read-only (mmap), its pages taken from the
/// page cache as they are read (a 500 MB model is not copied, nor zeroed first). Where a file
/// cannot be mapped (empty), it is read as readFileBytes does. The same FileErrors.
class MappedFile {
public:
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    std::string_view bytes() const { return map_ ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view(copy_); }

private:
    void* map_ = nullptr;
    std::size_t size_ = 0;
    std::string copy_;
};

/// Writes a file atomically: data goes to a fresh "<path>.tmp-<pid>-XXXXXX" in the same directory
/// and commit() renames it over `path`. Without commit() (an exception, an early return), the
/// temporary file is removed and `path` is untouched. All failures throw FileError naming `path`.
/// A process killed mid-write (kill -9, a crash) leaves its temporary behind and `path` whole;
/// the next commit to `path` removes such leftovers of processes that no longer exist.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::string path);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(const void* data, std::size_t bytes);
    void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
    /// Bytes written so far.
    std::size_t size() const { return written_; }
    /// Flushes, closes and renames the temporary file over the target.
    void commit();

private:
    void removeLeftoverTemporaries() const noexcept;
    std::string path_;
    std::string tmpPath_;
    std::FILE* file_ = nullptr;
    std::size_t written_ = 0;
    bool committed_ = false;
};

/// Writes `bytes` to `path` through an AtomicFileWriter.
void writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace adj
