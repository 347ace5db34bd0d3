// Binding of the fused training loop (SPEC §5): check everything, take the raw pointers and
// build the Trainer (its workspace) with the GIL held, then release the GIL in an inner
// scope around the pure C++ loop only (pybind/pybind11#4748). Weights are updated in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "bindings.hpp"
#include "grokprop/train.hpp"
#include "validate.hpp"

namespace grokprop::bindings {

namespace {

/// The per-epoch error array; a MemoryError names `epochs` if it cannot be allocated.
template <class T>
py::array_t<T> error_history(std::size_t epochs) {
    try {
        return py::array_t<T>(static_cast<py::ssize_t>(epochs));
    } catch (py::error_already_set& exc) {
        if (!exc.matches(PyExc_MemoryError) && !exc.matches(PyExc_ValueError)) {
            throw;
        }
        PyErr_SetString(PyExc_MemoryError,
                        ("epochs=" + std::to_string(epochs) +
                         ": cannot allocate the error history (one error per epoch)")
                            .c_str());
        throw py::error_already_set();
    }
}

template <class T>
py::array train_as(const std::vector<Matrix>& weights, const Matrix& x, const Matrix& y,
                   double alpha, std::size_t epochs, std::size_t batch_size, bool use_relu) {
    std::vector<Layer<T>> layers;
    layers.reserve(weights.size());
    for (const Matrix& w : weights) {
        layers.push_back(Layer<T>{w.mutable_data<T>(), w.rows, w.cols});
    }
    const T* x_data = x.data<T>();
    const T* y_data = y.data<T>();
    py::array_t<T> errors = error_history<T>(epochs);
    T* errors_data = errors.mutable_data();
    Trainer<T> trainer(std::move(layers), batch_size);

    std::size_t ran = 0;
    {
        py::gil_scoped_release release;
        ran = trainer.run(x_data, y_data, x.rows, static_cast<T>(alpha), epochs, use_relu,
                          errors_data);
    }
    if (ran == epochs) {
        return std::move(errors);
    }
    py::array_t<T> truncated(static_cast<py::ssize_t>(ran));
    std::copy_n(errors.data(), ran, truncated.mutable_data());
    return std::move(truncated);
}

py::array train(const py::sequence& weights, const py::array& X, const py::array& Y,
                double alpha, py::ssize_t epochs, py::ssize_t batch_size, bool use_relu) {
    DtypeCheck dtypes;
    const Matrix x = require_matrix(X, {"X"}, dtypes, /*writeable=*/false);
    const std::vector<Matrix> w = require_matrices(weights, "weights", dtypes, true);
    require_network(w);
    const Matrix y = require_matrix(Y, {"Y"}, dtypes, false);
    require_shape(x, x.rows, w.front().rows, "(rows, weights[0].shape[0])");
    require_shape(y, x.rows, w.back().cols, "(rows of X, weights[-1].shape[1])");
    for (std::size_t l = 0; l < w.size(); ++l) {
        for (std::size_t other = 0; other < l; ++other) {
            require_separate(w[l], w[other]);
        }
        require_separate(w[l], x);
        require_separate(w[l], y);
    }
    require_alpha(alpha, dtypes.type());
    const std::size_t n_epochs = require_epochs(epochs);
    const std::size_t batch = require_batch_size(batch_size, x.rows);
    require_finite(x, dtypes.type());
    require_finite(y, dtypes.type());
    for (const Matrix& matrix : w) {
        require_finite(matrix, dtypes.type());
    }

    return dispatch(dtypes.type(), [&](auto zero) {
        return train_as<decltype(zero)>(w, x, y, alpha, n_epochs, batch, use_relu);
    });
}

}  // namespace

void register_train(py::module_& m) {
    m.def("train", &train, py::arg("weights"), py::arg("X").noconvert(),
          py::arg("Y").noconvert(), py::arg("alpha"), py::arg("epochs"), py::arg("batch_size"),
          py::arg("relu").noconvert(),
          "Run `epochs` epochs of mini-batch gradient descent, updating weights in place.\n\n"
          "Returns the per-epoch errors; stops after the first epoch whose error is not\n"
          "finite (the array is then shorter than `epochs`). X, Y and the weights must be\n"
          "finite.");
}

}  // namespace grokprop::bindings
