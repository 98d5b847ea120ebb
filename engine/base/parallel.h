#pragma once
// The engine's parallel loops: oneTBB's parallel_for, with the loop's fork and join told to
// ThreadSanitizer.
//
// Debian's libtbb is not built with -fsanitize=thread. The hand-off of a loop's tasks to the
// workers and their joining happen inside libtbb.so (atomics and futexes TSan does not see), so
// under TSan every read in a loop body of what the caller wrote before the loop, and every read
// by the caller of what a body wrote, would be reported as a race, hiding the real ones. A
// ParallelHandOff states these two happens-before edges with TSan's annotations: the caller
// releases before the loop and each body acquires before it runs; each body releases when it is
// done and the caller acquires after the loop. Races between the bodies of one loop (two tasks
// writing the same element) still report. Outside TSan builds all of this compiles to nothing.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstddef>

#if defined(__SANITIZE_THREAD__)
#define ADJ_TSAN_ANNOTATE 1
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
// The adapter below reads only its two pointers and the range TBB gave it, all stored in a task
// object that libtbb allocated and handed over unseen: it is kept out of TSan's view, and the
// body it calls is instrumented as usual, after the acquire.
#define ADJ_TSAN_UNSEEN __attribute__((no_sanitize("thread"), noinline))
#else
#define ADJ_TSAN_UNSEEN
#endif

namespace adj {

/// Tells ThreadSanitizer that what this thread wrote so far happens before what a thread that
/// later calls tsanAcquire(p) with the same address reads (no-ops outside TSan builds).
inline void tsanRelease([[maybe_unused]] const void* p) {
#ifdef ADJ_TSAN_ANNOTATE
    __tsan_release(const_cast<void*>(p));
#endif
}
inline void tsanAcquire([[maybe_unused]] const void* p) {
#ifdef ADJ_TSAN_ANNOTATE
    __tsan_acquire(const_cast<void*>(p));
#endif
}

/// The fork and the join of one parallel loop.
class ParallelHandOff {
public:
    ParallelHandOff() { tsanRelease(&fork_); }  // what the caller wrote is visible to the bodies
    ~ParallelHandOff() { tsanAcquire(&join_); }  // what the bodies wrote is visible to the caller
    ParallelHandOff(const ParallelHandOff&) = delete;
    ParallelHandOff& operator=(const ParallelHandOff&) = delete;

    void enter() const { tsanAcquire(&fork_); }
    void leave() const { tsanRelease(&join_); }

private:
    char fork_ = 0, join_ = 0;
};

namespace detail {

template <class Index, class Body>
struct BlockTask {
    const Body* body;
    const ParallelHandOff* handOff;
    ADJ_TSAN_UNSEEN void operator()(const tbb::blocked_range<Index>& r) const {
        const Index begin = r.begin(), end = r.end();
        handOff->enter();
        (*body)(begin, end);
        handOff->leave();
    }
};

template <class Index, class Body>
struct EachTask {
    const Body* body;
    const ParallelHandOff* handOff;
    ADJ_TSAN_UNSEEN void operator()(Index i) const {
        handOff->enter();
        (*body)(i);
        handOff->leave();
    }
};

}  // namespace detail

/// body(begin, end) over blocks of [first, last) of at least `grain` items, on TBB's workers.
template <class Index, class Body>
void parallelBlocks(Index first, Index last, std::size_t grain, const Body& body) {
    const ParallelHandOff handOff;
    tbb::parallel_for(tbb::blocked_range<Index>(first, last, grain), detail::BlockTask<Index, Body>{&body, &handOff});
}

/// body(i) for each i in [first, last), on TBB's workers.
template <class Index, class Body>
void parallelEach(Index first, Index last, const Body& body) {
    const ParallelHandOff handOff;
    tbb::parallel_for(first, last, detail::EachTask<Index, Body>{&body, &handOff});
}

}  // namespace adj
