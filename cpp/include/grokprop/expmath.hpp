// grokprop's own exp, and sigmoid and tanh from it (docs/design.md, "exp, sigmoid, tanh").
//
// std::exp, NumPy's and numba's exp are different implementations that disagree in the last
// bit, so every backend computes exp with one scheme, written three times with the same
// operations in the same order: python/grokprop/backends/_expmath.py (the reference,
// vectorised NumPy), backends/_numba_jit.py (numba, scalar) and here, for one vector of N lanes
// of T (N == 1: the scalar T; the instruction-set copies differ only in N, never in the
// operations). Only + - * /, comparisons, lane selects and integer bit operations are used,
// each an exact or correctly rounded IEEE operation; the build keeps -ffp-contract=off, so no
// product is fused into a sum. The constants are _expmath.CONSTANTS, written as hex literals
// (tests/test_expmath.py checks the two against each other, bit for bit, on every backend).
//
// exp(x): x clamped to [lo, hi] (NaN passes, comparing false);
//   k = (x * inv_ln2 + round_magic) - round_magic        round(x / ln2), ties to even
//   r = (x - k * ln2_hi) - k * ln2_lo                    Cody-Waite, k * ln2_hi exact
//   q = Horner of the Taylor coefficients 1 / i!, i = n .. 1
//   k1 = (k * 0.5 + round_magic) - round_magic, k2 = k - k1
//   exp = ((1 + r * q) * 2^k1) * 2^k2                    2^k from its exponent bits
// tanh uses exp(x) - 1 = (2^k - 1) + 2^k * (r * q), which does not cancel near 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "grokprop/simd.hpp"

