// Lock-step sweeps: many networks of one shape trained at once, each bit for bit as alone.
//
// A block of L networks is trained together. Every array of the per-network algorithm
// (weights, activations, deltas, batch sums) gets a trailing lane index:
// W[l][k][j] of network `lane` is w[(woff[l] + k * n_out + j) * L + lane]. Each scalar
// operation of train.hpp's loop becomes a loop over the L lanes of one block -- fixed
// length, unit stride, no dependency between lanes -- which the compiler turns into SIMD
// instructions at any ISA. Within a lane the operations and their order are exactly those
// of docs/design.md, "Evaluation order" (sequential sums in increasing index order, products
// and sums rounded separately, the activation's derivative a multiplying factor), so every
// network's results equal the reference bit for bit (docs/design.md, "Sweeps").
// The data X, Y are shared by all networks: their entries are scalars broadcast to lanes.
//
// Two differences from train.hpp, neither of which changes a result bit:
// * Sums start from their first term instead of from 0 (0 + t == t except that -0 becomes
//   +0). So a value here can differ from the reference's only in the sign of a zero, and
//   that never propagates: +, -, * and / m of operands that are equal up to the sign of
//   zeros give results equal up to the sign of zeros, the activations treat -0 and +0 alike
//   (relu and relu' compare with 0; sigmoid(±0) = 0.5 and tanh(±0) = +0, expmath.hpp; their
//   derivatives are polynomials of the output), and an error is a sum of squares (never -0). What is
//   left are the weights: W - q with q = -0 or +0 gives W back unless W is -0 itself, and a
//   weight is never -0 -- the book initialisation 2u - 1 (u in [0, 1)) is never -0, and
//   W - q is -0 only if W is -0 (in round-to-nearest an exact cancellation gives +0). This
//   needs book-initialised weights, which a sweep always has. The hypothesis tests of
//   tests/test_sweep.py check it on 0/1 data, where signed-zero products are common.
// * Work is fused where the order contract allows (stochastic mode): the backprop of a
//   hidden layer updates W[l] right after reading it (no later part of the step reads
//   W[l]); the update of W[0] computes, column by column, layer 0 of the next row from the
//   weights it has just written. Fewer loads, the same operations in the same order.
//
// Divergence: a network whose epoch error is not finite stops there -- its lane keeps
// computing (harmlessly: nothing is read from it), but its curve, final error and weights
// are taken at that epoch, as train() (train.hpp) stops. A block whose lanes have all
// diverged stops early.
//
// Header-only, free of pybind11 and of global state, allocation-free: a LockstepSweep
// works in a workspace its caller allocates (sweep_workspace_size bytes), one per thread;
// run() never throws.
//
// Per-ISA builds (run-time dispatch, cpp/src/simd_dispatch.hpp): everything but the plain-
// data SweepTask lives in the inline namespace GROKPROP_ISA and calls no out-of-line template
// from outside it, so cpp/src/kernel_table.cpp compiles one copy per instruction set. The
// binding (cpp/src/sweep.cpp) allocates each worker's workspace and starts the threads; a
// kernel table's sweep_range() trains a range of blocks on one workspace. Every ISA and
// every L gives the same bits. Lanes per block: sweep_lanes<T> (a lane loop of a few vectors
// of the ISA's widest registers; see the comment there and BENCHMARKS.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "grokprop/activation.hpp"
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
#define GROKPROP_SWEEP_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define GROKPROP_SWEEP_UNROLL _Pragma("GCC unroll 16")
#else
#define GROKPROP_SWEEP_UNROLL
#endif

