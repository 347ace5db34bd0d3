// The book's initialisation in C++: numpy.random.RandomState(seed).random_sample(), bit for bit.
//
// NumPy's legacy RandomState(int seed) is the reference MT19937 of Matsumoto and Nishimura:
// the state is seeded by init_genrand (key[0] = seed, key[i] = 1812433253 * (key[i-1] ^
// (key[i-1] >> 30)) + i), 624 words are regenerated at once ("twist") and every output word
// is tempered. random_sample() is genrand_res53: two words a, b give
// ((a >> 5) * 2^26 + (b >> 6)) / 2^53, an exact double in [0, 1).
//
// Building a RandomState costs a Python call and 624 serial state updates; sweeps need the
// first few dozen numbers of thousands of seeds. So book_uniforms_lanes() computes only the
// state words those numbers depend on, for L seeds at once (the L chains are independent
// and vectorise), and falls back to the whole generator when more numbers are needed.
// Header-only, no allocation beyond what the caller passes, no global state.
//
// Per-ISA builds: a translation unit compiled with other target flags (-mavx2, ...) must
// instantiate the templates with its own `Target` tag type, so that no out-of-line copy of
// code built for a newer ISA can be merged into the baseline path by the linker; the small
// word functions are always inlined for the same reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#if defined(__GNUC__)
#define GROKPROP_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define GROKPROP_ALWAYS_INLINE inline
#endif

namespace grokprop::mt19937 {

inline constexpr std::size_t state_words = 624;  // N
inline constexpr std::size_t shift_words = 397;  // M
inline constexpr std::uint32_t matrix_a = 0x9908b0dfU;
inline constexpr std::uint32_t upper_mask = 0x80000000U;
inline constexpr std::uint32_t lower_mask = 0x7fffffffU;

/// Words twisted without reading a word that this twist has already replaced:
/// new key[i] depends on old key[i], key[i + 1], key[i + M] for i < N - M.
inline constexpr std::size_t first_twist_words = state_words - shift_words;  // 227
/// random_sample() numbers computable from the first twist alone (two words each).
inline constexpr std::size_t fast_doubles = first_twist_words / 2;  // 113

/// init_genrand's recurrence: key[i] from key[i - 1].
GROKPROP_ALWAYS_INLINE constexpr std::uint32_t next_seed_word(std::uint32_t previous, std::uint32_t i) noexcept {
    return 1812433253U * (previous ^ (previous >> 30)) + i;
}

/// One word of the twist: the new key[i] from old key[i], key[i + 1] and key[i + M].
GROKPROP_ALWAYS_INLINE constexpr std::uint32_t twist(std::uint32_t current, std::uint32_t next,
                              std::uint32_t shifted) noexcept {
    const std::uint32_t y = (current & upper_mask) | (next & lower_mask);
    return shifted ^ (y >> 1) ^ ((y & 1U) != 0U ? matrix_a : 0U);
}

GROKPROP_ALWAYS_INLINE constexpr std::uint32_t temper(std::uint32_t y) noexcept {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
}

/// genrand_res53: the double random_sample() makes of two consecutive output words.
GROKPROP_ALWAYS_INLINE constexpr double res53(std::uint32_t a, std::uint32_t b) noexcept {
    return (static_cast<double>(a >> 5) * 67108864.0 + static_cast<double>(b >> 6)) /
           9007199254740992.0;
}

/// The whole generator, exactly numpy.random.RandomState(seed) (a plain reference MT19937).
template <class Target = void>
class Generator {
public:
    explicit Generator(std::uint32_t seed) noexcept {
        key_[0] = seed;
        for (std::size_t i = 1; i < state_words; ++i) {
            key_[i] = next_seed_word(key_[i - 1], static_cast<std::uint32_t>(i));
        }
    }

    std::uint32_t next_word() noexcept {
        if (pos_ == state_words) {
            regenerate();
        }
        return temper(key_[pos_++]);
    }

    /// numpy's random_sample(): one double in [0, 1).
    double random_sample() noexcept {
        const std::uint32_t a = next_word();
        const std::uint32_t b = next_word();
        return res53(a, b);
    }

private:
    void regenerate() noexcept {
        constexpr std::size_t n = state_words;
        constexpr std::size_t m = shift_words;
        for (std::size_t i = 0; i < n - m; ++i) {
            key_[i] = twist(key_[i], key_[i + 1], key_[i + m]);
        }
        for (std::size_t i = n - m; i < n - 1; ++i) {
            key_[i] = twist(key_[i], key_[i + 1], key_[i + m - n]);
        }
        key_[n - 1] = twist(key_[n - 1], key_[0], key_[m - 1]);
        pos_ = 0;
    }

    std::array<std::uint32_t, state_words> key_{};
    std::size_t pos_ = state_words;  // the first call twists, as numpy's does
};

/// Words of scratch book_uniforms_lanes<L> needs (for any count).
template <std::size_t L>
constexpr std::size_t lanes_scratch_words() noexcept {
    return (first_twist_words + 1 + first_twist_words) * L;
}

/// The first `count` random_sample() numbers of RandomState(seeds[lane]) for L seeds:
/// out[i * L + lane] is number i of seed `lane`. `scratch` holds lanes_scratch_words<L>().
///
/// For count <= fast_doubles only the seed words key[0 .. 2 count] and key[M .. M + 2 count)
/// are computed (the outputs come from the first twist); the L recurrences run side by side,
/// one lane per seed. Otherwise each seed runs the whole generator.
template <std::size_t L, class Target = void>
void book_uniforms_lanes(const std::uint32_t* seeds, std::size_t count, double* out,
                         std::uint32_t* scratch) noexcept {
    if (count > fast_doubles) {
        for (std::size_t lane = 0; lane < L; ++lane) {
            Generator<Target> generator(seeds[lane]);
            for (std::size_t i = 0; i < count; ++i) {
                out[i * L + lane] = generator.random_sample();
            }
        }
        return;
    }
    const std::size_t words = 2 * count;
    std::uint32_t* low = scratch;                                // key[0 .. words], L each
    std::uint32_t* high = scratch + (first_twist_words + 1) * L;  // key[M .. M + words)
    std::uint32_t key[L];
    for (std::size_t lane = 0; lane < L; ++lane) {
        key[lane] = seeds[lane];
        low[lane] = key[lane];
    }
    const std::size_t last = shift_words + words;  // one past the last word needed
    for (std::size_t i = 1; i < last; ++i) {
        for (std::size_t lane = 0; lane < L; ++lane) {
            key[lane] = next_seed_word(key[lane], static_cast<std::uint32_t>(i));
        }
        if (i <= words) {
            for (std::size_t lane = 0; lane < L; ++lane) {
                low[i * L + lane] = key[lane];
            }
        } else if (i >= shift_words) {
            for (std::size_t lane = 0; lane < L; ++lane) {
                high[(i - shift_words) * L + lane] = key[lane];
            }
        }
    }
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t w = 2 * i;  // output words w and w + 1 make number i
        for (std::size_t lane = 0; lane < L; ++lane) {
            const std::uint32_t a = temper(twist(low[w * L + lane], low[(w + 1) * L + lane],
                                                 high[w * L + lane]));
            const std::uint32_t b = temper(twist(low[(w + 1) * L + lane],
                                                 low[(w + 2) * L + lane],
                                                 high[(w + 1) * L + lane]));
            out[i * L + lane] = res53(a, b);
        }
    }
}

}  // namespace grokprop::mt19937
