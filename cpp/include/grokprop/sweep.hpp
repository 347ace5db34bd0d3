// Lock-step sweeps: many networks of one shape trained at once, each bit for bit as alone.
//
// A block of L networks is trained together. Every array of the per-network algorithm
// (weights, activations, deltas, batch sums) gets a trailing lane index:
// W[l][k][j] of network `lane` is w[(woff[l] + k * n_out + j) * L + lane]. Each scalar
// operation of train.hpp's loop becomes a loop over the L lanes of one block -- fixed
// length, unit stride, no dependency between lanes -- which the compiler turns into SIMD
// instructions at any ISA. Within a lane the operations and their order are exactly those
// of SPEC §3 (sequential sums in increasing index order, products and sums rounded
// separately, relu' a multiply by 1 or 0), so every network's results equal the reference
// bit for bit.
// The data X, Y are shared by all networks: their entries are scalars broadcast to lanes.
//
// Two differences from train.hpp, neither of which changes a result bit:
// * Sums start from their first term instead of from 0 (0 + t == t except that -0 becomes
//   +0). So a value here can differ from the reference's only in the sign of a zero, and
//   that never propagates: +, -, * and / m of operands that are equal up to the sign of
//   zeros give results equal up to the sign of zeros, comparisons (relu, relu') treat
//   -0 and +0 alike, and an error is a sum of squares (never -0). What is left are the
//   weights: W - q with q = -0 or +0 gives W back unless W is -0 itself, and a weight is
//   never -0 -- the book initialisation 2u - 1 (u in [0, 1)) is never -0, and W - q is -0
//   only if W is -0 (in round-to-nearest an exact cancellation gives +0). This needs book-
//   initialised weights, which a sweep always has. The hypothesis tests of tests/
//   test_sweep.py check it on 0/1 data, where signed-zero products are common.
// * Work is fused where the order contract allows (stochastic mode): the backprop of a
//   hidden layer updates W[l] right after reading it (no later part of the step reads
//   W[l]); the update of W[0] computes, column by column, layer 0 of the next row from the
//   weights it has just written. Fewer loads, the same operations in the same order.
//
// Divergence: a network whose epoch error is not finite stops there -- its lane keeps
// computing (harmlessly: nothing is read from it), but its curve, final error and weights
// are taken at that epoch, as Trainer::run stops. A block whose lanes have all diverged
// stops early.
//
// Header-only, free of pybind11 and of global state. A LockstepSweep allocates its
// workspace when built; run() allocates nothing and never throws. One LockstepSweep per
// thread; run_sweep() is the whole sweep.
//
// Per-ISA builds (runtime dispatch): compile a translation unit with the target's flags
// (keeping -ffp-contract=off) that instantiates run_sweep<T, L, Tag> for both float types
// with a tag type of its own (see mt19937.hpp for why the tag matters), and call it instead
// of the baseline instantiation when the CPU has the ISA. Every ISA and every L gives the
// same bits. Measured for the book network (float64, one thread, µs per network):
// baseline SSE2 L=16 1.86; AVX2 L=16 1.04; AVX-512 (512-bit vectors) L=32 0.87 -- a lane
// loop of 8 vectors of the ISA does well.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <thread>
#include <vector>

#include "grokprop/kernels.hpp"
#include "grokprop/mt19937.hpp"

// Marks a loop over the lanes of a block: iterations are independent, vectorise it as a
// loop (with -fopenmp-simd; this asks for no OpenMP runtime). Without the hint GCC fully
// unrolls these short loops first and then leaves relu's select as scalar branches.
#if defined(__GNUC__) || defined(__clang__)
#define GROKPROP_LANES _Pragma("omp simd")
#else
#define GROKPROP_LANES
#endif
// Marks a loop over k or j: unrolled when its bound is a compile-time constant
// (FixedSizes), so every lane group's offset is a constant too.
#if defined(__clang__)
#define GROKPROP_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define GROKPROP_UNROLL _Pragma("GCC unroll 16")
#else
#define GROKPROP_UNROLL
#endif

