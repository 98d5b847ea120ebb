#include "ir/fused_program.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/errors.h"

namespace adj {

namespace {

std::string operandText(const FusedOperand& a) { return (a.isInput ? "in" : "r") + std::to_string(a.index); }

bool parseIndex(const std::string& s, std::size_t from, int& out) {
    if (from >= s.size() || s.size() - from > 6) return false;
    int v = 0;
    for (std::size_t i = from; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

}  // namespace

std::string FusedProgram::text() const {
    std::string s;
    for (std::size_t i = 0; i < instrs.size(); ++i) {
        if (i) s += "; ";
        s += "r" + std::to_string(i) + " = " + std::string(opName(instrs[i].op));
        const auto& attrs = opInfo(instrs[i].op).attrs;
        for (std::size_t k = 0; k < attrs.size(); ++k) {
            std::size_t param = 0;
            while (param < kEwParamNames.size() && attrs[k].name != kEwParamNames[param]) ++param;
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.9g", double(instrs[i].params[param]));
            s += (k ? "," : "[") + attrs[k].name + "=" + buf;
            if (k + 1 == attrs.size()) s += "]";
        }
        for (const auto& a : instrs[i].args) s += " " + operandText(a);
    }
    return s;
}

FusedProgram parseFusedProgram(const std::string& text, int inputCount) {
    FusedProgram p;
    // lines end at ';' or a newline, words at white space (plain loops: the rewriter parses the
    // program of every fusion group it grows, and streams made that a tenth of -O2's time)
    int lineNo = 0;
    std::vector<std::string> w;
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t end = start;
        while (end < text.size() && text[end] != ';' && text[end] != '\n') ++end;
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        ++lineNo;
        w.clear();
        for (std::size_t i = 0; i < line.size();) {
            while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
            std::size_t j = i;
            while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
            if (j > i) w.push_back(line.substr(i, j - i));
            i = j;
        }
        if (w.empty()) continue;
        auto fail = [&](const std::string& msg) -> void {
            throw GraphError("fused program line " + std::to_string(lineNo) + " ('" + line + "'): " + msg);
        };
        const int reg = int(p.instrs.size());
        if (w.size() < 3 || w[1] != "=") fail("expected 'rK = OP OPERANDS...'");
        int target = -1;
        if (w[0].size() < 2 || w[0][0] != 'r' || !parseIndex(w[0], 1, target) || target != reg)
            fail("defines " + w[0] + ", expected r" + std::to_string(reg));
        std::string opWord = w[2], attrText;
        if (auto br = opWord.find('['); br != std::string::npos) {
            if (opWord.back() != ']') fail("expected OP[name=value,...]");
            attrText = opWord.substr(br + 1, opWord.size() - br - 2);
            opWord = opWord.substr(0, br);
        }
        auto op = opFromName(opWord);
        if (!op) fail("unknown op '" + opWord + "'");
        if (!hasScalarExpr(*op)) fail("op '" + opWord + "' is not an elementwise op");
        const OpInfo& info = opInfo(*op);
        const int argc = int(w.size()) - 3;
        if (argc < info.minInputs || (info.maxInputs >= 0 && argc > info.maxInputs))
            fail("op '" + opWord + "' takes " + std::to_string(info.minInputs) + " operands, got " + std::to_string(argc));
        FusedInstr ins;
        ins.op = *op;
        Attributes given;
        for (std::size_t b = 0; b < attrText.size();) {
            std::size_t e = attrText.find(',', b);
            if (e == std::string::npos) e = attrText.size();
            const std::string item = attrText.substr(b, e - b);
            b = e + 1;
            const auto eq = item.find('=');
            const std::string name = item.substr(0, eq);
            bool known = false;
            for (const auto& a : info.attrs) known = known || a.name == name;
            if (eq == std::string::npos || !known) fail("op '" + opWord + "' has no attribute '" + name + "'");
            char* end = nullptr;
            const double v = std::strtod(item.c_str() + eq + 1, &end);
            if (end == item.c_str() + eq + 1 || *end) fail("attribute '" + name + "' needs a number");
            given.set(name, v);
        }
        ins.params = ewParams(*op, given);
        for (std::size_t k = 3; k < w.size(); ++k) {
            FusedOperand a;
            const std::string& t = w[k];
            if (t.rfind("in", 0) == 0 && parseIndex(t, 2, a.index)) {
                a.isInput = true;
                if (inputCount >= 0 && a.index >= inputCount)
                    fail("operand " + t + " but the node has " + std::to_string(inputCount) + " inputs");
            } else if (t.rfind("r", 0) == 0 && parseIndex(t, 1, a.index)) {
                a.isInput = false;
                if (a.index >= reg) fail("operand " + t + " is not defined before this line");
            } else {
                fail("bad operand '" + t + "' (expected inK or rK)");
            }
            ins.args.push_back(a);
        }
        p.instrs.push_back(std::move(ins));
    }
    if (p.instrs.empty()) throw GraphError("fused program is empty");
    return p;
}

}  // namespace adj
