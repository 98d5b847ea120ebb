// ONNX Einsum lowered to the op table: operands are contracted pairwise, left to right, each pair
// as one batched matmul between transposes (NumPy batching over the shared letters), with sums for
// letters that only one operand has and no one needs later. "bhqd,bhkd->bhqk" (attention scores)
// becomes transpose + matmul; "ij->ji" a transpose; "ij->i" a sum. Not supported, with an error
// naming it: ellipses, a letter twice in one operand (diagonals), letters of different sizes.
// Several contracted letters merge into one matmul axis, which needs their sizes static.
#include <algorithm>
#include <map>

#include "io/onnx_import_ops.h"

namespace adj::onnx_io::ops {

namespace {

struct Term {
    ValueRef value;
    std::string letters;  // one per axis, in axis order
};

struct Equation {
    std::vector<std::string> inputs;
    std::string output;
};

Equation parseEquation(Importer& I, const std::string& text, int operands) {
    std::string eq;
    for (char c : text)
        if (c != ' ') eq += c;
    if (eq.find("...") != std::string::npos) I.fail("equation '" + text + "': ellipses ('...') are not supported");
    Equation e;
    const auto arrow = eq.find("->");
    const std::string lhs = arrow == std::string::npos ? eq : eq.substr(0, arrow);
    std::string term;
    for (char c : lhs + ",") {
        if (c != ',') {
            term += c;
            continue;
        }
        e.inputs.push_back(term);
        term.clear();
    }
    if (int(e.inputs.size()) != operands)
        I.fail("equation '" + text + "' names " + std::to_string(e.inputs.size()) + " operands, the node has " + std::to_string(operands));
    std::map<char, int> count;
    for (const auto& t : e.inputs)
        for (char c : t) ++count[c];
    if (arrow != std::string::npos) {
        e.output = eq.substr(arrow + 2);
    } else {  // implicit mode: the letters used once, in alphabetical order
        for (const auto& [c, n] : count)
            if (n == 1) e.output += c;
    }
    auto checkLetters = [&](const std::string& t, const std::string& what) {
        for (std::size_t i = 0; i < t.size(); ++i) {
            if (!std::isalpha(static_cast<unsigned char>(t[i]))) I.fail("equation '" + text + "': '" + std::string(1, t[i]) + "' in " + what + " is not a letter");
            if (t.find(t[i], i + 1) != std::string::npos)
                I.fail("equation '" + text + "': '" + std::string(1, t[i]) + "' appears twice in " + what + " (diagonals are not supported)");
        }
    };
    for (std::size_t k = 0; k < e.inputs.size(); ++k) checkLetters(e.inputs[k], "operand " + std::to_string(k));
    checkLetters(e.output, "the output");
    for (char c : e.output)
        if (!count.count(c)) I.fail("equation '" + text + "': the output letter '" + std::string(1, c) + "' is in no operand");
    return e;
}

bool has(const std::string& s, char c) { return s.find(c) != std::string::npos; }

/// t with its axes reordered to `order` (a permutation of t's letters).
Term transposed(Importer& I, Term t, const std::string& order, const std::string& name) {
    if (order == t.letters) return t;
    Ints perm;
    for (char c : order) perm.push_back(std::int64_t(t.letters.find(c)));
    return {I.emit(Op::Transpose, {t.value}, {{"perm", perm}}, name), order};
}

/// t summed over the letters not in `keep`.
Term summedTo(Importer& I, Term t, const std::string& keep, const std::string& name) {
    Ints axes;
    std::string rest;
    for (std::size_t i = 0; i < t.letters.size(); ++i) {
        if (has(keep, t.letters[i])) rest += t.letters[i];
        else axes.push_back(std::int64_t(i));
    }
    if (axes.empty()) return t;
    return {I.emit(Op::Sum, {t.value}, {{"axes", axes}, {"keepdims", std::int64_t(0)}}, name), rest};
}

class Lowering {
public:
    explicit Lowering(Importer& I) : I_(I) {}

