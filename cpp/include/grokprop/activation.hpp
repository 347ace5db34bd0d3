// The hidden layers' activations: each one is defined here, once (docs/design.md, "The math").
//
// `Activation` is the enum the Python side mirrors (grokprop.specs.Activation, an IntEnum with
// the same values; _core registers it as _core.Activation). For each activation A,
// ActivationOps<A> gives
//   name            the Python member name,
//   identity        true if apply is the identity and factor is 1 (loops then skip both),
//   side_by_side    how many vectors a lane loop should evaluate at once (apply on an
//                   expmath::Pack of them): for the exp-based activations several, whose
//                   long dependency chains then overlap (tanh 4, sigmoid 2: measured,
//                   BENCHMARKS.md); 1 for the others,
//   apply(x)        the activation of a sum x,
//   factor(out)     its derivative from the activation's *output* `out`, as the factor the
//                   back-propagated value is multiplied by (a multiply, as the reference's
//                   `back * activate_deriv(out)`, so inf and NaN propagate as in NumPy),
// for one vector of N lanes of T (Vec<T, N>; N == 1 is the scalar T itself). The kernels are
// generic in A: they take an ActivationTag<A> (compile time), and with_activation turns a
// run-time Activation into one once per call or per layer, outside the loops.
//
// Adding an activation: its enumerator, its ActivationOps specialisation, its entry in
// `activations` and its case in with_activation, all here; _core registers every entry of
// `activations` by its name (cpp/src/module.cpp).
#pragma once

#include <cstddef>

#include "grokprop/expmath.hpp"
#include "grokprop/simd.hpp"

