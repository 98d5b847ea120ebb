#include "tensor/tensor.h"

#include "tensor/dtype_visit.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <numeric>
#include <stdexcept>
#include <sys/mman.h>

namespace adj {

namespace {

/// Large blocks freed by tensors, kept for the next tensor of the same rounded size. glibc serves
/// blocks above 32 MB (its largest mmap threshold) with mmap and unmaps them on free, so every
/// run that returns a fresh large output (a 16M-float result: 64 MB) paid ~16,000 page faults,
/// more time than the kernel itself on a virtual machine. Bounded (kMaxRetained); never destroyed,
/// so that tensors freed during static destruction still find it.
class LargeBlockCache {
public:
    static constexpr std::size_t kMinBytes = std::size_t(8) << 20;
    static constexpr std::size_t kMaxRetained = std::size_t(256) << 20;

    static LargeBlockCache& instance() {
        static LargeBlockCache* cache = new LargeBlockCache;
        return *cache;
    }
    /// Sizes round up to 1 MiB above kMinBytes, so that similar tensors share blocks.
    static std::size_t rounded(std::size_t bytes) {
        const std::size_t r = ((bytes + 63) / 64) * 64;
        return r < kMinBytes ? (r == 0 ? 64 : r) : ((r + (std::size_t(1) << 20) - 1) >> 20) << 20;
    }
    std::byte* take(std::size_t roundedBytes) {
        if (roundedBytes < kMinBytes) return nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = free_.find(roundedBytes);
        if (it == free_.end()) return nullptr;
        std::byte* p = it->second;
        free_.erase(it);
        retained_ -= roundedBytes;
        return p;
    }
    void give(std::byte* p, std::size_t roundedBytes) {
        if (roundedBytes >= kMinBytes) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (retained_ + roundedBytes <= kMaxRetained) {
                free_.emplace(roundedBytes, p);
                retained_ += roundedBytes;
                return;
            }
        }
        std::free(p);
    }

private:
    std::mutex mutex_;
    std::multimap<std::size_t, std::byte*> free_;
    std::size_t retained_ = 0;
};

/// Blocks of this size and more are asked for in transparent huge pages (2 MiB): a model's
/// weights (hundreds of MB for a VGG) are written once at load, and in 4 KiB pages that first
/// touch cost a page fault per page, most of the time of opening such a model.
constexpr std::size_t kHugePage = std::size_t(2) << 20;
constexpr std::size_t kHugePagesFrom = std::size_t(4) << 20;

std::byte* allocateBlock(std::size_t rounded) {
    if (rounded < kHugePagesFrom) return static_cast<std::byte*>(std::aligned_alloc(64, rounded));
    const std::size_t whole = (rounded + kHugePage - 1) / kHugePage * kHugePage;
    auto* p = static_cast<std::byte*>(std::aligned_alloc(kHugePage, whole));
#ifdef MADV_HUGEPAGE
    if (p) madvise(p, whole, MADV_HUGEPAGE);  // a hint: where the kernel has none to give, 4 KiB pages
#endif
    return p;
}

}  // namespace

Storage::Storage(std::size_t bytes) : bytes_(bytes) {
    const std::size_t rounded = LargeBlockCache::rounded(bytes);
    data_ = LargeBlockCache::instance().take(rounded);
    if (!data_) data_ = allocateBlock(rounded);
    if (!data_) throw std::bad_alloc();
}

Storage::~Storage() { LargeBlockCache::instance().give(data_, LargeBlockCache::rounded(bytes_)); }

Tensor::Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Strides strides, std::int64_t offset)
    : storage_(std::move(storage)), dtype_(dtype), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset) {}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
    if (!shapeIsSane(shape)) throw std::length_error("tensor shape " + shapeToString(shape) + " is too large or negative");
    auto st = std::make_shared<Storage>(std::size_t(adj::numel(shape)) * dtypeSize(dtype));
    return Tensor(std::move(st), dtype, shape, contiguousStrides(shape), 0);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
    Tensor t = empty(shape, dtype);
    std::memset(t.storage_->data(), 0, t.storage_->bytes());
    return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
    Tensor t = empty(shape);
    std::fill_n(t.data(), t.numel(), value);
    return t;
}

