// Portable SIMD for the kernels: vectors of T with N lanes, and the instruction-set namespace.
//
// Instruction sets. The kernels are compiled more than once: for the baseline of the target
// (x86-64: SSE2) and, on x86-64, again with -mavx2 and with -mavx512f (cpp/src/kernel_table.cpp,
// chosen at run time by cpp/src/simd_dispatch.cpp). Every function of these headers lives in
// the inline namespace GROKPROP_ISA (baseline, avx2 or avx512, set by the build for each
// compilation), so the copies compiled for different instruction sets have different names:
// the linker can never merge an AVX-512 template instance into the baseline code (an ODR
// violation that would crash older CPUs). Headers compiled per instruction set therefore use
// no out-of-line templates from outside their namespace (no std::vector, std::min, ...).
//
// Vectors. With GCC and Clang, Vec<T, N> is a vector-extension type: + - * / on it are lane-
// wise IEEE operations, exactly the scalar ones (the build keeps -ffp-contract=off, so a
// product is never fused into a following sum). Lanes never mix: a vector holds N independent
// sums, so vectorising over an output index keeps every sum's order (docs/design.md,
// "Evaluation order"). Other compilers (MSVC) get Vec<T, N> = T with one lane: the same code,
// scalar. The activations on vectors are in grokprop/activation.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#ifndef GROKPROP_ISA
#define GROKPROP_ISA baseline
#endif

#if defined(_MSC_VER)
#define GROKPROP_RESTRICT __restrict
#else
#define GROKPROP_RESTRICT __restrict__
#endif

// GROKPROP_VECTOR_EXTENSIONS=0 (e.g. -D on the command line) builds the scalar code other
// compilers get, to test it with GCC or Clang.
#ifndef GROKPROP_VECTOR_EXTENSIONS
#if defined(__GNUC__) || defined(__clang__)
#define GROKPROP_VECTOR_EXTENSIONS 1
#else
#define GROKPROP_VECTOR_EXTENSIONS 0
#endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#define GROKPROP_INLINE inline __attribute__((always_inline))
// Unroll a loop over the vectors of a register tile completely, so that they stay in registers.
#define GROKPROP_UNROLL _Pragma("GCC unroll 32")
#else
#define GROKPROP_INLINE inline
#define GROKPROP_UNROLL
#endif

