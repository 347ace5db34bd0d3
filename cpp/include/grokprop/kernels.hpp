// The chapter's math on raw pointers, in the evaluation order of docs/design.md
// ("Evaluation order").
//
// Header-only, templated on the float type T (float or double), free of pybind11 and of
// allocation. Every operation is done in T: no wider accumulators. Every reduction starts
// from T(0) and adds its terms one at a time in increasing index order; products and sums
// are rounded separately (the build compiles with -ffp-contract=off, never -ffast-math),
// so the results equal grokprop.backends.reference bit for bit. Inner loops run over the
// *output* index j with unit stride: vectorising them keeps every element's order.
// The activations are those of grokprop/activation.hpp: a kernel takes either an
// ActivationTag (compile time, inside the loops) or an Activation, which it turns into a tag
// once, outside its loops.
//
// Matrices are row-major and C-contiguous: W[k][j] is w[k * n_out + j]. The fused training
// loop runs register-blocked versions of these (grokprop/tiles.hpp) with the same order.
#pragma once

#include <cstddef>

#include "grokprop/activation.hpp"
#include "grokprop/simd.hpp"

namespace grokprop {
inline namespace GROKPROP_ISA {  // one copy per instruction set (see simd.hpp)

// ---------------------------------------------------------------------------------------
// One row (one example)

/// Columns (or rows) of a matrix-vector product computed together, each in its own
/// register accumulator: independent sums in flight, none of them round-tripping
/// through memory, and every one still summed in increasing index order.
inline constexpr std::size_t register_block = 4;

/// z = a · W: z[j] = ((0 + a[0]*W[0][j]) + a[1]*W[1][j]) + ... for j < n_out.
template <class T>
inline void row_times_matrix(const T* GROKPROP_RESTRICT a, const T* GROKPROP_RESTRICT w,
                             std::size_t n_in, std::size_t n_out,
                             T* GROKPROP_RESTRICT z) noexcept {
    std::size_t j0 = 0;
    for (; j0 + register_block <= n_out; j0 += register_block) {
        T sum[register_block] = {};
        for (std::size_t k = 0; k < n_in; ++k) {
            const T ak = a[k];
            const T* GROKPROP_RESTRICT w_k = w + k * n_out + j0;
            for (std::size_t jj = 0; jj < register_block; ++jj) {
                sum[jj] += ak * w_k[jj];
            }
        }
        for (std::size_t jj = 0; jj < register_block; ++jj) {
            z[j0 + jj] = sum[jj];
        }
    }
    for (; j0 < n_out; ++j0) {
        T sum = T(0);
        for (std::size_t k = 0; k < n_in; ++k) {
            sum += a[k] * w[k * n_out + j0];
        }
        z[j0] = sum;
    }
}

/// out = d · W^T: out[k] = ((0 + d[0]*W[k][0]) + d[1]*W[k][1]) + ... for k < n_in.
template <class T>
inline void row_times_transposed(const T* GROKPROP_RESTRICT d, const T* GROKPROP_RESTRICT w,
                                 std::size_t n_in, std::size_t n_out,
                                 T* GROKPROP_RESTRICT out) noexcept {
    std::size_t k0 = 0;
    for (; k0 + register_block <= n_in; k0 += register_block) {
        T sum[register_block] = {};
        const T* GROKPROP_RESTRICT w_k0 = w + k0 * n_out;
        for (std::size_t j = 0; j < n_out; ++j) {
            const T dj = d[j];
            for (std::size_t kk = 0; kk < register_block; ++kk) {
                sum[kk] += dj * w_k0[kk * n_out + j];
            }
        }
        for (std::size_t kk = 0; kk < register_block; ++kk) {
            out[k0 + kk] = sum[kk];
        }
    }
    for (; k0 < n_in; ++k0) {
        const T* GROKPROP_RESTRICT w_k = w + k0 * n_out;
        T sum = T(0);
        for (std::size_t j = 0; j < n_out; ++j) {
            sum += d[j] * w_k[j];
        }
        out[k0] = sum;
    }
}

/// Error of one example: (0 + (out[0]-y[0])^2) + (out[1]-y[1])^2 + ...
template <class T>
inline T squared_error(const T* out, const T* y, std::size_t n) noexcept {
    T error = T(0);
    for (std::size_t j = 0; j < n; ++j) {
        const T diff = out[j] - y[j];
        error += diff * diff;
    }
    return error;
}

/// Output delta d = out - y; returns the example's error (the same as squared_error).
template <class T>
inline T output_delta(const T* GROKPROP_RESTRICT out, const T* GROKPROP_RESTRICT y,
                      std::size_t n, T* GROKPROP_RESTRICT d) noexcept {
    T error = T(0);
    for (std::size_t j = 0; j < n; ++j) {
        const T diff = out[j] - y[j];
        d[j] = diff;
        error += diff * diff;
    }
    return error;
}

/// Hidden delta d = (d_next · W^T) * act'(a), a being the layer's activation output.
/// act' is a multiplying factor (relu: 1 or 0, as the reference's `back * activate_deriv`),
/// so an infinite or NaN back-propagated value becomes NaN exactly as in NumPy; an identity
/// activation (linear) multiplies by nothing, as the reference.
template <class Act, class T>
inline void hidden_delta(const T* GROKPROP_RESTRICT d_next, const T* GROKPROP_RESTRICT w,
                         const T* GROKPROP_RESTRICT a, std::size_t n_in, std::size_t n_out,
                         T* GROKPROP_RESTRICT d) noexcept {
    row_times_transposed(d_next, w, n_in, n_out, d);
    if constexpr (!Act::identity) {
        for (std::size_t k = 0; k < n_in; ++k) {
            d[k] = d[k] * Act::factor(a[k]);
        }
    }
}

/// S += outer(a, d): S[k][j] += a[k] * d[j] (one row of a batch's weight-delta sum).
template <class T>
inline void accumulate_outer(const T* GROKPROP_RESTRICT a, const T* GROKPROP_RESTRICT d,
                             std::size_t n_in, std::size_t n_out,
                             T* GROKPROP_RESTRICT s) noexcept {
    for (std::size_t k = 0; k < n_in; ++k) {
        const T ak = a[k];
        T* GROKPROP_RESTRICT s_k = s + k * n_out;
        for (std::size_t j = 0; j < n_out; ++j) {
            s_k[j] += ak * d[j];
        }
    }
}

// ---------------------------------------------------------------------------------------
// Whole arrays (the backend kernels of _core); m rows, each computed as above.

/// out[i] = act(in[i]); in and out may be the same array.
template <class T>
inline void activate_all(Activation activation, const T* in, std::size_t n, T* out) noexcept {
    with_activation(activation, [&](auto act) {
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = decltype(act)::apply(in[i]);
        }
    });
}

/// out[i] = act'(in[i]), the derivative factor from the activation's output.
template <class T>
inline void activate_deriv_all(Activation activation, const T* GROKPROP_RESTRICT in,
                               std::size_t n, T* GROKPROP_RESTRICT out) noexcept {
    with_activation(activation, [&](auto act) {
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = decltype(act)::factor(in[i]);
        }
    });
}

