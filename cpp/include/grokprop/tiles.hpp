// Register-blocked kernels of the training loop (grokprop/train.hpp), in the evaluation order
// of docs/design.md ("Evaluation order").
//
// A product of matrices is computed in tiles: R rows × C vectors of outputs, each output in
// its own register lane, every one summed over the reduced index s = 0, 1, 2, ... in order,
// one rounded product and one rounded sum at a time. Which lane or tile an output lands in
// never changes its sum, so these tiles equal the row-at-a-time kernels (grokprop/kernels.hpp)
// and the NumPy reference bit for bit; they only keep more independent sums in flight and
// reuse every loaded weight R times.
//
// Each kernel is a loop over blocks of columns (simd::for_column_blocks) calling a block
// function with compile-time width. The block functions take everything by value: the
// vector stores may alias any memory, and values in locals need not be reloaded after them.
//
// The kernels that finish a sum with an activation take it as a compile-time ActivationTag
// (grokprop/activation.hpp); for an identity activation the finishing step is no code at all.
//
// Header-only, no allocation, no pybind11; compiled once per instruction set (simd.hpp).
#pragma once

#include <cstddef>

#include "grokprop/activation.hpp"
#include "grokprop/simd.hpp"

namespace grokprop {
inline namespace GROKPROP_ISA {
namespace tiles {

using simd::Vec;

/// Tile shape of the batch products: rows × vectors of accumulators. 16 accumulators with
/// 32 vector registers (AVX-512), 8 with 16: enough independent sums to hide the latency
/// of the adds, few enough to keep the loaded weights and a broadcast in registers too.
inline constexpr std::size_t tile_rows = 4;
inline constexpr std::size_t tile_vectors = simd::register_count >= 32 ? 4 : 2;

/// Vectors of one row of the stochastic step's sums (subtract_outer<true>): half the
/// registers, so that a row of a hidden layer of up to that width is read and written in
/// one contiguous sweep (a column block narrower than the row would revisit the matrix
/// with a stride, and a store to one row can then stall a load from a row 4 KiB further).
inline constexpr std::size_t row_vectors = simd::register_count / 2;

/// A compile-time row count.
template <std::size_t R>
struct Rows {
    static constexpr std::size_t count = R;
};

/// Calls f(Rows<R>{}, r0) for consecutive row tiles covering [0, m): tiles of R rows, then
/// halving tiles for the rest.
template <std::size_t R, class F>
GROKPROP_INLINE void for_row_tiles(std::size_t m, F&& f, std::size_t r0 = 0) noexcept {
    for (; r0 + R <= m; r0 += R) {
        f(Rows<R>{}, r0);
    }
    if constexpr (R > 1) {
        for_row_tiles<R / 2>(m, f, r0);
    }
}

/// The micro-kernel: acc[i][c] lane l = sum over s < steps, in increasing s, of
/// a[i * a_row + s * a_step] * b[s * b_step + c * N + l], starting from +0.
template <class T, std::size_t R, std::size_t N, std::size_t C>
GROKPROP_INLINE void tile_sum(const T* GROKPROP_RESTRICT a, std::size_t a_row, std::size_t a_step,
                              const T* GROKPROP_RESTRICT b, std::size_t b_step, std::size_t steps,
                              Vec<T, N> (&acc)[R][C]) noexcept {
    GROKPROP_UNROLL
    for (std::size_t i = 0; i < R; ++i) {
        GROKPROP_UNROLL
        for (std::size_t c = 0; c < C; ++c) {
            acc[i][c] = simd::broadcast<T, N>(T(0));
        }
    }
    for (std::size_t s = 0; s < steps; ++s) {
        const T* GROKPROP_RESTRICT b_s = b + s * b_step;
        Vec<T, N> w[C];
        GROKPROP_UNROLL
        for (std::size_t c = 0; c < C; ++c) {
            w[c] = simd::load<T, N>(b_s + c * N);
        }
        const T* GROKPROP_RESTRICT a_s = a + s * a_step;
        GROKPROP_UNROLL
        for (std::size_t i = 0; i < R; ++i) {
            const Vec<T, N> a_is = simd::broadcast<T, N>(a_s[i * a_row]);
            GROKPROP_UNROLL
            for (std::size_t c = 0; c < C; ++c) {
                acc[i][c] += a_is * w[c];  // two roundings: -ffp-contract=off
            }
        }
    }
}

/// What multiply() (and subtract_outer's next product) does with a finished sum before
/// storing it, with the kernel's activation Act.
enum class Finish {
    none,            ///< out = sum                                (the output layer)
    activate,        ///< out = act(sum)                           (a hidden layer's output)
    activate_factor  ///< out = sum * act'(gate), gate m × n       (a hidden layer's delta)
};

/// `v` finished as `finish` says; gate[at..at+N) holds the lanes' act' arguments (read only
/// for Finish::activate_factor, so `gate` may be null otherwise).
template <class Act, class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> finish_sum(Vec<T, N> v, Finish finish, const T* GROKPROP_RESTRICT gate,
                                     std::size_t at) noexcept {
    if constexpr (!Act::identity) {
        if (finish == Finish::activate) {
            v = Act::template apply_lanes<T, N>(v);
        } else if (finish == Finish::activate_factor) {
            v = v * Act::template factor_lanes<T, N>(simd::load<T, N>(gate + at));
        }
    }
    return v;
}

/// One tile of multiply(): rows r0..r0+R, columns j0..j0+C*N.
template <class Act, class T, std::size_t R, std::size_t N, std::size_t C>
GROKPROP_INLINE void multiply_tile(const T* GROKPROP_RESTRICT A, std::size_t n_sum,
                                   const T* GROKPROP_RESTRICT B, std::size_t n, Finish finish,
                                   const T* GROKPROP_RESTRICT gate, T* GROKPROP_RESTRICT out,
                                   std::size_t r0, std::size_t j0) noexcept {
    Vec<T, N> acc[R][C];
    tile_sum<T, R, N, C>(A + r0 * n_sum, n_sum, 1, B + j0, n, n_sum, acc);
    GROKPROP_UNROLL
    for (std::size_t i = 0; i < R; ++i) {
        const std::size_t row = (r0 + i) * n + j0;
        GROKPROP_UNROLL
        for (std::size_t c = 0; c < C; ++c) {
            const Vec<T, N> v = finish_sum<Act, T, N>(acc[i][c], finish, gate, row + c * N);
            simd::store<T, N>(out + row + c * N, v);
        }
    }
}

/// out = A · B for m rows: out[r][j] = sum over s < n_sum in order of A[r][s] * B[s][j],
/// then finished as `finish` says with activation Act. A is m × n_sum, B is n_sum × n, out
/// and gate are m × n, all row-major and C-contiguous.
template <class Act, class T>
inline void multiply(const T* GROKPROP_RESTRICT A, std::size_t m, std::size_t n_sum,
                     const T* GROKPROP_RESTRICT B, std::size_t n, Finish finish,
                     const T* GROKPROP_RESTRICT gate, T* GROKPROP_RESTRICT out) noexcept {
    // Columns outside, rows inside: a column panel of B stays in cache for every row tile.
    simd::for_column_blocks<T, tile_vectors>(n, [&](auto block, std::size_t j0) {
        constexpr std::size_t N = decltype(block)::lanes;
        constexpr std::size_t C = decltype(block)::vectors;
        for_row_tiles<tile_rows>(m, [&](auto rows, std::size_t r0) {
            constexpr std::size_t R = decltype(rows)::count;
            multiply_tile<Act, T, R, N, C>(A, n_sum, B, n, finish, gate, out, r0, j0);
        });
    });
}

/// One tile of subtract_mean_outer(): weight rows k0..k0+R, columns j0..j0+C*N.
template <class T, std::size_t R, std::size_t N, std::size_t C>
GROKPROP_INLINE void subtract_mean_outer_tile(T* GROKPROP_RESTRICT W, std::size_t n_in,
                                              std::size_t n_out, const T* GROKPROP_RESTRICT A,
                                              const T* GROKPROP_RESTRICT D, std::size_t m,
                                              T alpha, std::size_t k0, std::size_t j0) noexcept {
    const Vec<T, N> alpha_v = simd::broadcast<T, N>(alpha);
    const Vec<T, N> rows_v = simd::broadcast<T, N>(static_cast<T>(m));
    Vec<T, N> acc[R][C];
    tile_sum<T, R, N, C>(A + k0, 1, n_in, D + j0, n_out, m, acc);
    GROKPROP_UNROLL
    for (std::size_t i = 0; i < R; ++i) {
        T* GROKPROP_RESTRICT w = W + (k0 + i) * n_out + j0;
        GROKPROP_UNROLL
        for (std::size_t c = 0; c < C; ++c) {
            const Vec<T, N> mean = acc[i][c] / rows_v;
            simd::store<T, N>(w + c * N, simd::load<T, N>(w + c * N) - alpha_v * mean);
        }
    }
}

/// The mini-batch step of one layer: W[k][j] -= alpha * (S[k][j] / m) with
/// S[k][j] = sum over rows r < m in order of A[r][k] * D[r][j] (docs/design.md, "The math").
/// A is the layer's
/// input (m × n_in), D its delta (m × n_out), W n_in × n_out. S lives only in registers.
template <class T>
inline void subtract_mean_outer(T* GROKPROP_RESTRICT W, std::size_t n_in, std::size_t n_out,
                                const T* GROKPROP_RESTRICT A, const T* GROKPROP_RESTRICT D,
                                std::size_t m, T alpha) noexcept {
    simd::for_column_blocks<T, tile_vectors>(n_out, [&](auto block, std::size_t j0) {
        constexpr std::size_t N = decltype(block)::lanes;
        constexpr std::size_t C = decltype(block)::vectors;
        for_row_tiles<tile_rows>(n_in, [&](auto tile, std::size_t k0) {
            constexpr std::size_t R = decltype(tile)::count;
            subtract_mean_outer_tile<T, R, N, C>(W, n_in, n_out, A, D, m, alpha, k0, j0);
        });
    });
}

/// One column block of subtract_outer(): columns j0..j0+C*N of every row of W.
template <bool NEXT, class Act, class T, std::size_t N, std::size_t C>
GROKPROP_INLINE void subtract_outer_block(T* GROKPROP_RESTRICT W, std::size_t n_in,
                                          std::size_t n_out, const T* GROKPROP_RESTRICT a,
                                          const T* GROKPROP_RESTRICT d, T alpha,
                                          const T* GROKPROP_RESTRICT next, Finish finish,
                                          T* GROKPROP_RESTRICT z, std::size_t j0) noexcept {
    const Vec<T, N> alpha_v = simd::broadcast<T, N>(alpha);
    const Vec<T, N> zero = simd::broadcast<T, N>(T(0));
    const T* GROKPROP_RESTRICT d_j = d + j0;
    Vec<T, N> acc[C];
    GROKPROP_UNROLL
    for (std::size_t c = 0; c < C; ++c) {
        acc[c] = zero;
    }
    for (std::size_t k = 0; k < n_in; ++k) {
        T* GROKPROP_RESTRICT w = W + k * n_out + j0;
        const Vec<T, N> a_k = simd::broadcast<T, N>(a[k]);
        GROKPROP_UNROLL
        for (std::size_t c = 0; c < C; ++c) {
            // 0 + a*d, as the reference's zero-initialised sum: -0 becomes +0
            const Vec<T, N> step = alpha_v * (zero + a_k * simd::load<T, N>(d_j + c * N));
            const Vec<T, N> updated = simd::load<T, N>(w + c * N) - step;
            simd::store<T, N>(w + c * N, updated);
            if constexpr (NEXT) {
                acc[c] += simd::broadcast<T, N>(next[k]) * updated;
            }
        }
    }
    if constexpr (NEXT) {
        GROKPROP_UNROLL
        for (std::size_t c = 0; c < C; ++c) {
            simd::store<T, N>(z + j0 + c * N, finish_sum<Act, T, N>(acc[c], finish, nullptr, 0));
        }
    }
}

/// The stochastic step of one layer (a batch of one row, docs/design.md, "The math"):
/// W[k][j] -= alpha * (0 + a[k] * d[j]) for k < n_in, j < n_out.
/// With NEXT it also runs the next row's product with the updated weights,
/// z[j] = sum over k in order of next[k] * W[k][j] (finished by Finish::none or
/// Finish::activate): row k of W is used as soon as it is updated, so the matrix is read and
/// written once per example instead of twice, and every sum keeps its order.
template <bool NEXT, class Act, class T>
inline void subtract_outer(T* GROKPROP_RESTRICT W, std::size_t n_in, std::size_t n_out,
                           const T* GROKPROP_RESTRICT a, const T* GROKPROP_RESTRICT d, T alpha,
                           const T* GROKPROP_RESTRICT next, Finish finish,
                           T* GROKPROP_RESTRICT z) noexcept {
    simd::for_column_blocks<T, row_vectors>(n_out, [&](auto block, std::size_t j0) {
        constexpr std::size_t N = decltype(block)::lanes;
        constexpr std::size_t C = decltype(block)::vectors;
        subtract_outer_block<NEXT, Act, T, N, C>(W, n_in, n_out, a, d, alpha, next, finish, z,
                                                 j0);
    });
}

/// WT = W^T: WT[j][k] = W[k][j] for W n_in × n_out (so that d · W^T is a product of rows).
template <class T>
inline void transpose(const T* GROKPROP_RESTRICT W, std::size_t n_in, std::size_t n_out,
                      T* GROKPROP_RESTRICT WT) noexcept {
    for (std::size_t k = 0; k < n_in; ++k) {
        for (std::size_t j = 0; j < n_out; ++j) {
            WT[j * n_in + k] = W[k * n_out + j];
        }
    }
}

}  // namespace tiles
}  // namespace GROKPROP_ISA
}  // namespace grokprop
