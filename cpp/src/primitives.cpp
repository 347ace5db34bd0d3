// Bindings of the backend primitives (SPEC §5): each checks its arguments, then runs the
// kernels of grokprop/kernels.hpp into new arrays (update: into the weights, in place).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <vector>

#include "bindings.hpp"
#include "grokprop/kernels.hpp"
#include "validate.hpp"

namespace grokprop::bindings {

namespace {

/// A new C-contiguous array of the same shape as `like`.
template <class T>
py::array_t<T> new_like(const py::array& like) {
    return py::array_t<T>(std::vector<py::ssize_t>(like.shape(), like.shape() + like.ndim()));
}

/// Checks an elementwise argument (any shape, may be empty).
FloatType require_elementwise(const py::array& array, ArgName name) {
    DtypeCheck dtypes;
    dtypes(array, name);
    require_layout(array, name, /*writeable=*/false);
    return dtypes.type();
}

/// layers (m, n_l) for l = 0..L, against the network `weights` (already checked).
void require_layers(const std::vector<Matrix>& layers, const std::vector<Matrix>& weights) {
    require_count(layers, "layers", weights.size() + 1, "(one per layer: [X, a_1, ..., a_L])");
    const std::size_t m = layers.front().rows;
    for (std::size_t l = 0; l < weights.size(); ++l) {
        require_shape(layers[l], m, weights[l].rows, "(rows of layers[0], weights[l].shape[0])");
    }
    require_shape(layers.back(), m, weights.back().cols,
                  "(rows of layers[0], weights[-1].shape[1])");
}

py::list forward(const py::sequence& weights, const py::array& X, bool use_relu) {
    DtypeCheck dtypes;
    const Matrix x = require_matrix(X, {"X"}, dtypes, /*writeable=*/false);
    const std::vector<Matrix> w = require_matrices(weights, "weights", dtypes, false);
    require_network(w);
    require_shape(x, x.rows, w.front().rows, "(rows, weights[0].shape[0])");

    return dispatch(dtypes.type(), [&](auto zero) {
        using T = decltype(zero);
        py::list layers;
        layers.append(x.array);
        const T* a = x.data<T>();
        for (std::size_t l = 0; l < w.size(); ++l) {
            py::array_t<T> z = new_matrix<T>(x.rows, w[l].cols);
            forward_rows(a, x.rows, w[l].data<T>(), w[l].rows, w[l].cols,
                         use_relu && l + 1 < w.size(), z.mutable_data());
            a = z.data();
            layers.append(std::move(z));
        }
        return layers;
    });
}

py::array relu(const py::array& z) {
    return dispatch(require_elementwise(z, {"z"}), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> out = new_like<T>(z);
        relu_all(static_cast<const T*>(z.data()), static_cast<std::size_t>(z.size()),
                 out.mutable_data());
        return std::move(out);
    });
}

py::array relu_deriv(const py::array& out) {
    return dispatch(require_elementwise(out, {"out"}), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> result = new_like<T>(out);
        relu_deriv_all(static_cast<const T*>(out.data()), static_cast<std::size_t>(out.size()),
                       result.mutable_data());
        return std::move(result);
    });
}

py::array example_errors(const py::array& output, const py::array& Y) {
    DtypeCheck dtypes;
    const Matrix out = require_matrix(output, {"output"}, dtypes, false);
    const Matrix y = require_matrix(Y, {"Y"}, dtypes, false);
    require_shape(y, out.rows, out.cols, "(the shape of output)");

    return dispatch(dtypes.type(), [&](auto zero) -> py::array {
        using T = decltype(zero);
        py::array_t<T> err(static_cast<py::ssize_t>(out.rows));
        squared_errors_rows(out.data<T>(), y.data<T>(), out.rows, out.cols, err.mutable_data());
        return std::move(err);
    });
}

py::list deltas(const py::sequence& weights, const py::sequence& layers, const py::array& Y,
                bool use_relu) {
    DtypeCheck dtypes;
    const std::vector<Matrix> w = require_matrices(weights, "weights", dtypes, false);
    require_network(w);
    const std::vector<Matrix> a = require_matrices(layers, "layers", dtypes, false);
    require_layers(a, w);
    const Matrix y = require_matrix(Y, {"Y"}, dtypes, false);
    const std::size_t m = a.front().rows;
    require_shape(y, m, w.back().cols, "(rows of layers[0], weights[-1].shape[1])");

    return dispatch(dtypes.type(), [&](auto zero) {
        using T = decltype(zero);
        const std::size_t n_layers = w.size();
        std::vector<py::array_t<T>> d(n_layers);
        // d[l] is the delta of layers[l + 1]; the last is a_L - Y.
        d[n_layers - 1] = new_matrix<T>(m, w.back().cols);
        difference_all(a.back().data<T>(), y.data<T>(), m * w.back().cols,
                       d[n_layers - 1].mutable_data());
        for (std::size_t l = n_layers - 1; l > 0; --l) {
            d[l - 1] = new_matrix<T>(m, w[l].rows);
            hidden_delta_rows(d[l].data(), w[l].data<T>(), a[l].data<T>(), m, w[l].rows,
                              w[l].cols, use_relu, d[l - 1].mutable_data());
        }
        py::list result;
        for (py::array_t<T>& delta : d) {
            result.append(std::move(delta));
        }
        return result;
    });
}

