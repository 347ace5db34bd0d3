#include "validate.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

namespace grokprop::bindings {

namespace {

const char* type_name(FloatType type) {
    return type == FloatType::float32 ? "float32" : "float64";
}

std::string dtype_str(const py::array& array) { return py::str(array.dtype()); }

std::string python_type_name(py::handle object) { return Py_TYPE(object.ptr())->tp_name; }

std::string shape_str(std::size_t rows, std::size_t cols) {
    return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

}  // namespace

bool is_native_byte_order(char order) {
    const std::uint16_t probe = 1;
    unsigned char low_byte = 0;
    std::memcpy(&low_byte, &probe, 1);
    const char native = low_byte == 1 ? '<' : '>';
    return order == '=' || order == '|' || order == native;
}

std::optional<FloatType> float_type_of(const py::dtype& dtype) {
    if (!is_native_byte_order(dtype.byteorder())) {
        return std::nullopt;
    }
    switch (dtype.num()) {
        case py::dtype::num_of<float>():
            return FloatType::float32;
        case py::dtype::num_of<double>():
            return FloatType::float64;
        default:
            return std::nullopt;
    }
}

std::string ArgName::str() const {
    if (index < 0) {
        return base;
    }
    return std::string(base) + "[" + std::to_string(index) + "]";
}

void DtypeCheck::operator()(const py::array& array, ArgName name) {
    const std::optional<FloatType> type = float_type_of(array.dtype());
    if (!type) {
        throw py::type_error(name.str() + " must have dtype float32 or float64, got " +
                             dtype_str(array));
    }
    if (!seen_) {
        seen_ = true;
        type_ = *type;
        first_ = name;
        return;
    }
    if (*type != type_) {
        throw py::type_error(name.str() + " has dtype " + type_name(*type) + " but " +
                             first_.str() + " has " + type_name(type_) +
                             "; all arrays must share one float dtype");
    }
}

std::string shape_str(const py::array& array) {
    const py::ssize_t ndim = array.ndim();
    std::string text = "(";
    for (py::ssize_t i = 0; i < ndim; ++i) {
        if (i > 0) {
            text += ", ";
        }
        text += std::to_string(array.shape(i));
    }
    return text + (ndim == 1 ? ",)" : ")");
}

void require_layout(const py::array& array, ArgName name, bool writeable) {
    const int flags = array.flags();
    if ((flags & py::array::c_style) == 0) {
        throw py::value_error(name.str() +
                              " must be C-contiguous (numpy.ascontiguousarray makes a copy)");
    }
    if ((flags & array_aligned) == 0) {
        throw py::value_error(name.str() + " must be aligned for its dtype");
    }
    if (writeable && !array.writeable()) {
        throw py::value_error(name.str() + " must be writeable: it is updated in place");
    }
}

Matrix require_matrix(const py::array& array, ArgName name, DtypeCheck& dtypes, bool writeable) {
    dtypes(array, name);
    if (array.ndim() != 2) {
        throw py::value_error(name.str() + " must be a 2-D array, got shape " +
                              shape_str(array));
    }
    if (array.shape(0) == 0 || array.shape(1) == 0) {
        throw py::value_error(name.str() + " must not be empty, got shape " + shape_str(array));
    }
    require_layout(array, name, writeable);
    return Matrix{array, name, static_cast<std::size_t>(array.shape(0)),
                  static_cast<std::size_t>(array.shape(1))};
}

std::vector<Matrix> require_matrices(const py::sequence& sequence, const char* name,
                                     DtypeCheck& dtypes, bool writeable) {
    const std::size_t count = sequence.size();
    std::vector<Matrix> matrices;
    matrices.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const ArgName item_name{name, static_cast<std::ptrdiff_t>(i)};
        const py::object item = sequence[i];
        if (!py::isinstance<py::array>(item)) {
            throw py::type_error(item_name.str() + " must be a numpy.ndarray, got " +
                                 python_type_name(item));
        }
        matrices.push_back(
            require_matrix(py::reinterpret_borrow<py::array>(item), item_name, dtypes, writeable));
    }
    return matrices;
}

void require_network(const std::vector<Matrix>& weights) {
    if (weights.empty()) {
        throw py::value_error(
            "weights must hold at least one 2-D array W[l] of shape (n_l, n_{l+1}), got none");
    }
    for (std::size_t l = 0; l + 1 < weights.size(); ++l) {
        const Matrix& w = weights[l];
        const Matrix& next = weights[l + 1];
        if (next.rows != w.cols) {
            throw py::value_error(next.name.str() + " has shape " + shape_str(next.array) +
                                  " but " + w.name.str() + " has shape " + shape_str(w.array) +
                                  ": weights[l + 1].shape[0] must equal weights[l].shape[1]");
        }
    }
}

void require_shape(const Matrix& matrix, std::size_t rows, std::size_t cols,
                   const char* expected) {
    if (matrix.rows != rows || matrix.cols != cols) {
        throw py::value_error(matrix.name.str() + " has shape " + shape_str(matrix.array) +
                              " but must have shape " + shape_str(rows, cols) + " " + expected);
    }
}

void require_separate(const Matrix& written, const Matrix& other) {
    // Both are C-contiguous, so each occupies exactly [data, data + nbytes).
    const auto begin = reinterpret_cast<std::uintptr_t>(written.array.data());
    const auto end = begin + static_cast<std::uintptr_t>(written.array.nbytes());
    const auto other_begin = reinterpret_cast<std::uintptr_t>(other.array.data());
    const auto other_end = other_begin + static_cast<std::uintptr_t>(other.array.nbytes());
    if (begin < other_end && other_begin < end) {
        throw py::value_error(written.name.str() + " shares memory with " + other.name.str() +
                              "; weights are updated in place and must be separate arrays");
    }
}

void require_finite(const Matrix& matrix, FloatType type) {
    const std::size_t n = matrix.rows * matrix.cols;
    const bool finite = type == FloatType::float32 ? all_finite(matrix.data<float>(), n)
                                                   : all_finite(matrix.data<double>(), n);
    if (!finite) {
        throw py::value_error(matrix.name.str() + " must be finite (no NaN or inf)");
    }
}

Buffer require_buffer(const py::array& buffer, const std::vector<Matrix>& weights,
                      DtypeCheck& dtypes) {
    const ArgName name{"buffer"};
    dtypes(buffer, name);
    if (buffer.ndim() != 1) {
        throw py::value_error("buffer must be a 1-D array, got shape " + shape_str(buffer));
    }
    require_layout(buffer, name, /*writeable=*/true);
    const auto begin = reinterpret_cast<std::uintptr_t>(buffer.data());
    const auto end = begin + static_cast<std::uintptr_t>(buffer.nbytes());
    for (const Matrix& w : weights) {
        const auto w_begin = reinterpret_cast<std::uintptr_t>(w.array.data());
        if (w_begin < begin || w_begin + static_cast<std::uintptr_t>(w.array.nbytes()) > end) {
            throw py::value_error(w.name.str() +
                                  " must lie inside buffer: the transaction restores only the "
                                  "buffer");
        }
    }
    return Buffer{buffer, static_cast<std::size_t>(buffer.shape(0))};
}

void require_separate_weights(const std::vector<Matrix>& weights, const Matrix& x,
                              const Matrix& y) {
    for (std::size_t l = 0; l < weights.size(); ++l) {
        for (std::size_t other = 0; other < l; ++other) {
            require_separate(weights[l], weights[other]);
        }
        require_separate(weights[l], x);
        require_separate(weights[l], y);
    }
}

NetworkArgs require_network_args(const py::sequence& weights, const py::array& X,
                                 const py::array& Y, double alpha, const std::string& alpha_name) {
    DtypeCheck dtypes;
    Matrix x = require_matrix(X, {"X"}, dtypes, /*writeable=*/false);
    std::vector<Matrix> w = require_matrices(weights, "weights", dtypes, true);
    require_network(w);
    Matrix y = require_matrix(Y, {"Y"}, dtypes, false);
    require_data(x, y, w);
    require_separate_weights(w, x, y);
    require_alpha(alpha, dtypes.type(), alpha_name);
    return NetworkArgs{dtypes, std::move(x), std::move(w), std::move(y)};
}

void require_data(const Matrix& x, const Matrix& y, const std::vector<Matrix>& weights) {
    require_shape(x, x.rows, weights.front().rows, "(rows, weights[0].shape[0])");
    require_shape(y, x.rows, weights.back().cols, "(rows of X, weights[-1].shape[1])");
}

bool is_valid_alpha(double alpha, FloatType type) {
    bool ok = std::isfinite(alpha) && alpha > 0.0;
    if (ok && type == FloatType::float32) {
        ok = alpha <= static_cast<double>(std::numeric_limits<float>::max()) &&
             static_cast<float>(alpha) > 0.0F;
    }
    return ok;
}

void require_alpha(double alpha, FloatType type, const std::string& name) {
    if (!is_valid_alpha(alpha, type)) {
        throw py::value_error(name + " must be a finite number > 0 (also once rounded to " +
                              std::string(type_name(type)) + "), got " +
                              std::string(py::repr(py::float_(alpha))));
    }
}

void require_batch_size(std::size_t batch_size, std::size_t rows, const std::string& name) {
    if (batch_size < 1 || batch_size > rows) {
        throw py::value_error(name + " must be an integer from 1 to the number of rows (" +
                              std::to_string(rows) + "), got " + std::to_string(batch_size));
    }
}

namespace {

/// `value` as a Python int if it is an integer (not a bool), else null.
py::object as_integer(py::handle value) {
    if (PyBool_Check(value.ptr())) {
        return py::object();
    }
    if (PyLong_Check(value.ptr())) {  // an int or an IntEnum member: its value as it is
        return py::reinterpret_borrow<py::object>(value);
    }
    PyObject* index = PyNumber_Index(value.ptr());
    if (index == nullptr) {
        PyErr_Clear();
        return py::object();
    }
    return py::reinterpret_steal<py::object>(index);
}

/// A Python int's value, saturated to [PY_SSIZE_T_MIN, PY_SSIZE_T_MAX] beyond it.
Py_ssize_t saturated(py::handle number) {
    const Py_ssize_t value = PyLong_AsSsize_t(number.ptr());
    if (value == -1 && PyErr_Occurred() != nullptr) {
        PyErr_Clear();  // an OverflowError: only the sign matters to the checks
        return number < py::int_(0) ? PY_SSIZE_T_MIN : PY_SSIZE_T_MAX;
    }
    return value;
}

[[noreturn]] void not_an_integer(py::handle value, const std::string& name,
                                 const std::string& what) {
    throw py::type_error(name + " must be " + what + ", got " + std::string(py::repr(value)));
}

}  // namespace

std::size_t require_whole(py::handle value, const std::string& name, std::size_t minimum) {
    const py::object number = as_integer(value);
    if (!number) {
        not_an_integer(value, name, "an integer");
    }
    const Py_ssize_t n = saturated(number);
    if (n < 0 || static_cast<std::size_t>(n) < minimum) {
        throw py::value_error(name + " must be an integer >= " + std::to_string(minimum) +
                              ", got " + std::string(py::str(number)));
    }
    if (n == PY_SSIZE_T_MAX && number > py::int_(PY_SSIZE_T_MAX)) {
        throw py::value_error(name + " must be at most " + std::to_string(PY_SSIZE_T_MAX) +
                              ", got " + std::string(py::str(number)));
    }
    return static_cast<std::size_t>(n);
}

double require_real(py::handle value, const std::string& name) {
    if (PyFloat_Check(value.ptr())) {
        return PyFloat_AS_DOUBLE(value.ptr());
    }
    if (!PyBool_Check(value.ptr()) && !PyUnicode_Check(value.ptr())) {
        const double number = PyFloat_AsDouble(value.ptr());
        if (number != -1.0 || PyErr_Occurred() == nullptr) {
            return number;
        }
        const bool overflow = PyErr_ExceptionMatches(PyExc_OverflowError) != 0;
        PyErr_Clear();
        if (overflow) {  // an int beyond the float range: a number, just not a finite one
            return std::numeric_limits<double>::infinity();
        }
    }
    throw py::type_error(name + " must be a real number, got " + std::string(py::repr(value)));
}

bool require_bool(py::handle value, const std::string& name) {
    if (value.ptr() == Py_True) {
        return true;
    }
    if (value.ptr() == Py_False) {
        return false;
    }
    throw py::type_error(name + " must be True or False, got " + std::string(py::repr(value)));
}

namespace {

/// "an Activation (LINEAR=0, RELU=1)": what an activation argument may be.
std::string activation_choices() {
    std::string text;
    for (const Activation activation : activations) {
        text += (text.empty() ? "" : ", ") + std::string(activation_name(activation)) + "=" +
                std::to_string(static_cast<int>(activation));
    }
    return "an Activation (" + text + ")";
}

}  // namespace

Activation require_activation(py::handle value, const std::string& name) {
    const py::object number = as_integer(value);
    if (!number) {
        not_an_integer(value, name, activation_choices());
    }
    const Py_ssize_t n = saturated(number);
    if (!is_activation(n)) {
        throw py::value_error(name + " must be " + activation_choices() + ", got " +
                              std::string(py::repr(value)));
    }
    return static_cast<Activation>(n);
}

std::vector<std::size_t> require_sizes(py::handle sizes, const std::string& name) {
    if (!PySequence_Check(sizes.ptr()) || PyUnicode_Check(sizes.ptr())) {
        throw py::type_error(name + " must be a sequence of layer sizes, got " +
                             std::string(py::repr(sizes)));
    }
    const auto sequence = py::reinterpret_borrow<py::sequence>(sizes);
    if (py::len(sequence) < 2) {
        throw py::value_error(name + " must hold at least an input and an output size");
    }
    constexpr long long max_weights = 1000000000000LL;  // far beyond memory; no overflow
    std::vector<std::size_t> result;
    double weights = 0.0;
    for (std::size_t l = 0; l < py::len(sequence); ++l) {
        const py::object item = sequence[l];
        const std::string item_name = name + "[" + std::to_string(l) + "]";
        const py::object number = as_integer(item);
        if (!number) {
            not_an_integer(item, item_name, "an integer");
        }
        const Py_ssize_t n = saturated(number);
        if (n < 1 || n > max_weights) {
            throw py::value_error(item_name + " must be an integer from 1 to 10**12, got " +
                                  std::string(py::repr(item)));
        }
        result.push_back(static_cast<std::size_t>(n));
        if (l > 0) {
            weights += static_cast<double>(result[l - 1]) * static_cast<double>(result[l]);
        }
    }
    if (weights > static_cast<double>(max_weights)) {
        throw py::value_error(name + " give more than 10**12 weights per network");
    }
    return result;
}

}  // namespace grokprop::bindings
