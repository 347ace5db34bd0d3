// grokprop._core: the C++ backend's primitives and fused training loop (private module;
// grokprop.backends.cpp is its Python face).
#include <pybind11/pybind11.h>

#include "bindings.hpp"

PYBIND11_MODULE(_core, m, pybind11::mod_gil_not_used()) {
    m.doc() = "grokprop's C++ core: chapter 6 primitives and the fused training loop (private).";
    grokprop::bindings::register_primitives(m);
    grokprop::bindings::register_train(m);
    grokprop::bindings::register_sweep(m);
}
