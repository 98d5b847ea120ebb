#pragma once
// One function per adjoint-cli command (one file each).
#include "args.h"
#include "cli.h"
#include "common.h"

namespace adj::cli {

int cmdValidate(const std::vector<std::string>& argv, Context& ctx);
int cmdInfo(const std::vector<std::string>& argv, Context& ctx);
int cmdRun(const std::vector<std::string>& argv, Context& ctx);
int cmdExport(const std::vector<std::string>& argv, Context& ctx);

}  // namespace adj::cli
