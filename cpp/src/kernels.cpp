// Bindings of the per-layer kernels (docs/design.md, "The backend protocol") and of step, the
// fused single update: each checks its arguments, then runs the kernels of
// grokprop/kernels.hpp into new arrays (update_layer and step: into the weights, in place).
// No GIL release here: these are single-layer or single-step calls, and none ran without the
// GIL before (the long loops, train and sweep, release it).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "bindings.hpp"
#include "grokprop/kernels.hpp"
#include "spec_caster.hpp"
#include "transaction.hpp"
#include "validate.hpp"

namespace grokprop::bindings {

namespace {

/// A new C-contiguous array of the same shape as `like`.
template <class T>
py::array_t<T> new_like(const py::array& like) {
    return new_array<T>(static_cast<int>(like.ndim()), like.shape());
}

/// Checks an elementwise argument (any shape, may be empty).
FloatType require_elementwise(const py::array& array, ArgName name) {
    DtypeCheck dtypes;
    dtypes(array, name);
    require_layout(array, name, /*writeable=*/false);
    return dtypes.type();
}

py::array layer_forward(const py::array& A, const py::array& W, ActivationArg activation) {
    DtypeCheck dtypes;
    const Matrix a = require_matrix(A, {"A"}, dtypes, /*writeable=*/false);
    const Matrix w = require_matrix(W, {"W"}, dtypes, false);
    require_shape(w, a.cols, w.cols, "(A.shape[1], W.shape[1])");

    return dispatch(dtypes.type(), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> z = new_matrix<T>(a.rows, w.cols);
        forward_rows(a.data<T>(), a.rows, w.data<T>(), w.rows, w.cols, activation.value,
                     z.mutable_data());
        return std::move(z);
    });
}

/// out = kernel(in) elementwise into a new array of in's shape; kernel(in, n, out) is generic
/// in the float type.
template <class Kernel>
py::array elementwise(const py::array& in, ArgName name, Kernel&& kernel) {
    return dispatch(require_elementwise(in, name), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> out = new_like<T>(in);
        kernel(static_cast<const T*>(in.data()), static_cast<std::size_t>(in.size()),
               out.mutable_data());
        return std::move(out);
    });
}

py::array activate(const py::array& z, ActivationArg activation) {
    return elementwise(z, {"z"}, [&](const auto* in, std::size_t n, auto* out) {
        activate_all(activation.value, in, n, out);
    });
}

py::array activate_deriv(const py::array& out, ActivationArg activation) {
    return elementwise(out, {"out"}, [&](const auto* in, std::size_t n, auto* result) {
        activate_deriv_all(activation.value, in, n, result);
    });
}

/// output and Y: two matrices of one shape.
struct Outputs {
    DtypeCheck dtypes;
    Matrix out;
    Matrix y;

    Outputs(const py::array& output, const py::array& Y)
        : out(require_matrix(output, {"output"}, dtypes, false)),
          y(require_matrix(Y, {"Y"}, dtypes, false)) {
        require_shape(y, out.rows, out.cols, "(the shape of output)");
    }
};

py::array example_errors(const py::array& output, const py::array& Y) {
    const Outputs args(output, Y);
    return dispatch(args.dtypes.type(), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> err = new_vector<T>(args.out.rows);
        squared_errors_rows(args.out.data<T>(), args.y.data<T>(), args.out.rows, args.out.cols,
                            err.mutable_data());
        return std::move(err);
    });
}

py::array output_delta(const py::array& output, const py::array& Y) {
    const Outputs args(output, Y);
    return dispatch(args.dtypes.type(), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> d = new_matrix<T>(args.out.rows, args.out.cols);
        difference_all(args.out.data<T>(), args.y.data<T>(), args.out.rows * args.out.cols,
                       d.mutable_data());
        return std::move(d);
    });
}

py::array layer_delta(const py::array& D, const py::array& W, const py::array& A,
                      ActivationArg activation) {
    DtypeCheck dtypes;
    const Matrix d = require_matrix(D, {"D"}, dtypes, false);
    const Matrix w = require_matrix(W, {"W"}, dtypes, false);
    const Matrix a = require_matrix(A, {"A"}, dtypes, false);
    require_shape(w, w.rows, d.cols, "(W.shape[0], D.shape[1])");
    require_shape(a, d.rows, w.rows, "(D.shape[0], W.shape[0])");

    return dispatch(dtypes.type(), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> result = new_matrix<T>(d.rows, w.rows);
        hidden_delta_rows(d.data<T>(), w.data<T>(), a.data<T>(), d.rows, w.rows, w.cols,
                          activation.value, result.mutable_data());
        return std::move(result);
    });
}

