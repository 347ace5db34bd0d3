// What a training or a sweep is, as plain data: the C++ mirror of grokprop.specs.TrainSpec
// and grokprop.specs.SweepSpec (docs/design.md, "Specs"). The binding reads them attribute by
// attribute from the Python objects (cpp/src/spec_caster.hpp) and checks every field; the
// dtype of a Python spec is not mirrored, the arrays of a call carry it. Used by the binding
// only: the kernels take their own structs (TrainProblem, SweepTask) with raw pointers.
#pragma once

#include <cstddef>
#include <vector>

#include "grokprop/activation.hpp"

namespace grokprop {

/// How one network trains: `epochs` passes of mini-batch descent with learning rate `alpha`
/// (rounded to the network's dtype once), `batch_size` rows per step (1: stochastic).
struct TrainSpec {
    double alpha;
    std::size_t epochs;
    std::size_t batch_size;
    Activation activation;
};

/// What every network of a sweep shares (its seeds and learning rates vary per network):
/// layer sizes n_0, ..., n_L, the training, and whether to return every epoch's error
/// (`curves`) and the final weights (`weights`).
struct SweepSpec {
    std::vector<std::size_t> sizes;
    std::size_t epochs;
    std::size_t batch_size;
    Activation activation;
    bool curves;
    bool weights;
};

}  // namespace grokprop