namespace grokprop {

/// Allocator of 64-byte aligned storage (a cache line; a whole AVX-512 register).
template <class T>
struct CacheLineAllocator {
    using value_type = T;
    static constexpr std::align_val_t alignment{64};

    CacheLineAllocator() = default;
    template <class U>
    explicit CacheLineAllocator(const CacheLineAllocator<U>& /*other*/) noexcept {}

    T* allocate(std::size_t n) {
        return static_cast<T*>(::operator new(n * sizeof(T), alignment));
    }
    void deallocate(T* p, std::size_t /*n*/) noexcept { ::operator delete(p, alignment); }

    template <class U>
    bool operator==(const CacheLineAllocator<U>& /*other*/) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const CacheLineAllocator<U>& /*other*/) const noexcept {
        return false;
    }
};

/// Layer sizes known only at run time (any network).
class RuntimeSizes {
public:
    explicit RuntimeSizes(const std::vector<std::size_t>& sizes)
        : n_(sizes), woff_(sizes.size(), 0), aoff_(sizes.size(), 0) {
        for (std::size_t l = 0; l + 1 < n_.size(); ++l) {
            woff_[l + 1] = woff_[l] + n_[l] * n_[l + 1];
            aoff_[l + 1] = aoff_[l] + n_[l + 1];
        }
    }
    /// Number of weight matrices.
    std::size_t layers() const noexcept { return n_.size() - 1; }
    /// n_l.
    std::size_t n(std::size_t l) const noexcept { return n_[l]; }
    /// Index of W[l][0][0] among all weights (so woff(layers()) is their count).
    std::size_t woff(std::size_t l) const noexcept { return woff_[l]; }
    /// Index of a_{l+1}[0] (and d_{l+1}[0]) among all activations (deltas).
    std::size_t aoff(std::size_t l) const noexcept { return aoff_[l]; }

private:
    std::vector<std::size_t> n_;
    std::vector<std::size_t> woff_;
    std::vector<std::size_t> aoff_;
};

/// Layer sizes fixed at compile time: the same kernel with every loop bound a constant, so
/// the compiler unrolls the loops over k and j and folds every offset (the chapter's
/// networks run about 1.5 times as fast this way). Same interface as RuntimeSizes.
template <std::size_t... N>
class FixedSizes {
public:
    static_assert(sizeof...(N) >= 2, "a network has at least an input and an output size");
    static constexpr std::array<std::size_t, sizeof...(N)> values{N...};

    explicit FixedSizes(const std::vector<std::size_t>& /*sizes: equal to N..., checked by
                                                        the caller (matches)*/) noexcept {}
    static bool matches(const std::vector<std::size_t>& sizes) noexcept {
        return std::equal(sizes.begin(), sizes.end(), values.begin(), values.end());
    }
    static constexpr std::size_t layers() noexcept { return sizeof...(N) - 1; }
    static constexpr std::size_t n(std::size_t l) noexcept { return values[l]; }
    static constexpr std::size_t woff(std::size_t l) noexcept {
        std::size_t offset = 0;
        for (std::size_t i = 0; i < l; ++i) {
            offset += values[i] * values[i + 1];
        }
        return offset;
    }
    static constexpr std::size_t aoff(std::size_t l) noexcept {
        std::size_t offset = 0;
        for (std::size_t i = 0; i < l; ++i) {
            offset += values[i + 1];
        }
        return offset;
    }
};

/// A type as a value, for with_sizes.
template <class S>
struct SizesTag {
    using type = S;
};

/// Calls f(SizesTag<S>{}) with S the FixedSizes of `sizes` if it is one of the chapter's
/// networks ([3, 4, 1]: the first deep network; [3, 1]: the single-layer one), else
/// RuntimeSizes. Every shape listed here is one more kernel instantiation per float type.
template <class F>
void with_sizes(const std::vector<std::size_t>& sizes, F&& f) {
    if (FixedSizes<3, 4, 1>::matches(sizes)) {
        f(SizesTag<FixedSizes<3, 4, 1>>{});
    } else if (FixedSizes<3, 1>::matches(sizes)) {
        f(SizesTag<FixedSizes<3, 1>>{});
    } else {
        f(SizesTag<RuntimeSizes>{});
    }
}

