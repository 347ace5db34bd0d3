// _core.accept_matrix, _core.accept_data and _core.views_intact: compiled fast paths of the
// Python API's validation boundary (grokprop._validation.as_matrix and as_data,
// grokprop._weights.WeightBuffer.check_views; docs/design.md, "Validation").
//
// They decide only the common case (an exact numpy.ndarray that is already what as_matrix
// returns, or an integer array it converts; weight views nobody changed); everything else,
// and every error message, is left to the Python code, which states the rules.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "bindings.hpp"

namespace grokprop::bindings {

namespace {

template <class From, class To>
void convert(const py::array& from, To* to, std::size_t n) {
    const From* source = static_cast<const From*>(from.data());
    for (std::size_t i = 0; i < n; ++i) {
        // NumPy's astype is this C conversion: exact for small integers, otherwise the
        // nearest float
        to[i] = static_cast<To>(source[i]);
    }
}

/// convert from the signed or the unsigned integer type of one size.
template <class Signed, class Unsigned, class To>
void convert_either(const py::array& from, bool is_signed, To* to, std::size_t n) {
    is_signed ? convert<Signed>(from, to, n) : convert<Unsigned>(from, to, n);
}

/// `from`'s integers as a new C-contiguous array of To, or nothing for an integer type this
/// does not know (as_matrix converts it).
template <class To>
std::optional<py::array> integers_as(const py::array& from, std::size_t n) {
    const bool is_signed = from.dtype().kind() == 'i';
    py::array_t<To> to({from.shape(0), from.shape(1)});
    To* target = to.mutable_data();
    switch (from.dtype().itemsize()) {
        case 1:
            convert_either<std::int8_t, std::uint8_t>(from, is_signed, target, n);
            break;
        case 2:
            convert_either<std::int16_t, std::uint16_t>(from, is_signed, target, n);
            break;
        case 4:
            convert_either<std::int32_t, std::uint32_t>(from, is_signed, target, n);
            break;
        case 8:
            convert_either<std::int64_t, std::uint64_t>(from, is_signed, target, n);
            break;
        default:
            return std::nullopt;
    }
    return std::move(to);
}

/// `value` itself when it is a C-contiguous, aligned, finite 2-D array of `dtype` with
/// `columns` columns (0: any) and at least one row; a float copy of such an array of
/// integers (native byte order); None otherwise.
std::optional<py::array> accept_matrix(py::handle value, const py::dtype& dtype,
                                       py::ssize_t columns) {
    // subclasses (masked arrays, np.matrix) and array-likes take the Python path
    if (Py_TYPE(value.ptr()) != py::detail::npy_api::get().PyArray_Type_) {
        return std::nullopt;
    }
    const auto array = py::reinterpret_borrow<py::array>(value);
    const std::optional<FloatType> target = float_type_of(dtype);
    if (!target || array.ndim() != 2 || array.shape(0) == 0 || array.shape(1) == 0 ||
        (columns != 0 && array.shape(1) != columns)) {
        return std::nullopt;
    }
    const int flags = array.flags();
    const py::dtype own = array.dtype();
    if ((flags & py::array::c_style) == 0 || (flags & array_aligned) == 0 ||
        !is_native_byte_order(own.byteorder())) {
        return std::nullopt;
    }
    const auto n = static_cast<std::size_t>(array.size());
    if (own.kind() == 'i' || own.kind() == 'u') {
        return dispatch(*target, [&](auto zero) {
            return integers_as<decltype(zero)>(array, n);
        });
    }
    if (float_type_of(own) != target) {
        return std::nullopt;  // another float type, or not a number
    }
    const bool finite = dispatch(*target, [&](auto zero) {
        return all_finite(static_cast<const decltype(zero)*>(array.data()), n);
    });
    if (!finite) {
        return std::nullopt;
    }
    return array;
}

/// (X, y) as accept_matrix takes each, when both are taken and have as many rows; None
/// otherwise.
std::optional<py::tuple> accept_data(py::handle X, py::handle y, const py::dtype& dtype,
                                     py::ssize_t x_columns, py::ssize_t y_columns) {
    std::optional<py::array> rows = accept_matrix(X, dtype, x_columns);
    if (!rows) {
        return std::nullopt;
    }
    std::optional<py::array> targets = accept_matrix(y, dtype, y_columns);
    if (!targets || targets->shape(0) != rows->shape(0)) {
        return std::nullopt;
    }
    return py::make_tuple(std::move(*rows), std::move(*targets));
}

/// Every `views[l]` still has shape `shapes[l]`, dtype `dtype`, C-contiguous and aligned
/// layout, and (if asked) is writeable.
bool views_intact(const py::list& views, const py::list& shapes, const py::dtype& dtype,
                  bool writeable) {
    const std::optional<FloatType> target = float_type_of(dtype);
    if (!target || views.size() != shapes.size()) {
        return false;
    }
    for (std::size_t l = 0; l < views.size(); ++l) {
        const py::handle view = views[l];
        if (!py::isinstance<py::array>(view)) {
            return false;
        }
        const auto array = py::reinterpret_borrow<py::array>(view);
        const auto shape = py::reinterpret_borrow<py::tuple>(shapes[l]);
        const int flags = array.flags();
        if (array.ndim() != 2 || array.shape(0) != shape[0].cast<py::ssize_t>() ||
            array.shape(1) != shape[1].cast<py::ssize_t>() ||
            float_type_of(array.dtype()) != target || (flags & py::array::c_style) == 0 ||
            (flags & array_aligned) == 0 || (writeable && !array.writeable())) {
            return false;
        }
    }
    return true;
}

}  // namespace

void register_accept(py::module_& m) {
    m.def("accept_matrix", &accept_matrix, py::arg("value"), py::arg("dtype"),
          py::arg("columns"),
          "grokprop._validation.as_matrix's fast path: `value` itself if it is a\n"
          "C-contiguous, aligned, finite 2-D numpy.ndarray of `dtype` (float32 or float64)\n"
          "with `columns` columns (0: any) and at least one row, a new array of `dtype` if\n"
          "it is such an array of integers, else None (as_matrix then converts or refuses\n"
          "it with a message). Never raises for any `value`.");
    m.def("accept_data", &accept_data, py::arg("X"), py::arg("y"), py::arg("dtype"),
          py::arg("x_columns"), py::arg("y_columns"),
          "grokprop._validation.as_data's fast path: (X, y) as accept_matrix takes each\n"
          "(with x_columns and y_columns), if it takes both and they have as many rows,\n"
          "else None. Never raises for any X or y.");
    m.def("views_intact", &views_intact, py::arg("views"), py::arg("shapes"), py::arg("dtype"),
          py::arg("writeable"),
          "grokprop._weights.WeightBuffer.check_views's fast path: whether every views[l]\n"
          "still has shape shapes[l] and `dtype`, a C-contiguous aligned layout and, if\n"
          "`writeable`, is writeable (False: check_views finds out which and says so).");
}

}  // namespace grokprop::bindings
