/*
 * decimal_bench.c — nanoseconds per dec_parse, dec_format and dec_format_fixed.
 *
 * Usage: bookcast-decimal-bench <results file>
 *
 * A pool of strings in the mix a bookbuilder sees (spot prices and quantities with 8 decimals,
 * futures prices with the tick's decimals, COIN-M integer quantities, zeros for removed levels)
 * is built once from a fixed seed; each figure then cycles through it BENCH_OPERATIONS times.
 * Every result feeds a checksum that is written out, so the compiler cannot drop the work.
 * Figures are computed in integer nanoseconds (no floating point, as in the module itself).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "decimal.h"

#define BENCH_OPERATIONS 10000000u
#define POOL_SIZE 1024u /* a power of two: index with a mask */
#define BENCH_SEED UINT64_C(0x6465636d616c3031)

typedef struct {
    char text[DEC_STRLEN];
    size_t len;
    unsigned places; /* decimals as sent, for dec_format_fixed */
} pool_entry_t;

static uint64_t rng_next(uint64_t *state) /* splitmix64 */
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* One string of the mix: 35% spot prices, 25% spot quantities, 25% futures prices, 10% COIN-M
   quantities, 5% zero quantities. */
static void make_entry(uint64_t *rng, pool_entry_t *entry)
{
    unsigned kind = (unsigned)(rng_next(rng) % 100u);
    unsigned long long integer_part;
    unsigned long long fraction;
    unsigned places;
    if (kind < 35) { /* "43250.10000000": tick 0.01 on an 8-decimal string */
        integer_part = 1000u + rng_next(rng) % 90000u;
        fraction = (rng_next(rng) % 100u) * 1000000u;
        places = 8;
    } else if (kind < 60) { /* "0.00123000": step 0.00001 */
        integer_part = rng_next(rng) % 4u == 0 ? rng_next(rng) % 100u : 0u;
        fraction = (rng_next(rng) % 100000u) * 1000u;
        places = 8;
    } else if (kind < 85) { /* "43250.1", "0.2531": futures, tick-sized decimals */
        places = 1u + (unsigned)(rng_next(rng) % 4u);
        integer_part = rng_next(rng) % 100000u;
        unsigned long long modulus = 1;
        for (unsigned i = 0; i < places; i++)
            modulus *= 10u;
        fraction = rng_next(rng) % modulus;
    } else if (kind < 95) { /* "123": COIN-M contracts */
        integer_part = 1u + rng_next(rng) % 5000u;
        fraction = 0;
        places = 0;
    } else { /* "0.00000000": a level removed */
        integer_part = 0;
        fraction = 0;
        places = 8;
    }
    int written = places > 0 ? snprintf(entry->text, sizeof entry->text, "%llu.%0*llu",
                                        integer_part, (int)places, fraction)
                             : snprintf(entry->text, sizeof entry->text, "%llu", integer_part);
    entry->len = (size_t)written;
    entry->places = places;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("decimal-bench: clock_gettime(CLOCK_MONOTONIC)");
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Writes "name: <ns per op with 2 decimals> ns" using integer arithmetic. */
static int write_ns_per_op(FILE *out, const char *name, uint64_t elapsed_ns, uint64_t operations)
{
    uint64_t hundredths = (elapsed_ns * 100u + operations / 2u) / operations;
    return fprintf(out, "%s: %llu.%02llu ns\n", name, (unsigned long long)(hundredths / 100u),
                   (unsigned long long)(hundredths % 100u));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <results file>\n", argv[0]);
        return 2;
    }

    static pool_entry_t pool[POOL_SIZE];
    static dec_t values[POOL_SIZE];
    uint64_t rng = BENCH_SEED;
    for (unsigned i = 0; i < POOL_SIZE; i++) {
        make_entry(&rng, &pool[i]);
        dec_err_t err = dec_parse(pool[i].text, pool[i].len, 0, &values[i]);
        if (err != DEC_OK) {
            fprintf(stderr, "decimal-bench: generated \"%s\" does not parse: %s\n", pool[i].text,
                    dec_strerror(err));
            return 1;
        }
    }

    uint64_t checksum = 0;
    char buf[DEC_STRLEN];

    uint64_t start_ns = now_ns();
    for (unsigned i = 0; i < BENCH_OPERATIONS; i++) {
        const pool_entry_t *entry = &pool[i & (POOL_SIZE - 1u)];
        dec_t value;
        dec_err_t err = dec_parse(entry->text, entry->len, 0, &value);
        checksum += (uint64_t)value.units + (uint64_t)err;
    }
    uint64_t parse_ns = now_ns() - start_ns;

    start_ns = now_ns();
    for (unsigned i = 0; i < BENCH_OPERATIONS; i++) {
        size_t len = dec_format(values[i & (POOL_SIZE - 1u)], buf);
        checksum += len + (unsigned char)buf[len - 1];
    }
    uint64_t format_ns = now_ns() - start_ns;

    start_ns = now_ns();
    for (unsigned i = 0; i < BENCH_OPERATIONS; i++) {
        unsigned index = i & (POOL_SIZE - 1u);
        size_t len = dec_format_fixed(values[index], pool[index].places, buf);
        checksum += len + (unsigned char)buf[len ? len - 1 : 0];
    }
    uint64_t format_fixed_ns = now_ns() - start_ns;

    if (parse_ns == 0 || format_ns == 0 || format_fixed_ns == 0) {
        fprintf(stderr, "decimal-bench: the monotonic clock did not advance\n");
        return 1;
    }

    FILE *out = fopen(argv[1], "w");
    if (out == NULL) {
        fprintf(stderr, "decimal-bench: cannot write %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int ok =
        write_ns_per_op(out, "dec_parse_ns_per_op", parse_ns, BENCH_OPERATIONS) > 0 &&
        write_ns_per_op(out, "dec_format_ns_per_op", format_ns, BENCH_OPERATIONS) > 0 &&
        write_ns_per_op(out, "dec_format_fixed_ns_per_op", format_fixed_ns, BENCH_OPERATIONS) > 0 &&
        fprintf(out, "operations_per_figure: %u ops\n", BENCH_OPERATIONS) > 0 &&
        fprintf(out, "distinct_strings: %u strings\n", POOL_SIZE) > 0 &&
        fprintf(out, "checksum: %llu sum\n", (unsigned long long)checksum) > 0;
    if (fclose(out) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "decimal-bench: writing %s failed: %s\n", argv[1], strerror(errno));
        return 1;
    }
    return 0;
}