/// What the networks of a sweep share, their seeds and rates, and where results go.
/// Network i uses seeds[i] (book initialisation) and alphas[i] (rounded to T once).
template <class T>
struct SweepTask {
    std::vector<std::size_t> sizes;  // n_0, ..., n_L (at least two)
    const T* x;                      // rows × n_0
    const T* y;                      // rows × n_L
    std::size_t rows;
    std::size_t epochs;
    std::size_t batch_size;  // 1 <= batch_size <= rows
    bool relu;
    const std::uint32_t* seeds;  // networks
    const double* alphas;        // networks
    std::size_t networks;
    T* final_errors;          // networks: the last epoch's error (NaN if no epoch)
    bool* diverged;           // networks
    T* curves;                // networks × epochs, or nullptr
    std::vector<T*> weights;  // per layer networks × n_l × n_{l+1}, or empty
};

/// Trains blocks of L networks of a SweepTask (see the file comment); `Sizes` is
/// RuntimeSizes or the task's FixedSizes.
template <class T, std::size_t L, class Sizes = RuntimeSizes, class Target = void>
class alignas(64) LockstepSweep {  // workers of different threads share no cache line
public:
    static constexpr std::size_t lanes = L;
    /// Alignment of every L-lane group in the lane arrays (so SSE code may fold its loads).
    static constexpr std::size_t lane_bytes = std::min<std::size_t>(64, L * sizeof(T));
    static_assert((L & (L - 1)) == 0, "L must be a power of two");

    explicit LockstepSweep(const SweepTask<T>& task) : task_(task), sizes_(task.sizes) {
        const std::size_t params = sizes_.woff(sizes_.layers());
        w_.assign(params * L, T(0));
        acts_.assign(sizes_.aoff(sizes_.layers()) * L, T(0));
        dels_.assign(sizes_.aoff(sizes_.layers()) * L, T(0));
        if (task_.batch_size > 1) {
            sums_.assign(params * L, T(0));
        }
        alpha_.assign(L, T(0));
        uniforms_.assign(params * L, 0.0);
        scratch_.assign(mt19937::lanes_scratch_words<L>(), 0U);
    }

    /// Number of blocks of L networks the task needs.
    static std::size_t blocks(const SweepTask<T>& task) noexcept {
        return (task.networks + L - 1) / L;
    }

    /// Trains blocks [first, last) (networks first * L ...), writing their results.
    void run(std::size_t first, std::size_t last) noexcept {
        for (std::size_t block = first; block < last; ++block) {
            const std::size_t begin = block * L;
            train_block(begin, std::min(L, task_.networks - begin));
        }
    }

private:
    /// `p` (a pointer to an L-lane group of a lane array), with its alignment made known.
    template <class P>
    static P* aligned(P* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
        return static_cast<P*>(__builtin_assume_aligned(p, lane_bytes));
#else
        return p;
#endif
    }

