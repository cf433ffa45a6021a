/*
 * decimal.h — exact decimal numbers as Binance writes them, in 64-bit fixed point.
 *
 * Binance sends prices and quantities as JSON strings ("43250.10000000", "0.010", "123"). A
 * dec_t holds such a value exactly as a count of 10^-8 units, the finest step Binance quotes, so
 * "0.001" is 100000 units and comparisons, sums and equality are plain integer operations. No
 * floating point is used anywhere: a book keyed by a rounded double loses levels.
 *
 * The range is that of int64_t units: -92233720368.54775808 … 92233720368.54775807.
 *
 * Nothing here allocates and nothing keeps state; every function is thread-safe.
 */
#ifndef BOOKCAST_DECIMAL_H
#define BOOKCAST_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* A decimal value: value × 10^8, as a type so it is never mistaken for cents or satoshis. */
typedef struct {
    int64_t units;
} dec_t;

#define DEC_SCALE 100000000LL /* units per 1 */
#define DEC_PLACES 8          /* Binance quotes at most 8 decimal places */

/* Bytes a formatted dec_t may need, NUL included. The longest is "-92233720368.54775808"
   (21 characters + NUL = 22); decimal.c checks this at compile time. */
#define DEC_STRLEN 24

typedef enum {
    DEC_OK = 0,
    DEC_ERR_EMPTY,             /* no characters at all */
    DEC_ERR_SIGN,              /* '+', or '-' without DEC_ALLOW_NEGATIVE */
    DEC_ERR_SYNTAX,            /* anything but digits [ '.' digits ]: ".5", "5.", "1.2.3", " 1" */
    DEC_ERR_TOO_MANY_DECIMALS, /* a 9th fractional digit, even a zero */
    DEC_ERR_EXPONENT,          /* "1e-8", "1E8": exponent notation */
    DEC_ERR_OVERFLOW,          /* beyond the int64 range of units */
} dec_err_t;

/* Flags for dec_parse. */
#define DEC_ALLOW_NEGATIVE 1u /* accept a leading '-' (prices and sizes never have one) */

/* Parses the `len` bytes at `s` (not necessarily NUL-terminated; NUL inside `len` is a syntax
   error) as  ['-'] digit+ [ '.' digit{1,8} ]. Leading zeros are accepted ("00.5"), "-0" is 0.
   A lone "-" is DEC_ERR_SYNTAX with or without DEC_ALLOW_NEGATIVE; "+" is always DEC_ERR_SIGN.
   The exact int64 range is accepted, INT64_MIN ("-92233720368.54775808") included.
   When a string has several faults, the leftmost offending character decides the error, except
   that DEC_ERR_OVERFLOW is only reported for a string that is otherwise well-formed.
   Writes *out only on DEC_OK; never allocates. `s` may be NULL only when `len` is 0. */
dec_err_t dec_parse(const char *s, size_t len, unsigned flags, dec_t *out);

/* The fast path of readers that find numbers inside larger text: reads the plain decimal at s
   (before end) — 1 to 11 integer digits, optionally '.' and 1 to 8 digits, no sign — stopping at
   the first byte that cannot continue it. Returns the bytes read, with *out and *places (the
   fractional digits written); 0 when the text there is anything else (a sign, an empty part,
   too many digits, out of range, a digit or point right after), which the caller then hands to
   dec_parse for the verdict. Whatever it reads, dec_parse reads to the same value. */
size_t dec_scan(const char *s, const char *end, dec_t *out, uint8_t *places);

/* A reason for `err` a person can act on, e.g. "more than 8 decimal places". A static string,
   never NULL (unknown values get a generic text). */
const char *dec_strerror(dec_err_t err);

/* Writes the shortest exact form of `d` into `buf` and NUL-terminates it: 100000 units → "0.001",
   0 → "0", 5 × DEC_SCALE → "5", negatives with a leading '-'. dec_parse reads it back to the same
   units. Returns the length (never 0). */
size_t dec_format(dec_t d, char buf[DEC_STRLEN]);

/* Writes `d` with exactly `places` (0..8) fractional digits and no '.' when `places` is 0:
   spot's "0.00100000", futures' "43250.1", COIN-M's "123". Returns the length, or 0 with buf = ""
   when `places` > 8 or when `d` has a nonzero digit beyond `places` — it never rounds. */
size_t dec_format_fixed(dec_t d, unsigned places, char buf[DEC_STRLEN]);

/* -1, 0 or 1 as a is less than, equal to or greater than b. */
static inline int dec_cmp(dec_t a, dec_t b)
{
    return (a.units > b.units) - (a.units < b.units);
}

/* Nonzero when d is zero (Binance's "0.00000000" means "remove this level"). */
static inline int dec_is_zero(dec_t d)
{
    return d.units == 0;
}

#endif
