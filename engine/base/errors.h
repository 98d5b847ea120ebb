#pragma once
// Errors the engine raises on bad input. The message names the problem and where it is (a node
// name, a file, a field); callers add the file name. Never used for programming errors.
#include <stdexcept>
#include <string>

namespace adj {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A problem with a graph's structure, ops, attributes or shapes.
class GraphError : public Error {
public:
    using Error::Error;
};

/// A problem reading or writing a file.
class FormatError : public Error {
public:
    using Error::Error;
};

}  // namespace adj