py::list weight_deltas(const py::sequence& layers, const py::sequence& deltas) {
    DtypeCheck dtypes;
    const std::vector<Matrix> a = require_matrices(layers, "layers", dtypes, false);
    const std::vector<Matrix> d = require_matrices(deltas, "deltas", dtypes, false);
    if (a.size() < 2) {
        throw py::value_error("layers must hold at least 2 arrays ([X, a_1, ..., a_L]), got " +
                              std::to_string(a.size()));
    }
    require_count(d, "deltas", a.size() - 1, "(one per layer after layers[0])");
    const std::size_t m = a.front().rows;
    for (std::size_t l = 0; l < a.size(); ++l) {
        require_shape(a[l], m, a[l].cols, "(every layer has the rows of layers[0])");
    }
    for (std::size_t l = 0; l < d.size(); ++l) {
        require_shape(d[l], m, a[l + 1].cols, "(the shape of layers[l + 1])");
    }

    return dispatch(dtypes.type(), [&](auto zero) {
        using T = decltype(zero);
        py::list result;
        for (std::size_t l = 0; l < d.size(); ++l) {
            py::array_t<T> g = new_matrix<T>(a[l].cols, d[l].cols);
            weight_delta_rows(a[l].data<T>(), d[l].data<T>(), m, a[l].cols, d[l].cols,
                              g.mutable_data());
            result.append(std::move(g));
        }
        return result;
    });
}

void update(const py::sequence& weights, const py::sequence& weight_deltas, double alpha) {
    DtypeCheck dtypes;
    const std::vector<Matrix> w = require_matrices(weights, "weights", dtypes, true);
    require_network(w);
    const std::vector<Matrix> g = require_matrices(weight_deltas, "weight_deltas", dtypes, false);
    require_count(g, "weight_deltas", w.size(), "(one per weight matrix)");
    for (std::size_t l = 0; l < w.size(); ++l) {
        require_shape(g[l], w[l].rows, w[l].cols, "(the shape of weights[l])");
    }
    for (std::size_t l = 0; l < w.size(); ++l) {
        for (std::size_t other = 0; other < l; ++other) {
            require_separate(w[l], w[other]);
        }
        for (const Matrix& delta : g) {
            require_separate(w[l], delta);
        }
    }
    require_alpha(alpha, dtypes.type());

    dispatch(dtypes.type(), [&](auto zero) {
        using T = decltype(zero);
        const T alpha_t = static_cast<T>(alpha);
        for (std::size_t l = 0; l < w.size(); ++l) {
            subtract_scaled(w[l].mutable_data<T>(), g[l].data<T>(), w[l].rows * w[l].cols,
                            alpha_t);
        }
    });
}

}  // namespace

void register_primitives(py::module_& m) {
    m.def("forward", &forward, py::arg("weights"), py::arg("X").noconvert(),
          py::arg("relu").noconvert(),
          "Layers [X, a_1, ..., a_L] for every row of X; relu on hidden layers if relu.");
    m.def("relu", &relu, py::arg("z").noconvert(),
          "relu(z) = z if z > 0 else 0, elementwise, as a new array.");
    m.def("relu_deriv", &relu_deriv, py::arg("out").noconvert(),
          "relu'(out) = 1 if out > 0 else 0, elementwise on relu's output, as a new array.");
    m.def("example_errors", &example_errors, py::arg("output").noconvert(),
          py::arg("Y").noconvert(), "Per-row error sum_j (output[j] - Y[j])**2, shape (m,).");
    m.def("deltas", &deltas, py::arg("weights"), py::arg("layers"), py::arg("Y").noconvert(),
          py::arg("relu").noconvert(), "Deltas [d_1, ..., d_L], all from the given weights.");
    m.def("weight_deltas", &weight_deltas, py::arg("layers"), py::arg("deltas"),
          "Average weight deltas S[l] / m, S[l] = sum over rows of outer(a_l, d_{l+1}).");
    m.def("update", &update, py::arg("weights"), py::arg("weight_deltas"), py::arg("alpha"),
          "In place: weights[l] -= alpha * weight_deltas[l] (alpha rounded to the dtype).");
}

}  // namespace grokprop::bindings
