// Argument checks of the _core functions.
//
// _core is private, and grokprop's Python API validates before it calls a backend; these
// checks are the safety net that makes a direct call safe too (docs/design.md, "Validation").
// Arrays are taken as they are (never converted or copied, so in-place updates reach the
// caller's arrays) and rejected with a TypeError (not an ndarray, wrong dtype) or a
// ValueError (shape, layout, range) naming the argument. Every check of a call runs before
// any array is read or written.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "grokprop/activation.hpp"

namespace grokprop::bindings {

namespace py = pybind11;

enum class FloatType { float32, float64 };

// NumPy's NPY_ARRAY_ALIGNED flag (pybind11 keeps it in its private npy_api).
constexpr int array_aligned = py::detail::npy_api::NPY_ARRAY_ALIGNED_;

/// '=' or '|' or this machine's own order.
bool is_native_byte_order(char order);

/// float32 or float64 in native byte order, else nothing.
std::optional<FloatType> float_type_of(const py::dtype& dtype);

/// An argument's name for error messages: "X", or "weights[1]" for an element of a list.
/// Formatted only when a message needs it.
struct ArgName {
    const char* base;
    std::ptrdiff_t index = -1;

    std::string str() const;
};

/// Requires every array of one call to have one float dtype (float32 or float64, native
/// byte order): the first array checked fixes it.
class DtypeCheck {
public:
    void operator()(const py::array& array, ArgName name);

    /// The dtype fixed by the first array (float64 if none was checked).
    FloatType type() const { return type_; }

private:
    bool seen_ = false;
    FloatType type_ = FloatType::float64;
    ArgName first_{""};
};

/// A checked 2-D array: C-contiguous, aligned, no zero-size dimension.
struct Matrix {
    py::array array;
    ArgName name;
    std::size_t rows;
    std::size_t cols;

    template <class T>
    const T* data() const {
        return static_cast<const T*>(array.data());
    }
    /// The data of a writeable array (the handle copy is because mutable_data is non-const).
    template <class T>
    T* mutable_data() const {
        py::array handle = array;
        return static_cast<T*>(handle.mutable_data());
    }
};

/// A checked weight buffer: a writeable C-contiguous 1-D array holding every weight matrix
/// of a call (grokprop._weights.WeightBuffer.buffer).
struct Buffer {
    py::array array;
    std::size_t size;

    template <class T>
    T* mutable_data() const {
        py::array handle = array;
        return static_cast<T*>(handle.mutable_data());
    }
};

/// No NaN or inf among data[0..n).
template <class T>
bool all_finite(const T* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(data[i])) {
            return false;
        }
    }
    return true;
}

/// "(4, 3)", "(3,)", "()".
std::string shape_str(const py::array& array);

/// C-contiguous and aligned (and writeable if asked), else ValueError.
void require_layout(const py::array& array, ArgName name, bool writeable);

/// A float array of the call's dtype, 2-D, non-empty, with a good layout.
Matrix require_matrix(const py::array& array, ArgName name, DtypeCheck& dtypes, bool writeable);

/// Every element of `sequence` as require_matrix; a non-ndarray element is a TypeError.
std::vector<Matrix> require_matrices(const py::sequence& sequence, const char* name,
                                     DtypeCheck& dtypes, bool writeable);

/// At least one matrix, and weights[l].shape[1] == weights[l + 1].shape[0].
void require_network(const std::vector<Matrix>& weights);

/// `matrix` must have shape (rows, cols); `expected` explains where they come from.
void require_shape(const Matrix& matrix, std::size_t rows, std::size_t cols,
                   const char* expected);

/// The arrays must not share memory (weights are written while the others are read).
void require_separate(const Matrix& written, const Matrix& other);

/// Weights updated in place: no matrix shares memory with another one or with the data.
void require_separate_weights(const std::vector<Matrix>& weights, const Matrix& x,
                              const Matrix& y);

/// `buffer` as a Buffer of the call's dtype, every one of `weights` lying inside it (else
/// ValueError): a transaction saves and restores the buffer, so it must cover them all.
Buffer require_buffer(const py::array& buffer, const std::vector<Matrix>& weights,
                      DtypeCheck& dtypes);

/// The checked arrays of one step or training: X, the weights (writeable), Y, one dtype.
struct NetworkArgs {
    DtypeCheck dtypes;
    Matrix x;
    std::vector<Matrix> w;
    Matrix y;
};

/// The checks every step and training makes: the matrices, the chained shapes, the data's
/// shapes, weights separate from each other and from the data, and alpha (named
/// `alpha_name`) valid for the dtype.
NetworkArgs require_network_args(const py::sequence& weights, const py::array& X,
                                 const py::array& Y, double alpha, const std::string& alpha_name);

/// The data of a network: x is (rows, weights[0].shape[0]), y (rows, weights[-1].shape[1]).
void require_data(const Matrix& x, const Matrix& y, const std::vector<Matrix>& weights);

/// Every element finite (no NaN or inf), else ValueError. For train's arguments: a network
/// must not start from, or train on, non-finite values (the elementwise kernels instead
/// propagate NaN and inf as NumPy does).
void require_finite(const Matrix& matrix, FloatType type);

/// alpha is finite and > 0, also once rounded to the network's dtype.
bool is_valid_alpha(double alpha, FloatType type);

/// is_valid_alpha, else ValueError; `name` is the argument.
void require_alpha(double alpha, FloatType type, const std::string& name);

/// 1 <= batch_size <= rows.
void require_batch_size(std::size_t batch_size, std::size_t rows, const std::string& name);

// Python scalars (the fields of a spec, an activation argument): each takes the object as it
// is -- no str parsing, no float truncation, no bool as a number -- and names it on failure.

/// An integer (an int or anything with __index__, not a bool) from `minimum` to the largest
/// Py_ssize_t (the largest size Python can allocate).
std::size_t require_whole(py::handle value, const std::string& name, std::size_t minimum);

/// A real number (an int or anything with __float__, not a bool or a str); not range-checked
/// (an int beyond the float range is inf).
double require_real(py::handle value, const std::string& name);

/// True or False, nothing else (not 0 or 1).
bool require_bool(py::handle value, const std::string& name);

/// An Activation: any integer (a grokprop.specs.Activation, a _core.Activation, an int) whose
/// value is one of grokprop::Activation's, else TypeError / ValueError listing them.
Activation require_activation(py::handle value, const std::string& name);

/// Layer sizes: a sequence of at least two integers >= 1 whose weights (times the lanes of a
/// sweep's block) are few enough that no size computation can overflow.
std::vector<std::size_t> require_sizes(py::handle sizes, const std::string& name);

}  // namespace grokprop::bindings