/// One layer for m rows: Z = act(A · W) (m × n_out).
template <class T>
inline void forward_rows(const T* GROKPROP_RESTRICT a, std::size_t m, const T* GROKPROP_RESTRICT w,
                         std::size_t n_in, std::size_t n_out, Activation activation,
                         T* GROKPROP_RESTRICT z) noexcept {
    for (std::size_t r = 0; r < m; ++r) {
        row_times_matrix(a + r * n_in, w, n_in, n_out, z + r * n_out);
    }
    with_activation(activation, [&](auto act) {
        if constexpr (!decltype(act)::identity) {
            for (std::size_t i = 0; i < m * n_out; ++i) {
                z[i] = decltype(act)::apply(z[i]);
            }
        }
    });
}

/// err[r] = squared_error of row r of `out` (m × n) against row r of `y`.
template <class T>
inline void squared_errors_rows(const T* GROKPROP_RESTRICT out, const T* GROKPROP_RESTRICT y,
                                std::size_t m, std::size_t n,
                                T* GROKPROP_RESTRICT err) noexcept {
    for (std::size_t r = 0; r < m; ++r) {
        err[r] = squared_error(out + r * n, y + r * n, n);
    }
}

/// d[i] = out[i] - y[i] (the output deltas of m rows, n outputs each: m * n entries).
template <class T>
inline void difference_all(const T* GROKPROP_RESTRICT out, const T* GROKPROP_RESTRICT y,
                           std::size_t n, T* GROKPROP_RESTRICT d) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        d[i] = out[i] - y[i];
    }
}

/// Hidden deltas of m rows: D = (D_next · W^T) * act'(A); D_next is m × n_out, A and D m × n_in.
template <class T>
inline void hidden_delta_rows(const T* GROKPROP_RESTRICT d_next, const T* GROKPROP_RESTRICT w,
                              const T* GROKPROP_RESTRICT a, std::size_t m, std::size_t n_in,
                              std::size_t n_out, Activation activation,
                              T* GROKPROP_RESTRICT d) noexcept {
    with_activation(activation, [&](auto act) {
        for (std::size_t r = 0; r < m; ++r) {
            hidden_delta<decltype(act)>(d_next + r * n_out, w, a + r * n_in, n_in, n_out,
                                        d + r * n_in);
        }
    });
}

/// Average weight delta of m rows: G = (sum over rows r in order of outer(A[r], D[r])) / m.
/// A is m × n_in, D is m × n_out, G is n_in × n_out.
template <class T>
inline void weight_delta_rows(const T* GROKPROP_RESTRICT a, const T* GROKPROP_RESTRICT d,
                              std::size_t m, std::size_t n_in, std::size_t n_out,
                              T* GROKPROP_RESTRICT g) noexcept {
    const std::size_t n = n_in * n_out;
    for (std::size_t i = 0; i < n; ++i) {
        g[i] = T(0);
    }
    for (std::size_t r = 0; r < m; ++r) {
        accumulate_outer(a + r * n_in, d + r * n_out, n_in, n_out, g);
    }
    const T rows = static_cast<T>(m);
    for (std::size_t i = 0; i < n; ++i) {
        g[i] = g[i] / rows;
    }
}

/// W[i] -= alpha * G[i] for the n entries of one matrix.
template <class T>
inline void subtract_scaled(T* GROKPROP_RESTRICT w, const T* GROKPROP_RESTRICT g, std::size_t n,
                            T alpha) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        w[i] -= alpha * g[i];
    }
}

}  // namespace GROKPROP_ISA
}  // namespace grokprop
