// Reading the JSON graph format (json_format.h): structure, names, ops, attributes by the op
// table's schema, and tensor data inline, in base64, in a sidecar file or from an "init".
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "base/errors.h"
#include "tensor/dtype_visit.h"
#include "base/files.h"
#include "io/json_format.h"
#include "tensor/dtype_visit.h"
#include "io/json_format_text.h"
#include "io/npy.h"

namespace adj {

using namespace json_io;

namespace {

class Loader {
public:
    Loader(const std::string& where, std::string baseDir, std::int64_t maxInit)
        : where_(where), baseDir_(std::move(baseDir)), maxInit_(maxInit) {}

    Graph load(const std::string& text) {
        const json root = parseJsonText(text, where_);
        if (!root.is_object()) fail("the top level must be a JSON object, not " + std::string(root.type_name()));
        checkKeys(root, "the top level", {"format", "version", "name", "description", "inputs", "parameters", "nodes", "outputs", "order"});
        checkHeader(root);
        Graph g;
        if (const json* n = find(root, "name")) {
            if (!n->is_string()) fail("\"name\" must be a string");
            g.name = n->get<std::string>();
        }
        if (const json* d = find(root, "description")) {
            if (!d->is_string()) fail("\"description\" must be a string");
            g.description = d->get<std::string>();
        }
        const json* inputs = section(root, "inputs");
        const json* params = section(root, "parameters");
        const json* nodes = section(root, "nodes");
        const json* outputs = section(root, "outputs");

        // 1. every entry with its name, checking for duplicates
        std::vector<Entry> entries;
        std::map<std::string, std::size_t> byName;
        auto collect = [&](const json* sec, const char* secName, Kind kind) {
            if (!sec) return;
            for (std::size_t i = 0; i < sec->size(); ++i) {
                Entry e{kind, std::string(secName) + "[" + std::to_string(i) + "]", &(*sec)[i], {}};
                if (!e.j->is_object()) fail(e.place + " must be an object, not " + std::string(e.j->type_name()));
                e.name = requireName(*e.j, e.place);
                auto [it, fresh] = byName.emplace(e.name, entries.size());
                if (!fresh) fail("duplicate name " + sq(e.name) + " (" + entries[it->second].place + " and " + e.place + ")");
                entries.push_back(std::move(e));
            }
        };
        collect(inputs, "inputs", Kind::Input);
        collect(params, "parameters", Kind::Parameter);
        collect(nodes, "nodes", Kind::Node);

        // 2. creation order: "order" when present, otherwise inputs, parameters, nodes
        std::vector<std::size_t> order(entries.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        if (const json* o = find(root, "order")) order = readOrder(*o, byName, entries);

        // 3. create every node, then 4. wire inputs by name (names may be used before they are
        // defined, and cycles load: the verifier reports them)
        std::vector<std::pair<NodeId, const Entry*>> wiring;
        for (std::size_t idx : order) {
            const Entry& e = entries[idx];
            switch (e.kind) {
                case Kind::Input: createInput(g, e); break;
                case Kind::Parameter: createParameter(g, e); break;
                case Kind::Node: {
                    NodeId id = createNode(g, e);
                    if (id != kNoNode) wiring.emplace_back(id, &e);
                    break;
                }
            }
        }
        for (const auto& [id, e] : wiring) wire(g, id, *e);
        if (outputs) readOutputs(g, *outputs);
        return g;
    }

private:
    enum class Kind { Input, Parameter, Node };
    struct Entry {
        Kind kind;
        std::string place;
        const json* j;
        std::string name;
    };

    [[noreturn]] void fail(const std::string& what) const { throw FormatError(where_ + ": " + what); }

    static const json* find(const json& obj, const char* key) {
        auto it = obj.find(key);
        return it == obj.end() ? nullptr : &*it;
    }

    void checkKeys(const json& obj, const std::string& place, std::initializer_list<const char*> allowed) const {
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            bool ok = false;
            for (const char* a : allowed) ok = ok || it.key() == a;
            if (!ok) {
                std::string list;
                for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
                fail("unknown key " + sq(it.key()) + " in " + place + " (expected " + list + ")");
            }
        }
    }

