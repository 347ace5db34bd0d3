#include "simd_dispatch.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace grokprop::dispatch {

namespace {

// Tables compiled into this build, slowest first, with the CPU features each one needs.
struct Candidate {
    const KernelTable* table;
    bool (*cpu_supports)();
};

#if defined(GROKPROP_HAVE_AVX2) || defined(GROKPROP_HAVE_AVX512)
bool cpu_has(bool (*probe)()) {
    __builtin_cpu_init();  // idempotent; needed before __builtin_cpu_supports in constructors
    return probe();
}
#endif

const std::vector<Candidate>& candidates() {
    static const std::vector<Candidate> all = {
        {&kernel_table_baseline, [] { return true; }},
#if defined(GROKPROP_HAVE_AVX2)
        {&kernel_table_avx2,
         [] { return cpu_has([] { return __builtin_cpu_supports("avx2") != 0; }); }},
#endif
#if defined(GROKPROP_HAVE_AVX512)
        // the flags kernel_table.cpp is compiled with for avx512 (see CMakeLists.txt)
        {&kernel_table_avx512,
         [] {
             return cpu_has([] {
                 return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
             });
         }},
#endif
    };
    return all;
}

std::atomic<const KernelTable*> current{&kernel_table_baseline};

std::string joined(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names) {
        text += (text.empty() ? "" : ", ") + name;
    }
    return text;
}

}  // namespace

const KernelTable& kernels() noexcept { return *current.load(std::memory_order_acquire); }

std::vector<std::string> available() {
    std::vector<std::string> names;
    for (const Candidate& candidate : candidates()) {
        if (candidate.cpu_supports()) {
            names.emplace_back(candidate.table->name);
        }
    }
    return names;
}

void select(const std::string& name) {
    const KernelTable* chosen = nullptr;
    for (const Candidate& candidate : candidates()) {
        if (candidate.cpu_supports() && (name == "auto" || name == candidate.table->name)) {
            chosen = candidate.table;  // the last match is the best
        }
    }
    if (chosen == nullptr) {
        throw std::invalid_argument("unknown or unavailable instruction set '" + name +
                                    "'; this build on this CPU has: auto, " +
                                    joined(available()));
    }
    current.store(chosen, std::memory_order_release);
}

void select_from_environment() {
    const char* value = std::getenv("GROKPROP_SIMD");
    const std::string name = value == nullptr || *value == '\0' ? "auto" : value;
    try {
        select(name);
    } catch (const std::invalid_argument& error) {
        throw std::invalid_argument(std::string("GROKPROP_SIMD: ") + error.what());
    }
}

}  // namespace grokprop::dispatch
