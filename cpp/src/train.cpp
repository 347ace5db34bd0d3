// Binding of the fused training loop (docs/design.md, "The C++ core"): check everything, take
// the raw pointers and allocate the workspace with the GIL held, then release the GIL in an
// inner scope around the pure C++ loop only (pybind/pybind11#4748). Weights are updated in
// place. The loop is the instruction set's copy chosen by simd_dispatch (all copies give
// identical bits).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "bindings.hpp"
#include "grokprop/spec.hpp"
#include "grokprop/train.hpp"
#include "simd_dispatch.hpp"
#include "spec_caster.hpp"
#include "transaction.hpp"
#include "validate.hpp"

namespace grokprop::bindings {

namespace {

/// The per-epoch error array; a MemoryError names spec.epochs if it cannot be allocated.
template <class T>
py::array_t<T> error_history(std::size_t epochs) {
    try {
        return new_vector<T>(epochs);
    } catch (py::error_already_set& exc) {
        if (!exc.matches(PyExc_MemoryError) && !exc.matches(PyExc_ValueError)) {
            throw;
        }
        PyErr_SetString(PyExc_MemoryError,
                        ("spec.epochs=" + std::to_string(epochs) +
                         ": cannot allocate the error history (one error per epoch)")
                            .c_str());
        throw py::error_already_set();
    }
}

/// `count` elements of T, 64-byte aligned, in a NumPy array owned by `owner` (so the
/// allocation shows in tracemalloc like every other array of a fit).
template <class T>
T* aligned_workspace(std::size_t count, py::array_t<T>& owner) {
    constexpr std::size_t alignment = 64;
    constexpr std::size_t spare = alignment / sizeof(T);
    owner = py::array_t<T>(static_cast<py::ssize_t>(count + spare));
    void* data = owner.mutable_data();
    std::size_t space = (count + spare) * sizeof(T);
    return static_cast<T*>(std::align(alignment, count * sizeof(T), data, space));
}

template <class T>
py::array_t<T> train_as(const std::vector<Matrix>& weights, const Matrix& x, const Matrix& y,
                        const TrainSpec& spec, const volatile std::uint8_t* stop) {
    std::vector<Layer<T>> layers;
    layers.reserve(weights.size());
    for (const Matrix& w : weights) {
        layers.push_back(Layer<T>{w.mutable_data<T>(), w.rows, w.cols});
    }
    py::array_t<T> errors = error_history<T>(spec.epochs);
    const TrainProblem<T> problem{layers.data(),
                                  layers.size(),
                                  x.data<T>(),
                                  y.data<T>(),
                                  x.rows,
                                  static_cast<T>(spec.alpha),
                                  spec.epochs,
                                  spec.batch_size,
                                  spec.activation,
                                  errors.mutable_data(),
                                  stop};
    const dispatch::Kernels<T>& kernels = dispatch::kernels().get<T>();
    // a small network's workspace on the stack: for the chapter's networks an allocation
    // would cost a tenth of the whole training
    constexpr std::size_t stack_elements = 512;
    alignas(64) T stack_workspace[stack_elements];
    const std::size_t elements = kernels.train_workspace_size(problem);
    py::array_t<T> workspace_owner;
    T* workspace = elements <= stack_elements ? stack_workspace
                                              : aligned_workspace(elements, workspace_owner);

    std::size_t ran = 0;
    {
        py::gil_scoped_release release;
        ran = kernels.train(problem, workspace);
    }
    if (ran == spec.epochs) {
        return errors;
    }
    py::array_t<T> truncated(static_cast<py::ssize_t>(ran));
    std::copy_n(errors.data(), ran, truncated.mutable_data());
    return truncated;
}

/// The checked arguments of train and train_transaction.
NetworkArgs train_args(const py::sequence& weights, const py::array& X, const py::array& Y,
                       const TrainSpec& spec) {
    NetworkArgs args = require_network_args(weights, X, Y, spec.alpha, "spec.alpha");
    require_batch_size(spec.batch_size, args.x.rows, "spec.batch_size");
    require_finite(args.x, args.dtypes.type());
    require_finite(args.y, args.dtypes.type());
    return args;
}

py::array train(const py::sequence& weights, const py::array& X, const py::array& Y,
                const TrainSpec& spec, const std::optional<py::array>& stop) {
    const NetworkArgs args = train_args(weights, X, Y, spec);
    for (const Matrix& matrix : args.w) {
        require_finite(matrix, args.dtypes.type());
    }
    const volatile std::uint8_t* flag = stop_flag(stop);
    return dispatch(args.dtypes.type(), [&](auto zero) -> py::array {
        return train_as<decltype(zero)>(args.w, args.x, args.y, spec, flag);
    });
}

/// train as a transaction (transaction.hpp): (errors, outcome). Non-finite weights are not
/// refused here: they end in Outcome::not_finite_before, which the caller reports.
py::tuple train_transaction(const py::array& buffer, const py::sequence& weights,
                            const py::array& X, const py::array& Y, const TrainSpec& spec) {
    NetworkArgs args = train_args(weights, X, Y, spec);
    const Buffer saved = require_buffer(buffer, args.w, args.dtypes);
    return dispatch(args.dtypes.type(), [&](auto zero) -> py::tuple {
        using T = decltype(zero);
        Transaction<T> transaction(saved);
        py::array_t<T> errors = train_as<T>(args.w, args.x, args.y, spec, nullptr);
        // the loop stops at the first non-finite epoch error, so only the last can be
        const py::ssize_t ran = errors.shape(0);
        const bool finite = ran == 0 || std::isfinite(errors.data()[ran - 1]);
        const Outcome outcome = transaction.settle(finite);
        return py::make_tuple(std::move(errors), static_cast<int>(outcome));
    });
}

}  // namespace

void register_train(py::module_& m) {
    m.def("train", &train, py::arg("weights"), py::arg("X").noconvert(),
          py::arg("Y").noconvert(), py::arg("spec"), py::arg("stop").noconvert() = py::none(),
          "Run spec.epochs epochs of mini-batch gradient descent, updating weights in place.\n\n"
          "Returns the per-epoch errors; stops after the first epoch whose error is not\n"
          "finite (the array is then shorter than spec.epochs). X, Y and the weights must be\n"
          "finite. `stop`: None or a uint8 array whose first element another thread may set\n"
          "to end the run at the next row (the weights are then left part-way).");
    m.def("train_transaction", &train_transaction, py::arg("buffer").noconvert(),
          py::arg("weights"), py::arg("X").noconvert(), py::arg("Y").noconvert(),
          py::arg("spec"),
          "train as a transaction: `buffer` (1-D) holds every weight matrix; it is saved\n"
          "first and restored if the last error or a weight is not finite, or on an\n"
          "exception. Returns (errors, outcome): 0 committed, 1 diverged (restored), 2 the\n"
          "weights were not finite before (restored). No stop flag: for short runs.");
}

}  // namespace grokprop::bindings
