// Argument checks of the _core functions.
//
// _core is private, and grokprop's Python layer validates before it calls a backend; these
// checks make a direct call safe too. Arrays are taken as they are (never converted or
// copied, so in-place updates reach the caller's arrays) and rejected with a TypeError
// (not an ndarray, wrong dtype) or a ValueError (shape, layout, range) naming the argument.
// Every check of a call runs before any array is read or written.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <vector>

namespace grokprop::bindings {

namespace py = pybind11;

enum class FloatType { float32, float64 };

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

/// `sequence` (a list argument) must hold `count` arrays; `expected` explains why.
void require_count(const std::vector<Matrix>& sequence, const char* name, std::size_t count,
                   const char* expected);

/// The arrays must not share memory (weights are written while the others are read).
void require_separate(const Matrix& written, const Matrix& other);

/// Every element finite (no NaN or inf), else ValueError. For train's arguments: a network
/// must not start from, or train on, non-finite values (the elementwise primitives instead
/// propagate NaN and inf as NumPy does).
void require_finite(const Matrix& matrix, FloatType type);

/// alpha finite and > 0, also once rounded to the network's dtype.
void require_alpha(double alpha, FloatType type);

/// epochs >= 0.
std::size_t require_epochs(py::ssize_t epochs);

/// 1 <= batch_size <= rows.
std::size_t require_batch_size(py::ssize_t batch_size, std::size_t rows);

}  // namespace grokprop::bindings
