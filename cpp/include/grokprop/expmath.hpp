// grokprop's own exp, and sigmoid and tanh from it (docs/design.md, "exp, sigmoid, tanh").
//
// std::exp, NumPy's and numba's exp are different implementations that disagree in the last
// bit, so every backend computes exp with one scheme, written three times with the same
// rounded operations in the same order (here a few of the same values come from other exact
// instructions: x86's max and min for clamps (simd::bound), no mask in power_of_two, and
// tanh's sign bits; docs/design.md, "exp, sigmoid, tanh"): python/grokprop/backends/
// _expmath.py (the reference, vectorised NumPy), backends/_numba_jit.py (numba, scalar) and
// here, for one vector of N lanes of T (N == 1: the scalar T; the instruction-set copies
// differ only in N, never in the operations), or for a Pack of P such vectors side by side
// (the same operations on each).
// Only + - * /, comparisons, lane selects, max/min and integer bit operations are used, each
// an exact or correctly rounded IEEE operation; the build keeps -ffp-contract=off, so no
// product is fused into a sum. The constants are _expmath.CONSTANTS, written as hex literals
// (tests/test_expmath.py checks the two against each other, bit for bit, on every backend).
//
// exp(x): x clamped to [lo, hi] (NaN passes, comparing false);
//   k = (x * inv_ln2 + round_magic) - round_magic        round(x / ln2), ties to even
//   r = (x - k * ln2_hi) - k * ln2_lo                    Cody-Waite, k * ln2_hi exact
//   q = Horner of q's minimax coefficients (scripts/exp_minimax.py), highest power first
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
    using Bits = std::uint64_t;
    static constexpr double inv_ln2 = 0x1.71547652b82fep+0;
    static constexpr double ln2_hi = 0x1.62e42fee00000p-1;  // low 21 bits zero
    static constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
    static constexpr double round_magic = 0x1.8p+52;
    static constexpr double lo = -746.0;  // exp(-746) rounds to +0
    static constexpr double hi = 710.0;   // exp(710) overflows
    static constexpr double bias_magic = 0x1.00000000003ffp+52;  // 2^52 + 1023
    static constexpr Bits sign_bit = Bits(1) << 63;
    static constexpr int mantissa_bits = 52;
    static constexpr double tanh_lo = -40.0;  // tanh clamps -2|x| here: tanh(20) rounds to 1
    // q's minimax coefficients (scripts/exp_minimax.py), r^10 .. r^0 (Horner order; exp's
    // constant term 1 is added apart)
    static constexpr double exp_poly[] = {
        0x1.ae6449c0653cbp-26, 0x1.28a27e48a4619p-22, 0x1.71de8e649bda4p-19,
        0x1.a019a6b22f956p-16, 0x1.a01a01710638ap-13, 0x1.6c16c17f29cffp-10,
        0x1.111111111a24fp-7,  0x1.555555555211dp-5,  0x1.5555555555530p-3,
        0x1.0000000000005p-1,  0x1.0000000000000p+0};
};

template <>
struct Constants<float> {
    using Bits = std::uint32_t;
    static constexpr float inv_ln2 = 0x1.715476p+0f;
    static constexpr float ln2_hi = 0x1.62e4p-1f;  // low 9 bits zero
    static constexpr float ln2_lo = 0x1.7f7d1cp-20f;
    static constexpr float round_magic = 0x1.8p+23f;
    static constexpr float lo = -105.0f;  // exp(-105) rounds to +0
    static constexpr float hi = 89.0f;    // exp(89) overflows
    static constexpr float bias_magic = 0x1.0000fep+23f;  // 2^23 + 127
    static constexpr Bits sign_bit = Bits(1) << 31;
    static constexpr int mantissa_bits = 23;
    static constexpr float tanh_lo = -40.0f;
    // r^5 .. r^0
    static constexpr float exp_poly[] = {0x1.6c16a6p-10f, 0x1.123cd6p-7f, 0x1.555652p-5f,
                                         0x1.55547ep-3f,  0x1.fffffep-2f, 0x1.000000p+0f};
};

