// The kernels of one instruction set, as a table of function pointers (see simd_dispatch.hpp).
//
// kernel_table.cpp is compiled once per instruction set and includes only this header and the
// header-only kernels, so nothing outside the set's namespace gets compiled with its flags.
#pragma once

#include <cstddef>

#include "grokprop/sweep.hpp"
#include "grokprop/train.hpp"

namespace grokprop::dispatch {

/// The kernels of one precision T.
template <class T>
struct Kernels {
    /// Workspace elements train() needs for a problem.
    std::size_t (*train_workspace_size)(const TrainProblem<T>&) noexcept;
    /// The fused training loop (grokprop/train.hpp).
    std::size_t (*train)(const TrainProblem<T>&, T*) noexcept;
    /// Bytes of workspace one worker of sweep_range needs (grokprop/sweep.hpp).
    std::size_t (*sweep_workspace_size)(const SweepTask<T>&) noexcept;
    /// Blocks of networks a sweep has (the block width depends on the instruction set).
    std::size_t (*sweep_blocks)(const SweepTask<T>&) noexcept;
    /// Trains blocks [first, last) of a lock-step sweep on one workspace.
    void (*sweep_range)(const SweepTask<T>&, void*, std::size_t, std::size_t) noexcept;
};

/// Every kernel of one instruction set.
struct KernelTable {
    const char* name;  ///< "baseline", "avx2" or "avx512"
    Kernels<float> f32;
    Kernels<double> f64;

    template <class T>
    const Kernels<T>& get() const noexcept {
        if constexpr (sizeof(T) == sizeof(float)) {
            return f32;
        } else {
            return f64;
        }
    }
};

/// One table per compilation of kernel_table.cpp (defined only where it is compiled).
extern const KernelTable kernel_table_baseline;
extern const KernelTable kernel_table_avx2;
extern const KernelTable kernel_table_avx512;

}  // namespace grokprop::dispatch
