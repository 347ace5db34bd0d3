// The specs and the activation as _core arguments: pybind11 type casters that read them from
// Python objects (docs/design.md, "Specs").
//
// A TrainSpec or SweepSpec argument is any object with the fields of grokprop.specs.TrainSpec
// / SweepSpec, read attribute by attribute and checked field by field; an activation argument
// is any integer with the value of a grokprop::Activation (so a grokprop.specs.Activation, a
// _core.Activation or a plain int). A field that is missing, of the wrong type or out of range
// raises TypeError / ValueError naming it ("spec.epochs must be ..."), before the function
// runs. What depends on the call's arrays (batch_size <= rows, alpha once rounded to the
// dtype) is checked by the function, with the same names.
#pragma once

#include <pybind11/pybind11.h>

#include "grokprop/activation.hpp"
#include "grokprop/spec.hpp"

namespace grokprop::bindings {

namespace py = pybind11;

/// The fields of a grokprop.specs.TrainSpec-like object, each checked.
TrainSpec read_train_spec(py::handle spec);

/// The fields of a grokprop.specs.SweepSpec-like object, each checked.
SweepSpec read_sweep_spec(py::handle spec);

/// An activation argument of a _core function.
struct ActivationArg {
    Activation value;
};

/// The activation argument's value, checked.
Activation read_activation(py::handle value);

}  // namespace grokprop::bindings

namespace pybind11::detail {

template <>
struct type_caster<grokprop::TrainSpec> {
    PYBIND11_TYPE_CASTER(grokprop::TrainSpec, const_name("grokprop.specs.TrainSpec"));
    bool load(handle src, bool /*convert*/) {
        value = grokprop::bindings::read_train_spec(src);
        return true;
    }
};

template <>
struct type_caster<grokprop::SweepSpec> {
    PYBIND11_TYPE_CASTER(grokprop::SweepSpec, const_name("grokprop.specs.SweepSpec"));
    bool load(handle src, bool /*convert*/) {
        value = grokprop::bindings::read_sweep_spec(src);
        return true;
    }
};

template <>
struct type_caster<grokprop::bindings::ActivationArg> {
    PYBIND11_TYPE_CASTER(grokprop::bindings::ActivationArg,
                         const_name("grokprop.specs.Activation | int"));
    bool load(handle src, bool /*convert*/) {
        value.value = grokprop::bindings::read_activation(src);
        return true;
    }
};

}  // namespace pybind11::detail