    /// a * b contracted over the letters that neither `keep` nor anything else needs. One
    /// matmul: a as [batch, m', 1.., mLast, K], b as [batch, 1.., n', K, nLast] (the 1s let NumPy
    /// batching pair every m' with every n'), where m' and n' are all but the last of the letters
    /// only a or only b has, and K the contracted letters merged into one axis (a reshape: their
    /// sizes must be static; the other axes may be dynamic). A missing mLast, nLast or K is an axis
    /// of size 1, squeezed out of the result.
    Term contract(Term a, Term b, const std::string& keep) {
        const std::string stem = I_.out() + "/pair" + std::to_string(++pairs_);
        a = summedTo(I_, a, keep + b.letters, stem + "/sum_a");
        b = summedTo(I_, b, keep + a.letters, stem + "/sum_b");
        std::string batch, m, k, n;
        for (char c : a.letters) (has(b.letters, c) ? (has(keep, c) ? batch : k) : m) += c;
        for (char c : b.letters)
            if (!has(a.letters, c)) n += c;
        for (char c : batch + k) checkSameSize(a, b, c);
        const std::string m1 = m.empty() ? "" : m.substr(0, m.size() - 1), n1 = n.empty() ? "" : n.substr(0, n.size() - 1);
        const std::string mLast = m.empty() ? "" : m.substr(m.size() - 1), nLast = n.empty() ? "" : n.substr(n.size() - 1);
        a = transposed(I_, a, batch + m1 + mLast + k, stem + "/a");
        b = transposed(I_, b, batch + n1 + k + nLast, stem + "/b");
        const auto nb = std::int64_t(batch.size()), nm1 = std::int64_t(m1.size()), nn1 = std::int64_t(n1.size());
        // a: [batch, m1, mLast, k..] -> [batch, m1, 1 x n1, mLast|1, K]
        ValueRef av = mergeTrailing(a.value, std::int64_t(a.letters.size()) - std::int64_t(k.size()), k, a, stem + "/a_k");
        Ints aOnes;
        for (std::int64_t i = 0; i < nn1; ++i) aOnes.push_back(nb + nm1 + i);
        if (mLast.empty()) aOnes.push_back(nb + nm1 + nn1);
        av = unsqueezed(av, aOnes, stem + "/a_ones");
        // b: [batch, n1, k.., nLast] -> [batch, 1 x m1, n1, K, nLast|1]
        ValueRef bv = b.value;
        if (k.size() != 1) {  // merge (or add) K in front of nLast: move nLast out of the way first
            const std::int64_t lead = nb + nn1;
            if (!nLast.empty()) bv = I_.emit(Op::Transpose, {bv}, {{"perm", rotateLastBefore(std::int64_t(b.letters.size()), lead)}}, stem + "/b_nlast");
            bv = mergeTrailing(bv, lead + std::int64_t(!nLast.empty()), k, b, stem + "/b_k");
            if (!nLast.empty()) bv = I_.emit(Op::Transpose, {bv}, {{"perm", swapLastTwo(lead + 2)}}, stem + "/b_back");
        }
        Ints bOnes;
        for (std::int64_t i = 0; i < nm1; ++i) bOnes.push_back(nb + i);
        if (nLast.empty()) bOnes.push_back(nb + nm1 + nn1 + 1);
        bv = unsqueezed(bv, bOnes, stem + "/b_ones");
        ValueRef y = I_.emit(Op::MatMul, {av, bv}, {}, stem + "/matmul");
        Ints drop;
        if (mLast.empty()) drop.push_back(nb + nm1 + nn1);
        if (nLast.empty()) drop.push_back(nb + nm1 + nn1 + 1);
        if (!drop.empty()) y = I_.emit(Op::Squeeze, {y}, {{"axes", drop}}, stem + "/squeezed");
        return {y, batch + m1 + n1 + mLast + nLast};
    }

    ValueRef finish(Term t, const std::string& output) {
        t = summedTo(I_, t, output, I_.out() + "/sum");
        t = transposed(I_, t, output, I_.out() + "/order");
        return t.value;
    }

private:
    std::int64_t sizeOf(const Term& t, char c) const { return I_.shapeOf(t.value)[t.letters.find(c)]; }

