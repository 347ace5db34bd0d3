// The fused training loop: every epoch of mini-batch gradient descent in one C++ call.
//
// Header-only and free of pybind11. train() takes its workspace from the caller (sized by
// train_workspace_size), allocates nothing, calls nothing outside these headers and never
// throws, so the binding runs it with the GIL released. It is compiled once per instruction
// set (simd.hpp); cpp/src/kernel_table.cpp exposes each copy to the run-time dispatcher.
// Each loop is templated on the activation (an ActivationTag, grokprop/activation.hpp):
// train() chooses the instance once per call, so no loop tests the activation.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "grokprop/activation.hpp"
#include "grokprop/kernels.hpp"
#include "grokprop/simd.hpp"
#include "grokprop/tiles.hpp"

namespace grokprop {

/// One weight matrix W[l] (n_in × n_out, row-major, C-contiguous), updated in place.
template <class T>
struct Layer {
    T* weights;
    std::size_t n_in;
    std::size_t n_out;
};

/// A training run (plain data, shared by every instruction set's copy of train()).
///
/// Preconditions (checked by the binding): n_layers >= 1, layers[l].n_out ==
/// layers[l + 1].n_in, x is rows × layers[0].n_in and y rows × layers[L-1].n_out, rows >= 1,
/// 1 <= batch_size <= rows, errors holds `epochs` values, and no weight matrix overlaps
/// another one, x, y or errors.
template <class T>
struct TrainProblem {
    const Layer<T>* layers;
    std::size_t n_layers;
    const T* x;
    const T* y;
    std::size_t rows;
    T alpha;
    std::size_t epochs;
    std::size_t batch_size;
    Activation activation;  // of the hidden layers
    T* errors;
    /// A flag another thread may set to nonzero to end the run at the next row (nullptr:
    /// never; docs/design.md, "Interrupts"). The weights are then left part-way.
    const volatile std::uint8_t* stop = nullptr;
};

/// Whether the run of `p` was asked to stop (read once per row: a load and a branch).
template <class T>
GROKPROP_INLINE bool stop_requested(const TrainProblem<T>& p) noexcept {
    return p.stop != nullptr && *p.stop != 0;
}

inline namespace GROKPROP_ISA {

/// Elements of T the workspace of train(problem) needs: every layer's outputs and deltas
/// for one batch and, for batches of several rows, room for one transposed weight matrix.
namespace detail {
template <class T>
bool fits_small(const TrainProblem<T>& problem) noexcept;
template <class T>
std::size_t small_workspace_size(const TrainProblem<T>& problem) noexcept;
}  // namespace detail

template <class T>
std::size_t train_workspace_size(const TrainProblem<T>& problem) noexcept {
    if (detail::fits_small(problem)) {
        return detail::small_workspace_size(problem);
    }
    std::size_t units = 0;
    std::size_t largest_hidden_matrix = 0;
    for (std::size_t l = 0; l < problem.n_layers; ++l) {
        const Layer<T>& layer = problem.layers[l];
        units += layer.n_out;
        if (l > 0 && layer.n_in * layer.n_out > largest_hidden_matrix) {
            largest_hidden_matrix = layer.n_in * layer.n_out;
        }
    }
    if (problem.batch_size == 1) {
        return 2 * units;
    }
    return 2 * units * problem.batch_size + largest_hidden_matrix;
}

namespace detail {

/// Hidden widths the small-network loop (train_small) holds in registers: at least 8, and
/// a whole number of the widest vectors of T.
template <class T>
inline constexpr std::size_t small_lanes = simd::max_lanes<T> * sizeof(T) > 32 ? 32 / sizeof(T) : simd::max_lanes<T>;
template <class T>
inline constexpr std::size_t small_vectors = small_lanes<T> >= 8 ? 1 : 8 / small_lanes<T>;
template <class T>
inline constexpr std::size_t small_hidden = small_vectors<T> * small_lanes<T>;

/// Stochastic training of a network with one hidden layer of at most small_hidden units
/// (the chapter's networks): there the cost of a step is its loop overhead, so this loop
/// keeps the hidden layer in registers and the weights in padded copies, one row of whole
/// vectors per input unit (W[0]) and per output unit (W[1] transposed). Lanes past the
/// hidden width hold padding that no stored value ever reads.
template <class T>
bool fits_small(const TrainProblem<T>& p) noexcept {
    return GROKPROP_VECTOR_EXTENSIONS && p.batch_size == 1 && p.n_layers == 2 &&
           p.layers[0].n_out <= small_hidden<T>;
}

/// Workspace of train_small: W[0] and W[1] transposed, padded.
template <class T>
std::size_t small_workspace_size(const TrainProblem<T>& p) noexcept {
    return (p.layers[0].n_in + p.layers[1].n_out) * small_hidden<T>;
}

#if GROKPROP_VECTOR_EXTENSIONS
template <class Act, class T>
std::size_t train_small(const TrainProblem<T>& p, T* workspace) noexcept {
    constexpr std::size_t N = small_lanes<T>;
    constexpr std::size_t C = small_vectors<T>;
    constexpr std::size_t H = small_hidden<T>;
    using V = simd::Vec<T, N>;
    const std::size_t n_x = p.layers[0].n_in;
    const std::size_t n_h = p.layers[0].n_out;
    const std::size_t n_y = p.layers[1].n_out;
    T* const w0 = workspace;         // w0[k * H + j] = W[0][k][j]
    T* const w1t = w0 + n_x * H;     // w1t[o * H + j] = W[1][j][o]
    for (std::size_t k = 0; k < n_x; ++k) {
        for (std::size_t j = 0; j < H; ++j) {
            w0[k * H + j] = j < n_h ? p.layers[0].weights[k * n_h + j] : T(0);
        }
    }
    for (std::size_t o = 0; o < n_y; ++o) {
        for (std::size_t j = 0; j < H; ++j) {
            w1t[o * H + j] = j < n_h ? p.layers[1].weights[j * n_y + o] : T(0);
        }
    }
    const V zero = simd::broadcast<T, N>(T(0));
    const V alpha = simd::broadcast<T, N>(p.alpha);

    std::size_t epochs_run = p.epochs;
    V h[C];  // the hidden layer of the current row
    bool h_ready = false;  // h already holds it (computed by the previous fused step)
    bool stopped = false;
    for (std::size_t epoch = 0; epoch < p.epochs; ++epoch) {
        T epoch_error = T(0);
        for (std::size_t r = 0; r < p.rows; ++r) {
            if (stop_requested(p)) {
                stopped = true;
                break;
            }
            const T* x = p.x + r * n_x;
            const T* y = p.y + r * n_y;
            if (!h_ready) {
                V z[C];
                GROKPROP_UNROLL
                for (std::size_t c = 0; c < C; ++c) {
                    z[c] = zero;
                }
                for (std::size_t k = 0; k < n_x; ++k) {
                    const V x_k = simd::broadcast<T, N>(x[k]);
                    GROKPROP_UNROLL
                    for (std::size_t c = 0; c < C; ++c) {
                        z[c] += x_k * simd::load<T, N>(w0 + k * H + c * N);
                    }
                }
                GROKPROP_UNROLL
                for (std::size_t c = 0; c < C; ++c) {
                    h[c] = Act::template apply_lanes<T, N>(z[c]);
                }
            }
            // Per output unit o: out = sum over j in order of h[j] * W[1][j][o], its error
            // and delta d, the hidden delta's term d * W[1][.][o] (old weights, summed over o in
            // order), then W[1][.][o]'s step. One pass, d never leaves a register.
            V d_hidden[C];
            GROKPROP_UNROLL
            for (std::size_t c = 0; c < C; ++c) {
                d_hidden[c] = zero;
            }
            T error = T(0);
            for (std::size_t o = 0; o < n_y; ++o) {
                T* w = w1t + o * H;
                V w_o[C];
                V products[C];
                GROKPROP_UNROLL
                for (std::size_t c = 0; c < C; ++c) {
                    w_o[c] = simd::load<T, N>(w + c * N);
                    products[c] = h[c] * w_o[c];
                }
                T out = T(0);
                GROKPROP_UNROLL
                for (std::size_t j = 0; j < H; ++j) {
                    if (j < n_h) {
                        out += products[j / N][j % N];
                    }
                }
                const T diff = out - y[o];
                error += diff * diff;
                const V d_o = simd::broadcast<T, N>(diff);
                GROKPROP_UNROLL
                for (std::size_t c = 0; c < C; ++c) {
                    d_hidden[c] += d_o * w_o[c];
                    simd::store<T, N>(w + c * N, w_o[c] - alpha * (zero + h[c] * d_o));
                }
            }
            epoch_error += error;
            if constexpr (!Act::identity) {
                GROKPROP_UNROLL
                for (std::size_t c = 0; c < C; ++c) {
                    d_hidden[c] = d_hidden[c] * Act::template factor_lanes<T, N>(h[c]);
                }
            }
            // W[0]'s step, fused with the next row's hidden layer
            const std::size_t next = r + 1 < p.rows ? r + 1 : 0;
            h_ready = r + 1 < p.rows || epoch + 1 < p.epochs;
            const T* x_next = p.x + next * n_x;
            V z[C];
            GROKPROP_UNROLL
            for (std::size_t c = 0; c < C; ++c) {
                z[c] = zero;
            }
            for (std::size_t k = 0; k < n_x; ++k) {
                const V x_k = simd::broadcast<T, N>(x[k]);
                const V x_next_k = simd::broadcast<T, N>(x_next[k]);
                GROKPROP_UNROLL
                for (std::size_t c = 0; c < C; ++c) {
                    T* w = w0 + k * H + c * N;
                    const V updated = simd::load<T, N>(w) - alpha * (zero + x_k * d_hidden[c]);
                    simd::store<T, N>(w, updated);
                    z[c] += x_next_k * updated;
                }
            }
            GROKPROP_UNROLL
            for (std::size_t c = 0; c < C; ++c) {
                h[c] = Act::template apply_lanes<T, N>(z[c]);
            }
        }
        if (stopped) {  // the weights are copied back below, part-way
            epochs_run = epoch;
            break;
        }
        p.errors[epoch] = epoch_error;
        if (!std::isfinite(epoch_error)) {
            epochs_run = epoch + 1;
            break;
        }
    }
    for (std::size_t k = 0; k < n_x; ++k) {
        for (std::size_t j = 0; j < n_h; ++j) {
            p.layers[0].weights[k * n_h + j] = w0[k * H + j];
        }
    }
    for (std::size_t o = 0; o < n_y; ++o) {
        for (std::size_t j = 0; j < n_h; ++j) {
            p.layers[1].weights[j * n_y + o] = w1t[o * H + j];
        }
    }
    return epochs_run;
}
#endif

/// Stochastic gradient descent (batches of one row, docs/design.md, "The math"): each
/// example's forward pass, error and deltas from the current weights, then
/// W[l] -= alpha * (0 + a_l ⊗ d_{l+1}).
/// The step of the first matrix runs together with the next example's first product
/// (tiles::subtract_outer<true>): that needs only the updated W[0], and the other layers'
/// steps come first. Workspace: outputs a_1..a_L, then deltas d_1..d_L.
template <class Act, class T>
std::size_t train_stochastic(const TrainProblem<T>& p, T* workspace) noexcept {
    using tiles::Finish;
    const Layer<T>* layers = p.layers;
    const std::size_t last = p.n_layers - 1;
    const std::size_t n_x = layers[0].n_in;
    const std::size_t n_y = layers[last].n_out;
    std::size_t units = 0;
    for (std::size_t l = 0; l <= last; ++l) {
        units += layers[l].n_out;
    }
    T* const acts = workspace;          // a_1 | a_2 | ... | a_L  (a_0 is the row of x)
    T* const dels = workspace + units;  // d_1 | d_2 | ... | d_L, laid out like acts
    const Finish first_finish = last > 0 ? Finish::activate : Finish::none;

    bool first_layer_done = false;  // a_1 of the current row already computed (fused step)
    for (std::size_t epoch = 0; epoch < p.epochs; ++epoch) {
        T epoch_error = T(0);
        for (std::size_t r = 0; r < p.rows; ++r) {
            if (stop_requested(p)) {
                return epoch;
            }
            const T* x = p.x + r * n_x;
            if (!first_layer_done) {
                tiles::multiply<Act>(x, 1, n_x, layers[0].weights, layers[0].n_out, first_finish,
                                     static_cast<const T*>(nullptr), acts);
            }
            // forward: a_{l+1} = act(a_l · W[l]) (the output layer linear)
            T* a = acts;
            for (std::size_t l = 1; l <= last; ++l) {
                T* z = a + layers[l].n_in;
                tiles::multiply<Act>(a, 1, layers[l].n_in, layers[l].weights, layers[l].n_out,
                                     l < last ? Finish::activate : Finish::none,
                                     static_cast<const T*>(nullptr), z);
                a = z;
            }
            T* d = dels + (a - acts);
            epoch_error += output_delta(a, p.y + r * n_y, n_y, d);
            // backward, from the output down: d_l from the old W[l], then W[l]'s step
            for (std::size_t l = last; l > 0; --l) {
                const Layer<T>& layer = layers[l];
                T* a_in = a - layer.n_in;
                T* d_in = d - layer.n_in;
                hidden_delta<Act>(d, layer.weights, a_in, layer.n_in, layer.n_out, d_in);
                tiles::subtract_outer<false, Act>(layer.weights, layer.n_in, layer.n_out, a_in,
                                                  d, p.alpha, static_cast<const T*>(nullptr),
                                                  Finish::none, static_cast<T*>(nullptr));
                a = a_in;
                d = d_in;
            }
            // W[0]'s step, fused with the next example's first product
            const std::size_t next = r + 1 < p.rows ? r + 1 : 0;
            first_layer_done = r + 1 < p.rows || epoch + 1 < p.epochs;
            if (first_layer_done) {
                tiles::subtract_outer<true, Act>(layers[0].weights, n_x, layers[0].n_out, x, d,
                                                 p.alpha, p.x + next * n_x, first_finish, acts);
            } else {
                tiles::subtract_outer<false, Act>(layers[0].weights, n_x, layers[0].n_out, x, d,
                                                  p.alpha, static_cast<const T*>(nullptr),
                                                  Finish::none, static_cast<T*>(nullptr));
            }
        }
        p.errors[epoch] = epoch_error;
        if (!std::isfinite(epoch_error)) {
            return epoch + 1;
        }
    }
    return p.epochs;
}

/// Mini-batch (and full-batch) gradient descent (docs/design.md, "The math"), a layer at a
/// time for all rows of a batch: forward products, the rows' errors in order, deltas back to
/// the first hidden layer (all from the weights before the step), then each
/// W[l] -= alpha * (S[l] / m).
/// Workspace: outputs a_1..a_L and deltas d_1..d_L of batch_size rows each (layer l at
/// batch_size * offset_l), then one transposed weight matrix.
template <class Act, class T>
std::size_t train_batches(const TrainProblem<T>& p, T* workspace) noexcept {
    using tiles::Finish;
    const Layer<T>* layers = p.layers;
    const std::size_t last = p.n_layers - 1;
    const std::size_t n_x = layers[0].n_in;
    const std::size_t n_y = layers[last].n_out;
    const std::size_t b = p.batch_size;
    std::size_t units = 0;
    for (std::size_t l = 0; l <= last; ++l) {
        units += layers[l].n_out;
    }
    T* const acts = workspace;
    T* const dels = workspace + b * units;
    T* const transposed = workspace + 2 * b * units;

    for (std::size_t epoch = 0; epoch < p.epochs; ++epoch) {
        T epoch_error = T(0);
        for (std::size_t start = 0; start < p.rows; start += b) {
            if (stop_requested(p)) {
                return epoch;
            }
            const std::size_t m = p.rows - start < b ? p.rows - start : b;
            // forward; a walks a_0 (the batch's rows of x), a_1, ..., a_L
            const T* a = p.x + start * n_x;
            T* z = acts;
            for (std::size_t l = 0; l <= last; ++l) {
                const Layer<T>& layer = layers[l];
                tiles::multiply<Act>(a, m, layer.n_in, layer.weights, layer.n_out,
                                     l < last ? Finish::activate : Finish::none,
                                     static_cast<const T*>(nullptr), z);
                a = z;
                z += b * layer.n_out;
            }
            // the rows' errors, summed in row order, and the output deltas
            T* d = dels + (a - acts);
            const T* y = p.y + start * n_y;
            for (std::size_t r = 0; r < m; ++r) {
                epoch_error += output_delta(a + r * n_y, y + r * n_y, n_y, d + r * n_y);
            }
            // backward: d_l = (d_{l+1} · W[l]^T) * act'(a_l), then W[l]'s step
            for (std::size_t l = last; l > 0; --l) {
                const Layer<T>& layer = layers[l];
                const T* a_in = a - b * layer.n_in;
                T* d_in = d - b * layer.n_in;
                tiles::transpose(layer.weights, layer.n_in, layer.n_out, transposed);
                tiles::multiply<Act>(static_cast<const T*>(d), m, layer.n_out,
                                     static_cast<const T*>(transposed), layer.n_in,
                                     Finish::activate_factor, a_in, d_in);
                tiles::subtract_mean_outer(layer.weights, layer.n_in, layer.n_out, a_in,
                                           static_cast<const T*>(d), m, p.alpha);
                a = a_in;
                d = d_in;
            }
            tiles::subtract_mean_outer(layers[0].weights, n_x, layers[0].n_out,
                                       p.x + start * n_x, static_cast<const T*>(d), m, p.alpha);
        }
        p.errors[epoch] = epoch_error;
        if (!std::isfinite(epoch_error)) {
            return epoch + 1;
        }
    }
    return p.epochs;
}

}  // namespace detail

/// Trains on problem.rows rows for up to problem.epochs epochs (docs/design.md, "The math"),
/// updating the weights in place and writing each epoch's error to problem.errors[epoch].
/// Stops after the first epoch whose error is not finite. Returns the number of epochs run.
/// `workspace` holds train_workspace_size(problem) elements.
template <class T>
std::size_t train(const TrainProblem<T>& problem, T* workspace) noexcept {
    return with_activation(problem.activation, [&](auto act) {
        using Act = decltype(act);
#if GROKPROP_VECTOR_EXTENSIONS
        if (detail::fits_small(problem)) {
            return detail::train_small<Act>(problem, workspace);
        }
#endif
        if (problem.batch_size == 1) {
            return detail::train_stochastic<Act>(problem, workspace);
        }
        return detail::train_batches<Act>(problem, workspace);
    });
}

}  // namespace GROKPROP_ISA
}  // namespace grokprop
