// The divergence transaction of a fit or a step inside one _core call (docs/design.md,
// "Divergence"): the weight buffer is copied before the update and copied back when the
// outcome is not finite, or when the call ends with an exception (a Ctrl-C included). One
// compiled call instead of the Python layer's snapshot, finiteness pass and restore, which
// cost as much as the book network's whole training.
#pragma once

#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "validate.hpp"

namespace grokprop::bindings {

/// How a transaction ended: the values of grokprop.backends._protocol.Outcome.
enum class Outcome : int {
    committed = 0,          ///< the result and every weight are finite: the update stays
    diverged = 1,           ///< a non-finite result or weight: the weights were restored
    not_finite_before = 2,  ///< the weights were already non-finite: restored, not a divergence
};

template <class T>
class Transaction {
public:
    /// Saves the buffer (GIL held: the buffer must not be replaced while it is copied).
    explicit Transaction(const Buffer& buffer)
        : data_(buffer.mutable_data<T>()), size_(buffer.size), saved_(data_, data_ + size_) {}

    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    /// Not settled (an exception left the call): the weights as they were.
    ~Transaction() {
        if (!settled_) {
            restore();
        }
    }

    /// Ends the transaction: keeps the update if `result_finite` and every weight is finite,
    /// else restores the saved weights and says why. A signal that arrived during the call
    /// (Ctrl-C) is handled first, so it raises with the weights restored, as a Python
    /// transaction's `except BaseException` would.
    Outcome settle(bool result_finite) {
        if (PyErr_CheckSignals() != 0) {
            throw py::error_already_set();  // the destructor restores
        }
        settled_ = true;
        if (result_finite && all_finite(data_, size_)) {
            return Outcome::committed;
        }
        restore();
        return all_finite(saved_.data(), size_) ? Outcome::diverged : Outcome::not_finite_before;
    }

private:
    void restore() { std::copy(saved_.begin(), saved_.end(), data_); }

    T* data_;
    std::size_t size_;
    std::vector<T> saved_;
    bool settled_ = false;
};

}  // namespace grokprop::bindings