    void checkHeader(const json& root) const {
        const json* f = find(root, "format");
        if (!f) fail("no \"format\": \"adjoint-graph\" at the top level (not an Adjoint graph file?)");
        if (!f->is_string() || f->get<std::string>() != kFormatName)
            fail("\"format\" is " + brief(*f) + ", expected \"adjoint-graph\"");
        const json* v = find(root, "version");
        if (!v) fail("no \"version\" at the top level");
        std::int64_t version = 0;
        if (!asInt64(*v, version)) fail("\"version\" must be an integer, not " + brief(*v));
        if (version != kFormatVersion)
            fail("unsupported version " + std::to_string(version) + " (this build reads version " + std::to_string(kFormatVersion) + ")");
    }

    const json* section(const json& root, const char* key) const {
        const json* s = find(root, key);
        if (s && !s->is_array()) fail(std::string("\"") + key + "\" must be an array, not " + s->type_name());
        return s;
    }

    std::string requireName(const json& obj, const std::string& place) const {
        const json* n = find(obj, "name");
        if (!n) fail(place + " has no \"name\"");
        if (!n->is_string() || n->get_ref<const std::string&>().empty()) fail(place + ".name must be a non-empty string");
        return n->get<std::string>();
    }

    std::vector<std::size_t> readOrder(const json& o, const std::map<std::string, std::size_t>& byName,
                                       const std::vector<Entry>& entries) const {
        if (!o.is_array()) fail("\"order\" must be an array of names");
        std::vector<std::size_t> order;
        std::vector<char> seen(entries.size(), 0);
        for (std::size_t i = 0; i < o.size(); ++i) {
            if (!o[i].is_string()) fail("order[" + std::to_string(i) + "] must be a string");
            auto it = byName.find(o[i].get<std::string>());
            if (it == byName.end()) fail("order[" + std::to_string(i) + "] names " + sq(o[i].get<std::string>()) + ", which is not defined");
            if (seen[it->second]) fail("order lists " + sq(it->first) + " twice");
            seen[it->second] = 1;
            order.push_back(it->second);
        }
        for (std::size_t i = 0; i < entries.size(); ++i)
            if (!seen[i]) fail("\"order\" omits " + sq(entries[i].name) + " (" + entries[i].place + ")");
        return order;
    }

    Shape readShape(const json& obj, const std::string& place) const {
        const json* s = find(obj, "shape");
        if (!s) fail(place + " has no \"shape\"");
        if (!s->is_array()) fail(place + ".shape must be an array of integers");
        if (s->size() > std::size_t(kMaxRank))
            fail(place + ".shape has " + std::to_string(s->size()) + " dimensions (at most " + std::to_string(kMaxRank) + ")");
        Shape shape;
        for (const auto& d : *s) {
            std::int64_t v = 0;
            if (!asInt64(d, v)) {
                if (d.is_number_unsigned()) v = std::numeric_limits<std::int64_t>::max();
                else fail(place + ".shape must be an array of integers, not " + brief(*s));
            }
            shape.push_back(v);
        }
        if (!shapeIsSane(shape))
            fail(place + ".shape " + brief(*s) + " is absurd (a negative dimension, or more than 2^34 elements)");
        return shape;
    }

    void readMeta(const json& obj, const std::string& place, Node& n) const {
        const json* m = find(obj, "meta");
        if (!m) return;
        if (!m->is_object()) fail(place + ".meta must be an object of strings");
        for (auto it = m->begin(); it != m->end(); ++it) {
            if (!it.value().is_string()) fail(place + ".meta." + it.key() + " must be a string, not " + brief(it.value()));
            n.meta[it.key()] = it.value().get<std::string>();
        }
    }