namespace grokprop {
inline namespace GROKPROP_ISA {  // one copy per instruction set (see simd.hpp)
namespace expmath {

template <class T>
struct Constants;

template <>
struct Constants<double> {
    using Int = std::int64_t;
    static constexpr double inv_ln2 = 0x1.71547652b82fep+0;
    static constexpr double ln2_hi = 0x1.62e42fee00000p-1;  // low 21 bits zero
    static constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
    static constexpr double round_magic = 0x1.8p+52;
    static constexpr double lo = -746.0;  // exp(-746) rounds to +0
    static constexpr double hi = 710.0;   // exp(710) overflows
    static constexpr double bias_magic = 0x1.00000000003ffp+52;  // 2^52 + 1023
    static constexpr Int exponent_mask = 0x7ff;
    static constexpr int mantissa_bits = 52;
    static constexpr double tanh_lo = -40.0;  // tanh clamps -2|x| here: tanh(20) rounds to 1
    // 1 / i!, i = 13 .. 1 (Horner order; the constant term 1 is added apart)
    static constexpr double exp_poly[] = {
        0x1.6124613a86d09p-33, 0x1.1eed8eff8d898p-29, 0x1.ae64567f544e4p-26,
        0x1.27e4fb7789f5cp-22, 0x1.71de3a556c734p-19, 0x1.a01a01a01a01ap-16,
        0x1.a01a01a01a01ap-13, 0x1.6c16c16c16c17p-10, 0x1.1111111111111p-7,
        0x1.5555555555555p-5,  0x1.5555555555555p-3,  0x1.0p-1,
        0x1.0p+0};
};

template <>
struct Constants<float> {
    using Int = std::int32_t;
    static constexpr float inv_ln2 = 0x1.715476p+0f;
    static constexpr float ln2_hi = 0x1.62e4p-1f;  // low 9 bits zero
    static constexpr float ln2_lo = 0x1.7f7d1cp-20f;
    static constexpr float round_magic = 0x1.8p+23f;
    static constexpr float lo = -105.0f;  // exp(-105) rounds to +0
    static constexpr float hi = 89.0f;    // exp(89) overflows
    static constexpr float bias_magic = 0x1.0000fep+23f;  // 2^23 + 127
    static constexpr Int exponent_mask = 0xff;
    static constexpr int mantissa_bits = 23;
    static constexpr float tanh_lo = -40.0f;
    static constexpr float exp_poly[] = {0x1.a01a02p-13f, 0x1.6c16c2p-10f, 0x1.111112p-7f,
                                         0x1.555556p-5f,  0x1.555556p-3f,  0x1.0p-1f,
                                         0x1.0p+0f};
};

template <class T, std::size_t N>
using Vec = simd::Vec<T, N>;

/// What a comparison of N lanes gives (N == 1: bool), and the lanes' integer bits.
template <class T, std::size_t N>
using Cond = std::conditional_t<N == 1, bool, simd::Mask<T, N>>;
template <class T, std::size_t N>
using Bits = std::conditional_t<N == 1, typename Constants<T>::Int, simd::Mask<T, N>>;

/// cond ? a : b, lane by lane (a bit blend: comparisons set every bit of a true lane).
template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> select(Cond<T, N> cond, Vec<T, N> a, Vec<T, N> b) noexcept {
    if constexpr (N == 1) {
        return cond ? a : b;
    } else {
        using M = simd::Mask<T, N>;
        return reinterpret_cast<Vec<T, N>>((reinterpret_cast<M>(a) & cond) |
                                           (reinterpret_cast<M>(b) & ~cond));
    }
}

template <class T, std::size_t N>
GROKPROP_INLINE Bits<T, N> bits_of(Vec<T, N> v) noexcept {
    if constexpr (N == 1) {
        Bits<T, N> bits;
        std::memcpy(&bits, &v, sizeof bits);
        return bits;
    } else {
        return reinterpret_cast<Bits<T, N>>(v);
    }
}

template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> from_bits(Bits<T, N> bits) noexcept {
    if constexpr (N == 1) {
        T v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    } else {
        return reinterpret_cast<Vec<T, N>>(bits);
    }
}

/// 2^k for integer-valued k with k + bias a normal exponent, built from its bits: k + bias_magic
/// holds k + bias in its low bits, which are masked and shifted into the exponent field.
template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> power_of_two(Vec<T, N> k) noexcept {
    using C = Constants<T>;
    const Bits<T, N> biased = bits_of<T, N>(k + C::bias_magic) & C::exponent_mask;
    return from_bits<T, N>(biased << C::mantissa_bits);
}

/// Horner: ((c[0] * r + c[1]) * r + ...) + c[n-1], written as c[i] + r * p.
template <class T, std::size_t N, std::size_t M>
GROKPROP_INLINE Vec<T, N> horner(const T (&c)[M], Vec<T, N> r) noexcept {
    Vec<T, N> p = simd::broadcast<T, N>(c[0]);
    for (std::size_t i = 1; i < M; ++i) {
        p = c[i] + r * p;
    }
    return p;
}

/// k, r and q of exp(x) = 2^k * (1 + r * q), x clamped to [lo, hi] first.
template <class T, std::size_t N>
struct Reduced {
    Vec<T, N> k, r, q;
};

template <class T, std::size_t N>
GROKPROP_INLINE Reduced<T, N> reduce(Vec<T, N> x) noexcept {
    using C = Constants<T>;
    x = select<T, N>(x < C::lo, simd::broadcast<T, N>(C::lo), x);
    x = select<T, N>(x > C::hi, simd::broadcast<T, N>(C::hi), x);
    const Vec<T, N> k = (x * C::inv_ln2 + C::round_magic) - C::round_magic;
    const Vec<T, N> r = (x - k * C::ln2_hi) - k * C::ln2_lo;
    return {k, r, horner<T, N>(C::exp_poly, r)};
}

/// exp(x): +0 below lo (and for -inf), +inf above hi (and for +inf), NaN for NaN, exp(-0) = 1.
template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> exp(Vec<T, N> x) noexcept {
    using C = Constants<T>;
    const Reduced<T, N> e = reduce<T, N>(x);
    const Vec<T, N> k1 = (e.k * T(0.5) + C::round_magic) - C::round_magic;
    const Vec<T, N> k2 = e.k - k1;
    const Vec<T, N> p = T(1) + e.r * e.q;
    return (p * power_of_two<T, N>(k1)) * power_of_two<T, N>(k2);
}

/// sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, with e = exp(-|x|) <= 1
/// (one division, of the selected numerator).
template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> sigmoid(Vec<T, N> x) noexcept {
    const Cond<T, N> negative = x < T(0);
    const Vec<T, N> e = exp<T, N>(select<T, N>(negative, x, -x));
    return select<T, N>(negative, e, simd::broadcast<T, N>(T(1))) / (T(1) + e);
}

/// tanh(x) = sign(x) * t, t = -m / (2 + m) with m = expm1(-2|x|) = (s - 1) + s * (r * q),
/// s = 2^k, and -2|x| clamped to tanh_lo (s stays normal; |x| = inf gives 1). The final
/// + 0 makes tanh(-0) and tanh(+0) both +0.
template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> tanh(Vec<T, N> x) noexcept {
    using C = Constants<T>;
    const Cond<T, N> negative = x < T(0);
    const Vec<T, N> a = select<T, N>(negative, -x, x);
    Vec<T, N> y = a * T(-2);
    y = select<T, N>(y < C::tanh_lo, simd::broadcast<T, N>(C::tanh_lo), y);
    const Reduced<T, N> e = reduce<T, N>(y);
    const Vec<T, N> s = power_of_two<T, N>(e.k);
    const Vec<T, N> m = (s - T(1)) + s * (e.r * e.q);
    const Vec<T, N> t = -m / (T(2) + m);
    return select<T, N>(negative, -t, t) + T(0);
}

}  // namespace expmath
}  // namespace GROKPROP_ISA
}  // namespace grokprop