    /// Networks [begin, begin + count); lanes past count repeat the last network.
    void train_block(std::size_t begin, std::size_t count) noexcept {
        std::uint32_t seeds[L];
        for (std::size_t lane = 0; lane < L; ++lane) {
            const std::size_t net = begin + std::min(lane, count - 1);
            seeds[lane] = task_.seeds[net];
            alpha_[lane] = static_cast<T>(task_.alphas[net]);
            active_[lane] = lane < count;
            last_error_[lane] = std::numeric_limits<T>::quiet_NaN();
        }
        // the book initialisation: 2 * random_sample() - 1 in double, rounded to T once
        const std::size_t params = sizes_.woff(sizes_.layers());
        mt19937::book_uniforms_lanes<L, Target>(seeds, params, uniforms_.data(), scratch_.data());
        for (std::size_t i = 0; i < params * L; ++i) {
            w_[i] = static_cast<T>(2.0 * uniforms_[i] - 1.0);
        }

        const bool stochastic = task_.batch_size == 1;
        if (stochastic && task_.rows > 0) {
            forward_input(task_.x);  // then each step's update computes the next row's
        }
        std::size_t running = count;
        for (std::size_t epoch = 0; epoch < task_.epochs && running > 0; ++epoch) {
            if (stochastic) {
                train_epoch_stochastic();
            } else {
                train_epoch_batched();
            }
            running = finish_epoch(begin, epoch);
        }
        for (std::size_t lane = 0; lane < count; ++lane) {
            const std::size_t net = begin + lane;
            task_.final_errors[net] = last_error_[lane];
            if (active_[lane]) {
                task_.diverged[net] = !weights_finite(lane);
                store_weights(lane, net);
            }
        }
    }

    /// One epoch of stochastic descent; leaves each lane's epoch error in error_.
    /// On entry layer 0's output for row 0 is in acts_ (from forward_input or from the
    /// previous epoch's last update_input); on exit too.
    void train_epoch_stochastic() noexcept {
        const std::size_t n_x = sizes_.n(0);
        const std::size_t n_y = sizes_.n(sizes_.layers());
        clear_error();
        for (std::size_t r = 0; r < task_.rows; ++r) {
            forward_hidden_layers();
            output_delta(task_.y + r * n_y);
            backprop(/*update=*/true);
            const std::size_t next = r + 1 < task_.rows ? r + 1 : 0;
            update_input(task_.x + r * n_x, task_.x + next * n_x);
        }
    }

    /// One epoch of mini-batch descent (every row of a batch sees the same weights).
    void train_epoch_batched() noexcept {
        const std::size_t n_x = sizes_.n(0);
        const std::size_t n_y = sizes_.n(sizes_.layers());
        clear_error();
        for (std::size_t start = 0; start < task_.rows; start += task_.batch_size) {
            const std::size_t stop = std::min(start + task_.batch_size, task_.rows);
            std::fill(sums_.begin(), sums_.end(), T(0));
            for (std::size_t r = start; r < stop; ++r) {
                forward_input(task_.x + r * n_x);
                forward_hidden_layers();
                output_delta(task_.y + r * n_y);
                backprop(/*update=*/false);
                accumulate(task_.x + r * n_x);
            }
            step_average(static_cast<T>(stop - start));
        }
    }

    void clear_error() noexcept {
        GROKPROP_LANES
        for (std::size_t lane = 0; lane < L; ++lane) {
            error_[lane] = T(0);
        }
    }

    /// Records the epoch for running lanes, retires those whose error is not finite.
    /// Returns how many of the block's networks are still running.
    std::size_t finish_epoch(std::size_t begin, std::size_t epoch) noexcept {
        std::size_t running = 0;
        for (std::size_t lane = 0; lane < L; ++lane) {
            if (!active_[lane]) {
                continue;
            }
            const std::size_t net = begin + lane;
            last_error_[lane] = error_[lane];
            if (task_.curves != nullptr) {
                task_.curves[net * task_.epochs + epoch] = error_[lane];
            }
            if (std::isfinite(error_[lane])) {
                ++running;
                continue;
            }
            // diverged: freeze this network as it is now, as Trainer::run stops here
            active_[lane] = false;
            task_.diverged[net] = true;
            store_weights(lane, net);
            if (task_.curves != nullptr) {
                std::fill(task_.curves + net * task_.epochs + epoch + 1,
                          task_.curves + (net + 1) * task_.epochs,
                          std::numeric_limits<T>::quiet_NaN());
            }
        }
        return running;
    }

    /// relu after layer l (hidden layers only).
    bool relu_after(std::size_t l) const noexcept {
        return task_.relu && l + 1 < sizes_.layers();
    }