    void createInput(Graph& g, const Entry& e) {
        checkKeys(*e.j, e.place, {"name", "shape", "dtype", "dims", "meta"});
        Shape shape = readShape(*e.j, e.place);
        DType dtype = DType::F32;
        if (const json* t = find(*e.j, "dtype")) {
            if (!t->is_string() || !dtypeFromName(t->get<std::string>()) ||
                (*dtypeFromName(t->get<std::string>()) != DType::F32 && !isIntegral(*dtypeFromName(t->get<std::string>()))))
                fail(e.place + ".dtype must be \"f32\", \"i64\", \"i32\" or \"bool\", not " + brief(*t));
            dtype = *dtypeFromName(t->get<std::string>());
        }
        std::vector<std::string> dims;
        if (const json* d = find(*e.j, "dims")) {
            if (!d->is_array() || d->size() != shape.size())
                fail(e.place + ".dims must be an array with one string or null per dimension (" + std::to_string(shape.size()) + ")");
            for (const auto& x : *d) {
                if (x.is_null()) dims.emplace_back();
                else if (x.is_string()) dims.push_back(x.get<std::string>());
                else fail(e.place + ".dims must hold strings or nulls, not " + brief(x));
            }
        }
        NodeId id = g.addInput(e.name, shape, dims, dtype);
        readMeta(*e.j, e.place, g.node(id));
    }

    void createParameter(Graph& g, const Entry& e) {
        checkKeys(*e.j, e.place, {"name", "shape", "values", "base64", "file", "init", "meta"});
        Shape shape = readShape(*e.j, e.place);
        Tensor t = readData(*e.j, e.place, "parameter " + sq(e.name), shape);
        NodeId id = g.addParameter(e.name, std::move(t));
        readMeta(*e.j, e.place, g.node(id));
    }

    NodeId createNode(Graph& g, const Entry& e) {
        const json& j = *e.j;
        const json* opj = find(j, "op");
        if (!opj) fail(e.place + " (" + sq(e.name) + ") has no \"op\"");
        if (!opj->is_string()) fail(e.place + ".op must be a string");
        const std::string opText = opj->get<std::string>();
        const std::string subject = "node " + sq(e.name);
        auto op = opFromName(opText);
        if (!op) fail(subject + ": unknown op " + sq(opText));
        if (*op == Op::Input) fail(subject + ": graph inputs belong in \"inputs\", not \"nodes\"");
        if (*op == Op::Parameter) fail(subject + ": parameters belong in \"parameters\", not \"nodes\"");
        if (*op == Op::Constant) {
            checkKeys(j, e.place, {"name", "op", "shape", "dtype", "values", "base64", "file", "init", "inputs", "attrs", "meta"});
            if (const json* in = find(j, "inputs"); in && !(in->is_array() && in->empty())) fail(subject + ": a constant has no inputs");
            if (const json* at = find(j, "attrs"); at && !(at->is_object() && at->empty())) fail(subject + ": a constant has no attributes");
            Shape shape = readShape(j, e.place);
            Tensor t = find(j, "dtype") ? readIntegerData(j, e.place, "constant " + sq(e.name), shape) : readData(j, e.place, "constant " + sq(e.name), shape);
            NodeId id = g.addConstant(std::move(t), e.name);
            readMeta(j, e.place, g.node(id));
            return kNoNode;
        }
        checkKeys(j, e.place, {"name", "op", "inputs", "attrs", "meta"});
        if (const json* in = find(j, "inputs")) {
            bool ok = in->is_array();
            if (ok)
                for (const auto& x : *in) ok = ok && (x.is_string() || x.is_null());
            if (!ok) fail(e.place + ".inputs must be an array of strings");
        }
        Attributes attrs;
        if (const json* a = find(j, "attrs")) attrs = readAttrs(*a, *op, e.place, subject);
        NodeId id = g.addNode(*op, {}, std::move(attrs), e.name);
        readMeta(j, e.place, g.node(id));
        return id;
    }

