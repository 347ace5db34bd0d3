// The fused training loop: every epoch of mini-batch gradient descent in one C++ call.
//
// Header-only and free of pybind11. A Trainer allocates all of its workspace when it is
// built; run() allocates nothing, calls nothing outside this header and kernels.hpp, and
// never throws, so the binding runs it with the GIL released.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "grokprop/kernels.hpp"

namespace grokprop {

/// One weight matrix W[l] (n_in × n_out, row-major, C-contiguous), updated in place.
template <class T>
struct Layer {
    T* weights;
    std::size_t n_in;
    std::size_t n_out;
};

/// Mini-batch gradient descent on a network of Layers, in the order of SPEC §2–3.
///
/// Preconditions (checked by the binding): at least one layer, layers[l].n_out ==
/// layers[l+1].n_in, batch_size >= 1, and no weight matrix overlaps another one or the data.
template <class T>
class Trainer {
public:
    Trainer(std::vector<Layer<T>> layers, std::size_t batch_size)
        : layers_(std::move(layers)),
          batch_size_(batch_size),
          inputs_(layers_.size(), nullptr),
          outputs_(layers_.size(), nullptr),
          deltas_(layers_.size(), nullptr),
          sums_(layers_.size(), nullptr) {
        const bool batched = batch_size_ > 1;
        std::size_t total = 0;
        for (const Layer<T>& layer : layers_) {
            total += 2 * layer.n_out + (batched ? layer.n_in * layer.n_out : 0);
        }
        workspace_.assign(total, T(0));
        T* next = workspace_.data();
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            outputs_[l] = next;
            next += layers_[l].n_out;
            deltas_[l] = next;
            next += layers_[l].n_out;
            if (batched) {
                sums_[l] = next;
                next += layers_[l].n_in * layers_[l].n_out;
            }
            if (l > 0) {
                inputs_[l] = outputs_[l - 1];
            }
        }
    }

    /// Trains on the m rows of x (m × n_0) and y (m × n_L) for up to `epochs` epochs,
    /// writing each epoch's error to errors[epoch]. Stops after the first epoch whose error
    /// is not finite. Returns the number of epochs run.
    std::size_t run(const T* x, const T* y, std::size_t m, T alpha, std::size_t epochs,
                    bool use_relu, T* errors) noexcept {
        const std::size_t n_x = layers_.front().n_in;
        const std::size_t n_y = layers_.back().n_out;
        for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
            T epoch_error = T(0);
            for (std::size_t start = 0; start < m; start += batch_size_) {
                const std::size_t rows = std::min(batch_size_, m - start);
                if (rows == 1) {
                    epoch_error += evaluate(x + start * n_x, y + start * n_y, use_relu);
                    step(alpha);
                    continue;
                }
                clear_sums();
                for (std::size_t r = start; r < start + rows; ++r) {
                    epoch_error += evaluate(x + r * n_x, y + r * n_y, use_relu);
                    accumulate();
                }
                step_average(alpha, static_cast<T>(rows));
            }
            errors[epoch] = epoch_error;
            if (!std::isfinite(epoch_error)) {
                return epoch + 1;
            }
        }
        return epochs;
    }

private:
    /// Forward and backward pass of one example with the current weights: fills the
    /// activations and deltas, returns the example's error.
    T evaluate(const T* x, const T* y, bool use_relu) noexcept {
        const std::size_t last = layers_.size() - 1;
        inputs_[0] = x;
        for (std::size_t l = 0; l <= last; ++l) {
            const Layer<T>& layer = layers_[l];
            row_times_matrix(inputs_[l], layer.weights, layer.n_in, layer.n_out, outputs_[l]);
            if (use_relu && l < last) {
                relu_all(outputs_[l], layer.n_out, outputs_[l]);
            }
        }
        const T error = output_delta(outputs_[last], y, layers_[last].n_out, deltas_[last]);
        for (std::size_t l = last; l > 0; --l) {
            const Layer<T>& layer = layers_[l];
            hidden_delta(deltas_[l], layer.weights, outputs_[l - 1], layer.n_in, layer.n_out,
                         use_relu, deltas_[l - 1]);
        }
        return error;
    }

    /// W[l] -= alpha * outer(a_l, d_{l+1}) for every layer (a batch of one row).
    void step(T alpha) noexcept {
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            const Layer<T>& layer = layers_[l];
            subtract_outer(layer.weights, inputs_[l], deltas_[l], layer.n_in, layer.n_out, alpha);
        }
    }

    void clear_sums() noexcept {
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            std::fill_n(sums_[l], layers_[l].n_in * layers_[l].n_out, T(0));
        }
    }

    /// S[l] += outer(a_l, d_{l+1}) for the example just evaluated.
    void accumulate() noexcept {
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            const Layer<T>& layer = layers_[l];
            accumulate_outer(inputs_[l], deltas_[l], layer.n_in, layer.n_out, sums_[l]);
        }
    }

    /// W[l] -= alpha * (S[l] / rows) for every layer.
    void step_average(T alpha, T rows) noexcept {
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            const Layer<T>& layer = layers_[l];
            subtract_average(layer.weights, sums_[l], layer.n_in * layer.n_out, rows, alpha);
        }
    }

    std::vector<Layer<T>> layers_;
    std::size_t batch_size_;
    std::vector<T> workspace_;      // outputs, deltas and (batched) sums of every layer
    std::vector<const T*> inputs_;  // a_l: the current row of x, then outputs_[l - 1]
    std::vector<T*> outputs_;       // a_{l+1}
    std::vector<T*> deltas_;        // d_{l+1}
    std::vector<T*> sums_;          // S[l], n_in × n_out (only when batch_size > 1)
};

}  // namespace grokprop
