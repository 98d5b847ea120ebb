#include "runtime/vulkan/vulkan_executor.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include "base/errors.h"
#include "ir/shape_inference.h"
#include "runtime/bindings.h"
#include "runtime/vulkan/fusion_codegen.h"
#include "runtime/vulkan/pipelines.h"
#include "runtime/vulkan/vk_check.h"
#include "runtime/vulkan/vulkan_context.h"
#include "runtime/vulkan/vulkan_memory.h"
#include "runtime/vulkan/vulkan_ops.h"
#include "runtime/vulkan/vulkan_recorder.h"

namespace adj {
namespace {

std::uint64_t contentHash(const Tensor& t) {
    const Tensor c = t.contiguous();
    const std::size_t bytes = std::size_t(c.numel()) * 4;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(c.data());
    std::uint64_t h = 1469598103934665603ull ^ bytes;
    std::size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

struct Resident {
    std::weak_ptr<Storage> storage;
    std::int64_t offset = 0;
    Shape shape;
    Strides strides;
    std::uint64_t hash = 0;
    vk::DevTensor dev;
};

}  // namespace

struct VulkanExecutor::Impl {
    VulkanOptions options;
    vk::VulkanContext ctx;
    vk::SubAllocator device{ctx, vk::SubAllocator::Kind::DeviceLocal};
    vk::SubAllocator host{ctx, vk::SubAllocator::Kind::HostVisible, VkDeviceSize(16) << 20};
    vk::PipelineStore pipelines{ctx};
    vk::FusedKernelCache fused;
    VkCommandPool pool = VK_NULL_HANDLE;
    std::map<const Storage*, Resident> resident;
    std::map<std::string, std::string> generatedSources;
    VulkanRunStats stats;

    explicit Impl(VulkanOptions o) : options(o) {
        VkCommandPoolCreateInfo ci{};
        ci.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
        ci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
        ci.queueFamilyIndex = ctx.queueFamily();
        vk::check(vkCreateCommandPool(ctx.device(), &ci, nullptr, &pool), "vkCreateCommandPool");
    }
    ~Impl() {
        resident.clear();
        vkDestroyCommandPool(ctx.device(), pool, nullptr);
    }

    /// The device copy of a host tensor bound to a source node: resident when unchanged.
    vk::DevTensor source(vk::CommandRecorder& rec, const Tensor& t) {
        const Storage* key = t.storage().get();
        const std::uint64_t h = contentHash(t);
        auto it = resident.find(key);
        if (it != resident.end()) {
            const Resident& r = it->second;
            if (r.storage.lock() == t.storage() && r.offset == t.offset() && r.shape == t.shape() && r.strides == t.strides() && r.hash == h) {
                ++stats.residentHits;
                return r.dev;
            }
        }
        vk::DevTensor d = rec.allocate(t.shape());
        rec.upload(t, d);
        ++stats.residentUploads;
        remember(t, d, h);
        return d;
    }

    void remember(const Tensor& t, const vk::DevTensor& d, std::uint64_t h) {
        resident[t.storage().get()] = Resident{t.storage(), t.offset(), t.shape(), t.strides(), h, d};
    }