    void wire(Graph& g, NodeId id, const Entry& e) {
        const json* in = find(*e.j, "inputs");
        if (!in) return;
        std::vector<ValueRef> refs;
        for (const auto& x : *in) {
            if (x.is_null()) {
                refs.push_back(ValueRef{});  // not connected: the verifier reports it
                continue;
            }
            const std::string vn = x.get<std::string>();
            auto v = g.findValue(vn);
            if (!v) fail("node " + sq(e.name) + ": input " + sq(vn) + " is not defined");
            refs.push_back(*v);
        }
        g.setInputs(id, std::move(refs));
    }

    void readOutputs(Graph& g, const json& outs) {
        std::set<std::string> names;
        std::vector<GraphOutput> result;
        for (std::size_t i = 0; i < outs.size(); ++i) {
            const std::string place = "outputs[" + std::to_string(i) + "]";
            const json& o = outs[i];
            if (!o.is_object()) fail(place + " must be an object {\"name\", \"value\"}");
            checkKeys(o, place, {"name", "value"});
            std::string name = requireName(o, place);
            if (!names.insert(name).second) fail("duplicate output name " + sq(name) + " (" + place + ")");
            const json* v = find(o, "value");
            if (!v) fail(place + " has no \"value\"");
            ValueRef ref;
            if (v->is_string()) {
                auto r = g.findValue(v->get<std::string>());
                if (!r) fail("output " + sq(name) + ": value " + sq(v->get<std::string>()) + " is not defined");
                ref = *r;
            } else if (!v->is_null()) {
                fail(place + ".value must be a string naming a value (\"node\" or \"node:k\")");
            }
            result.push_back({name, ref});
        }
        g.setOutputs(std::move(result));
    }

    // ---- attributes ----

    AttrValue readAttrValue(const json& v, const AttrSpec& spec, const std::string& subject) const {
        std::int64_t i = 0;
        if (asInt64(v, i)) return i;
        if (v.is_number_float()) return v.get<double>();
        if (v.is_string()) return v.get<std::string>();
        if (v.is_array()) {
            if (v.empty()) {
                if (spec.type == AttrType::Floats) return std::vector<double>{};
                return std::vector<std::int64_t>{};
            }
            bool allInts = true;
            for (const auto& x : v) {
                std::int64_t dummy;
                if (!x.is_number()) fail(subject + ": attribute " + sq(spec.name) + " must be a list of numbers, not " + brief(v));
                allInts = allInts && asInt64(x, dummy);
            }
            if (allInts) {
                std::vector<std::int64_t> r;
                for (const auto& x : v) {
                    std::int64_t k = 0;
                    asInt64(x, k);
                    r.push_back(k);
                }
                return r;
            }
            std::vector<double> r;
            for (const auto& x : v) r.push_back(x.get<double>());
            return r;
        }
        fail(subject + ": attribute " + sq(spec.name) + " has an unsupported value " + brief(v) +
             " (expected " + std::string(attrTypeName(spec.type)) + ")");
    }

    Attributes readAttrs(const json& a, Op op, const std::string& place, const std::string& subject) const {
        if (!a.is_object()) fail(place + ".attrs must be an object");
        const OpInfo& info = opInfo(op);
        Attributes attrs;
        for (auto it = a.begin(); it != a.end(); ++it) {
            const AttrSpec* spec = nullptr;
            for (const auto& s : info.attrs)
                if (s.name == it.key()) spec = &s;
            if (!spec) {
                std::string list;
                for (const auto& s : info.attrs) list += (list.empty() ? "" : ", ") + s.name;
                fail(subject + ": unknown attribute " + sq(it.key()) + " for op " + sq(std::string(info.name)) +
                     (list.empty() ? " (it takes none)" : " (it takes " + list + ")"));
            }
            AttrValue v = readAttrValue(it.value(), *spec, subject);
            const AttrType t = attrValueType(v);
            bool ok = t == spec->type;
            if (spec->type == AttrType::Float) ok = ok || t == AttrType::Int;
            if (spec->type == AttrType::Floats) ok = ok || t == AttrType::Ints;
            if (!ok)
                fail(subject + ": attribute " + sq(it.key()) + " must be of type " + std::string(attrTypeName(spec->type)) +
                     ", not " + brief(it.value()));
            attrs.set(it.key(), std::move(v));
        }
        return attrs;
    }