    /// Layer 0's output for data row x: z[j] = x[0] * W[0][j] + x[1] * W[1][j] + ... in
    /// order (then relu), each j's sum in registers. The row is the same for every lane.
    void forward_input(const T* x) noexcept {
        const std::size_t n_in = sizes_.n(0);
        const std::size_t n_out = sizes_.n(1);
        const bool apply_relu = relu_after(0);
        const T* GROKPROP_RESTRICT w = aligned(w_.data());
        T* GROKPROP_RESTRICT z = aligned(acts_.data());
        GROKPROP_UNROLL
        for (std::size_t j = 0; j < n_out; ++j) {
            alignas(lane_bytes) T sum[L];
            GROKPROP_UNROLL
            for (std::size_t k = 0; k < n_in; ++k) {
                const T xk = x[k];
                const T* GROKPROP_RESTRICT w_kj = aligned(w + (k * n_out + j) * L);
                GROKPROP_LANES
                for (std::size_t lane = 0; lane < L; ++lane) {
                    sum[lane] = k == 0 ? xk * w_kj[lane] : sum[lane] + xk * w_kj[lane];
                }
            }
            store_layer_output(sum, apply_relu, z + j * L);
        }
    }

    /// Layers 1..L-1: z[j] = a[0] * W[0][j] + a[1] * W[1][j] + ... in order (then relu).
    void forward_hidden_layers() noexcept {
        for (std::size_t l = 1; l < sizes_.layers(); ++l) {
            const std::size_t n_in = sizes_.n(l);
            const std::size_t n_out = sizes_.n(l + 1);
            const bool apply_relu = relu_after(l);
            const T* GROKPROP_RESTRICT a = aligned(acts_.data() + sizes_.aoff(l - 1) * L);
            const T* GROKPROP_RESTRICT w = aligned(w_.data() + sizes_.woff(l) * L);
            T* GROKPROP_RESTRICT z = aligned(acts_.data() + sizes_.aoff(l) * L);
            GROKPROP_UNROLL
            for (std::size_t j = 0; j < n_out; ++j) {
                alignas(lane_bytes) T sum[L];
                GROKPROP_UNROLL
                for (std::size_t k = 0; k < n_in; ++k) {
                    const T* GROKPROP_RESTRICT a_k = aligned(a + k * L);
                    const T* GROKPROP_RESTRICT w_kj = aligned(w + (k * n_out + j) * L);
                    GROKPROP_LANES
                    for (std::size_t lane = 0; lane < L; ++lane) {
                        const T term = a_k[lane] * w_kj[lane];
                        sum[lane] = k == 0 ? term : sum[lane] + term;
                    }
                }
                store_layer_output(sum, apply_relu, z + j * L);
            }
        }
    }

