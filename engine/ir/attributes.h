#pragma once
// Node attributes: a sorted map (stable printing and hashing) of typed values. Reading an
// attribute that is absent falls back to the default declared in ops.def.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "ir/op.h"

namespace adj {

using AttrValue = std::variant<std::int64_t, double, std::string, std::vector<std::int64_t>, std::vector<double>>;

AttrType attrValueType(const AttrValue& v);
/// Text form used by the printer and for defaults: 3, 0.5, [1, 2], "s".
std::string attrValueToString(const AttrValue& v);
/// Parses the default text of an AttrSpec.
AttrValue parseAttrDefault(const AttrSpec& spec);

class Attributes {
public:
    using Map = std::map<std::string, AttrValue>;
    Attributes() = default;
    Attributes(std::initializer_list<Map::value_type> init) : map_(init) {}

    bool has(const std::string& name) const { return map_.count(name) != 0; }
    void set(const std::string& name, AttrValue v) { map_[name] = std::move(v); }
    void erase(const std::string& name) { map_.erase(name); }
    const Map& map() const { return map_; }
    bool operator==(const Attributes& o) const { return map_ == o.map_; }

    // Typed reads with the op's default. Throw std::invalid_argument naming the attribute when
    // it is missing without a default or of the wrong type.
    std::int64_t getInt(Op op, const std::string& name) const;
    double getFloat(Op op, const std::string& name) const;
    std::vector<std::int64_t> getInts(Op op, const std::string& name) const;
    std::vector<double> getFloats(Op op, const std::string& name) const;
    std::string getString(Op op, const std::string& name) const;
    /// True when the attribute is set or has a default.
    bool available(Op op, const std::string& name) const;

private:
    const AttrValue* lookup(Op op, const std::string& name, AttrValue& scratch) const;
    Map map_;
};

/// The parameters of an elementwise op's scalar expression from a node's attributes (defaults
/// applied): alpha, beta, gamma, 0 for those the op does not have.
EwParams ewParams(Op op, const Attributes& attrs);
/// The attributes of elementwise op `op` that carry the parameters p (the inverse of ewParams).
Attributes ewAttributes(Op op, const EwParams& p);

}  // namespace adj
