// ONNX LSTM, GRU and RNN, unrolled over the sequence into the table's ops: one matmul of the whole
// input by W up front, then per time step a matmul by R, the gates' slices and their activations.
// The backward graph of the unrolled cells is backpropagation through time, node by node. The
// nodes of one recurrent layer form one group (node meta "group", collapsed), so the canvas shows
// the layer as one node that opens into its cells.
//
// Supported: directions forward, reverse and bidirectional; layout 0 and 1; biases; initial_h and
// initial_c; LSTM peepholes; GRU's linear_before_reset; the activations Sigmoid, Tanh and Relu.
// The sequence length must be static (the unrolling has that many steps); sequence_lens must be
// absent or equal to it for every row; clip and input_forget are refused.
#include <string>
#include <vector>

#include "io/onnx_import_ops.h"

namespace adj::onnx_io::ops {

namespace {

constexpr std::int64_t kMaxSteps = 1024;  // time steps times directions: the unrolled graph's size

struct Recurrent {
    char kind = 'l';         // 'l' LSTM, 'g' GRU, 'r' RNN
    std::int64_t gates = 4;  // LSTM iofc, GRU zrh, RNN one
    std::int64_t hidden = 0;
    std::vector<std::string> activations;  // per direction: f, g (, h)
    bool linearBeforeReset = false;
};

Op activationOp(Importer& I, const std::string& name) {
    if (name == "Sigmoid") return Op::Sigmoid;
    if (name == "Tanh") return Op::Tanh;
    if (name == "Relu") return Op::Relu;
    I.fail("activation '" + name + "' is not supported (Sigmoid, Tanh and Relu are)");
}

class Unroller {
public:
    Unroller(Importer& I, Recurrent r, std::string stem) : I_(I), r_(std::move(r)), stem_(std::move(stem)) {}

    ValueRef slice(ValueRef v, std::int64_t axis, std::int64_t begin, std::int64_t end, const std::string& name) {
        return I_.emit(Op::Slice, {v}, {{"starts", Ints{begin}}, {"ends", Ints{end}}, {"axes", Ints{axis}}}, name);
    }
    /// Row `d` of a [directions, ...] tensor, without the leading axis.
    ValueRef row(ValueRef v, std::int64_t d, const std::string& name) {
        return I_.emit(Op::Squeeze, {slice(v, 0, d, d + 1, name + "_slice")}, {{"axes", Ints{0}}}, name);
    }
    ValueRef act(std::size_t k, std::int64_t d, ValueRef v, const std::string& name) {
        return I_.emit(activationOp(I_, r_.activations[std::size_t(d) * perDirection() + k]), {v}, {}, name);
    }
    std::size_t perDirection() const { return r_.kind == 'l' ? 3 : r_.kind == 'g' ? 2 : 1; }
    /// Gate k (of r_.gates) of a [..., gates * hidden] value.
    ValueRef gate(ValueRef v, std::int64_t k, const std::string& name) {
        const std::int64_t last = std::int64_t(I_.shapeOf(v).size()) - 1;
        return slice(v, last, k * r_.hidden, (k + 1) * r_.hidden, name);
    }
    ValueRef add(ValueRef a, ValueRef b, const std::string& name) { return I_.emit(Op::Add, {a, b}, {}, name); }
    ValueRef mul(ValueRef a, ValueRef b, const std::string& name) { return I_.emit(Op::Mul, {a, b}, {}, name); }