    static void store_layer_output(const T* GROKPROP_RESTRICT sum, bool apply_relu,
                                   T* GROKPROP_RESTRICT z_j) noexcept {
        z_j = aligned(z_j);
        if (apply_relu) {
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                z_j[lane] = relu(sum[lane]);
            }
        } else {
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                z_j[lane] = sum[lane];
            }
        }
    }

    /// Output delta d = out - y, and the example's error diff_0^2 + diff_1^2 + ... added
    /// to error_.
    void output_delta(const T* y) noexcept {
        const std::size_t last = sizes_.layers() - 1;
        const T* GROKPROP_RESTRICT out = aligned(acts_.data() + sizes_.aoff(last) * L);
        T* GROKPROP_RESTRICT d = aligned(dels_.data() + sizes_.aoff(last) * L);
        alignas(lane_bytes) T example[L];
        for (std::size_t j = 0; j < sizes_.n(sizes_.layers()); ++j) {
            const T yj = y[j];
            const T* GROKPROP_RESTRICT out_j = aligned(out + j * L);
            T* GROKPROP_RESTRICT d_j = aligned(d + j * L);
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                const T diff = out_j[lane] - yj;
                d_j[lane] = diff;
                example[lane] = j == 0 ? diff * diff : example[lane] + diff * diff;
            }
        }
        GROKPROP_LANES
        for (std::size_t lane = 0; lane < L; ++lane) {
            error_[lane] += example[lane];
        }
    }

    /// Hidden deltas d_l = (d_{l+1} · W[l]^T) * relu'(a_l) for l = L-1 .. 1:
    /// d_l[k] = d_{l+1}[0] * W[l][k][0] + d_{l+1}[1] * W[l][k][1] + ... in order.
    /// With `update` (stochastic) each W[l][k][j] is updated right after the delta has
    /// used it: W -= alpha * (a_l[k] * d_{l+1}[j]). Nothing later in the step reads W[l]
    /// (d_{l-1} needs W[l-1]), so every delta still comes from the old weights.
    void backprop(bool update) noexcept {
        const T* GROKPROP_RESTRICT alpha = aligned(alpha_.data());
        for (std::size_t l = sizes_.layers() - 1; l > 0; --l) {
            const std::size_t n_in = sizes_.n(l);
            const std::size_t n_out = sizes_.n(l + 1);
            const T* GROKPROP_RESTRICT d_next = aligned(dels_.data() + sizes_.aoff(l) * L);
            T* GROKPROP_RESTRICT w = aligned(w_.data() + sizes_.woff(l) * L);
            const T* GROKPROP_RESTRICT a = aligned(acts_.data() + sizes_.aoff(l - 1) * L);
            T* GROKPROP_RESTRICT d = aligned(dels_.data() + sizes_.aoff(l - 1) * L);
            GROKPROP_UNROLL
            for (std::size_t k = 0; k < n_in; ++k) {
                const T* GROKPROP_RESTRICT a_k = aligned(a + k * L);
                alignas(lane_bytes) T sum[L];
                GROKPROP_UNROLL
                for (std::size_t j = 0; j < n_out; ++j) {
                    T* GROKPROP_RESTRICT w_kj = aligned(w + (k * n_out + j) * L);
                    const T* GROKPROP_RESTRICT d_j = aligned(d_next + j * L);
                    if (update) {
                        GROKPROP_LANES
                        for (std::size_t lane = 0; lane < L; ++lane) {
                            const T old = w_kj[lane];
                            const T term = d_j[lane] * old;
                            sum[lane] = j == 0 ? term : sum[lane] + term;
                            w_kj[lane] = old - alpha[lane] * (a_k[lane] * d_j[lane]);
                        }
                    } else {
                        GROKPROP_LANES
                        for (std::size_t lane = 0; lane < L; ++lane) {
                            const T term = d_j[lane] * w_kj[lane];
                            sum[lane] = j == 0 ? term : sum[lane] + term;
                        }
                    }
                }
                T* GROKPROP_RESTRICT d_k = aligned(d + k * L);
                if (task_.relu) {
                    // relu' as a factor 1 or 0, then an unconditional multiply: written as
                    // sum * (a > 0 ? 1 : 0), GCC makes the multiply conditional, and with
                    // -ftrapping-math (the default) it will not vectorise that
                    alignas(lane_bytes) T factor[L];
                    GROKPROP_LANES
                    for (std::size_t lane = 0; lane < L; ++lane) {
                        factor[lane] = relu_deriv(a_k[lane]);
                    }
                    GROKPROP_LANES
                    for (std::size_t lane = 0; lane < L; ++lane) {
                        d_k[lane] = sum[lane] * factor[lane];
                    }
                } else {
                    GROKPROP_LANES
                    for (std::size_t lane = 0; lane < L; ++lane) {
                        d_k[lane] = sum[lane];
                    }
                }
            }
        }
    }

    /// Stochastic update of W[0] -= alpha * (x[k] * d_1[j]) for data row x, fused with
    /// layer 0's forward pass of the next row x_next (the step after this one), which reads
    /// exactly the weights just written: column j of W[0] is updated, then
    /// z[j] = x_next[0] * W[0][j] + x_next[1] * W[1][j] + ... in order (then relu).
    void update_input(const T* x, const T* x_next) noexcept {
        const std::size_t n_in = sizes_.n(0);
        const std::size_t n_out = sizes_.n(1);
        const bool apply_relu = relu_after(0);
        T* GROKPROP_RESTRICT w = aligned(w_.data());
        const T* GROKPROP_RESTRICT d = aligned(dels_.data());
        T* GROKPROP_RESTRICT z = aligned(acts_.data());
        const T* GROKPROP_RESTRICT alpha = aligned(alpha_.data());
        GROKPROP_UNROLL
        for (std::size_t j = 0; j < n_out; ++j) {
            const T* GROKPROP_RESTRICT d_j = aligned(d + j * L);
            alignas(lane_bytes) T sum[L];
            GROKPROP_UNROLL
            for (std::size_t k = 0; k < n_in; ++k) {
                const T xk = x[k];
                const T next_k = x_next[k];
                T* GROKPROP_RESTRICT w_kj = aligned(w + (k * n_out + j) * L);
                GROKPROP_LANES
                for (std::size_t lane = 0; lane < L; ++lane) {
                    const T updated = w_kj[lane] - alpha[lane] * (xk * d_j[lane]);
                    w_kj[lane] = updated;
                    sum[lane] = k == 0 ? next_k * updated : sum[lane] + next_k * updated;
                }
            }
            store_layer_output(sum, apply_relu, z + j * L);
        }
    }

    /// S[l][k][j] += a_l[k] * d_{l+1}[j] for the example just evaluated.
    void accumulate(const T* x) noexcept {
        for (std::size_t l = 0; l < sizes_.layers(); ++l) {
            const std::size_t n_out = sizes_.n(l + 1);
            T* GROKPROP_RESTRICT s = aligned(sums_.data() + sizes_.woff(l) * L);
            const T* GROKPROP_RESTRICT d = aligned(dels_.data() + sizes_.aoff(l) * L);
            for (std::size_t k = 0; k < sizes_.n(l); ++k) {
                GROKPROP_UNROLL
                for (std::size_t j = 0; j < n_out; ++j) {
                    T* GROKPROP_RESTRICT s_kj = aligned(s + (k * n_out + j) * L);
                    const T* GROKPROP_RESTRICT d_j = aligned(d + j * L);
                    if (l == 0) {
                        const T xk = x[k];
                        GROKPROP_LANES
                        for (std::size_t lane = 0; lane < L; ++lane) {
                            s_kj[lane] += xk * d_j[lane];
                        }
                    } else {
                        const T* GROKPROP_RESTRICT a_k =
                            aligned(acts_.data() + (sizes_.aoff(l - 1) + k) * L);
                        GROKPROP_LANES
                        for (std::size_t lane = 0; lane < L; ++lane) {
                            s_kj[lane] += a_k[lane] * d_j[lane];
                        }
                    }
                }
            }
        }
    }

    /// Batch step: W -= alpha * (S / m) for every weight of every lane.
    void step_average(T m) noexcept {
        const std::size_t params = sizes_.woff(sizes_.layers());
        const T* GROKPROP_RESTRICT alpha = aligned(alpha_.data());
        for (std::size_t i = 0; i < params; ++i) {
            T* GROKPROP_RESTRICT w_i = aligned(w_.data() + i * L);
            const T* GROKPROP_RESTRICT s_i = aligned(sums_.data() + i * L);
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                w_i[lane] -= alpha[lane] * (s_i[lane] / m);
            }
        }
    }

    bool weights_finite(std::size_t lane) const noexcept {
        for (std::size_t i = 0; i < sizes_.woff(sizes_.layers()); ++i) {
            if (!std::isfinite(w_[i * L + lane])) {
                return false;
            }
        }
        return true;
    }

    /// Copies a lane's weights to network `net` of the outputs (if weights were asked for).
    void store_weights(std::size_t lane, std::size_t net) const noexcept {
        for (std::size_t l = 0; l < task_.weights.size(); ++l) {
            const std::size_t size = sizes_.woff(l + 1) - sizes_.woff(l);
            T* out = task_.weights[l] + net * size;
            for (std::size_t i = 0; i < size; ++i) {
                out[i] = w_[(sizes_.woff(l) + i) * L + lane];
            }
        }
    }

    const SweepTask<T>& task_;
    Sizes sizes_;  // W[l] starts at lane group sizes_.woff(l), a_{l+1} and d_{l+1} at aoff(l)
    // lane arrays: every L-lane group starts on a multiple of L * sizeof(T) bytes
    using LaneArray = std::vector<T, CacheLineAllocator<T>>;
    LaneArray w_;
    LaneArray acts_;
    LaneArray dels_;
    LaneArray sums_;        // only when batch_size > 1
    LaneArray alpha_;       // each lane's learning rate
    std::vector<double> uniforms_;
    std::vector<std::uint32_t> scratch_;
    T error_[L] = {};
    T last_error_[L] = {};
    bool active_[L] = {};
};

