// The binding layer of grokprop._core: one register_* function per area, called by module.cpp.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "validate.hpp"

namespace grokprop::bindings {

namespace py = pybind11;

/// accept_matrix: the fast path of the Python API's checks of X and y.
void register_accept(py::module_& m);

/// The eight per-layer kernels (layer_forward, activate, ..., update_layer) and step.
void register_kernels(py::module_& m);

/// train: the fused loop.
void register_train(py::module_& m);

/// sweep: many networks in lock-step; book_uniforms: the book initialisation's numbers.
void register_sweep(py::module_& m);

/// The stop flag of a run (docs/design.md, "Interrupts"): None (never stops) or a 1-D
/// uint8 array of at least one element, which the caller keeps alive during the call.
inline const volatile std::uint8_t* stop_flag(const std::optional<py::array>& stop) {
    if (!stop) {
        return nullptr;
    }
    const py::array& flag = *stop;
    if (!flag.dtype().equal(py::dtype::of<std::uint8_t>()) || flag.ndim() != 1 ||
        flag.shape(0) < 1) {
        throw py::type_error("stop must be None or a uint8 array of one element");
    }
    return static_cast<const volatile std::uint8_t*>(flag.data());
}

/// Calls f(float{}) or f(double{}) for the call's dtype; f reads the type as decltype(arg).
template <class F>
decltype(auto) dispatch(FloatType type, F&& f) {
    if (type == FloatType::float32) {
        return std::forward<F>(f)(float{});
    }
    return std::forward<F>(f)(double{});
}

/// A new C-contiguous array of `ndim` dimensions `dims`, made by NumPy directly: pybind11's
/// array_t constructors allocate a shape and a strides vector first, which is a tenth of a
/// small kernel's call (step makes seven arrays).
template <class T>
py::array_t<T> new_array(int ndim, const py::ssize_t* dims) {
    static_assert(sizeof(Py_intptr_t) == sizeof(py::ssize_t), "NumPy's npy_intp is Py_ssize_t");
    const auto& api = py::detail::npy_api::get();
    PyObject* array = api.PyArray_NewFromDescr_(
        api.PyArray_Type_, py::dtype::of<T>().release().ptr(),  // the descriptor is stolen
        ndim, const_cast<Py_intptr_t*>(reinterpret_cast<const Py_intptr_t*>(dims)), nullptr,
        nullptr, 0, nullptr);
    if (array == nullptr) {
        throw py::error_already_set();
    }
    return py::reinterpret_steal<py::array_t<T>>(array);
}

/// A new C-contiguous (rows, cols) array.
template <class T>
py::array_t<T> new_matrix(std::size_t rows, std::size_t cols) {
    const py::ssize_t dims[2] = {static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)};
    return new_array<T>(2, dims);
}

/// A new (n,) array.
template <class T>
py::array_t<T> new_vector(std::size_t n) {
    const py::ssize_t dims[1] = {static_cast<py::ssize_t>(n)};
    return new_array<T>(1, dims);
}

}  // namespace grokprop::bindings