    // ---- tensor data ----

    /// An integer or bool constant: "dtype" (an integer type or "bool") and "values", whole numbers
    /// in that type's range (bools: 0 or 1, or true and false).
    Tensor readIntegerData(const json& obj, const std::string& place, const std::string& subject, const Shape& shape) {
        const json& t = *find(obj, "dtype");
        const std::optional<DType> type = t.is_string() ? dtypeFromName(t.get<std::string>()) : std::nullopt;
        if (!type || !isIntegral(*type)) fail(place + ".dtype of a constant must be an integer type (\"i64\", \"i32\", \"i16\", \"i8\", \"u64\", \"u32\", \"u16\", \"u8\") or \"bool\", not " + brief(t));
        const json* d = find(obj, "values");
        if (!d || !d->is_array()) fail(subject + ": an integer constant gives its \"values\" as an array");
        const std::int64_t n = numel(shape);
        if (std::int64_t(d->size()) != n)
            fail(subject + ": \"values\" holds " + std::to_string(d->size()) + " numbers but shape " + shapeToString(shape) + " needs " + std::to_string(n));
        Tensor out = Tensor::empty(shape, *type);
        for (std::size_t i = 0; i < d->size(); ++i) {
            const json& v = (*d)[i];
            const std::string at = place + ".values[" + std::to_string(i) + "]";
            if (*type == DType::Bool) {
                if (v.is_boolean()) out.ptr<std::uint8_t>()[i] = v.get<bool>();
                else if (v.is_number_integer() && (v.get<std::int64_t>() == 0 || v.get<std::int64_t>() == 1)) out.ptr<std::uint8_t>()[i] = std::uint8_t(v.get<std::int64_t>());
                else fail(at + " must be true, false, 0 or 1, not " + brief(v));
                continue;
            }
            if (!v.is_number_integer()) fail(at + " must be a whole number, not " + brief(v));
            visitIntegerDType(*type, [&](auto tag) {
                using T = typename decltype(tag)::type;
                const bool fits = v.is_number_unsigned() ? v.get<std::uint64_t>() <= std::uint64_t(std::numeric_limits<T>::max())
                                                         : v.get<std::int64_t>() >= std::int64_t(std::numeric_limits<T>::min()) &&
                                                               (std::is_unsigned_v<T> || v.get<std::int64_t>() <= std::int64_t(std::numeric_limits<T>::max()));
                if (!fits) fail(at + " = " + brief(v) + " is out of " + std::string(dtypeName(*type)) + " range");
                out.ptr<T>()[i] = v.is_number_unsigned() ? T(v.get<std::uint64_t>()) : T(v.get<std::int64_t>());
            });
        }
        return out;
    }

    Tensor readData(const json& obj, const std::string& place, const std::string& subject, const Shape& shape) {
        const char* kinds[] = {"values", "base64", "file", "init"};
        const char* which = nullptr;
        for (const char* k : kinds)
            if (find(obj, k)) {
                if (which) fail(subject + ": give only one of \"" + which + "\" and \"" + k + "\"");
                which = k;
            }
        if (!which) fail(subject + " has no data: give one of \"values\", \"base64\", \"file\" or \"init\"");
        const json& d = *find(obj, which);
        const std::int64_t n = numel(shape);
        const std::string need = "shape " + shapeToString(shape) + " needs " + std::to_string(n) + " values";
        if (std::strcmp(which, "values") == 0) {
            if (!d.is_array()) fail(place + ".values must be an array of numbers");
            if (std::int64_t(d.size()) != n) fail(subject + ": \"values\" holds " + std::to_string(d.size()) + " numbers but " + need);
            Tensor t = Tensor::empty(shape);
            float* p = t.data();
            for (std::size_t i = 0; i < d.size(); ++i) {
                if (!d[i].is_number()) fail(place + ".values[" + std::to_string(i) + "] must be a number, not " + brief(d[i]));
                const double x = d[i].get<double>();
                if (!(std::fabs(x) < kFloatLimit))
                    fail(place + ".values[" + std::to_string(i) + "] = " + brief(d[i]) + " is out of float32 range");
                p[i] = float(x);
            }
            return t;
        }
        if (std::strcmp(which, "base64") == 0) {
            if (!d.is_string()) fail(place + ".base64 must be a string");
            return decodeBase64(d.get_ref<const std::string&>(), place, subject, shape, need);
        }
        if (std::strcmp(which, "file") == 0) return readSidecar(d, place, subject, shape);
        return readInit(d, place, subject, shape);
    }

