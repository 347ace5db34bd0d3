// grokprop._core: the C++ backend's kernels, fused step, training loop and sweep (private
// module; grokprop.backends.cpp is its Python face; docs/design.md, "The C++ core").
#include <pybind11/native_enum.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "grokprop/activation.hpp"
#include "simd_dispatch.hpp"

#ifndef GROKPROP_COMPILER
#define GROKPROP_COMPILER "unknown"
#endif
#ifndef GROKPROP_SIMD_BUILT
#define GROKPROP_SIMD_BUILT "baseline"
#endif

namespace {

namespace py = pybind11;

/// _core.Activation, an enum.IntEnum with every grokprop::Activation (the values of
/// grokprop.specs.Activation). Functions taking an activation accept any int-like value.
void register_activation(py::module_& m) {
    py::native_enum<grokprop::Activation> activation(
        m, "Activation", "enum.IntEnum",
        "The hidden layers' activation; the values of grokprop.specs.Activation.");
    for (const grokprop::Activation value : grokprop::activations) {
        activation.value(grokprop::activation_name(value), value);
    }
    activation.finalize();
}

void register_simd(py::module_& m) {
    m.def(
        "simd_levels", [] { return grokprop::dispatch::available(); },
        "Instruction sets of the training loop this build has and this CPU runs, slowest first.");
    m.def(
        "get_simd", [] { return std::string(grokprop::dispatch::kernels().name); },
        "The instruction set the training loop uses now.");
    m.def(
        "set_simd",
        [](const std::string& name) {
            try {
                grokprop::dispatch::select(name);
            } catch (const std::invalid_argument& error) {
                throw py::value_error(error.what());
            }
        },
        py::arg("name"),
        "Use instruction set `name` (or 'auto', the best) from now on, in every thread.\n"
        "All of them give identical results; this is for tests and benchmarks.");
    m.def(
        "build_info",
        [] {
            py::dict info;
            info["compiler"] = GROKPROP_COMPILER;
            info["simd_built"] = GROKPROP_SIMD_BUILT;
            return info;
        },
        "How this extension was built: compiler and the instruction sets compiled in.");
}

}  // namespace

PYBIND11_MODULE(_core, m, pybind11::mod_gil_not_used()) {
    m.doc() = "grokprop's C++ core: chapter 6 kernels, the fused step and training loop, "
              "the lock-step sweep (private).";
    try {
        grokprop::dispatch::select_from_environment();
    } catch (const std::invalid_argument& error) {
        throw py::import_error(error.what());
    }
    register_activation(m);
    grokprop::bindings::register_accept(m);
    grokprop::bindings::register_kernels(m);
    grokprop::bindings::register_train(m);
    grokprop::bindings::register_sweep(m);
    register_simd(m);
}