    /// One direction over the whole sequence: the hidden state of every step in time order and
    /// the final hidden (and cell) state. x: [seq, batch, input].
    struct Result {
        std::vector<ValueRef> hs;  // per time step, [batch, hidden]
        ValueRef lastH, lastC;
    };
    Result direction(ValueRef x, std::int64_t seq, std::int64_t d, bool reverse, ValueRef w, ValueRef rw, ValueRef b, ValueRef h0, ValueRef c0,
                     ValueRef p) {
        const std::string s = stem_ + "/dir" + std::to_string(d);
        const std::int64_t h = r_.hidden;
        // the input's part of every gate at every step, with both biases where they simply add
        ValueRef xw = I_.emit(Op::MatMul, {x, I_.emit(Op::Transpose, {row(w, d, s + "/W")}, {{"perm", Ints{1, 0}}}, s + "/W_t")}, {}, s + "/xw");
        ValueRef rt = I_.emit(Op::Transpose, {row(rw, d, s + "/R")}, {{"perm", Ints{1, 0}}}, s + "/R_t");
        ValueRef rbH;  // GRU: Rb of the h gate, applied inside the reset
        if (b.node != kNoNode) {
            ValueRef bd = row(b, d, s + "/B");
            ValueRef wb = slice(bd, 0, 0, r_.gates * h, s + "/Wb"), rb = slice(bd, 0, r_.gates * h, 2 * r_.gates * h, s + "/Rb");
            if (r_.kind == 'g') {
                // z and r take Wb + Rb; h takes Wb here and Rb inside (linear_before_reset) or beside the reset
                rbH = slice(rb, 0, 2 * h, 3 * h, s + "/Rb_h");
                ValueRef rbZr = slice(rb, 0, 0, 2 * h, s + "/Rb_zr");
                ValueRef zero = I_.constantNode(Tensor::zeros({h}), s + "/no_bias");
                rb = I_.emit(Op::Concat, {rbZr, zero}, {{"axis", std::int64_t(0)}}, s + "/Rb_zr0");
            }
            xw = add(xw, add(wb, rb, s + "/bias"), s + "/xw_b");
        }
        ValueRef pi, po, pf;
        if (p.node != kNoNode) {
            ValueRef pd = row(p, d, s + "/P");
            pi = slice(pd, 0, 0, h, s + "/P_i"), po = slice(pd, 0, h, 2 * h, s + "/P_o"), pf = slice(pd, 0, 2 * h, 3 * h, s + "/P_f");
        }
        Result res;
        res.hs.resize(std::size_t(seq));
        ValueRef hPrev = h0, cPrev = c0;  // kNoNode: zero (the first step skips their terms)
        for (std::int64_t k = 0; k < seq; ++k) {
            const std::int64_t t = reverse ? seq - 1 - k : k;
            const std::string st = s + "/t" + std::to_string(t);
            ValueRef g = I_.emit(Op::Squeeze, {slice(xw, 0, t, t + 1, st + "/x_slice")}, {{"axes", Ints{0}}}, st + "/x");
            ValueRef hr;  // hPrev @ R^T
            if (hPrev.node != kNoNode) hr = I_.emit(Op::MatMul, {hPrev, rt}, {}, st + "/hr");
            ValueRef hNew, cNew;
            if (r_.kind == 'r') {
                hNew = act(0, d, hr.node != kNoNode ? add(g, hr, st + "/pre") : g, st + "/h");
            } else if (r_.kind == 'l') {
                if (hr.node != kNoNode) g = add(g, hr, st + "/pre");
                ValueRef i = gate(g, 0, st + "/i_pre"), o = gate(g, 1, st + "/o_pre"), f = gate(g, 2, st + "/f_pre"), c = gate(g, 3, st + "/c_pre");
                if (pi.node != kNoNode && cPrev.node != kNoNode) {
                    i = add(i, mul(pi, cPrev, st + "/peep_i"), st + "/i_peep");
                    f = add(f, mul(pf, cPrev, st + "/peep_f"), st + "/f_peep");
                }
                i = act(0, d, i, st + "/i");
                f = act(0, d, f, st + "/f");
                c = act(1, d, c, st + "/c");
                cNew = mul(i, c, st + "/ic");
                if (cPrev.node != kNoNode) cNew = add(mul(f, cPrev, st + "/fc"), cNew, st + "/cell");
                if (pi.node != kNoNode) o = add(o, mul(po, cNew, st + "/peep_o"), st + "/o_peep");
                o = act(0, d, o, st + "/o");
                hNew = mul(o, act(2, d, cNew, st + "/cell_act"), st + "/h");
            } else {  // GRU
                ValueRef z = gate(g, 0, st + "/z_pre"), rg = gate(g, 1, st + "/r_pre"), hx = gate(g, 2, st + "/h_x");
                ValueRef hrH;
                if (hr.node != kNoNode) {
                    z = add(z, gate(hr, 0, st + "/z_h"), st + "/z_sum");
                    rg = add(rg, gate(hr, 1, st + "/r_h"), st + "/r_sum");
                }
                z = act(0, d, z, st + "/z");
                rg = act(0, d, rg, st + "/r");
                // the candidate's recurrent term: r * (H Rh^T + Rbh) or (r * H) Rh^T + Rbh
                ValueRef rec;
                if (r_.linearBeforeReset) {
                    ValueRef lin = hr.node != kNoNode ? gate(hr, 2, st + "/h_h") : ValueRef{};
                    if (rbH.node != kNoNode) lin = lin.node != kNoNode ? add(lin, rbH, st + "/h_hb") : rbH;
                    if (lin.node != kNoNode) rec = mul(rg, lin, st + "/reset");
                } else {
                    if (hPrev.node != kNoNode) {
                        ValueRef rh = mul(rg, hPrev, st + "/reset");
                        ValueRef rtH = slice(rt, 1, 2 * r_.hidden, 3 * r_.hidden, st + "/R_h");
                        rec = I_.emit(Op::MatMul, {rh, rtH}, {}, st + "/reset_h");
                    }
                    if (rbH.node != kNoNode) rec = rec.node != kNoNode ? add(rec, rbH, st + "/reset_hb") : rbH;
                }
                ValueRef cand = act(1, d, rec.node != kNoNode ? add(hx, rec, st + "/h_pre") : hx, st + "/h_cand");
                // H = (1 - z) * candidate + z * H_prev
                if (one_.node == kNoNode) one_ = I_.constantNode(Tensor::scalar(1.f), stem_ + "/one");  // one for every step
                hNew = mul(I_.emit(Op::Sub, {one_, z}, {}, st + "/keep"), cand, st + "/h_new");
                if (hPrev.node != kNoNode) hNew = add(hNew, mul(z, hPrev, st + "/h_old"), st + "/h");
            }
            res.hs[std::size_t(t)] = hNew;
            hPrev = hNew;
            cPrev = cNew;
        }
        res.lastH = hPrev;
        res.lastC = cPrev;
        return res;
    }

private:
    Importer& I_;
    Recurrent r_;
    std::string stem_;
    ValueRef one_;
};

}  // namespace

void recurrent(Importer& I, char kind) {
    Recurrent r;
    r.kind = kind;
    r.gates = kind == 'l' ? 4 : kind == 'g' ? 3 : 1;
    r.hidden = I.attrInt("hidden_size", 0);
    if (r.hidden <= 0 || r.hidden > (1 << 20)) I.fail("attribute 'hidden_size' must be in [1, 2^20], got " + std::to_string(r.hidden));
    if (I.attr("clip")) I.fail("clip is not supported");
    if (I.attrInt("input_forget", 0) != 0) I.fail("input_forget=1 is not supported");
    if (I.attr("activation_alpha") || I.attr("activation_beta")) I.fail("activation_alpha and activation_beta are not supported");
    r.linearBeforeReset = I.attrInt("linear_before_reset", 0) != 0;
    const std::string direction = I.attrString("direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
        I.fail("direction '" + direction + "' is not forward, reverse or bidirectional");
    const std::int64_t dirs = direction == "bidirectional" ? 2 : 1;
    const std::int64_t layout = I.attrInt("layout", 0);
    if (layout != 0 && layout != 1) I.fail("layout must be 0 or 1");
    // activations: the defaults, or a list with one entry per function per direction
    const std::vector<std::string> defaults = kind == 'l' ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                              : kind == 'g' ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                            : std::vector<std::string>{"Tanh"};
    if (const auto* a = I.attr("activations")) {
        for (const auto& s : a->strings()) r.activations.push_back(s);
        if (r.activations.size() != defaults.size() * std::size_t(dirs))
            I.fail("activations has " + std::to_string(r.activations.size()) + " entries, expected " + std::to_string(defaults.size() * std::size_t(dirs)));
    } else {
        for (std::int64_t d = 0; d < dirs; ++d) r.activations.insert(r.activations.end(), defaults.begin(), defaults.end());
    }

    ValueRef x = I.fin(0);
    const Shape& xs = I.shapeOf(x);
    if (xs.size() != 3) I.fail("X must be 3-D, got " + shapeToString(xs));
    const std::string base = !I.node().name().empty() ? I.node().name() : I.out(0).empty() ? std::string("recurrent") : I.out(0);
    const NodeId firstNode = I.graph().idBound();
    if (layout == 1) x = I.emit(Op::Transpose, {x}, {{"perm", Ints{1, 0, 2}}}, base + "/time_major");
    const auto seqSym = I.symShape(x)[0];
    if (!symIsConst(seqSym)) I.fail("the sequence length depends on a dynamic dimension (" + I.dynamicNote() + "); unrolling needs it static");
    const std::int64_t seq = seqSym[0];
    if (seq <= 0) I.fail("the sequence is empty");
    if (seq * dirs > kMaxSteps) I.fail(std::to_string(seq * dirs) + " time steps are too many to unroll (at most " + std::to_string(kMaxSteps) + ")");
    const std::int64_t input = I.shapeOf(x)[2];
    auto expectShape = [&](ValueRef v, const Shape& want, const std::string& what) {
        if (I.shapeOf(v) != want) I.fail(what + " must have shape " + shapeToString(want) + ", got " + shapeToString(I.shapeOf(v)));
    };
    ValueRef w = I.fin(1), rw = I.fin(2);
    expectShape(w, {dirs, r.gates * r.hidden, input}, "W");
    expectShape(rw, {dirs, r.gates * r.hidden, r.hidden}, "R");
    ValueRef b, h0, c0, p;
    if (I.has(3)) {
        b = I.fin(3);
        expectShape(b, {dirs, 2 * r.gates * r.hidden}, "B");
    }
    if (I.has(4)) {
        const IntTensor& lens = I.iin(4, "sequence_lens");
        for (const Sym& l : lens.data)
            if (!symIsConst(l) || l[0] != seq) I.fail("sequence_lens other than the full length (" + std::to_string(seq) + ") is not supported");
    }
    auto initial = [&](int i, const std::string& what) {
        ValueRef v = I.fin(i);
        if (layout == 1) v = I.emit(Op::Transpose, {v}, {{"perm", Ints{1, 0, 2}}}, base + "/" + what + "_dir_major");
        const Shape& s = I.shapeOf(v);
        if (s.size() != 3 || s[0] != dirs || s[2] != r.hidden)
            I.fail(what + " must be [" + std::to_string(dirs) + ", batch, " + std::to_string(r.hidden) + "], got " + shapeToString(s));
        return v;
    };
    if (I.has(5)) h0 = initial(5, "initial_h");
    if (kind == 'l' && I.has(6)) c0 = initial(6, "initial_c");
    if (kind == 'l' && I.has(7)) {
        p = I.fin(7);
        expectShape(p, {dirs, 3 * r.hidden}, "P");
    }

    Unroller u(I, r, base);
    std::vector<ValueRef> ys, hs, cs;
    for (std::int64_t d = 0; d < dirs; ++d) {
        const bool reverse = direction == "reverse" || d == 1;
        const std::string s = base + "/dir" + std::to_string(d);
        ValueRef h0d = h0.node != kNoNode ? u.row(h0, d, s + "/h0") : ValueRef{};
        ValueRef c0d = c0.node != kNoNode ? u.row(c0, d, s + "/c0") : ValueRef{};
        auto res = u.direction(x, seq, d, reverse, w, rw, b, h0d, c0d, p);
        std::vector<ValueRef> steps;
        for (std::int64_t t = 0; t < seq; ++t)
            steps.push_back(I.emit(Op::Unsqueeze, {res.hs[std::size_t(t)]}, {{"axes", Ints{0}}}, s + "/y" + std::to_string(t)));
        ValueRef y = steps.size() == 1 ? steps[0] : I.emit(Op::Concat, steps, {{"axis", std::int64_t(0)}}, s + "/y");
        ys.push_back(I.emit(Op::Unsqueeze, {y}, {{"axes", Ints{1}}}, s + "/y_dir"));
        hs.push_back(I.emit(Op::Unsqueeze, {res.lastH}, {{"axes", Ints{0}}}, s + "/h_last"));
        if (kind == 'l') cs.push_back(I.emit(Op::Unsqueeze, {res.lastC}, {{"axes", Ints{0}}}, s + "/c_last"));
    }
    auto joined = [&](const std::vector<ValueRef>& parts, std::int64_t axis, const std::string& name) {
        return parts.size() == 1 ? parts[0] : I.emit(Op::Concat, parts, {{"axis", axis}}, name);
    };
    // outputs: Y [seq, dirs, batch, hidden] (layout 1: [batch, seq, dirs, hidden]), Y_h and Y_c
    // [dirs, batch, hidden] (layout 1: [batch, dirs, hidden])
    std::vector<std::pair<int, ValueRef>> outs;
    if (I.node().output_size() > 0 && !I.out(0).empty()) {
        ValueRef y = joined(ys, 1, base + "/Y");
        if (layout == 1) y = I.emit(Op::Transpose, {y}, {{"perm", Ints{2, 0, 1, 3}}}, base + "/Y_batch_major");
        outs.push_back({0, y});
    }
    if (I.node().output_size() > 1 && !I.out(1).empty()) {
        ValueRef y = joined(hs, 0, base + "/Y_h");
        if (layout == 1) y = I.emit(Op::Transpose, {y}, {{"perm", Ints{1, 0, 2}}}, base + "/Y_h_batch_major");
        outs.push_back({1, y});
    }
    if (kind == 'l' && I.node().output_size() > 2 && !I.out(2).empty()) {
        ValueRef y = joined(cs, 0, base + "/Y_c");
        if (layout == 1) y = I.emit(Op::Transpose, {y}, {{"perm", Ints{1, 0, 2}}}, base + "/Y_c_batch_major");
        outs.push_back({2, y});
    }
    for (auto& [k, v] : outs) I.bindFloat(I.out(k), v);
    // the layer is one group on the canvas, collapsed: it opens into its unrolled cells
    groupNodesSince(I, firstNode, base);
}

}  // namespace adj::onnx_io::ops
