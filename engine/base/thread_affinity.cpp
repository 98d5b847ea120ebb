#include "base/thread_affinity.h"

#include <pthread.h>
#include <sched.h>

namespace adj {

std::vector<int> allowedCores() {
    std::vector<int> cores;
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &allowed)) cores.push_back(c);
    return cores;
}

bool pinThisThread(int core) {
    if (core < 0 || core >= CPU_SETSIZE) return false;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(core, &one);
    return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
}

bool pinToOwnCore(int index, int count) {
    const std::vector<int> cores = allowedCores();
    if (index < 0 || int(cores.size()) < count || index >= int(cores.size())) return false;
    return pinThisThread(cores[std::size_t(index)]);
}

}  // namespace adj