    Tensor decodeBase64(const std::string& s, const std::string& place, const std::string& subject, const Shape& shape,
                        const std::string& need) const {
        const std::uint64_t bytes = std::uint64_t(numel(shape)) * 4;
        if (s.size() % 4 != 0) fail(place + ".base64 is not valid base64 (its length " + std::to_string(s.size()) + " is not a multiple of 4)");
        std::size_t pad = 0;
        if (!s.empty() && s.back() == '=') ++pad;
        if (s.size() >= 2 && s[s.size() - 2] == '=') ++pad;
        const std::uint64_t decoded = s.size() / 4 * 3 - pad;
        if (decoded != bytes)
            fail(subject + ": \"base64\" holds " + std::to_string(decoded) + " bytes but " + need + " (" + std::to_string(bytes) + " bytes)");
        Tensor t = Tensor::empty(shape);
        auto* out = reinterpret_cast<unsigned char*>(t.data());
        std::size_t o = 0;
        for (std::size_t i = 0; i < s.size(); i += 4) {
            int v[4];
            for (int k = 0; k < 4; ++k) {
                const char c = s[i + std::size_t(k)];
                const bool padOk = c == '=' && i + 4 == s.size() && std::size_t(k) >= 4 - pad;
                v[k] = padOk ? 0 : base64Value(c);
                if (v[k] < 0) fail(place + ".base64 is not valid base64 (character " + std::to_string(i + std::size_t(k)) + ")");
            }
            const std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) | (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
            const unsigned char b[3] = {static_cast<unsigned char>(w >> 16), static_cast<unsigned char>(w >> 8), static_cast<unsigned char>(w)};
            for (int k = 0; k < 3 && o < bytes; ++k) out[o++] = b[k];
        }
        return t;
    }

    Tensor readSidecar(const json& f, const std::string& place, const std::string& subject, const Shape& shape) const {
        if (!f.is_object()) fail(place + ".file must be an object {\"path\", \"offset\", \"bytes\"}");
        checkKeys(f, place + ".file", {"path", "offset", "bytes"});
        const json* pj = find(f, "path");
        if (!pj || !pj->is_string() || pj->get_ref<const std::string&>().empty()) fail(place + ".file.path must be a non-empty string");
        const std::string rel = pj->get<std::string>();
        if (std::filesystem::path(rel).is_absolute()) fail(place + ".file.path " + sq(rel) + " must be relative to the graph file");
        std::int64_t offset = 0, bytes = numel(shape) * 4;
        if (const json* oj = find(f, "offset"))
            if (!asInt64(*oj, offset) || offset < 0) fail(place + ".file.offset must be a non-negative integer");
        if (const json* bj = find(f, "bytes")) {
            std::int64_t b = 0;
            if (!asInt64(*bj, b) || b < 0) fail(place + ".file.bytes must be a non-negative integer");
            if (b != bytes)
                fail(subject + ": \"file\" says " + std::to_string(b) + " bytes but shape " + shapeToString(shape) + " needs " +
                     std::to_string(bytes));
        }
        const std::string full = baseDir_.empty() ? rel : (std::filesystem::path(baseDir_) / rel).string();
        std::FILE* file = std::fopen(full.c_str(), "rb");
        if (!file) fail(subject + ": sidecar " + sq(rel) + " cannot be opened (" + std::strerror(errno) + ")");
        struct Closer {
            std::FILE* f;
            ~Closer() { std::fclose(f); }
        } closer{file};
        struct stat st {};
        if (fstat(fileno(file), &st) != 0 || !S_ISREG(st.st_mode)) fail(subject + ": sidecar " + sq(rel) + " is not a regular file");
        const std::uint64_t size = std::uint64_t(st.st_size);
        if (std::uint64_t(offset) > size || std::uint64_t(bytes) > size - std::uint64_t(offset))
            fail(subject + ": sidecar " + sq(rel) + " is too short: needs bytes " + std::to_string(offset) + ".." +
                 std::to_string(offset + bytes) + " but holds " + std::to_string(size));
        Tensor t = Tensor::empty(shape);
        if (bytes > 0) {
            if (std::fseek(file, long(offset), SEEK_SET) != 0 || std::fread(t.data(), 1, std::size_t(bytes), file) != std::size_t(bytes))
                fail(subject + ": cannot read sidecar " + sq(rel));
        }
        return t;
    }