namespace grokprop {

/// The activation of the hidden layers (the output layer is always linear).
enum class Activation : int { linear = 0, relu = 1, sigmoid = 2, tanh = 3 };

/// Every activation, in the order of their values (activations[v] has value v).
inline constexpr Activation activations[] = {Activation::linear, Activation::relu,
                                             Activation::sigmoid, Activation::tanh};
inline constexpr int activation_count = static_cast<int>(sizeof(activations) / sizeof(Activation));

/// True if `value` is the value of an Activation.
constexpr bool is_activation(long long value) noexcept {
    return value >= 0 && value < activation_count;
}

inline namespace GROKPROP_ISA {  // one copy per instruction set (see simd.hpp)

template <Activation A>
struct ActivationOps;

template <>
struct ActivationOps<Activation::linear> {
    static constexpr const char* name = "LINEAR";
    static constexpr bool identity = true;
    static constexpr std::size_t side_by_side = 1;

    template <class T, std::size_t N>
    static GROKPROP_INLINE simd::Vec<T, N> apply(simd::Vec<T, N> x) noexcept {
        return x;
    }
    template <class T, std::size_t N>
    static GROKPROP_INLINE simd::Vec<T, N> factor(simd::Vec<T, N> /*out*/) noexcept {
        return simd::broadcast<T, N>(T(1));
    }
};

template <>
struct ActivationOps<Activation::relu> {
    static constexpr const char* name = "RELU";
    static constexpr bool identity = false;
    static constexpr std::size_t side_by_side = 1;

    /// relu(x) = x if x > 0 else x - x, as the reference's numpy.where(z > 0, z, z - z):
    /// x - x is +0 for every finite x (negative numbers and -0 give +0) and NaN for NaN and
    /// -inf, as the book's (x > 0) * x (docs/design.md, "The math").
    template <class T, std::size_t N>
    static GROKPROP_INLINE simd::Vec<T, N> apply(simd::Vec<T, N> x) noexcept {
        if constexpr (N == 1) {
            return x > T(0) ? x : x - x;
        } else {
            using M = simd::Mask<T, N>;
            const M positive = x > T(0);
            return reinterpret_cast<simd::Vec<T, N>>((reinterpret_cast<M>(x) & positive) |
                                                     (reinterpret_cast<M>(x - x) & ~positive));
        }
    }
    /// relu'(out) = 1 if out > 0 else +0.
    template <class T, std::size_t N>
    static GROKPROP_INLINE simd::Vec<T, N> factor(simd::Vec<T, N> out) noexcept {
        if constexpr (N == 1) {
            return out > T(0) ? T(1) : T(0);
        } else {
            using M = simd::Mask<T, N>;
            const M one = reinterpret_cast<M>(simd::broadcast<T, N>(T(1)));
            return reinterpret_cast<simd::Vec<T, N>>(one & (out > T(0)));
        }
    }
};

/// sigmoid from grokprop's own exp (expmath.hpp: the same bits as the reference and numba).
template <>
struct ActivationOps<Activation::sigmoid> {
    static constexpr const char* name = "SIGMOID";
    static constexpr bool identity = false;
    static constexpr std::size_t side_by_side = 2;

    template <class T, std::size_t N, std::size_t P = 1>
    static GROKPROP_INLINE expmath::Vec<T, N, P> apply(expmath::Vec<T, N, P> x) noexcept {
        return expmath::sigmoid<T, N, P>(x);
    }
    /// sigmoid'(out) = out * (1 - out).
    template <class T, std::size_t N>
    static GROKPROP_INLINE simd::Vec<T, N> factor(simd::Vec<T, N> out) noexcept {
        return out * (T(1) - out);
    }
};

/// tanh from grokprop's own exp (expmath.hpp).
template <>
struct ActivationOps<Activation::tanh> {
    static constexpr const char* name = "TANH";
    static constexpr bool identity = false;
    static constexpr std::size_t side_by_side = 4;

    template <class T, std::size_t N, std::size_t P = 1>
    static GROKPROP_INLINE expmath::Vec<T, N, P> apply(expmath::Vec<T, N, P> x) noexcept {
        return expmath::tanh<T, N, P>(x);
    }
    /// tanh'(out) = 1 - out * out.
    template <class T, std::size_t N>
    static GROKPROP_INLINE simd::Vec<T, N> factor(simd::Vec<T, N> out) noexcept {
        return T(1) - out * out;
    }
};

/// An activation as a type: what the kernels are templated on.
template <Activation A>
struct ActivationTag {
    static constexpr Activation value = A;
    using Ops = ActivationOps<A>;
    static constexpr bool identity = Ops::identity;
    static constexpr std::size_t side_by_side = Ops::side_by_side;

    /// The activation of one value.
    template <class T>
    static GROKPROP_INLINE T apply(T x) noexcept {
        return Ops::template apply<T, 1>(x);
    }
    /// The derivative factor of one output value.
    template <class T>
    static GROKPROP_INLINE T factor(T out) noexcept {
        return Ops::template factor<T, 1>(out);
    }
    /// The activation of N lanes.
    template <class T, std::size_t N>
    static GROKPROP_INLINE simd::Vec<T, N> apply_lanes(simd::Vec<T, N> x) noexcept {
        return Ops::template apply<T, N>(x);
    }
    /// The activation of P vectors of N lanes evaluated side by side (P <= side_by_side).
    template <class T, std::size_t N, std::size_t P>
    static GROKPROP_INLINE expmath::Vec<T, N, P> apply_side_by_side(
        expmath::Vec<T, N, P> x) noexcept {
        if constexpr (P == 1) {
            return Ops::template apply<T, N>(x);
        } else {
            return Ops::template apply<T, N, P>(x);
        }
    }
    /// The derivative factor of N lanes of outputs.
    template <class T, std::size_t N>
    static GROKPROP_INLINE simd::Vec<T, N> factor_lanes(simd::Vec<T, N> out) noexcept {
        return Ops::template factor<T, N>(out);
    }
};

/// Calls f(ActivationTag<activation>{}) and returns its result: the one place where a run-time
/// Activation becomes a compile-time one. A value that is no Activation (never passed: the
/// binding range-checks) is taken as linear.
template <class F>
GROKPROP_INLINE decltype(auto) with_activation(Activation activation, F&& f) {
    switch (activation) {
        case Activation::relu:
            return f(ActivationTag<Activation::relu>{});
        case Activation::sigmoid:
            return f(ActivationTag<Activation::sigmoid>{});
        case Activation::tanh:
            return f(ActivationTag<Activation::tanh>{});
        case Activation::linear:
            break;
    }
    return f(ActivationTag<Activation::linear>{});
}

/// The Python name of `activation` ("LINEAR", "RELU", "SIGMOID", "TANH").
inline const char* activation_name(Activation activation) noexcept {
    return with_activation(activation, [](auto tag) { return decltype(tag)::Ops::name; });
}

}  // namespace GROKPROP_ISA
}  // namespace grokprop
