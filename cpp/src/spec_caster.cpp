// Reading the specs and the activation from Python (see spec_caster.hpp).
#include "spec_caster.hpp"

#include <string>

#include "validate.hpp"

namespace grokprop::bindings {

namespace {

/// An interned str (never released: it lives as long as the module).
PyObject* interned(const char* text) {
    PyObject* name = PyUnicode_InternFromString(text);
    if (name == nullptr) {
        throw py::error_already_set();
    }
    return name;
}

/// The fields' names, made once (a thread-safe static): each call's lookups then skip making
/// and hashing a str.
struct FieldNames {
    PyObject* alpha = interned("alpha");
    PyObject* epochs = interned("epochs");
    PyObject* batch_size = interned("batch_size");
    PyObject* activation = interned("activation");
    PyObject* sizes = interned("sizes");
    PyObject* curves = interned("curves");
    PyObject* weights = interned("weights");
};

const FieldNames& field_names() {
    static const FieldNames names;
    return names;
}

/// `spec.<name>`; a TypeError naming the expected spec type if `spec` has no such attribute.
py::object field(py::handle spec, PyObject* name, const char* spec_type) {
    PyObject* value = PyObject_GetAttr(spec.ptr(), name);
    if (value == nullptr) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError) == 0) {
            throw py::error_already_set();
        }
        PyErr_Clear();
        throw py::type_error(std::string("spec must be a ") + spec_type +
                             " (an object with the attribute '" + PyUnicode_AsUTF8(name) +
                             "'), got " + Py_TYPE(spec.ptr())->tp_name);
    }
    return py::reinterpret_steal<py::object>(value);
}

}  // namespace

TrainSpec read_train_spec(py::handle spec) {
    constexpr const char* type = "grokprop.specs.TrainSpec";
    const FieldNames& names = field_names();
    TrainSpec result{};
    result.alpha = require_real(field(spec, names.alpha, type), "spec.alpha");
    result.epochs = require_whole(field(spec, names.epochs, type), "spec.epochs", 0);
    result.batch_size =
        require_whole(field(spec, names.batch_size, type), "spec.batch_size", 1);
    result.activation =
        require_activation(field(spec, names.activation, type), "spec.activation");
    return result;
}

SweepSpec read_sweep_spec(py::handle spec) {
    constexpr const char* type = "grokprop.specs.SweepSpec";
    const FieldNames& names = field_names();
    SweepSpec result{};
    result.sizes = require_sizes(field(spec, names.sizes, type), "spec.sizes");
    result.epochs = require_whole(field(spec, names.epochs, type), "spec.epochs", 0);
    result.batch_size =
        require_whole(field(spec, names.batch_size, type), "spec.batch_size", 1);
    result.activation =
        require_activation(field(spec, names.activation, type), "spec.activation");
    result.curves = require_bool(field(spec, names.curves, type), "spec.curves");
    result.weights = require_bool(field(spec, names.weights, type), "spec.weights");
    return result;
}

Activation read_activation(py::handle value) { return require_activation(value, "activation"); }

}  // namespace grokprop::bindings
