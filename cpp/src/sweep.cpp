// Binding of the lock-step sweep (sweep.hpp; docs/design.md, "Sweeps") and of the book
// initialisation (mt19937.hpp).
//
// Everything is checked and every result array allocated with the GIL held; the sweep itself
// (its C++ workspace and the training, on up to `threads` threads) runs with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "bindings.hpp"
#include "grokprop/mt19937.hpp"
#include "grokprop/spec.hpp"
#include "grokprop/sweep.hpp"
#include "simd_dispatch.hpp"
#include "spec_caster.hpp"
#include "validate.hpp"

namespace grokprop::bindings {

namespace {

/// Storage aligned to a cache line (a whole AVX-512 register), freed by unique_ptr.
struct AlignedDelete {
    void operator()(unsigned char* p) const noexcept {
        ::operator delete(p, std::align_val_t{64});
    }
};
using AlignedBuffer = std::unique_ptr<unsigned char, AlignedDelete>;

AlignedBuffer allocate_aligned(std::size_t bytes) {
    return AlignedBuffer(
        static_cast<unsigned char*>(::operator new(bytes, std::align_val_t{64})));
}

/// Trains every network of `task` with the current instruction set's kernels on up to
/// `threads` threads: worker t takes the t-th of contiguous equal ranges of blocks, on its
/// own thread (worker 0 on the calling thread), each with a workspace allocated here before
/// any thread starts. Results do not depend on the number of workers. A range whose thread
/// cannot be started is trained by the calling thread. Pure C++: call it with the GIL
/// released. Throws std::bad_alloc if the workspace cannot be allocated.
template <class T>
void run_sweep(const SweepTask<T>& task, std::size_t threads) {
    const dispatch::Kernels<T>& kernels = dispatch::kernels().get<T>();
    constexpr std::size_t max_workers = 256;  // more threads than this cannot pay off
    const std::size_t blocks = kernels.sweep_blocks(task);
    const std::size_t workers =
        std::max<std::size_t>(1, std::min({threads, blocks, max_workers}));
    const std::size_t bytes = kernels.sweep_workspace_size(task);
    std::vector<AlignedBuffer> workspaces;
    workspaces.reserve(workers);
    for (std::size_t t = 0; t < workers; ++t) {
        workspaces.push_back(allocate_aligned(bytes));
    }
    auto range_begin = [&](std::size_t t) { return blocks * t / workers; };
    std::vector<std::thread> started;
    for (std::size_t t = 1; t < workers; ++t) {
        const std::size_t begin = range_begin(t);
        const std::size_t end = range_begin(t + 1);
        void* workspace = workspaces[t].get();
        try {
            started.emplace_back([&task, &kernels, workspace, begin, end] {
                kernels.sweep_range(task, workspace, begin, end);
            });
        } catch (...) {  // no thread (or no memory for its handle): train the range here
            kernels.sweep_range(task, workspaces[0].get(), begin, end);
        }
    }
    kernels.sweep_range(task, workspaces[0].get(), range_begin(0), range_begin(1));
    for (std::thread& thread : started) {
        thread.join();
    }
}

/// A 1-D, non-empty, C-contiguous array of element type E (no conversion).
template <class E>
std::size_t require_vector(const py::array& array, const char* name, const char* dtype_name) {
    // equal, not the same object: an unpickled array's dtype is a copy of NumPy's own
    if (!array.dtype().equal(py::dtype::of<E>())) {
        throw py::type_error(std::string(name) + " must be a " + dtype_name +
                             " array, got dtype " + std::string(py::str(array.dtype())));
    }
    if (array.ndim() != 1 || array.shape(0) == 0) {
        throw py::value_error(std::string(name) + " must be a non-empty 1-D array, got shape " +
                              shape_str(array));
    }
    require_layout(array, ArgName{name}, /*writeable=*/false);
    return static_cast<std::size_t>(array.shape(0));
}

template <class T>
py::tuple sweep_as(SweepTask<T> task, std::size_t threads, bool want_curves,
                   bool want_weights) {
    const auto n = static_cast<py::ssize_t>(task.networks);
    py::array_t<T> final_errors(n);
    py::array_t<bool> diverged(n);
    std::fill_n(diverged.mutable_data(), task.networks, false);
    task.final_errors = final_errors.mutable_data();
    task.diverged = diverged.mutable_data();
    py::object curves = py::none();
    if (want_curves) {
        py::array_t<T> rows(std::vector<py::ssize_t>{n, static_cast<py::ssize_t>(task.epochs)});
        task.curves = rows.mutable_data();
        curves = std::move(rows);
    }
    py::object weights = py::none();
    std::vector<T*> weight_data;  // task.weights points here
    if (want_weights) {
        py::list layers;
        for (std::size_t l = 0; l + 1 < task.n_sizes; ++l) {
            py::array_t<T> stacked(std::vector<py::ssize_t>{
                n, static_cast<py::ssize_t>(task.sizes[l]),
                static_cast<py::ssize_t>(task.sizes[l + 1])});
            weight_data.push_back(stacked.mutable_data());
            layers.append(std::move(stacked));
        }
        weights = std::move(layers);
        task.weights = weight_data.data();
    }
    {
        // pure C++ from here (the workspace it allocates is C++ memory)
        py::gil_scoped_release release;
        run_sweep<T>(task, threads);
    }
    return py::make_tuple(std::move(final_errors), std::move(diverged), std::move(curves),
                          std::move(weights));
}

py::tuple sweep(const py::array& X, const py::array& Y, const py::array& seeds,
                const py::array& alphas, const SweepSpec& spec, py::ssize_t threads,
                const std::optional<py::array>& stop) {
    DtypeCheck dtypes;
    const Matrix x = require_matrix(X, {"X"}, dtypes, /*writeable=*/false);
    const Matrix y = require_matrix(Y, {"Y"}, dtypes, false);
    const std::vector<std::size_t>& layer_sizes = spec.sizes;
    require_shape(x, x.rows, layer_sizes.front(), "(rows, spec.sizes[0])");
    require_shape(y, x.rows, layer_sizes.back(), "(rows of X, spec.sizes[-1])");
    const std::size_t networks = require_vector<std::uint32_t>(seeds, "seeds", "uint32");
    if (require_vector<double>(alphas, "alphas", "float64") != networks) {
        throw py::value_error("alphas must have one entry per seed (" +
                              std::to_string(networks) + "), got " + shape_str(alphas));
    }
    const auto* alpha_data = static_cast<const double*>(alphas.data());
    for (std::size_t i = 0; i < networks; ++i) {
        if (!is_valid_alpha(alpha_data[i], dtypes.type())) {  // a name only for a bad one
            require_alpha(alpha_data[i], dtypes.type(), "alphas[" + std::to_string(i) + "]");
        }
    }
    require_batch_size(spec.batch_size, x.rows, "spec.batch_size");
    if (threads < 1) {
        throw py::value_error("threads must be an integer >= 1, got " + std::to_string(threads));
    }
    const volatile std::uint8_t* flag = stop_flag(stop);

    return dispatch(dtypes.type(), [&](auto zero) {
        using T = decltype(zero);
        SweepTask<T> task{layer_sizes.data(),
                          layer_sizes.size(),
                          x.data<T>(),
                          y.data<T>(),
                          x.rows,
                          spec.epochs,
                          spec.batch_size,
                          spec.activation,
                          static_cast<const std::uint32_t*>(seeds.data()),
                          alpha_data,
                          networks,
                          nullptr,
                          nullptr,
                          nullptr,
                          nullptr,
                          flag};
        return sweep_as<T>(task, static_cast<std::size_t>(threads), spec.curves, spec.weights);
    });
}

py::array book_uniforms(const py::array& seeds, py::ssize_t count) {
    const std::size_t n = require_vector<std::uint32_t>(seeds, "seeds", "uint32");
    if (count < 0) {
        throw py::value_error("count must be >= 0, got " + std::to_string(count));
    }
    constexpr std::size_t lanes = 8;
    const auto numbers = static_cast<std::size_t>(count);
    py::array_t<double> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(n), count});
    double* result = out.mutable_data();
    const auto* seed_data = static_cast<const std::uint32_t*>(seeds.data());
    std::vector<double> block(numbers * lanes);
    std::vector<std::uint32_t> scratch(mt19937::lanes_scratch_words<lanes>());
    for (std::size_t begin = 0; begin < n; begin += lanes) {
        std::uint32_t block_seeds[lanes];
        for (std::size_t lane = 0; lane < lanes; ++lane) {
            block_seeds[lane] = seed_data[std::min(begin + lane, n - 1)];
        }
        mt19937::book_uniforms_lanes<lanes>(block_seeds, numbers, block.data(), scratch.data());
        for (std::size_t lane = 0; lane < lanes && begin + lane < n; ++lane) {
            for (std::size_t i = 0; i < numbers; ++i) {
                result[(begin + lane) * numbers + i] = block[i * lanes + lane];
            }
        }
    }
    return std::move(out);
}

}  // namespace

void register_sweep(py::module_& m) {
    m.def("sweep", &sweep, py::arg("X").noconvert(), py::arg("Y").noconvert(),
          py::arg("seeds").noconvert(), py::arg("alphas").noconvert(), py::arg("spec"),
          py::arg("threads"), py::arg("stop").noconvert() = py::none(),
          "Train network i of shape spec.sizes from the book initialisation of seeds[i] with\n"
          "alphas[i], every network in lock-step on up to `threads` threads (GIL released).\n\n"
          "Returns (final_errors, diverged, curves or None, list of stacked weights or None).\n"
          "`stop`: None or a uint8 array whose first element another thread may set to end\n"
          "the sweep early (the results are then incomplete).");
    m.def("book_uniforms", &book_uniforms, py::arg("seeds").noconvert(), py::arg("count"),
          "(len(seeds), count) array: row i is\n"
          "numpy.random.RandomState(seeds[i]).random_sample(count).");
}

}  // namespace grokprop::bindings