/// P vectors of N lanes of T (Pack) or of their comparison masks (MaskPack), operated on side
/// by side: every operator applies to the P members in turn, so a pack holds P independent
/// dependency chains whose latencies overlap (the sweep evaluates sigmoid and tanh several
/// vectors at a time; docs/design.md, "exp, sigmoid, tanh"). Lane for lane the operations of
/// one vector. The members are named here, not passed as template arguments, which would
/// drop the vector types' attributes.
template <class T, std::size_t N, std::size_t P>
struct Pack {
    static_assert(N > 1 && P > 1, "a pack holds several vectors");
    simd::Vec<T, N> v[P];
};
template <class T, std::size_t N, std::size_t P>
struct MaskPack {
    simd::Mask<T, N> v[P];
};

// Each operator: out.v[i] = a.v[i] op b.v[i] (a scalar operand is used as it is).
#define GROKPROP_PACK_LOOP(expr)                \
    GROKPROP_UNROLL                             \
    for (std::size_t i = 0; i < P; ++i) {       \
        out.v[i] = expr;                        \
    }                                           \
    return out

// Arithmetic and comparisons of vectors, with another pack or a scalar T (all lanes).
#define GROKPROP_PACK_ARITHMETIC(op, Out)                                                     \
    template <class T, std::size_t N, std::size_t P>                                          \
    GROKPROP_INLINE Out<T, N, P> operator op(const Pack<T, N, P>& a,                          \
                                             const Pack<T, N, P>& b) noexcept {               \
        Out<T, N, P> out;                                                                     \
        GROKPROP_PACK_LOOP(a.v[i] op b.v[i]);                                                 \
    }                                                                                         \
    template <class T, std::size_t N, std::size_t P>                                          \
    GROKPROP_INLINE Out<T, N, P> operator op(const Pack<T, N, P>& a, T b) noexcept {          \
        Out<T, N, P> out;                                                                     \
        GROKPROP_PACK_LOOP(a.v[i] op b);                                                      \
    }                                                                                         \
    template <class T, std::size_t N, std::size_t P>                                          \
    GROKPROP_INLINE Out<T, N, P> operator op(T a, const Pack<T, N, P>& b) noexcept {          \
        Out<T, N, P> out;                                                                     \
        GROKPROP_PACK_LOOP(a op b.v[i]);                                                      \
    }
GROKPROP_PACK_ARITHMETIC(+, Pack)
GROKPROP_PACK_ARITHMETIC(-, Pack)
GROKPROP_PACK_ARITHMETIC(*, Pack)
GROKPROP_PACK_ARITHMETIC(/, Pack)
GROKPROP_PACK_ARITHMETIC(<, MaskPack)
GROKPROP_PACK_ARITHMETIC(>, MaskPack)
#undef GROKPROP_PACK_ARITHMETIC

template <class T, std::size_t N, std::size_t P>
GROKPROP_INLINE Pack<T, N, P> operator-(const Pack<T, N, P>& a) noexcept {
    Pack<T, N, P> out;
    GROKPROP_PACK_LOOP(-a.v[i]);
}

namespace detail {
template <class T, std::size_t N, std::size_t P>
struct Lanes {
    using type = Pack<T, N, P>;
};
template <class T, std::size_t N>
struct Lanes<T, N, 1> {
    using type = simd::Vec<T, N>;
};
}  // namespace detail

/// P vectors of N lanes of T: Vec<T, N> itself for P == 1 (N == 1: the scalar T).
template <class T, std::size_t N, std::size_t P = 1>
using Vec = typename detail::Lanes<T, N, P>::type;

/// What a comparison of P vectors of N lanes gives (N == 1: bool), and one vector's integer
/// bits (power_of_two takes a pack's vectors one by one).
template <class T, std::size_t N>
using Cond1 = std::conditional_t<N == 1, bool, simd::Mask<T, N>>;
template <class T, std::size_t N, std::size_t P = 1>
using Cond = std::conditional_t<P == 1, Cond1<T, N>, MaskPack<T, N, P>>;
template <class T, std::size_t N>
using Bits = simd::UnsignedLanes<T, N>;

/// Every lane of the P vectors = x.
template <class T, std::size_t N, std::size_t P = 1>
GROKPROP_INLINE Vec<T, N, P> broadcast(T x) noexcept {
    if constexpr (P == 1) {
        return simd::broadcast<T, N>(x);
    } else {
        Vec<T, N, P> out;
        GROKPROP_PACK_LOOP((simd::broadcast<T, N>(x)));
    }
}

