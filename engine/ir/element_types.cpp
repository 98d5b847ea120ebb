#include "ir/element_types.h"

#include <algorithm>
#include <stdexcept>

namespace adj {

namespace {

std::string typeList(std::initializer_list<DType> types) {
    std::string s;
    for (DType t : types) s += (s.empty() ? "" : " or ") + std::string(dtypeName(t));
    return s;
}

[[noreturn]] void refuse(std::size_t i, DType got, const std::string& takes) {
    throw std::invalid_argument("input " + std::to_string(i) + " is " + std::string(dtypeName(got)) + ", this op takes " + takes);
}

void require(const std::vector<DType>& in, std::size_t i, std::initializer_list<DType> allowed, const std::string& note = "") {
    if (i < in.size() && std::find(allowed.begin(), allowed.end(), in[i]) == allowed.end())
        refuse(i, in[i], typeList(allowed) + note);
}

/// Inputs [from, to) all of input `from`'s type.
void sameType(const std::vector<DType>& in, std::size_t from, std::size_t to) {
    for (std::size_t i = from + 1; i < std::min(to, in.size()); ++i)
        if (in[i] != in[from])
            throw std::invalid_argument("input " + std::to_string(i) + " is " + std::string(dtypeName(in[i])) + " and input " + std::to_string(from) +
                                        " " + std::string(dtypeName(in[from])) + ": this op takes inputs of one type");
}

}  // namespace

bool computesOnIntegers(Op op) {
    switch (op) {
        case Op::Neg: case Op::Abs: case Op::Sign: case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Maximum: case Op::Minimum:
            return true;
        default:
            return false;
    }
}

bool computesIn(Op op, DType t) {
    if (t == DType::F32) return true;
    if (isInteger(t)) return computesOnIntegers(op) || op == Op::MatMul;
    const bool elementwise = opInfo(op).family == OpFamily::Elementwise && op != Op::Where && op != Op::Greater && op != Op::Equal;
    if (t == DType::F64) return elementwise || op == Op::MatMul || op == Op::Sum || op == Op::Mean || op == Op::Max;
    if (isHalf(t)) return elementwise;
    return false;
}

std::string typesComputedIn(Op op) {
    std::string s;
    for (DType t : kAllDTypes)
        if (computesIn(op, t)) s += (s.empty() ? "" : ", ") + std::string(dtypeName(t));
    return s;
}

bool takesIndices(Op op, std::size_t i) {
    switch (op) {
        case Op::Gather: case Op::GatherGrad: case Op::GatherElements: case Op::GatherElementsGrad: return i == 1;
        default: return false;
    }
}

DType castTarget(const Node& node) {
    const std::string to = node.attrs.getString(node.op, "to");
    const auto t = dtypeFromName(to);
    if (!t) throw std::invalid_argument("cast to '" + to + "': the types are f32, f64, f16, bf16, i64, i32, i16, i8, u64, u32, u16, u8 and bool");
    return *t;
}

std::vector<DType> outputElementTypes(const Node& node, const std::vector<DType>& in) {
    const Op op = node.op;
    if (op == Op::Input) return {node.declaredDType};
    if (isSource(op)) return {node.value.defined() ? node.value.dtype() : DType::F32};
    const int outputs = std::max(1, node.numOutputs());
    const std::vector<DType> f32(std::size_t(outputs), DType::F32);
    // the gather family: i64 indices; gather and gather_elements move data of any type
    if (op == Op::Gather || op == Op::GatherElements || op == Op::GatherGrad || op == Op::GatherElementsGrad) {
        require(in, 1, {DType::I64}, " indices");
        if (op == Op::GatherGrad || op == Op::GatherElementsGrad) {
            require(in, 0, {DType::F32});
            return f32;
        }
        return {in.at(0)};
    }
    if (op == Op::Cast) return {castTarget(node)};
    if (op == Op::ArgMax || op == Op::ArgMin) {
        require(in, 0, {DType::F32});
        return {DType::I64};
    }
    // data movement that keeps its input's values: any type, every data input the same
    if (isMovement(op) && (opInfo(op).family == OpFamily::View || op == Op::Concat || op == Op::Pad)) {
        sameType(in, 0, in.size());
        return std::vector<DType>(std::size_t(outputs), in.empty() ? DType::F32 : in[0]);
    }
    if (op == Op::Greater || op == Op::Equal) {
        sameType(in, 0, in.size());
        return f32;  // a 0/1 mask
    }
    if (op == Op::Where) {
        require(in, 0, {DType::F32, DType::Bool}, " (a mask or a bool condition)");
        sameType(in, 1, 3);
        return {in.size() > 1 ? in[1] : DType::F32};
    }
    if (!in.empty() && in[0] != DType::F32 && computesIn(op, in[0])) {
        sameType(in, 0, in.size());
        return std::vector<DType>(std::size_t(outputs), in[0]);
    }
    for (std::size_t i = 0; i < in.size(); ++i)
        if (in[i] != DType::F32) {
            const std::string others = typesComputedIn(op);
            refuse(i, in[i], others == "f32" ? "f32 only (cast converts)" : others + " (all inputs of one type; cast converts)");
        }
    return f32;
}

}  // namespace adj