/// The workers of a sweep on up to `threads` threads: one LockstepSweep (its workspace) per
/// thread, all allocated here, before run_sweeps starts any thread.
template <class T, std::size_t L, class Sizes = RuntimeSizes, class Target = void>
std::vector<LockstepSweep<T, L, Sizes, Target>> make_sweeps(const SweepTask<T>& task,
                                                            std::size_t threads) {
    constexpr std::size_t max_workers = 256;  // more threads than this cannot pay off
    const std::size_t blocks = LockstepSweep<T, L, Sizes, Target>::blocks(task);
    const std::size_t workers =
        std::max<std::size_t>(1, std::min({threads, blocks, max_workers}));
    std::vector<LockstepSweep<T, L, Sizes, Target>> sweeps;
    sweeps.reserve(workers);
    for (std::size_t t = 0; t < workers; ++t) {
        sweeps.emplace_back(task);
    }
    return sweeps;
}

/// Trains every network of the task: worker t takes the t-th of contiguous equal ranges of
/// blocks, on its own thread (worker 0 on the calling thread). Results do not depend on the
/// number of workers. A range whose thread cannot be started is trained by the calling
/// thread. Allocates nothing but the threads.
template <class T, std::size_t L, class Sizes, class Target>
void run_sweeps(std::vector<LockstepSweep<T, L, Sizes, Target>>& sweeps,
                const SweepTask<T>& task) noexcept {
    const std::size_t blocks = LockstepSweep<T, L, Sizes, Target>::blocks(task);
    const std::size_t workers = sweeps.size();
    auto range_begin = [&](std::size_t t) { return blocks * t / workers; };
    std::vector<std::thread> started;
    for (std::size_t t = 1; t < workers; ++t) {
        const std::size_t begin = range_begin(t);
        const std::size_t end = range_begin(t + 1);
        try {
            started.emplace_back([&sweeps, t, begin, end] { sweeps[t].run(begin, end); });
        } catch (...) {  // no thread (or no memory for its handle): train the range here
            sweeps[0].run(begin, end);
        }
    }
    sweeps[0].run(range_begin(0), range_begin(1));
    for (std::thread& thread : started) {
        thread.join();
    }
}

/// Trains every network of `task` on up to `threads` threads: the whole sweep, the one entry
/// point a per-ISA build needs (see the file comment). Picks the compile-time sizes of the
/// chapter's networks (with_sizes), builds the workers and runs them. Pure C++: call it
/// with the GIL released. Throws std::bad_alloc if the workspace cannot be allocated.
template <class T, std::size_t L, class Target = void>
void run_sweep(const SweepTask<T>& task, std::size_t threads) {
    with_sizes(task.sizes, [&](auto tag) {
        using Sizes = typename decltype(tag)::type;
        auto sweeps = make_sweeps<T, L, Sizes, Target>(task, threads);
        run_sweeps(sweeps, task);
    });
}

}  // namespace grokprop
