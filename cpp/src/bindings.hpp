// The binding layer of grokprop._core: one register_* function per area, called by module.cpp.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "validate.hpp"

namespace grokprop::bindings {

namespace py = pybind11;

/// The eight per-layer kernels (layer_forward, activate, ..., update_layer) and step.
void register_kernels(py::module_& m);

/// train: the fused loop.
void register_train(py::module_& m);

/// sweep: many networks in lock-step; book_uniforms: the book initialisation's numbers.
void register_sweep(py::module_& m);

/// Calls f(float{}) or f(double{}) for the call's dtype; f reads the type as decltype(arg).
template <class F>
decltype(auto) dispatch(FloatType type, F&& f) {
    if (type == FloatType::float32) {
        return std::forward<F>(f)(float{});
    }
    return std::forward<F>(f)(double{});
}

/// A new C-contiguous (rows, cols) array.
template <class T>
py::array_t<T> new_matrix(std::size_t rows, std::size_t cols) {
    return py::array_t<T>(
        std::vector<py::ssize_t>{static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
}

}  // namespace grokprop::bindings
