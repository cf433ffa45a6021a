/*
 * rng.h — the sim's deterministic random numbers, integers only.
 *
 * Everything the sim draws comes from here so that one seed gives the same bytes on every
 * compiler, optimisation level and machine: xoshiro256** (Blackman & Vigna's public-domain
 * design, written out here) seeded through splitmix64, and helpers that never touch floating
 * point. Uniform draws reject the biased tail instead of taking a plain modulo; exponential
 * draws invert the distribution with a 257-entry table of -ln(x) in Q32 fixed point (generated
 * once with exact decimal arithmetic and pasted below), linearly interpolated, so a Poisson
 * process's inter-arrival times are exact integer functions of the generator's output.
 *
 * Rejected: rand()/random() (libc-specific sequences), drand48 and libm's log() (floating
 * point: results may differ across libms and with -ffast-math), a Mersenne Twister (2.5 KB of
 * state per symbol, and slower).
 *
 * Header-only: each function is small and sits on the engine's hot path.
 */
#ifndef BOOKCAST_SIM_RNG_H
#define BOOKCAST_SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} sim_rng_t;

/* One step of splitmix64: advances *state and returns a well-mixed 64-bit value. Used to seed
   xoshiro and to derive independent seeds from (seed, name) pairs. */
static inline uint64_t sim_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A stateless 64-bit mix (splitmix64's finaliser of x): for hashing seeds together. */
static inline uint64_t sim_mix64(uint64_t x)
{
    return sim_splitmix64(&x);
}

/* Seeds *rng from a 64-bit seed; every seed (0 included) gives a valid, distinct state. */
static inline void sim_rng_seed(sim_rng_t *rng, uint64_t seed)
{
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = sim_splitmix64(&sm);
    if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0) /* cannot happen; be certain */
        rng->s[0] = 1;
}

