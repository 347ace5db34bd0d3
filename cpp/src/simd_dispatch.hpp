// Run-time choice of instruction set for the compiled kernels.
//
// The kernel headers are compiled once per instruction set (cpp/src/kernel_table.cpp, built by
// CMakeLists.txt as one object library per set: baseline always; avx2 and avx512 on x86-64
// with GCC/Clang). Each compilation defines one KernelTable of pointers to its own copies of
// the kernels. At import, _core picks the best table the CPU supports, or the one named by
// the environment variable GROKPROP_SIMD (baseline, avx2, avx512; unset or "auto": best).
// Every table computes bit-identical results (docs/design.md, "Evaluation order"); they differ
// only in speed.
//
// Adding a kernel (as the lock-step seed sweep, grokprop/sweep.hpp, was added):
//  1. write it header-only in cpp/include/grokprop/ inside
//     `namespace grokprop { inline namespace GROKPROP_ISA { ... } }` (include grokprop/simd.hpp;
//     simd::Vec<T, simd::max_lanes<T>> is one register of T), with no out-of-line templates
//     from outside that namespace on its path (no std::vector, std::min ...: they would be
//     compiled with the set's flags and could be merged into baseline code); plain-data
//     argument structs may live outside it, like TrainProblem;
//  2. add its function pointers to dispatch::Kernels<T> (kernel_table.hpp) and fill them in
//     kernel_table.cpp (`&grokprop::GROKPROP_ISA::my_kernel<float>`, including its header);
//  3. call it from its binding as dispatch::kernels().get<T>().my_kernel(...), with the GIL
//     released around the call;
//  4. test every copy: for each level of _core.simd_levels(), _core.set_simd(level), compare
//     with the reference (as tests/test_simd_dispatch.py does).
#pragma once

#include <string>
#include <vector>

#include "kernel_table.hpp"

namespace grokprop::dispatch {

/// The table in use (safe to call from any thread).
const KernelTable& kernels() noexcept;

/// Names of the tables this build has and this CPU can run, slowest first.
std::vector<std::string> available();

/// Switches every later call to the table `name` ("auto": the best available).
/// Throws std::invalid_argument naming the available ones if `name` is not one of them.
void select(const std::string& name);

/// The choice at import: GROKPROP_SIMD if set (an error if unavailable), else the best.
void select_from_environment();

}  // namespace grokprop::dispatch