namespace grokprop {

/// What the networks of a sweep share, their seeds and rates, and where results go.
/// Network i uses seeds[i] (book initialisation) and alphas[i] (rounded to T once).
/// Plain data: the caller owns every array.
template <class T>
struct SweepTask {
    const std::size_t* sizes;  // n_0, ..., n_L
    std::size_t n_sizes;       // L + 1 (at least two)
    const T* x;                // rows × n_0
    const T* y;                // rows × n_L
    std::size_t rows;
    std::size_t epochs;
    std::size_t batch_size;  // 1 <= batch_size <= rows
    Activation activation;   // of the hidden layers
    const std::uint32_t* seeds;  // networks
    const double* alphas;        // networks
    std::size_t networks;
    T* final_errors;  // networks: the last epoch's error (NaN if no epoch)
    bool* diverged;   // networks
    T* curves;        // networks × epochs, or nullptr
    T* const* weights;  // per layer l: networks × n_l × n_{l+1}; or nullptr
    /// Set to nonzero by another thread to end the sweep before the next epoch of each
    /// block (nullptr: never; docs/design.md, "Interrupts"); the results are then incomplete.
    const volatile std::uint8_t* stop = nullptr;
};

inline namespace GROKPROP_ISA {  // one copy per instruction set (see simd.hpp)

/// Networks trained side by side in one block, the same for either float type: as many as
/// 8 of the ISA's widest registers hold in float64 (SSE2: 16, AVX2: 32), or 4 of AVX-512's
/// (32). Measured with the book network (BENCHMARKS.md, W2): doubling or halving these was
/// slower or no faster, and float32 was slower with twice the lanes (it then fills as many
/// registers as float64). 8 lanes without vector extensions.
template <class T>
inline constexpr std::size_t sweep_lanes =
    (simd::register_bytes == 64 ? 4 : 8) * simd::register_bytes / sizeof(double);

/// Tag of this instruction set's instantiations of mt19937's templates (see mt19937.hpp).
struct IsaTag {};

/// Layer sizes known only at run time (any network); the offsets live in the caller's
/// workspace (2 * n_sizes words).
class RuntimeSizes {
public:
    RuntimeSizes(const std::size_t* sizes, std::size_t n_sizes, std::size_t* offsets) noexcept
        : n_(sizes), layers_(n_sizes - 1), woff_(offsets), aoff_(offsets + n_sizes) {
        woff_[0] = 0;
        aoff_[0] = 0;
        for (std::size_t l = 0; l < layers_; ++l) {
            woff_[l + 1] = woff_[l] + n_[l] * n_[l + 1];
            aoff_[l + 1] = aoff_[l] + n_[l + 1];
        }
    }
    /// Words of offsets the constructor writes.
    static constexpr std::size_t offset_words(std::size_t n_sizes) noexcept {
        return 2 * n_sizes;
    }
    /// Number of weight matrices.
    std::size_t layers() const noexcept { return layers_; }
    /// n_l.
    std::size_t n(std::size_t l) const noexcept { return n_[l]; }
    /// Index of W[l][0][0] among all weights (so woff(layers()) is their count).
    std::size_t woff(std::size_t l) const noexcept { return woff_[l]; }
    /// Index of a_{l+1}[0] (and d_{l+1}[0]) among all activations (deltas).
    std::size_t aoff(std::size_t l) const noexcept { return aoff_[l]; }

private:
    const std::size_t* n_;
    std::size_t layers_;
    std::size_t* woff_;
    std::size_t* aoff_;
};

/// Layer sizes fixed at compile time: the same kernel with every loop bound a constant, so
/// the compiler unrolls the loops over k and j and folds every offset (the chapter's
/// networks run about 1.5 times as fast this way). Same interface as RuntimeSizes.
template <std::size_t... N>
class FixedSizes {
public:
    static_assert(sizeof...(N) >= 2, "a network has at least an input and an output size");
    static constexpr std::size_t count = sizeof...(N);
    static constexpr std::size_t values[count] = {N...};

    FixedSizes(const std::size_t* /*sizes: equal to N..., checked by the caller (matches)*/,
               std::size_t /*n_sizes*/, std::size_t* /*offsets: unused*/) noexcept {}
    static bool matches(const std::size_t* sizes, std::size_t n_sizes) noexcept {
        if (n_sizes != count) {
            return false;
        }
        for (std::size_t l = 0; l < count; ++l) {
            if (sizes[l] != values[l]) {
                return false;
            }
        }
        return true;
    }
    static constexpr std::size_t layers() noexcept { return count - 1; }
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

/// Calls f(SizesTag<S>{}) with S the FixedSizes of the task's sizes if it is one of the
/// chapter's networks ([3, 4, 1]: the first deep network; [3, 1]: the single-layer one),
/// else RuntimeSizes. Every shape listed here is one more kernel instantiation per float type
/// and instruction set.
template <class T, class F>
void with_sizes(const SweepTask<T>& task, F&& f) {
    if (FixedSizes<3, 4, 1>::matches(task.sizes, task.n_sizes)) {
        f(SizesTag<FixedSizes<3, 4, 1>>{});
    } else if (FixedSizes<3, 1>::matches(task.sizes, task.n_sizes)) {
        f(SizesTag<FixedSizes<3, 1>>{});
    } else {
        f(SizesTag<RuntimeSizes>{});
    }
}

/// Byte offsets of a worker's arrays in its workspace, each 64-byte aligned.
template <class T, std::size_t L>
struct SweepLayout {
    std::size_t offsets = 0;  // RuntimeSizes' offsets (first: the workspace is aligned)
    std::size_t w = 0;
    std::size_t acts = 0;
    std::size_t dels = 0;
    std::size_t sums = 0;
    std::size_t alpha = 0;
    std::size_t uniforms = 0;
    std::size_t scratch = 0;
    std::size_t bytes = 0;  // the whole workspace

    explicit SweepLayout(const SweepTask<T>& task) noexcept {
        std::size_t params = 0;
        std::size_t units = 0;
        for (std::size_t l = 0; l + 1 < task.n_sizes; ++l) {
            params += task.sizes[l] * task.sizes[l + 1];
            units += task.sizes[l + 1];
        }
        bytes = 0;
        offsets = take(RuntimeSizes::offset_words(task.n_sizes) * sizeof(std::size_t));
        w = take(params * L * sizeof(T));
        acts = take(units * L * sizeof(T));
        dels = take(units * L * sizeof(T));
        sums = take(task.batch_size > 1 ? params * L * sizeof(T) : 0);
        alpha = take(L * sizeof(T));
        uniforms = take(params * L * sizeof(double));
        scratch = take(mt19937::lanes_scratch_words<L>() * sizeof(std::uint32_t));
    }

private:
    /// Reserves `size` bytes at the end, rounded up to a cache line; returns their offset.
    std::size_t take(std::size_t size) noexcept {
        const std::size_t offset = bytes;
        bytes += (size + 63) / 64 * 64;
        return offset;
    }
};

/// Trains blocks of L networks of a SweepTask (see the file comment); `Sizes` is
/// RuntimeSizes or the task's FixedSizes.
template <class T, std::size_t L, class Sizes = RuntimeSizes>
class LockstepSweep {
public:
    static constexpr std::size_t lanes = L;
    /// Alignment of every L-lane group in the lane arrays (so SSE code may fold its loads).
    static constexpr std::size_t lane_bytes = L * sizeof(T) < 64 ? L * sizeof(T) : 64;
    static_assert((L & (L - 1)) == 0, "L must be a power of two");

    /// A worker on `workspace` (sweep_workspace_size bytes, 64-byte aligned), which it
    /// carves into its lane arrays; it allocates nothing itself.
    LockstepSweep(const SweepTask<T>& task, void* workspace) noexcept
        : task_(task), sizes_(task.sizes, task.n_sizes, static_cast<std::size_t*>(workspace)) {
        SweepLayout<T, L> layout(task);
        auto* base = static_cast<unsigned char*>(workspace);
        w_ = reinterpret_cast<T*>(base + layout.w);
        acts_ = reinterpret_cast<T*>(base + layout.acts);
        dels_ = reinterpret_cast<T*>(base + layout.dels);
        sums_ = reinterpret_cast<T*>(base + layout.sums);
        alpha_ = reinterpret_cast<T*>(base + layout.alpha);
        uniforms_ = reinterpret_cast<double*>(base + layout.uniforms);
        scratch_ = reinterpret_cast<std::uint32_t*>(base + layout.scratch);
    }

    /// Trains blocks [first, last) (networks first * L ...), writing their results.
    void run(std::size_t first, std::size_t last) noexcept {
        for (std::size_t block = first; block < last; ++block) {
            // also here, not only between epochs: a block's initialisation (L generators)
            // can take longer than its training, and a stopped run must not start another
            if (task_.stop != nullptr && *task_.stop != 0) {
                return;
            }
            const std::size_t begin = block * L;
            train_block(begin, task_.networks - begin < L ? task_.networks - begin : L);
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
            const std::size_t net = begin + (lane < count ? lane : count - 1);
            seeds[lane] = task_.seeds[net];
            alpha_[lane] = static_cast<T>(task_.alphas[net]);
            active_[lane] = lane < count;
            last_error_[lane] = not_a_number;
        }
        // the book initialisation: 2 * random_sample() - 1 in double, rounded to T once
        const std::size_t params = sizes_.woff(sizes_.layers());
        mt19937::book_uniforms_lanes<L, IsaTag>(seeds, params, uniforms_, scratch_);
        for (std::size_t i = 0; i < params * L; ++i) {
            w_[i] = static_cast<T>(2.0 * uniforms_[i] - 1.0);
        }

        const bool stochastic = task_.batch_size == 1;
        if (stochastic && task_.rows > 0) {
            forward_input(task_.x);  // then each step's update computes the next row's
        }
        std::size_t running = count;
        for (std::size_t epoch = 0; epoch < task_.epochs && running > 0; ++epoch) {
            if (task_.stop != nullptr && *task_.stop != 0) {
                return;
            }
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
            const std::size_t stop =
                task_.rows - start < task_.batch_size ? task_.rows : start + task_.batch_size;
            const std::size_t params = sizes_.woff(sizes_.layers());
            for (std::size_t i = 0; i < params * L; ++i) {
                sums_[i] = T(0);
            }
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
            if (is_finite(error_[lane])) {
                ++running;
                continue;
            }
            // diverged: freeze this network as it is now, as train() stops here
            active_[lane] = false;
            task_.diverged[net] = true;
            store_weights(lane, net);
            if (task_.curves != nullptr) {
                for (std::size_t e = epoch + 1; e < task_.epochs; ++e) {
                    task_.curves[net * task_.epochs + e] = not_a_number;
                }
            }
        }
        return running;
    }

    /// The activation after layer l: the task's for a hidden layer, linear for the output.
    Activation activation_after(std::size_t l) const noexcept {
        return l + 1 < sizes_.layers() ? task_.activation : Activation::linear;
    }

    /// Layer 0's output for data row x: z[j] = x[0] * W[0][j] + x[1] * W[1][j] + ... in
    /// order (then the activation), each j's sum in registers. The row is the same for every
    /// lane.
    void forward_input(const T* x) noexcept {
        const std::size_t n_in = sizes_.n(0);
        const std::size_t n_out = sizes_.n(1);
        const Activation activation = activation_after(0);
        const T* GROKPROP_RESTRICT w = aligned(w_);
        T* GROKPROP_RESTRICT z = aligned(acts_);
        GROKPROP_SWEEP_UNROLL
        for (std::size_t j = 0; j < n_out; ++j) {
            alignas(lane_bytes) T sum[L];
            GROKPROP_SWEEP_UNROLL
            for (std::size_t k = 0; k < n_in; ++k) {
                const T xk = x[k];
                const T* GROKPROP_RESTRICT w_kj = aligned(w + (k * n_out + j) * L);
                GROKPROP_LANES
                for (std::size_t lane = 0; lane < L; ++lane) {
                    sum[lane] = k == 0 ? xk * w_kj[lane] : sum[lane] + xk * w_kj[lane];
                }
            }
            store_layer_output(sum, activation, z + j * L);
        }
    }

    /// Layers 1..L-1: z[j] = a[0] * W[0][j] + a[1] * W[1][j] + ... in order (then the
    /// activation).
    void forward_hidden_layers() noexcept {
        for (std::size_t l = 1; l < sizes_.layers(); ++l) {
            const std::size_t n_in = sizes_.n(l);
            const std::size_t n_out = sizes_.n(l + 1);
            const Activation activation = activation_after(l);
            const T* GROKPROP_RESTRICT a = aligned(acts_ + sizes_.aoff(l - 1) * L);
            const T* GROKPROP_RESTRICT w = aligned(w_ + sizes_.woff(l) * L);
            T* GROKPROP_RESTRICT z = aligned(acts_ + sizes_.aoff(l) * L);
            GROKPROP_SWEEP_UNROLL
            for (std::size_t j = 0; j < n_out; ++j) {
                alignas(lane_bytes) T sum[L];
                GROKPROP_SWEEP_UNROLL
                for (std::size_t k = 0; k < n_in; ++k) {
                    const T* GROKPROP_RESTRICT a_k = aligned(a + k * L);
                    const T* GROKPROP_RESTRICT w_kj = aligned(w + (k * n_out + j) * L);
                    GROKPROP_LANES
                    for (std::size_t lane = 0; lane < L; ++lane) {
                        const T term = a_k[lane] * w_kj[lane];
                        sum[lane] = k == 0 ? term : sum[lane] + term;
                    }
                }
                store_layer_output(sum, activation, z + j * L);
            }
        }
    }

    /// z_j = act(sum), lane by lane. The activation is chosen here, once per layer; the
    /// lambda only forwards the pointers (by value: the loop sees restrict pointers, not
    /// references into a closure).
    static void store_layer_output(const T* GROKPROP_RESTRICT sum, Activation activation,
                                   T* GROKPROP_RESTRICT z_j) noexcept {
        with_activation(activation, [sum, z_j](auto act) {
            store_activated<decltype(act)>(sum, aligned(z_j));
        });
    }

    template <class Act>
    static GROKPROP_INLINE void store_activated(const T* GROKPROP_RESTRICT sum,
                                                T* GROKPROP_RESTRICT z_j) noexcept {
        constexpr std::size_t V = simd::max_lanes<T>;
        constexpr std::size_t P = L % (V * Act::side_by_side) == 0 ? Act::side_by_side : 1;
        if constexpr (!Act::identity && V > 1 && L % V == 0) {
            // explicit vectors: GCC does not vectorise the scalar exp of sigmoid and tanh
            // (expmath.hpp) in a lane loop; lane for lane the same operations, so the same
            // bits. P vectors at a time (Act::side_by_side): their exp chains overlap (one
            // chain's latency, not the arithmetic, bounds it; BENCHMARKS.md)
            for (std::size_t lane = 0; lane < L; lane += V * P) {
                expmath::Vec<T, V, P> x;
                if constexpr (P == 1) {
                    x = simd::load<T, V>(sum + lane);
                } else {
                    for (std::size_t i = 0; i < P; ++i) {
                        x.v[i] = simd::load<T, V>(sum + lane + i * V);
                    }
                }
                const expmath::Vec<T, V, P> z = Act::template apply_side_by_side<T, V, P>(x);
                if constexpr (P == 1) {
                    simd::store<T, V>(z_j + lane, z);
                } else {
                    for (std::size_t i = 0; i < P; ++i) {
                        simd::store<T, V>(z_j + lane + i * V, z.v[i]);
                    }
                }
            }
        } else {
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                z_j[lane] = Act::apply(sum[lane]);
            }
        }
    }

    /// d_k = sum * act'(a_k), lane by lane (a copy for an identity activation).
    template <class Act>
    static GROKPROP_INLINE void store_delta(const T* GROKPROP_RESTRICT sum,
                                            const T* GROKPROP_RESTRICT a_k,
                                            T* GROKPROP_RESTRICT d_k) noexcept {
        if constexpr (Act::identity) {
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                d_k[lane] = sum[lane];
            }
        } else {
            // the factor first, then an unconditional multiply: written as
            // sum * (a > 0 ? 1 : 0), GCC makes the multiply conditional, and with
            // -ftrapping-math (the default) it will not vectorise that
            alignas(lane_bytes) T factor[L];
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                factor[lane] = Act::factor(a_k[lane]);
            }
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                d_k[lane] = sum[lane] * factor[lane];
            }
        }
    }

    /// Output delta d = out - y, and the example's error diff_0^2 + diff_1^2 + ... added
    /// to error_.
    void output_delta(const T* y) noexcept {
        const std::size_t last = sizes_.layers() - 1;
        const T* GROKPROP_RESTRICT out = aligned(acts_ + sizes_.aoff(last) * L);
        T* GROKPROP_RESTRICT d = aligned(dels_ + sizes_.aoff(last) * L);
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

    /// Hidden deltas d_l = (d_{l+1} · W[l]^T) * act'(a_l) for l = L-1 .. 1:
    /// d_l[k] = d_{l+1}[0] * W[l][k][0] + d_{l+1}[1] * W[l][k][1] + ... in order.
    /// With `update` (stochastic) each W[l][k][j] is updated right after the delta has
    /// used it: W -= alpha * (a_l[k] * d_{l+1}[j]). Nothing later in the step reads W[l]
    /// (d_{l-1} needs W[l-1]), so every delta still comes from the old weights.
    void backprop(bool update) noexcept {
        const T* GROKPROP_RESTRICT alpha = aligned(alpha_);
        for (std::size_t l = sizes_.layers() - 1; l > 0; --l) {
            const std::size_t n_in = sizes_.n(l);
            const std::size_t n_out = sizes_.n(l + 1);
            const T* GROKPROP_RESTRICT d_next = aligned(dels_ + sizes_.aoff(l) * L);
            T* GROKPROP_RESTRICT w = aligned(w_ + sizes_.woff(l) * L);
            const T* GROKPROP_RESTRICT a = aligned(acts_ + sizes_.aoff(l - 1) * L);
            T* GROKPROP_RESTRICT d = aligned(dels_ + sizes_.aoff(l - 1) * L);
            GROKPROP_SWEEP_UNROLL
            for (std::size_t k = 0; k < n_in; ++k) {
                const T* GROKPROP_RESTRICT a_k = aligned(a + k * L);
                alignas(lane_bytes) T sum[L];
                GROKPROP_SWEEP_UNROLL
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
                const T* sum_k = sum;
                with_activation(task_.activation, [sum_k, a_k, d_k](auto act) {
                    store_delta<decltype(act)>(sum_k, a_k, d_k);
                });
            }
        }
    }

    /// Stochastic update of W[0] -= alpha * (x[k] * d_1[j]) for data row x, fused with
    /// layer 0's forward pass of the next row x_next (the step after this one), which reads
    /// exactly the weights just written: column j of W[0] is updated, then
    /// z[j] = x_next[0] * W[0][j] + x_next[1] * W[1][j] + ... in order (then the activation).
    void update_input(const T* x, const T* x_next) noexcept {
        const std::size_t n_in = sizes_.n(0);
        const std::size_t n_out = sizes_.n(1);
        const Activation activation = activation_after(0);
        T* GROKPROP_RESTRICT w = aligned(w_);
        const T* GROKPROP_RESTRICT d = aligned(dels_);
        T* GROKPROP_RESTRICT z = aligned(acts_);
        const T* GROKPROP_RESTRICT alpha = aligned(alpha_);
        GROKPROP_SWEEP_UNROLL
        for (std::size_t j = 0; j < n_out; ++j) {
            const T* GROKPROP_RESTRICT d_j = aligned(d + j * L);
            alignas(lane_bytes) T sum[L];
            GROKPROP_SWEEP_UNROLL
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
            store_layer_output(sum, activation, z + j * L);
        }
    }

    /// S[l][k][j] += a_l[k] * d_{l+1}[j] for the example just evaluated.
    void accumulate(const T* x) noexcept {
        for (std::size_t l = 0; l < sizes_.layers(); ++l) {
            const std::size_t n_out = sizes_.n(l + 1);
            T* GROKPROP_RESTRICT s = aligned(sums_ + sizes_.woff(l) * L);
            const T* GROKPROP_RESTRICT d = aligned(dels_ + sizes_.aoff(l) * L);
            for (std::size_t k = 0; k < sizes_.n(l); ++k) {
                GROKPROP_SWEEP_UNROLL
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
                            aligned(acts_ + (sizes_.aoff(l - 1) + k) * L);
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
        const T* GROKPROP_RESTRICT alpha = aligned(alpha_);
        for (std::size_t i = 0; i < params; ++i) {
            T* GROKPROP_RESTRICT w_i = aligned(w_ + i * L);
            const T* GROKPROP_RESTRICT s_i = aligned(sums_ + i * L);
            GROKPROP_LANES
            for (std::size_t lane = 0; lane < L; ++lane) {
                w_i[lane] -= alpha[lane] * (s_i[lane] / m);
            }
        }
    }

    bool weights_finite(std::size_t lane) const noexcept {
        for (std::size_t i = 0; i < sizes_.woff(sizes_.layers()); ++i) {
            if (!is_finite(w_[i * L + lane])) {
                return false;
            }
        }
        return true;
    }

    /// Copies a lane's weights to network `net` of the outputs (if weights were asked for).
    void store_weights(std::size_t lane, std::size_t net) const noexcept {
        if (task_.weights == nullptr) {
            return;
        }
        for (std::size_t l = 0; l < sizes_.layers(); ++l) {
            const std::size_t size = sizes_.woff(l + 1) - sizes_.woff(l);
            T* out = task_.weights[l] + net * size;
            for (std::size_t i = 0; i < size; ++i) {
                out[i] = w_[(sizes_.woff(l) + i) * L + lane];
            }
        }
    }

    static constexpr T not_a_number = std::numeric_limits<T>::quiet_NaN();

    /// std::isfinite without a call out of this instruction set's code: x - x is 0 for
    /// finite x, NaN for infinities and NaN.
    static bool is_finite(T x) noexcept { return x - x == T(0); }

    const SweepTask<T>& task_;
    Sizes sizes_;  // W[l] starts at lane group sizes_.woff(l), a_{l+1} and d_{l+1} at aoff(l)
    // lane arrays in the workspace: every L-lane group starts on a multiple of lane_bytes
    T* w_;
    T* acts_;
    T* dels_;
    T* sums_;     // only when batch_size > 1
    T* alpha_;    // each lane's learning rate
    double* uniforms_;
    std::uint32_t* scratch_;
    T error_[L] = {};
    T last_error_[L] = {};
    bool active_[L] = {};
};

/// Bytes of workspace (64-byte aligned) one worker of sweep_range needs for `task`.
template <class T>
std::size_t sweep_workspace_size(const SweepTask<T>& task) noexcept {
    return SweepLayout<T, sweep_lanes<T>>(task).bytes;
}

/// Number of blocks (of sweep_lanes<T> networks) `task` has.
template <class T>
std::size_t sweep_blocks(const SweepTask<T>& task) noexcept {
    return (task.networks + sweep_lanes<T> - 1) / sweep_lanes<T>;
}

/// Trains blocks [first, last) of `task` on `workspace` (sweep_workspace_size bytes,
/// 64-byte aligned, owned by this call until it returns), writing their networks' results.
/// Ranges of one task may run at once on different threads with different workspaces;
/// results do not depend on how the blocks are split. Allocates nothing, never throws.
template <class T>
void sweep_range(const SweepTask<T>& task, void* workspace, std::size_t first,
                 std::size_t last) noexcept {
    with_sizes(task, [&](auto tag) {
        using Sizes = typename decltype(tag)::type;
        LockstepSweep<T, sweep_lanes<T>, Sizes> sweep(task, workspace);
        sweep.run(first, last);
    });
}

}  // namespace GROKPROP_ISA
}  // namespace grokprop