Tensor Tensor::fromVector(const Shape& shape, const std::vector<float>& values) {
    Tensor t = empty(shape);
    if (std::int64_t(values.size()) != t.numel())
        throw std::invalid_argument("fromVector: " + std::to_string(values.size()) + " values for shape " + shapeToString(shape));
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

Tensor Tensor::fromInts(const Shape& shape, const std::vector<std::int64_t>& values) {
    Tensor t = empty(shape, DType::I64);
    if (std::int64_t(values.size()) != t.numel())
        throw std::invalid_argument("fromInts: " + std::to_string(values.size()) + " values for shape " + shapeToString(shape));
    std::copy(values.begin(), values.end(), t.i64());
    return t;
}

std::int64_t* Tensor::i64() {
    if (dtype_ != DType::I64) throw std::logic_error("i64() of a " + std::string(dtypeName(dtype_)) + " tensor");
    return reinterpret_cast<std::int64_t*>(storage_->data()) + offset_;
}
const std::int64_t* Tensor::i64() const { return const_cast<Tensor*>(this)->i64(); }

std::int64_t Tensor::dim(std::int64_t axis) const {
    if (!normalizeAxis(axis, rank())) throw std::out_of_range("axis out of range");
    return shape_[std::size_t(axis)];
}

bool Tensor::isContiguous() const {
    std::int64_t expected = 1;
    for (std::size_t i = shape_.size(); i-- > 0;) {
        if (shape_[i] != 1 && strides_[i] != expected) return false;
        expected *= shape_[i];
    }
    return true;
}

float* Tensor::data() { return reinterpret_cast<float*>(storage_->data()) + offset_; }
const float* Tensor::data() const { return reinterpret_cast<const float*>(storage_->data()) + offset_; }

float Tensor::at(std::initializer_list<std::int64_t> index) const {
    return const_cast<Tensor*>(this)->at(index);
}

float& Tensor::at(std::initializer_list<std::int64_t> index) {
    if (std::int64_t(index.size()) != rank()) throw std::out_of_range("at: wrong number of indices");
    std::int64_t off = 0;
    std::size_t d = 0;
    for (auto i : index) {
        if (i < 0 || i >= shape_[d]) throw std::out_of_range("at: index out of range");
        off += i * strides_[d++];
    }
    return data()[off];
}

float Tensor::flatAt(std::int64_t i) const {
    std::int64_t off = 0;
    for (std::size_t d = shape_.size(); d-- > 0;) {
        off += (i % shape_[d]) * strides_[d];
        i /= shape_[d];
    }
    return data()[off];
}

Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
    if (!normalizeAxis(a, rank()) || !normalizeAxis(b, rank())) throw std::out_of_range("transpose: axis out of range");
    std::vector<std::int64_t> perm(shape_.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::swap(perm[std::size_t(a)], perm[std::size_t(b)]);
    return permute(perm);
}

Tensor Tensor::permute(const std::vector<std::int64_t>& perm) const {
    if (perm.size() != shape_.size()) throw std::invalid_argument("permute: wrong number of axes");
    Shape s(perm.size());
    Strides st(perm.size());
    std::vector<bool> seen(perm.size(), false);
    for (std::size_t i = 0; i < perm.size(); ++i) {
        std::int64_t p = perm[i];
        if (!normalizeAxis(p, rank()) || seen[std::size_t(p)]) throw std::invalid_argument("permute: not a permutation");
        seen[std::size_t(p)] = true;
        s[i] = shape_[std::size_t(p)];
        st[i] = strides_[std::size_t(p)];
    }
    return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::slice(std::int64_t axis, std::int64_t start, std::int64_t stop, std::int64_t step) const {
    if (!normalizeAxis(axis, rank())) throw std::out_of_range("slice: axis out of range");
    if (step <= 0) throw std::invalid_argument("slice: step must be positive");
    const std::int64_t n = shape_[std::size_t(axis)];
    start = std::clamp<std::int64_t>(start < 0 ? start + n : start, 0, n);
    stop = std::clamp<std::int64_t>(stop < 0 ? stop + n : stop, 0, n);
    std::int64_t len = stop > start ? (stop - start + step - 1) / step : 0;
    Shape s = shape_;
    Strides st = strides_;
    s[std::size_t(axis)] = len;
    st[std::size_t(axis)] = strides_[std::size_t(axis)] * step;
    return Tensor(storage_, dtype_, s, st, offset_ + (len > 0 ? start * strides_[std::size_t(axis)] : 0));
}

Tensor Tensor::expand(const Shape& shape) const {
    if (shape.size() < shape_.size()) throw std::invalid_argument("expand: fewer dimensions than the tensor");
    const std::size_t lead = shape.size() - shape_.size();
    Strides st(shape.size(), 0);
    for (std::size_t i = 0; i < shape_.size(); ++i) {
        if (shape_[i] == shape[lead + i]) st[lead + i] = strides_[i];
        else if (shape_[i] == 1) st[lead + i] = 0;
        else throw std::invalid_argument("expand: cannot broadcast " + shapeToString(shape_) + " to " + shapeToString(shape));
    }
    return Tensor(storage_, dtype_, shape, st, offset_);
}

Tensor Tensor::squeeze(std::int64_t axis) const {
    if (!normalizeAxis(axis, rank()) || shape_[std::size_t(axis)] != 1) throw std::invalid_argument("squeeze: axis is not of size 1");
    Shape s = shape_;
    Strides st = strides_;
    s.erase(s.begin() + axis);
    st.erase(st.begin() + axis);
    return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::unsqueeze(std::int64_t axis) const {
    if (!normalizeAxis(axis, rank() + 1)) throw std::out_of_range("unsqueeze: axis out of range");
    Shape s = shape_;
    Strides st = strides_;
    std::int64_t stride = std::size_t(axis) < shape_.size() ? strides_[std::size_t(axis)] * shape_[std::size_t(axis)] : 1;
    s.insert(s.begin() + axis, 1);
    st.insert(st.begin() + axis, stride);
    return Tensor(storage_, dtype_, s, st, offset_);
}

Tensor Tensor::viewAs(const Shape& shape) const {
    if (!shapeIsSane(shape) || adj::numel(shape) != numel())
        throw std::invalid_argument("reshape: " + shapeToString(shape_) + " to " + shapeToString(shape) + " changes the element count");
    if (numel() == 0 || shape_.empty()) return Tensor(storage_, dtype_, shape, contiguousStrides(shape), offset_);
    // The rule of PyTorch's view (computeStride): old dimensions form chunks that are contiguous
    // among themselves; every new dimension must lie inside one chunk.
    Strides st(shape.size(), 1);
    std::int64_t viewD = std::int64_t(shape.size()) - 1;
    std::int64_t chunkBase = strides_.back();
    std::int64_t tensorNumel = 1, viewNumel = 1;
    for (std::int64_t d = std::int64_t(shape_.size()) - 1; d >= 0; --d) {
        tensorNumel *= shape_[std::size_t(d)];
        if (d == 0 || (shape_[std::size_t(d - 1)] != 1 && strides_[std::size_t(d - 1)] != tensorNumel * chunkBase)) {
            while (viewD >= 0 && (viewNumel < tensorNumel || shape[std::size_t(viewD)] == 1)) {
                st[std::size_t(viewD)] = viewNumel * chunkBase;
                viewNumel *= shape[std::size_t(viewD)];
                --viewD;
            }
            if (viewNumel != tensorNumel) return Tensor();
            if (d > 0) {
                chunkBase = strides_[std::size_t(d - 1)];
                tensorNumel = 1;
                viewNumel = 1;
            }
        }
    }
    if (viewD != -1) return Tensor();
    return Tensor(storage_, dtype_, shape, st, offset_);
}

Tensor Tensor::reshape(const Shape& shape) const {
    Tensor v = viewAs(shape);
    if (v.defined()) return v;
    return clone().viewAs(shape);
}

Tensor Tensor::contiguous() const {
    if (isContiguous()) {
        if (strides_ == contiguousStrides(shape_)) return *this;
        return Tensor(storage_, dtype_, shape_, contiguousStrides(shape_), offset_);
    }
    return clone();
}

Tensor Tensor::clone() const {
    Tensor out = empty(shape_, dtype_);
    out.copyFrom(*this);
    return out;
}

void Tensor::copyFrom(const Tensor& src) {
    if (src.shape_ != shape_) throw std::invalid_argument("copyFrom: shape mismatch " + shapeToString(src.shape_) + " vs " + shapeToString(shape_));
    if (src.dtype_ != dtype_)
        throw std::invalid_argument("copyFrom: dtype mismatch " + std::string(dtypeName(src.dtype_)) + " vs " + std::string(dtypeName(dtype_)));
    const std::size_t size = dtypeSize(dtype_);
    std::byte* d = storage_->data() + std::size_t(offset_) * size;
    const std::byte* s = src.storage_->data() + std::size_t(src.offset_) * size;
    if (isContiguous() && src.isContiguous()) {
        std::memmove(d, s, std::size_t(numel()) * size);
        return;
    }
    // through a contiguous copy of src, in case both view the same storage
    std::vector<std::byte> tmp(std::size_t(numel()) * size);
    forEachOffset(src.shape_, src.strides_, [&](std::int64_t i, std::int64_t off) {
        std::memcpy(tmp.data() + std::size_t(i) * size, s + std::size_t(off) * size, size);
    });
    forEachOffset(shape_, strides_, [&](std::int64_t i, std::int64_t off) {
        std::memcpy(d + std::size_t(off) * size, tmp.data() + std::size_t(i) * size, size);
    });
}

std::vector<float> Tensor::toVector() const {
    std::vector<float> v(static_cast<std::size_t>(numel()));
    if (!defined()) return v;
    if (dtype_ != DType::F32) {  // converted: integers exact below 2^24, f64 rounded, f16 and bf16 exact
        visitDType(dtype_, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* d = reinterpret_cast<const T*>(storage_->data()) + offset_;
            forEachOffset(shape_, strides_, [&](std::int64_t i, std::int64_t off) {
                if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) v[std::size_t(i)] = toFloat(d[off]);
                else v[std::size_t(i)] = float(d[off]);
            });
        });
        return v;
    }
    const float* d = data();
    if (isContiguous()) {
        std::copy_n(d, v.size(), v.data());
        return v;
    }
    forEachOffset(shape_, strides_, [&](std::int64_t i, std::int64_t off) { v[std::size_t(i)] = d[off]; });
    return v;
}

std::vector<std::int64_t> Tensor::toInts() const {
    std::vector<std::int64_t> v(static_cast<std::size_t>(numel()));
    if (!defined()) return v;
    auto read = [&](const auto* d) { forEachOffset(shape_, strides_, [&](std::int64_t i, std::int64_t off) { v[std::size_t(i)] = std::int64_t(d[off]); }); };
    if (dtype_ == DType::Bool) read(ptr<std::uint8_t>());
    else if (isInteger(dtype_))  // (a u64 beyond int64's range wraps)
        visitIntegerDType(dtype_, [&](auto tag) { read(ptr<typename decltype(tag)::type>()); });
    else
        throw std::logic_error("toInts() of a " + std::string(dtypeName(dtype_)) + " tensor");
    return v;
}

}  // namespace adj