static inline uint64_t sim_rng_rotl_(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64 uniformly distributed bits (xoshiro256**). */
static inline uint64_t sim_rng_next(sim_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = sim_rng_rotl_(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rng_rotl_(s[3], 45);
    return result;
}

/* Uniform in [0, n) with no modulo bias; 0 when n is 0. For n < 2^32 this is Lemire's
   multiply-shift with rejection (one 64-bit multiply, rarely a division); above, a rejection
   of the partial last block of 2^64. */
static inline uint64_t sim_rng_below(sim_rng_t *rng, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (n <= UINT32_MAX) {
        uint32_t n32 = (uint32_t)n;
        uint64_t m = (sim_rng_next(rng) >> 32) * n32;
        uint32_t low = (uint32_t)m;
        if (low < n32) {
            uint32_t threshold = (uint32_t)(-n32) % n32; /* 2^32 mod n */
            while (low < threshold) {
                m = (sim_rng_next(rng) >> 32) * n32;
                low = (uint32_t)m;
            }
        }
        return m >> 32;
    }
    uint64_t threshold = (-n) % n; /* 2^64 mod n: reject the first `threshold` values */
    uint64_t r;
    do
        r = sim_rng_next(rng);
    while (r < threshold);
    return r % n;
}

/* Uniform in [lo, hi] (inclusive); lo when hi <= lo. */
static inline int64_t sim_rng_range(sim_rng_t *rng, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    uint64_t span = (uint64_t)hi - (uint64_t)lo; /* hi - lo without signed overflow */
    if (span == UINT64_MAX)
        return (int64_t)sim_rng_next(rng);
    return (int64_t)((uint64_t)lo + sim_rng_below(rng, span + 1));
}

/* True with probability ppm / 1,000,000 (0 never, >= 1,000,000 always). */
static inline bool sim_rng_chance_ppm(sim_rng_t *rng, uint32_t ppm)
{
    return sim_rng_below(rng, 1000000u) < ppm;
}

/* A standard exponential variate (mean 1) in Q32 fixed point: -ln(U) × 2^32 for U uniform in
   (0, 1]. At most 44.4 × 2^32 (U = 2^-64). Inversion: U = m × 2^-(64+lz) with m normalised to
   [2^63, 2^64), so -ln(U) = lz·ln2 - ln(m / 2^64), the latter from the table by interpolation
   (absolute error below 2e-6). */
static inline uint64_t sim_rng_exp_q32(sim_rng_t *rng)
{
    /* table[i] = round(-ln(0.5 + i/512) × 2^32), i = 0..256 */
    static const uint32_t table[257] = {
        2977044472u, 2960299939u, 2943620433u, 2927005452u, 2910454498u, 2893967079u,
        2877542710u, 2861180910u, 2844881204u, 2828643123u, 2812466203u, 2796349984u,
        2780294013u, 2764297840u, 2748361023u, 2732483122u, 2716663704u, 2700902338u,
        2685198601u, 2669552073u, 2653962338u, 2638428985u, 2622951609u, 2607529807u,
        2592163181u, 2576851338u, 2561593890u, 2546390450u, 2531240638u, 2516144076u,
        2501100392u, 2486109217u, 2471170186u, 2456282936u, 2441447110u, 2426662354u,
        2411928318u, 2397244655u, 2382611021u, 2368027078u, 2353492488u, 2339006918u,
        2324570040u, 2310181526u, 2295841054u, 2281548305u, 2267302961u, 2253104709u,
        2238953239u, 2224848243u, 2210789418u, 2196776461u, 2182809076u, 2168886965u,
        2155009838u, 2141177403u, 2127389374u, 2113645467u, 2099945400u, 2086288895u,
        2072675675u, 2059105467u, 2045577999u, 2032093005u, 2018650217u, 2005249372u,
        1991890209u, 1978572470u, 1965295899u, 1952060242u, 1938865248u, 1925710667u,
        1912596253u, 1899521761u, 1886486949u, 1873491577u, 1860535406u, 1847618201u,
        1834739729u, 1821899758u, 1809098057u, 1796334401u, 1783608562u, 1770920319u,
        1758269449u, 1745655732u, 1733078952u, 1720538893u, 1708035340u, 1695568083u,
        1683136909u, 1670741613u, 1658381986u, 1646057825u, 1633768926u, 1621515088u,
        1609296111u, 1597111799u, 1584961954u, 1572846382u, 1560764891u, 1548717289u,
        1536703387u, 1524722996u, 1512775930u, 1500862005u, 1488981037u, 1477132844u,
        1465317245u, 1453534063u, 1441783119u, 1430064238u, 1418377245u, 1406721967u,
        1395098232u, 1383505871u, 1371944714u, 1360414593u, 1348915343u, 1337446799u,
        1326008797u, 1314601174u, 1303223771u, 1291876427u, 1280558983u, 1269271284u,
        1258013171u, 1246784492u, 1235585093u, 1224414820u, 1213273524u, 1202161054u,
        1191077261u, 1180021998u, 1168995119u, 1157996477u, 1147025929u, 1136083331u,
        1125168542u, 1114281420u, 1103421825u, 1092589619u, 1081784665u, 1071006824u,
        1060255961u, 1049531943u, 1038834634u, 1028163902u, 1017519616u, 1006901644u,
        996309858u,  985744127u,  975204325u,  964690324u,  954201998u,  943739222u,
        933301872u,  922889825u,  912502959u,  902141151u,  891804281u,  881492230u,
        871204878u,  860942108u,  850703802u,  840489844u,  830300118u,  820134511u,
        809992907u,  799875193u,  789781259u,  779710991u,  769664279u,  759641013u,
        749641085u,  739664385u,  729710807u,  719780242u,  709872585u,  699987731u,
        690125574u,  680286012u,  670468939u,  660674255u,  650901856u,  641151642u,
        631423513u,  621717368u,  612033109u,  602370636u,  592729852u,  583110661u,
        573512964u,  563936668u,  554381675u,  544847893u,  535335226u,  525843582u,
        516372867u,  506922990u,  497493860u,  488085384u,  478697474u,  469330039u,
        459982990u,  450656238u,  441349697u,  432063277u,  422796893u,  413550459u,
        404323887u,  395117094u,  385929995u,  376762505u,  367614542u,  358486021u,
        349376861u,  340286980u,  331216296u,  322164728u,  313132196u,  304118620u,
        295123921u,  286148020u,  277190838u,  268252297u,  259332320u,  250430830u,
        241547751u,  232683006u,  223836520u,  215008219u,  206198026u,  197405869u,
        188631673u,  179875366u,  171136874u,  162416125u,  153713048u,  145027570u,
        136359621u,  127709130u,  119076027u,  110460242u,  101861706u,  93280350u,
        84716105u,   76168904u,   67638678u,   59125361u,   50628884u,   42149183u,
        33686191u,   25239841u,   16810070u,   8396811u,    0u,
    };
    const uint64_t ln2_q32 = 2977044472u; /* ln 2 × 2^32 = table[0] */
    uint64_t r = sim_rng_next(rng);
    if (r == 0)
        r = 1; /* U = 2^-64 instead of 0: -ln(0) is infinite */
    unsigned lz = 0;
    while ((r & (UINT64_C(1) << 63)) == 0) { /* at most 63 steps, 1 on average */
        r <<= 1;
        lz++;
    }
    unsigned index = (unsigned)((r >> 55) & 0xffu);
    uint64_t frac = (r >> 23) & 0xffffffffu; /* the 32 bits below the index, as a Q32 fraction */
    uint64_t hi = table[index], lo = table[index + 1];
    uint64_t ln_part = hi - (((hi - lo) * frac) >> 32);
    return (uint64_t)lz * ln2_q32 + ln_part;
}

/* An exponential variate with the given mean, rounded to the nearest integer: the waiting time
   of a Poisson process in whatever unit `mean` is in. mean must stay below 2^26 (≈ 67 s in µs)
   so the product fits; larger means are clamped there. */
#define SIM_RNG_EXP_MEAN_MAX (UINT64_C(1) << 26)
static inline uint64_t sim_rng_exp(sim_rng_t *rng, uint64_t mean)
{
    if (mean > SIM_RNG_EXP_MEAN_MAX)
        mean = SIM_RNG_EXP_MEAN_MAX;
    uint64_t e = sim_rng_exp_q32(rng); /* <= 44.4 × 2^32 */
    return (mean * e + (UINT64_C(1) << 31)) >> 32; /* mean × e <= 2^26 × 1.91e11 < 1.3e19 */
}

#endif