/// cond ? a : b, lane by lane (a bit blend: comparisons set every bit of a true lane).
template <class T, std::size_t N, std::size_t P = 1>
GROKPROP_INLINE Vec<T, N, P> select(Cond<T, N, P> cond, Vec<T, N, P> a,
                                    Vec<T, N, P> b) noexcept {
    if constexpr (P > 1) {
        Vec<T, N, P> out;
        GROKPROP_PACK_LOOP((select<T, N>(cond.v[i], a.v[i], b.v[i])));
    } else if constexpr (N == 1) {
        return cond ? a : b;
    } else {
        return simd::blend<T, N>(cond, a, b);
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
/// holds k + bias in its low bits, which the left shift moves into the exponent field while
/// it shifts the magic number's own exponent out (so the reference's mask of the low bits
/// before the shift is left out here; the same bits).
template <class T, std::size_t N, std::size_t P = 1>
GROKPROP_INLINE Vec<T, N, P> power_of_two(Vec<T, N, P> k) noexcept {
    using C = Constants<T>;
    if constexpr (P > 1) {
        Vec<T, N, P> out;
        GROKPROP_PACK_LOOP((power_of_two<T, N>(k.v[i])));
    } else {
        return from_bits<T, N>(bits_of<T, N>(k + C::bias_magic) << C::mantissa_bits);
    }
}

/// Horner: ((c[0] * r + c[1]) * r + ...) + c[n-1], written as c[i] + r * p.
template <class T, std::size_t N, std::size_t P, std::size_t M>
GROKPROP_INLINE Vec<T, N, P> horner(const T (&c)[M], Vec<T, N, P> r) noexcept {
    Vec<T, N, P> p = broadcast<T, N, P>(c[0]);
    // unrolled before GCC's loop passes see it: they would split a pack's chains apart
    GROKPROP_UNROLL
    for (std::size_t i = 1; i < M; ++i) {
        p = c[i] + r * p;
    }
    return p;
}

/// k, r and q of exp(x) = 2^k * (1 + r * q), for an x already in [lo, hi] (or NaN), given
/// x_inv_ln2 = x * inv_ln2 (rounded; tanh gets it with a multiplication fewer on its chain).
/// Out-parameters, not a struct of packs: GCC keeps a returned struct of packs in memory.
template <class T, std::size_t N, std::size_t P>
GROKPROP_INLINE void reduce_in_range(Vec<T, N, P> x, Vec<T, N, P> x_inv_ln2, Vec<T, N, P>& k,
                                     Vec<T, N, P>& r, Vec<T, N, P>& q) noexcept {
    using C = Constants<T>;
    k = (x_inv_ln2 + C::round_magic) - C::round_magic;
    r = (x - k * C::ln2_hi) - k * C::ln2_lo;
    q = horner<T, N, P>(C::exp_poly, r);
}

/// simd::bound on each vector: AtLeast, b where x < b, else x; otherwise b where x > b, else
/// x (a NaN x stays).
template <bool AtLeast, class T, std::size_t N, std::size_t P>
GROKPROP_INLINE Vec<T, N, P> bound(Vec<T, N, P> x, T b) noexcept {
    if constexpr (P > 1) {
        Vec<T, N, P> out;
        GROKPROP_PACK_LOOP((simd::bound<AtLeast, T, N>(x.v[i], b)));
    } else {
        return simd::bound<AtLeast, T, N>(x, b);
    }
}

/// x clamped to [lo, hi]: lo where x < lo, hi where x > hi (NaN passes, comparing false).
template <class T, std::size_t N, std::size_t P>
GROKPROP_INLINE Vec<T, N, P> clamp(Vec<T, N, P> x) noexcept {
    using C = Constants<T>;
    return bound<false, T, N, P>(bound<true, T, N, P>(x, C::lo), C::hi);
}

/// exp(x): +0 below lo (and for -inf), +inf above hi (and for +inf), NaN for NaN, exp(-0) = 1.
template <class T, std::size_t N, std::size_t P = 1>
GROKPROP_INLINE Vec<T, N, P> exp(Vec<T, N, P> x) noexcept {
    using C = Constants<T>;
    Vec<T, N, P> k, r, q;
    const Vec<T, N, P> in_range = clamp<T, N, P>(x);
    reduce_in_range<T, N, P>(in_range, in_range * C::inv_ln2, k, r, q);
    const Vec<T, N, P> k1 = (k * T(0.5) + C::round_magic) - C::round_magic;
    const Vec<T, N, P> k2 = k - k1;
    const Vec<T, N, P> p = T(1) + r * q;
    return (p * power_of_two<T, N, P>(k1)) * power_of_two<T, N, P>(k2);
}

/// sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, with e = exp(-|x|) <= 1
/// (one division, of the selected numerator).
template <class T, std::size_t N, std::size_t P = 1>
GROKPROP_INLINE Vec<T, N, P> sigmoid(Vec<T, N, P> x) noexcept {
    const Cond<T, N, P> negative = x < T(0);
    const Vec<T, N, P> e = exp<T, N, P>(select<T, N, P>(negative, x, -x));
    return select<T, N, P>(negative, e, broadcast<T, N, P>(T(1))) / (T(1) + e);
}

/// -|x|: x with its sign bit set (one OR; NaN stays NaN).
template <class T, std::size_t N, std::size_t P = 1>
GROKPROP_INLINE Vec<T, N, P> minus_magnitude(Vec<T, N, P> x) noexcept {
    if constexpr (P > 1) {
        Vec<T, N, P> out;
        GROKPROP_PACK_LOOP((minus_magnitude<T, N>(x.v[i])));
    } else {
        return from_bits<T, N>(bits_of<T, N>(x) | Constants<T>::sign_bit);
    }
}

/// -u where x > 0, u elsewhere (x <= 0 or NaN): u with its sign bit flipped by a mask.
template <class T, std::size_t N, std::size_t P = 1>
GROKPROP_INLINE Vec<T, N, P> negated_where_positive(Vec<T, N, P> u, Vec<T, N, P> x) noexcept {
    if constexpr (P > 1) {
        Vec<T, N, P> out;
        GROKPROP_PACK_LOOP((negated_where_positive<T, N>(u.v[i], x.v[i])));
    } else {
        using C = Constants<T>;
        Bits<T, N> flip;
        if constexpr (N == 1) {
            flip = x > T(0) ? C::sign_bit : 0;
        } else {
            flip = reinterpret_cast<Bits<T, N>>(x > T(0)) & C::sign_bit;
        }
        return from_bits<T, N>(bits_of<T, N>(u) ^ flip);
    }
}

/// tanh(x) = sign(x) * t, t = -m / (2 + m) with m = expm1(-2|x|) = (s - 1) + s * (r * q),
/// s = 2^k, and -2|x| clamped to tanh_lo (s stays normal; |x| = inf gives 1); tanh(-0) and
/// tanh(+0) are both +0. -2|x| is in [tanh_lo, 0] (or NaN), inside exp's [lo, hi]: exp's
/// clamps would change nothing and are left out (the reference and numba apply them).
///
/// The reference and numba compute a = (x < 0 ? -x : x), y = a * -2 clamped to tanh_lo,
/// k from y * inv_ln2, and (x < 0 ? -t : t) + 0. Here the same values come in fewer steps
/// on the dependency chain that bounds the sweep (BENCHMARKS.md): -|x| is x with its sign
/// bit set, clamped to tanh_lo / 2 and doubled (exact: y = -2|x| clamped); k comes from
/// -|x| * (2 inv_ln2), the same real product as y * inv_ln2, so the same rounding; and
/// u = m / (2 + m) = -t exactly (a quotient's sign is its operands'), negated where x > 0,
/// which gives +0 at x = +-0 (where m = +0) without the final + 0. Only a NaN's sign bit can
/// differ, and no comparison of results sees it (docs/design.md, "exp, sigmoid, tanh").
template <class T, std::size_t N, std::size_t P = 1>
GROKPROP_INLINE Vec<T, N, P> tanh(Vec<T, N, P> x) noexcept {
    using C = Constants<T>;
    static_assert(C::tanh_lo >= C::lo, "-2|x| must stay in exp's range");
    constexpr T half_lo = C::tanh_lo / 2;
    constexpr T two_inv_ln2 = 2 * C::inv_ln2;  // exact: a power of two times inv_ln2
    Vec<T, N, P> a = minus_magnitude<T, N, P>(x);
    a = bound<true, T, N, P>(a, half_lo);
    Vec<T, N, P> k, r, q;
    reduce_in_range<T, N, P>(a * T(2), a * two_inv_ln2, k, r, q);
    const Vec<T, N, P> s = power_of_two<T, N, P>(k);
    const Vec<T, N, P> m = (s - T(1)) + s * (r * q);
    return negated_where_positive<T, N, P>(m / (T(2) + m), x);
}

#undef GROKPROP_PACK_LOOP

}  // namespace expmath
}  // namespace GROKPROP_ISA
}  // namespace grokprop