namespace grokprop {
inline namespace GROKPROP_ISA {
namespace simd {

/// The widest vector the instruction set of this compilation has, in bytes.
#if !GROKPROP_VECTOR_EXTENSIONS
inline constexpr std::size_t register_bytes = 8;
inline constexpr std::size_t register_count = 16;
#elif defined(__AVX512F__)
inline constexpr std::size_t register_bytes = 64;
inline constexpr std::size_t register_count = 32;
#elif defined(__AVX__)
inline constexpr std::size_t register_bytes = 32;
inline constexpr std::size_t register_count = 16;
#elif defined(__SSE2__) || defined(__ARM_NEON) || defined(__aarch64__) || defined(__ALTIVEC__)
inline constexpr std::size_t register_bytes = 16;
inline constexpr std::size_t register_count = 16;
#else
inline constexpr std::size_t register_bytes = 8;
inline constexpr std::size_t register_count = 16;
#endif

/// Lanes of T in the widest vector (1 without vector extensions).
template <class T>
inline constexpr std::size_t max_lanes =
    GROKPROP_VECTOR_EXTENSIONS && register_bytes >= sizeof(T) ? register_bytes / sizeof(T) : 1;

/// The unsigned integer of T's size (a lane's bits).
template <class T>
using UnsignedOf = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>;

template <class T, std::size_t N>
struct VecType {
    static_assert(N == 1, "vector types need GCC/Clang vector extensions");
    using type = T;
    using bits = UnsignedOf<T>;
};

#if GROKPROP_VECTOR_EXTENSIONS
// One specialisation per width: vector_size cannot take a dependent size on every compiler.
// aligned(alignof(T)) lets load/store use any element address (unaligned vector access);
// may_alias lets them read and write arrays of T through the vector type.
#define GROKPROP_VEC(T, N)                                                                    \
    template <>                                                                               \
    struct VecType<T, N> {                                                                    \
        typedef T type __attribute__((vector_size(N * sizeof(T)), aligned(alignof(T)), may_alias)); \
        typedef UnsignedOf<T> bits __attribute__((vector_size(N * sizeof(T))));             \
    }
GROKPROP_VEC(double, 2);
GROKPROP_VEC(float, 2);
GROKPROP_VEC(float, 4);
#if defined(__AVX__) || defined(__AVX512F__)
GROKPROP_VEC(double, 4);
GROKPROP_VEC(float, 8);
#endif
#if defined(__AVX512F__)
GROKPROP_VEC(double, 8);
GROKPROP_VEC(float, 16);
#endif
#undef GROKPROP_VEC
#endif

/// N lanes of T (N == 1: T itself).
template <class T, std::size_t N>
using Vec = typename VecType<T, N>::type;

/// The bits of N lanes of T as unsigned integers (N == 1: one unsigned integer); shifts on
/// them are defined for every value.
template <class T, std::size_t N>
using UnsignedLanes = typename VecType<T, N>::bits;

template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> load(const T* p) noexcept {
    if constexpr (N == 1) {
        return *p;
    } else {
        return *reinterpret_cast<const Vec<T, N>*>(p);
    }
}

template <class T, std::size_t N>
GROKPROP_INLINE void store(T* p, Vec<T, N> v) noexcept {
    if constexpr (N == 1) {
        *p = v;
    } else {
        *reinterpret_cast<Vec<T, N>*>(p) = v;
    }
}

namespace detail {
template <class T, std::size_t N, std::size_t... I>
GROKPROP_INLINE Vec<T, N> splat(T x, std::index_sequence<I...> /*lanes*/) noexcept {
    return Vec<T, N>{(static_cast<void>(I), x)...};
}
}  // namespace detail

/// Every lane = x (no arithmetic: -0 and NaN stay as they are).
template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> broadcast(T x) noexcept {
    if constexpr (N == 1) {
        return x;
    } else {
        return detail::splat<T, N>(x, std::make_index_sequence<N>{});
    }
}

#if defined(__SSE2__) && GROKPROP_VECTOR_EXTENSIONS
#define GROKPROP_X86_MINMAX 1
#else
#define GROKPROP_X86_MINMAX 0
#endif

#if GROKPROP_X86_MINMAX
namespace detail {
/// Whether this compilation has x86's max and min instructions for Vec<T, N>.
template <class T, std::size_t N>
inline constexpr bool has_x86_minmax =
    N > 1 && (sizeof(Vec<T, N>) == 16 || (sizeof(Vec<T, N>) == 32 && register_bytes >= 32) ||
              (sizeof(Vec<T, N>) == 64 && register_bytes >= 64));

// return Max ? max(a, b) : min(a, b), with the intrinsics of one register width and type
#define GROKPROP_MINMAX(width, type, reg)                         \
    return Max ? V(_mm##width##_max_##type(reg(a), reg(b)))       \
               : V(_mm##width##_min_##type(reg(a), reg(b)))

/// x86's max (Max) or min instruction: a where a > b (a < b), else b -- b also where either
/// is NaN.
template <bool Max, class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> x86_minmax(Vec<T, N> a, Vec<T, N> b) noexcept {
    using V = Vec<T, N>;
    constexpr bool f64 = sizeof(T) == 8;
#if defined(__AVX512F__)
    if constexpr (sizeof(V) == 64) {
        if constexpr (f64) {
            GROKPROP_MINMAX(512, pd, __m512d);
        } else {
            GROKPROP_MINMAX(512, ps, __m512);
        }
    } else
#endif
#if defined(__AVX__)
    if constexpr (sizeof(V) == 32) {
        if constexpr (f64) {
            GROKPROP_MINMAX(256, pd, __m256d);
        } else {
            GROKPROP_MINMAX(256, ps, __m256);
        }
    } else
#endif
    if constexpr (f64) {
        GROKPROP_MINMAX(, pd, __m128d);
    } else {
        GROKPROP_MINMAX(, ps, __m128);
    }
}
#undef GROKPROP_MINMAX
}  // namespace detail
#endif

/// The integer vector of the same lane width (what a comparison of Vec<T, N> gives).
#if GROKPROP_VECTOR_EXTENSIONS
template <class T, std::size_t N>
using Mask = decltype(Vec<T, N>{} > Vec<T, N>{});
#else
template <class T, std::size_t N>
using Mask = T;  // never used: every Vec has one lane
#endif

/// cond ? a : b, lane by lane (N > 1; a bit blend: a comparison sets every bit of a true
/// lane).
template <class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> blend(Mask<T, N> cond, Vec<T, N> a, Vec<T, N> b) noexcept {
    using M = Mask<T, N>;
    return reinterpret_cast<Vec<T, N>>((reinterpret_cast<M>(a) & cond) |
                                       (reinterpret_cast<M>(b) & ~cond));
}

/// AtLeast: b where x < b, else x; otherwise b where x > b, else x. A NaN x stays. x86's max
/// (min) with b as the first operand computes exactly this in one instruction, where a
/// compare and a select take two (GCC does not find it in the select when b is a constant).
template <bool AtLeast, class T, std::size_t N>
GROKPROP_INLINE Vec<T, N> bound(Vec<T, N> x, T b) noexcept {
    if constexpr (N == 1) {
        return (AtLeast ? x < b : x > b) ? b : x;
    } else {
        const Vec<T, N> bv = broadcast<T, N>(b);
#if GROKPROP_X86_MINMAX
        if constexpr (detail::has_x86_minmax<T, N>) {
            return detail::x86_minmax<AtLeast, T, N>(bv, x);
        } else
#endif
        {
            return blend<T, N>(AtLeast ? x < bv : x > bv, bv, x);
        }
    }
}

/// Compile-time width of a block of columns: C vectors of N lanes.
template <std::size_t N, std::size_t C>
struct Block {
    static constexpr std::size_t lanes = N;
    static constexpr std::size_t vectors = C;
    static constexpr std::size_t width = N * C;
};

/// Calls f(Block<N, C>{}, j0) for consecutive column blocks covering [0, n): blocks of C
/// vectors of the widest width first, then of C/2, C/4, ... vectors, then single vectors of
/// halving widths, down to scalars.
template <class T, std::size_t C, std::size_t N = max_lanes<T>, class F>
GROKPROP_INLINE void for_column_blocks(std::size_t n, F&& f, std::size_t j0 = 0) noexcept {
    for (; j0 + N * C <= n; j0 += N * C) {
        f(Block<N, C>{}, j0);
    }
    if constexpr (C > 1) {
        for_column_blocks<T, C / 2, N>(n, f, j0);
    } else if constexpr (N > 1) {
        for_column_blocks<T, 1, N / 2>(n, f, j0);
    }
}

}  // namespace simd
}  // namespace GROKPROP_ISA
}  // namespace grokprop