    Tensor readInit(const json& in, const std::string& place, const std::string& subject, const Shape& shape) {
        if (!in.is_object()) fail(place + ".init must be an object {\"kind\", ...}");
        const json* kj = find(in, "kind");
        if (!kj || !kj->is_string()) fail(place + ".init.kind must be one of \"normal\", \"uniform\", \"zeros\", \"ones\"");
        const std::string kind = kj->get<std::string>();
        auto number = [&](const char* key, double def) {
            const json* v = find(in, key);
            if (!v) return def;
            if (!v->is_number()) fail(place + ".init." + key + " must be a number");
            return v->get<double>();
        };
        auto seed = [&]() {
            const json* v = find(in, "seed");
            if (!v) fail(subject + ": a random \"init\" needs a \"seed\"");
            if (!v->is_number_unsigned()) fail(place + ".init.seed must be a non-negative integer");
            return v->get<std::uint64_t>();
        };
        InitKind k;
        double a = 0, b = 0;
        std::uint64_t s = 0;
        if (kind == "normal") {
            checkKeys(in, place + ".init", {"kind", "mean", "std", "seed"});
            k = InitKind::Normal;
            a = number("mean", 0.0);
            b = number("std", 1.0);
            s = seed();
        } else if (kind == "uniform") {
            checkKeys(in, place + ".init", {"kind", "low", "high", "seed"});
            k = InitKind::Uniform;
            a = number("low", 0.0);
            b = number("high", 1.0);
            s = seed();
        } else if (kind == "zeros" || kind == "ones") {
            checkKeys(in, place + ".init", {"kind"});
            k = kind == "zeros" ? InitKind::Zeros : InitKind::Ones;
        } else {
            fail(place + ".init.kind " + sq(kind) + " is unknown (expected normal, uniform, zeros or ones)");
        }
        const std::int64_t n = numel(shape);
        initTotal_ += n;
        if (n > maxInit_ || initTotal_ > maxInit_)
            fail(subject + ": \"init\" asks for " + std::to_string(n) + " elements; init tensors may hold at most " +
                 std::to_string(maxInit_) + " in all");
        return initTensor(shape, k, a, b, s);
    }

    const std::string& where_;
    std::string baseDir_;
    std::int64_t maxInit_;
    std::int64_t initTotal_ = 0;
};

}  // namespace

Graph parseGraphJson(const std::string& text, const std::string& where, const std::string& baseDir,
                     std::int64_t maxInitElements) {
    return Loader(where, baseDir, maxInitElements).load(text);
}

Graph loadGraphJson(const std::string& path) {
    const std::string text = readFileBytes(path);
    const std::string dir = std::filesystem::path(path).parent_path().string();
    return parseGraphJson(text, path, dir);
}

}  // namespace adj
