// Rewrite speed: optimizing a 100,000-node graph (1,000 distinct chains of 16 links; each link has
// a foldable constant expression, an identity x*1, and a duplicate for CSE). Prints nodes, time and visits per pass. Goal: <= 1 s, visits per pass
// <= 2x the node count.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ir/builder.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"

using namespace adj;

static Graph buildGraph(int chains, int links) {
    Graph g;
    g.name = "bench";
    const ValueRef x{g.addInput("x", {16}), 0};
    GraphBuilder b(g);
    for (int c = 0; c < chains; ++c) {
        // each chain has its own constants and its own scale of x, so chains stay distinct
        ValueRef one = b.constant(1.f, "one" + std::to_string(c));
        ValueRef v = b.op(Op::Mul, {x, b.constant(1.f + 1e-3f * float(c), "s" + std::to_string(c))}, {}, "c" + std::to_string(c));
        for (int i = 0; i < links; ++i) {
            const std::string s = "c" + std::to_string(c) + "_" + std::to_string(i);
            ValueRef k = b.op(Op::Add, {one, one}, {}, s + "_k");    // folds to 2
            ValueRef m = b.op(Op::Mul, {v, one}, {}, s + "_m");      // x*1 -> x
            ValueRef d1 = b.op(Op::Mul, {m, k}, {}, s + "_d1");
            ValueRef d2 = b.op(Op::Mul, {k, m}, {}, s + "_d2");      // the same as d1 (CSE)
            v = b.op(Op::Add, {b.op(Op::Tanh, {d1}, {}, s + "_t"), d2}, {}, s + "_v");
        }
        g.addOutput("y" + std::to_string(c), v);
    }
    return g;
}

int main(int argc, char** argv) {
    const int chains = argc > 1 ? std::atoi(argv[1]) : 1000;
    const int links = argc > 2 ? std::atoi(argv[2]) : 16;
    const bool onlyO2 = argc > 3 && std::string(argv[3]) == "O2";  // one -O2 run without the verifier (profiling)
    for (int level : {1, 2}) {
        if (onlyO2 && level != 2) continue;
        for (bool verify : {false, true}) {
            if (onlyO2 && verify) continue;
            Graph g = buildGraph(chains, links);
            verifyOrThrow(g);
            OptimizeOptions o;
            o.level = level;
            o.verify = verify;
            const auto t0 = std::chrono::steady_clock::now();
            const std::clock_t c0 = std::clock();
            OptimizeResult r = optimizeGraph(g, o);
            const double cpuMs = 1000.0 * double(std::clock() - c0) / CLOCKS_PER_SEC;
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            std::printf("-O%d verify=%d: %zu -> %zu nodes, %lld rewrites, %lld visits, %.1f ms wall, %.1f ms CPU\n", level, int(verify),
                        r.nodesBefore, r.nodesAfter, (long long)r.applications, (long long)r.visits, ms, cpuMs);
            if (!verify)
                for (const auto& p : r.passes)
                    std::printf("  %-18s %7zu nodes  %8lld visits (%.2fx)  %6lld rewrites  %7.1f ms\n", p.pass.c_str(), p.nodesBefore,
                                (long long)p.visits, double(p.visits) / double(std::max<std::size_t>(1, p.nodesBefore)),
                                (long long)p.applications, p.ms);
        }
    }
    return 0;
}