    void dropStale() {
        for (auto it = resident.begin(); it != resident.end();)
            it = it->second.storage.expired() ? resident.erase(it) : std::next(it);
    }
};

VulkanExecutor::VulkanExecutor(VulkanOptions options) : impl_(std::make_unique<Impl>(options)) {}
VulkanExecutor::~VulkanExecutor() = default;

std::string VulkanExecutor::deviceName() const { return impl_->ctx.caps().name; }
bool VulkanExecutor::supports(Op op) const { return vk::vulkanSupports(op); }
std::string VulkanExecutor::capabilitySummary() const { return impl_->ctx.caps().summary(); }
bool VulkanExecutor::isSoftwareDevice() const { return impl_->ctx.caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU; }
bool VulkanExecutor::subgroupArithmetic() const { return impl_->ctx.caps().subgroupArithmetic; }
VulkanRunStats VulkanExecutor::lastRunStats() const { return impl_->stats; }
void VulkanExecutor::setSubmitPerOp(bool on) { impl_->options.submitPerOp = on; }

std::string VulkanExecutor::generatedSource(const std::string& nodeName) const {
    auto it = impl_->generatedSources.find(nodeName);
    return it == impl_->generatedSources.end() ? std::string() : it->second;
}

RunResult VulkanExecutor::run(const Graph& g, const Bindings& bindings, const RunOptions& opt) {
    Impl& im = *impl_;
    for (const auto& o : g.outputs())
        if (!g.contains(o.value.node)) throw GraphError("output '" + o.name + "' refers to a value that does not exist");
    const std::vector<NodeId> order = g.liveTopoOrder();
    for (NodeId id : order) {  // unsupported ops and integer or bool values fail before any work
        const Node& n = g.node(id);
        if (n.op == Op::Input && n.declaredDType != DType::F32)
            throw BackendUnsupported("graph input '" + n.name + "' is " + std::string(dtypeName(n.declaredDType)) +
                                     ": the Vulkan backend has float32 tensors only (run it with --backend cpu)");
        for (int p = 0; p < n.numOutputs(); ++p)
            if (g.hasType({id, p}) && g.type({id, p}).dtype != DType::F32)
                throw BackendUnsupported("node '" + n.name + "' (" + std::string(opName(n.op)) + ") makes " + std::string(dtypeName(g.type({id, p}).dtype)) +
                                         " values: the Vulkan backend has float32 tensors only (run it with --backend cpu)");
    }
    for (NodeId id : order)
        if (!vk::vulkanSupports(g.node(id).op))
            throw BackendUnsupported("node '" + g.node(id).name + "' (" + std::string(opName(g.node(id).op)) +
                                     ") on Vulkan: the Vulkan backend has no shader for this op yet (run it with --backend cpu)");
    im.dropStale();
    im.stats = {};
    // Measured peak: the device buffers this run added to what was already resident (cached
    // parameters and the last run's outputs count as the caller's sources do on the CPU).
    const VkDeviceSize residentBytes = im.device.bytesInUse();
    im.device.resetPeak();
    vk::CommandRecorder rec(im.ctx, im.device, im.host, im.pool, im.options.submitPerOp);
    vk::OpEnv env{rec, im.pipelines, im.fused, im.ctx.caps(), im.generatedSources};

    std::vector<std::vector<vk::DevTensor>> values(std::size_t(g.idBound()));
    RunResult result;
    result.nodeMicros.assign(std::size_t(g.idBound()), 0.0);
    for (NodeId id : order) {
        const Node& n = g.node(id);
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<vk::DevTensor>& out = values[std::size_t(id)];
        if (n.op == Op::Input) {
            auto it = bindings.find(n.name);
            if (it == bindings.end()) throw Error("graph input '" + n.name + "' has no binding (give it with --input " + n.name + "=FILE.npy)");
            checkBinding(n, it->second);
            out = {im.source(rec, it->second)};
        } else if (isSource(n.op)) {
            out = {im.source(rec, sourceValue(n, bindings))};
        } else {
            {
                std::vector<vk::DevTensor> ins;
                std::vector<ValueType> inTypes;
                for (const auto& v : n.inputs) {
                    if (!g.contains(v.node)) throw GraphError("node '" + n.name + "' has an unconnected input");
                    const vk::DevTensor& t = values[std::size_t(v.node)].at(std::size_t(v.port));
                    ins.push_back(t);
                    inTypes.push_back({t.shape, DType::F32});
                }
                const std::vector<ValueType> outTypes = inferNodeTypes(n, inTypes);
                out = vk::recordOp(env, n, ins, outTypes);
            }
        }
        if (im.options.submitPerOp) result.nodeMicros[std::size_t(id)] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    }

    // graph outputs (and every value with keepAllValues) come back through staging buffers
    auto fetch = [&](const vk::DevTensor& d) {
        const vk::DevTensor c = vk::contiguousOnDevice(env, d);
        Tensor host = Tensor::empty(d.shape);
        rec.download(c, host);
        return std::make_pair(host, c);
    };
    std::vector<std::pair<Tensor, vk::DevTensor>> outs;
    for (const auto& o : g.outputs()) outs.push_back(fetch(values[std::size_t(o.value.node)].at(std::size_t(o.value.port))));
    std::map<ValueRef, Tensor> all;
    if (opt.keepAllValues)
        for (NodeId id : order)
            for (std::size_t p = 0; p < values[std::size_t(id)].size(); ++p) all[ValueRef{id, int(p)}] = fetch(values[std::size_t(id)][p]).first;
    rec.finish();

    for (auto& [host, dev] : outs) {
        result.outputs.push_back(host);
        im.remember(host, dev, contentHash(host));  // the next run may bind it: already on the device
    }
    result.values = std::move(all);
    result.peakLiveBytes = std::int64_t(im.device.peakBytesInUse() - residentBytes);

    if (opt.checkFinite) {
        auto finite = [](const Tensor& t) {
            const float* p = t.data();
            for (std::int64_t i = 0; i < t.numel(); ++i)
                if (!std::isfinite(p[i])) return false;
            return true;
        };
        bool ok = true;
        for (const auto& t : result.outputs) ok = ok && finite(t);
        if (!ok) {  // find the first node that produced a NaN or Inf, in topological order
            std::vector<std::pair<NodeId, std::vector<Tensor>>> check;
            for (NodeId id : order) {
                if (isSource(g.node(id).op)) continue;
                std::vector<Tensor> ts;
                for (const auto& d : values[std::size_t(id)]) ts.push_back(fetch(d).first);
                check.push_back({id, ts});
            }
            rec.finish();
            for (const auto& [id, ts] : check)
                for (const auto& t : ts)
                    if (!finite(t)) throw Error("node '" + g.node(id).name + "' (" + std::string(opName(g.node(id).op)) + ") produced a NaN or Inf");
            throw Error("a graph output holds a NaN or Inf");
        }
    }
    im.stats.dispatches = rec.dispatches();
    im.stats.submits = rec.submits();
    im.stats.bytesUploaded = rec.bytesUploaded();
    return result;
}

std::unique_ptr<Executor> makeVulkanExecutor(VulkanOptions options) { return std::make_unique<VulkanExecutor>(options); }

}  // namespace adj