    void checkSameSize(const Term& a, const Term& b, char c) const {
        if (sizeOf(a, c) != sizeOf(b, c))
            I_.fail("letter '" + std::string(1, c) + "' has size " + std::to_string(sizeOf(a, c)) + " in one operand and " + std::to_string(sizeOf(b, c)) + " in another");
    }

    /// v with its axes from `first` on (the letters `k` of term t, in order) merged into one
    /// axis, or an axis of size 1 appended when k is empty; earlier axes are kept as they are
    /// (0 in the reshape: they may be dynamic).
    ValueRef mergeTrailing(ValueRef v, std::int64_t first, const std::string& k, const Term& t, const std::string& name) {
        if (k.size() == 1) return v;
        if (k.empty()) return unsqueezed(v, {std::int64_t(I_.shapeOf(v).size())}, name);
        Ints shape(std::size_t(first), 0);
        std::int64_t p = 1;
        for (char c : k) {
            if (!symIsConst(I_.symShape(t.value)[t.letters.find(c)]))
                I_.fail("Einsum contracting several letters, one of them over a dynamic dimension (" + I_.dynamicNote() + "), is not supported");
            p *= sizeOf(t, c);
        }
        shape.push_back(p);
        return I_.emit(Op::Reshape, {v}, {{"shape", shape}}, name);
    }

    ValueRef unsqueezed(ValueRef v, const Ints& axes, const std::string& name) {
        return axes.empty() ? v : I_.emit(Op::Unsqueeze, {v}, {{"axes", axes}}, name);
    }

    /// The permutation of `rank` axes that moves the last one to position `at`.
    static Ints rotateLastBefore(std::int64_t rank, std::int64_t at) {
        Ints p;
        for (std::int64_t i = 0; i < at; ++i) p.push_back(i);
        p.push_back(rank - 1);
        for (std::int64_t i = at; i < rank - 1; ++i) p.push_back(i);
        return p;
    }

    static Ints swapLastTwo(std::int64_t rank) {
        Ints p;
        for (std::int64_t i = 0; i < rank; ++i) p.push_back(i);
        std::swap(p[std::size_t(rank - 1)], p[std::size_t(rank - 2)]);
        return p;
    }

    Importer& I_;
    int pairs_ = 0;
};

}  // namespace

void einsum(Importer& I) {
    const Equation e = parseEquation(I, I.attrString("equation", ""), I.numInputs());
    std::vector<Term> terms;
    // f64 operands contract in double (transposes, products, sums and matmuls all compute in it)
    std::optional<DType> type = I.integerInputs();
    if (type != DType::F64) type.reset();
    for (int k = 0; k < I.numInputs(); ++k) {
        Term t{I.numIn(k, type), e.inputs[std::size_t(k)]};
        if (I.shapeOf(t.value).size() != t.letters.size())
            I.fail("operand " + std::to_string(k) + " has rank " + std::to_string(I.shapeOf(t.value).size()) + ", its term '" + t.letters + "' has " +
                   std::to_string(t.letters.size()) + " letters");
        terms.push_back(t);
    }
    Lowering low(I);
    Term acc = terms[0];
    for (std::size_t k = 1; k < terms.size(); ++k) {
        std::string later = e.output;  // letters needed after this pair
        for (std::size_t j = k + 1; j < terms.size(); ++j) later += terms[j].letters;
        acc = low.contract(acc, terms[k], later);
    }
    const ValueRef y = low.finish(acc, e.output);
    // the output node carries the ONNX name: a reshape to its own shape (0 keeps a dynamic
    // dimension), which -O's reshape-chain removes
    const std::vector<Sym> dims = I.symShape(y);
    Ints same;
    for (std::size_t i = 0; i < dims.size(); ++i) same.push_back(symIsConst(dims[i]) ? I.shapeOf(y)[i] : 0);
    I.bindData(I.out(), I.emit(Op::Reshape, {y}, {{"shape", same}}, I.out()));
}

}  // namespace adj::onnx_io::ops