py::array weight_delta(const py::array& A, const py::array& D) {
    DtypeCheck dtypes;
    const Matrix a = require_matrix(A, {"A"}, dtypes, false);
    const Matrix d = require_matrix(D, {"D"}, dtypes, false);
    require_shape(d, a.rows, d.cols, "(A.shape[0], D.shape[1])");

    return dispatch(dtypes.type(), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> g = new_matrix<T>(a.cols, d.cols);
        weight_delta_rows(a.data<T>(), d.data<T>(), a.rows, a.cols, d.cols, g.mutable_data());
        return std::move(g);
    });
}

void update_layer(const py::array& W, const py::array& G, double alpha) {
    DtypeCheck dtypes;
    const Matrix w = require_matrix(W, {"W"}, dtypes, /*writeable=*/true);
    const Matrix g = require_matrix(G, {"G"}, dtypes, false);
    require_shape(g, w.rows, w.cols, "(the shape of W)");
    require_separate(w, g);
    require_alpha(alpha, dtypes.type(), "alpha");

    dispatch(dtypes.type(), [&](auto zero) {
        using T = decltype(zero);
        subtract_scaled(w.mutable_data<T>(), g.data<T>(), w.rows * w.cols, static_cast<T>(alpha));
    });
}

/// One update from all rows of X as one batch, in the order of the compositions
/// (grokprop.backends._compose.Composed.step): forward, the deltas from the old weights, the
/// weight deltas and the errors, then every W[l] -= alpha * G[l].
template <class T>
py::tuple step_as(const std::vector<Matrix>& w, const Matrix& x, const Matrix& y, T alpha,
                  Activation activation) {
    const std::size_t n_layers = w.size();
    const std::size_t m = x.rows;
    py::list layers;
    py::list deltas;
    py::list weight_deltas;
    std::vector<py::array_t<T>> a(n_layers);  // a[l] is a_{l+1}
    std::vector<py::array_t<T>> d(n_layers);  // d[l] is the delta of a_{l+1}
    layers.append(x.array);
    const T* input = x.data<T>();
    for (std::size_t l = 0; l < n_layers; ++l) {
        a[l] = new_matrix<T>(m, w[l].cols);
        forward_rows(input, m, w[l].data<T>(), w[l].rows, w[l].cols,
                     l + 1 < n_layers ? activation : Activation::linear, a[l].mutable_data());
        input = a[l].data();
        layers.append(a[l]);
    }
    const std::size_t n_y = w.back().cols;
    py::array_t<T> errors = new_vector<T>(m);
    d[n_layers - 1] = new_matrix<T>(m, n_y);
    T* out_delta = d[n_layers - 1].mutable_data();
    T* error = errors.mutable_data();
    for (std::size_t r = 0; r < m; ++r) {  // a_L - Y, and each row's error from it
        error[r] = grokprop::output_delta(a[n_layers - 1].data() + r * n_y, y.data<T>() + r * n_y,
                                          n_y, out_delta + r * n_y);
    }
    for (std::size_t l = n_layers - 1; l > 0; --l) {
        d[l - 1] = new_matrix<T>(m, w[l].rows);
        hidden_delta_rows(d[l].data(), w[l].data<T>(), a[l - 1].data(), m, w[l].rows, w[l].cols,
                          activation, d[l - 1].mutable_data());
    }
    std::vector<py::array_t<T>> g(n_layers);
    for (std::size_t l = 0; l < n_layers; ++l) {
        g[l] = new_matrix<T>(w[l].rows, w[l].cols);
        weight_delta_rows(l == 0 ? x.data<T>() : a[l - 1].data(), d[l].data(), m, w[l].rows,
                          w[l].cols, g[l].mutable_data());
        deltas.append(d[l]);
        weight_deltas.append(g[l]);
    }
    for (std::size_t l = 0; l < n_layers; ++l) {
        subtract_scaled(w[l].mutable_data<T>(), g[l].data(), w[l].rows * w[l].cols, alpha);
    }
    return py::make_tuple(std::move(layers), std::move(deltas), std::move(weight_deltas),
                          std::move(errors));
}

