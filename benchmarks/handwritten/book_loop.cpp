// The book network (chapter 6, "putting it all together") written by hand in C++: what a
// reader types to make the chapter's program fast. Sizes fixed at compile time ([3, 4, 1]),
// plain scalar loops, the evaluation order of docs/design.md ("Evaluation order"), so it gives
// the same bits as grokprop.
//
// Built by benchmarks/test_bench_book.py (as a shared library called through ctypes) and by
// scripts/bench_handwritten.py (as a program that also times grokprop's kernel in-process).
// Compile with -O3 -ffp-contract=off, like grokprop.
#include <cstddef>

namespace {

constexpr int n_in = 3;
constexpr int n_hidden = 4;
constexpr int n_rows = 4;

}  // namespace

extern "C" {

/// Trains w01 (3 × 4) and w12 (4 × 1) in place on x (4 × 3) and y (4) for `epochs` epochs of
/// stochastic gradient descent; errors[e] = epoch e's summed error.
void book_loop(double* w01, double* w12, const double* x, const double* y, double alpha,
               int epochs, double* errors) {
    for (int epoch = 0; epoch < epochs; ++epoch) {
        double error = 0.0;
        for (int r = 0; r < n_rows; ++r) {
            const double* layer_0 = x + r * n_in;
            double layer_1[n_hidden];
            for (int j = 0; j < n_hidden; ++j) {
                double sum = 0.0;
                for (int k = 0; k < n_in; ++k) {
                    sum += layer_0[k] * w01[k * n_hidden + j];
                }
                layer_1[j] = sum > 0.0 ? sum : 0.0;
            }
            double layer_2 = 0.0;
            for (int j = 0; j < n_hidden; ++j) {
                layer_2 += layer_1[j] * w12[j];
            }
            const double delta_2 = layer_2 - y[r];
            error += delta_2 * delta_2;
            double delta_1[n_hidden];
            for (int j = 0; j < n_hidden; ++j) {
                delta_1[j] = (0.0 + delta_2 * w12[j]) * (layer_1[j] > 0.0 ? 1.0 : 0.0);
            }
            for (int j = 0; j < n_hidden; ++j) {
                w12[j] -= alpha * (0.0 + layer_1[j] * delta_2);
            }
            for (int k = 0; k < n_in; ++k) {
                for (int j = 0; j < n_hidden; ++j) {
                    w01[k * n_hidden + j] -= alpha * (0.0 + layer_0[k] * delta_1[j]);
                }
            }
        }
        errors[epoch] = error;
    }
}

}  // extern "C"
