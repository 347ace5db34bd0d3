// One instruction set's KernelTable. CMakeLists.txt compiles this file once per instruction
// set, each time with its compiler flags (-mavx2, -mavx512f ...) and GROKPROP_ISA set to the
// set's name, which puts every kernel it instantiates in its own namespace (grokprop/simd.hpp).
#include "kernel_table.hpp"

#define GROKPROP_CONCAT_(a, b) a##b
#define GROKPROP_CONCAT(a, b) GROKPROP_CONCAT_(a, b)
#define GROKPROP_STRING_(a) #a
#define GROKPROP_STRING(a) GROKPROP_STRING_(a)

namespace grokprop::dispatch {

const KernelTable GROKPROP_CONCAT(kernel_table_, GROKPROP_ISA) = {
    GROKPROP_STRING(GROKPROP_ISA),
    {&grokprop::GROKPROP_ISA::train_workspace_size<float>, &grokprop::GROKPROP_ISA::train<float>,
     &grokprop::GROKPROP_ISA::sweep_workspace_size<float>,
     &grokprop::GROKPROP_ISA::sweep_blocks<float>, &grokprop::GROKPROP_ISA::sweep_range<float>},
    {&grokprop::GROKPROP_ISA::train_workspace_size<double>,
     &grokprop::GROKPROP_ISA::train<double>,
     &grokprop::GROKPROP_ISA::sweep_workspace_size<double>,
     &grokprop::GROKPROP_ISA::sweep_blocks<double>, &grokprop::GROKPROP_ISA::sweep_range<double>},
};

}  // namespace grokprop::dispatch