py::tuple step(const py::sequence& weights, const py::array& X, const py::array& Y, double alpha,
               ActivationArg activation) {
    const NetworkArgs args = require_network_args(weights, X, Y, alpha, "alpha");
    return dispatch(args.dtypes.type(), [&](auto zero) {
        using T = decltype(zero);
        return step_as<T>(args.w, args.x, args.y, static_cast<T>(alpha), activation.value);
    });
}

/// step as a transaction (transaction.hpp): (step's result, outcome). The result is finite
/// when the rows' errors summed in row order (as an epoch's error is summed) are.
py::tuple step_transaction(const py::array& buffer, const py::sequence& weights,
                           const py::array& X, const py::array& Y, double alpha,
                           ActivationArg activation) {
    NetworkArgs args = require_network_args(weights, X, Y, alpha, "alpha");
    const Buffer saved = require_buffer(buffer, args.w, args.dtypes);
    return dispatch(args.dtypes.type(), [&](auto zero) -> py::tuple {
        using T = decltype(zero);
        Transaction<T> transaction(saved);
        py::tuple out = step_as<T>(args.w, args.x, args.y, static_cast<T>(alpha),
                                   activation.value);
        const auto errors = py::reinterpret_borrow<py::array_t<T>>(out[3]);
        T total = 0;
        for (py::ssize_t r = 0; r < errors.shape(0); ++r) {
            total += errors.data()[r];
        }
        const Outcome outcome = transaction.settle(std::isfinite(total));
        return py::make_tuple(std::move(out), static_cast<int>(outcome));
    });
}

}  // namespace

void register_kernels(py::module_& m) {
    m.def("layer_forward", &layer_forward, py::arg("A").noconvert(), py::arg("W").noconvert(),
          py::arg("activation"), "Z = activate(A @ W, activation) for the rows of A.");
    m.def("activate", &activate, py::arg("z").noconvert(), py::arg("activation"),
          "The activation elementwise (relu: z if z > 0 else 0; sigmoid and tanh from\n"
          "grokprop's own exp), as a new array.");
    m.def("activate_deriv", &activate_deriv, py::arg("out").noconvert(), py::arg("activation"),
          "The activation's derivative from its output, elementwise (relu: 1 if out > 0 else\n"
          "0; sigmoid: out * (1 - out); tanh: 1 - out * out), as a new array.");
    m.def("example_errors", &example_errors, py::arg("output").noconvert(),
          py::arg("Y").noconvert(), "Per-row error sum_j (output[j] - Y[j])**2, shape (m,).");
    m.def("output_delta", &output_delta, py::arg("output").noconvert(), py::arg("Y").noconvert(),
          "output - Y: the output layer's delta.");
    m.def("layer_delta", &layer_delta, py::arg("D").noconvert(), py::arg("W").noconvert(),
          py::arg("A").noconvert(), py::arg("activation"),
          "(D @ W.T) * activate_deriv(A, activation): a hidden layer's delta from the next\n"
          "one's.");
    m.def("weight_delta", &weight_delta, py::arg("A").noconvert(), py::arg("D").noconvert(),
          "S / m with S = sum over the m rows r, in order, of outer(A[r], D[r]).");
    m.def("update_layer", &update_layer, py::arg("W").noconvert(), py::arg("G").noconvert(),
          py::arg("alpha"), "In place: W -= alpha * G (alpha rounded to W's dtype).");
    m.def("step", &step, py::arg("weights"), py::arg("X").noconvert(), py::arg("Y").noconvert(),
          py::arg("alpha"), py::arg("activation"),
          "One update from all rows of X as one batch, every delta from the old weights,\n"
          "updating weights in place. Returns (layers [X, a_1, ..., a_L], deltas\n"
          "[d_1, ..., d_L], weight_deltas [G_0, ..., G_{L-1}], errors (m,)).");
    m.def("step_transaction", &step_transaction, py::arg("buffer").noconvert(),
          py::arg("weights"), py::arg("X").noconvert(), py::arg("Y").noconvert(),
          py::arg("alpha"), py::arg("activation"),
          "step as a transaction: `buffer` (1-D) holds every weight matrix; it is saved\n"
          "first and restored if the summed error or a weight is not finite, or on an\n"
          "exception. Returns (step's result, outcome), the outcome 0 committed, 1 diverged\n"
          "(restored), 2 the weights were not finite before (restored).");
}

}  // namespace grokprop::bindings
