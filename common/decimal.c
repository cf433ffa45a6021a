/*
 * decimal.c — parsing and formatting Binance's decimal strings as 64-bit fixed point.
 *
 * What it is for. Every price and quantity the bookbuilder sees arrives as a JSON string such as
 * "43250.10000000" (spot), "43250.1" or "0.010" (USDⓈ-M futures, decimals follow the tick size)
 * or "123" (COIN-M quantities, in contracts). The book is keyed by price and a level is removed
 * when its quantity is exactly zero, so values must compare exactly: they are parsed into a
 * dec_t, an int64_t count of 10^-8 units, and written back out without loss.
 *
 * Why fixed point with 8 places. Binance quotes at most 8 decimal places (tick and step sizes go
 * down to 0.00000001), so a single scale of 10^8 represents every value it sends, and one scale
 * for every symbol means values never carry their scale around and compare as plain integers.
 * int64_t units then reach ±92233720368.54775807, well above any price or quantity Binance lists.
 *
 * Grammar.   ['-'] digit+ [ '.' digit{1,8} ]
 * '-' only with DEC_ALLOW_NEGATIVE. Leading zeros in the integer part are accepted ("00.5").
 *
 * Parsing is one left-to-right pass with no allocation and no library calls. Digits accumulate
 * into an unsigned 64-bit magnitude; before each multiplication by 10 the magnitude is compared
 * with the largest value that cannot wrap, so arbitrarily long digit strings are safe. The
 * magnitude is then scaled by 10^(8 - fractional digits), again checked before multiplying. The
 * limit is INT64_MAX, or INT64_MAX + 1 for a negative value, so the whole int64 range, INT64_MIN
 * included, parses and overflow is detected exactly at the boundary. Syntax faults return at the
 * offending character; overflow is only reported once the rest of the string is known to be
 * well-formed, so a malformed string is never called merely "too large".
 *
 * Rejected alternatives.
 *  - strtod / double: 0.1 has no exact binary form, so two spellings of one price could become
 *    two book levels and a "0.00000000" test could miss; and the rounding is invisible.
 *  - strtoll on each half: accepts leading spaces, '+', "0x", depends on errno, needs a NUL
 *    terminator the JSON parser's slice does not have, and says nothing about which rule broke.
 *  - A per-symbol scale or 128-bit values: 8 places and int64 already cover every Binance market;
 *    a second scale would have to travel with every value.
 *  - Accepting exponent forms or rounding a 9th decimal: Binance sends neither. If it ever does,
 *    its format changed and we want a named error in the log, not a silently different number.
 */
#include "decimal.h"

#include <string.h>

/* The longest formatted value is INT64_MIN; DEC_STRLEN must hold it and its NUL. */
_Static_assert(sizeof("-92233720368.54775808") <= DEC_STRLEN, "DEC_STRLEN too small");
_Static_assert(DEC_SCALE == 100000000LL && DEC_PLACES == 8, "DEC_SCALE must be 10^DEC_PLACES");

/* 10^k for k = 0 … DEC_PLACES. */
static const uint64_t pow10_u64[DEC_PLACES + 1] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
};

/* A magnitude above this would wrap in magnitude * 10 + 9. */
#define MAGNITUDE_MAX_BEFORE_DIGIT ((UINT64_MAX - 9u) / 10u)

/* Largest unscaled magnitude that stays within the limit after scaling by 10^(8 - fraction
   digits), indexed by [negative][fraction digits]. Only [1][8] differs: 2^63 is the one limit a
   power of ten (1) divides. */
#define MAX_UNSCALED(limit)                                                                        \
    {                                                                                              \
        (limit) / 100000000u, (limit) / 10000000u, (limit) / 1000000u, (limit) / 100000u,          \
            (limit) / 10000u, (limit) / 1000u, (limit) / 100u, (limit) / 10u, (limit)              \
    }
static const uint64_t max_unscaled[2][DEC_PLACES + 1] = {
    MAX_UNSCALED((uint64_t)INT64_MAX),
    MAX_UNSCALED((uint64_t)INT64_MAX + 1u),
};

static inline unsigned digit_value(char c)
{
    return (unsigned)((unsigned char)c - (unsigned char)'0'); /* >= 10 when not a digit */
}

/* The error for an unexpected character: 'e'/'E' says what the writer meant, so name it. */
static inline dec_err_t unexpected_char_error(char c)
{
    return (c == 'e' || c == 'E') ? DEC_ERR_EXPONENT : DEC_ERR_SYNTAX;
}

/* Eight ASCII digits at p (unaligned, little-endian load) as their value: 1 and *value, or 0
   when one of the bytes is not a digit. Every byte is checked at once: a digit's high nibble is
   3, and adding 6 keeps it 3 only for '0'..'9'. */
static inline int eight_digits(const char *p, uint64_t *value)
{
    uint64_t x;
    memcpy(&x, p, 8);
    if (((x & 0xF0F0F0F0F0F0F0F0ULL) |
         (((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) != 0x3333333333333333ULL)
        return 0;
    x -= 0x3030303030303030ULL;
    x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
    x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
    x = (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
    *value = x;
    return 1;
}

/* The leading run of digits among the 8 bytes at p: how many (0..8) and, in *value, what they
   read as. All 8 bytes must be readable. Non-digit bytes are found all at once (as in
   eight_digits); the digits are shifted to the top so that the vacated bytes read as leading
   zeros, and converted in three multiply steps. */
static inline unsigned leading_digits(const char *p, uint64_t *value)
{
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t bad = ((x & 0xF0F0F0F0F0F0F0F0ULL) |
                    (((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) ^
                   0x3333333333333333ULL;
    /* A byte that is not a digit may carry into the next when 6 is added: only the bytes
       before the first bad one are trusted, which is all that is used. */
    unsigned n = bad ? (unsigned)__builtin_ctzll(bad) / 8 : 8;
    if (n == 0) {
        *value = 0;
        return 0;
    }
    x -= 0x3030303030303030ULL;
    x <<= 8 * (8 - n);
    x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
    x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
    x = (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
    *value = x;
    return n;
}

/* dec_scan where 8 bytes can be read at each step. */
static inline size_t scan_wide(const char *s, const char *end, dec_t *out, uint8_t *places)
{
    uint64_t magnitude, fraction = 0;
    unsigned integer_digits = leading_digits(s, &magnitude);
    if (integer_digits == 0 || integer_digits == 8) /* 8 or more: the careful path */
        return SIZE_MAX;
    const char *p = s + integer_digits;
    unsigned fraction_digits = 0;
    if (*p == '.') {
        p++;
        if (end - p < 9)
            return SIZE_MAX;
        fraction_digits = leading_digits(p, &fraction);
        if (fraction_digits == 0)
            return 0;
        p += fraction_digits;
        if (fraction_digits == 8 && (unsigned)(*p - '0') < 10u)
            return 0; /* a ninth decimal: dec_parse gives the verdict */
    }
    if (*p == '.')
        return 0;
    magnitude = magnitude * pow10_u64[fraction_digits] + fraction;
    /* At most 7 integer digits: 9999999.99999999 is far inside the range. */
    out->units = (int64_t)(magnitude * pow10_u64[DEC_PLACES - fraction_digits]);
    *places = (uint8_t)fraction_digits;
    return (size_t)(p - s);
}

size_t dec_scan(const char *s, const char *end, dec_t *out, uint8_t *places)
{
    /* 18 bytes: 7 integer digits, the point, 8 decimals, and the two bytes checked after. */
    if (end - s >= 18) {
        size_t n = scan_wide(s, end, out, places);
        if (n != SIZE_MAX)
            return n;
    }
    const char *p = s;
    uint64_t magnitude = 0;
    while (p < end && (unsigned)(*p - '0') < 10u && p - s < 12)
        magnitude = magnitude * 10u + (unsigned)(*p++ - '0');
    size_t integer_digits = (size_t)(p - s);
    if (integer_digits == 0 || integer_digits > 11)
        return 0;
    unsigned fraction_digits = 0;
    if (p < end && *p == '.') {
        p++;
        uint64_t fraction;
        if (end - p >= 8 && eight_digits(p, &fraction)) {
            magnitude = magnitude * 100000000u + fraction;
            p += 8;
            fraction_digits = 8;
        } else {
            while (p < end && (unsigned)(*p - '0') < 10u && fraction_digits < 8) {
                magnitude = magnitude * 10u + (unsigned)(*p++ - '0');
                fraction_digits++;
            }
            if (fraction_digits == 0)
                return 0;
        }
    }
    /* What follows must end the number: another digit or point is for dec_parse to judge. */
    if (p < end && ((unsigned)(*p - '0') < 10u || *p == '.'))
        return 0;
    magnitude *= pow10_u64[DEC_PLACES - fraction_digits];
    if (magnitude > (uint64_t)INT64_MAX)
        return 0;
    out->units = (int64_t)magnitude;
    *places = (uint8_t)fraction_digits;
    return (size_t)(p - s);
}

dec_err_t dec_parse(const char *s, size_t len, unsigned flags, dec_t *out)
{
    /* What Binance sends almost always is a plain decimal dec_scan reads whole; anything else,
       and every error, is for the general parser below. */
    if (len > 0) {
        dec_t fast;
        uint8_t places;
        if (dec_scan(s, s + len, &fast, &places) == len) {
            *out = fast;
            return DEC_OK;
        }
    }
    if (len == 0)
        return DEC_ERR_EMPTY;
    const char *p = s;
    const char *end = s + len;

    int negative = 0;
    if (*p == '+')
        return DEC_ERR_SIGN;
    if (*p == '-') {
        if (len == 1)
            return DEC_ERR_SYNTAX; /* a sign with no number is not a number */
        if (!(flags & DEC_ALLOW_NEGATIVE))
            return DEC_ERR_SIGN;
        negative = 1;
        p++;
    }

    /* The magnitude never wraps unless `overflow` is set first, after which it is not used. */
    uint64_t magnitude = 0;
    int overflow = 0;
    unsigned digit;

    const char *integer_start = p;
    while (p < end && (digit = digit_value(*p)) < 10) {
        overflow |= magnitude > MAGNITUDE_MAX_BEFORE_DIGIT;
        magnitude = magnitude * 10u + digit;
        p++;
    }
    if (p == integer_start)
        return DEC_ERR_SYNTAX; /* ".5", "-.5", "x": no integer digits */

    unsigned fraction_digits = 0;
    if (p < end && *p == '.') {
        p++;
        while (p < end && (digit = digit_value(*p)) < 10) {
            if (fraction_digits == DEC_PLACES)
                return DEC_ERR_TOO_MANY_DECIMALS;
            overflow |= magnitude > MAGNITUDE_MAX_BEFORE_DIGIT;
            magnitude = magnitude * 10u + digit;
            fraction_digits++;
            p++;
        }
        if (fraction_digits == 0)
            return p < end ? unexpected_char_error(*p) : DEC_ERR_SYNTAX; /* "5.", "1.e5" */
    }
    if (p < end)
        return unexpected_char_error(*p);

    if (overflow || magnitude > max_unscaled[negative][fraction_digits])
        return DEC_ERR_OVERFLOW;
    magnitude *= pow10_u64[DEC_PLACES - fraction_digits];

    /* magnitude <= INT64_MAX, or <= INT64_MAX + 1 when negative: negate without signed overflow. */
    out->units = (negative && magnitude) ? -(int64_t)(magnitude - 1u) - 1 : (int64_t)magnitude;
    return DEC_OK;
}

const char *dec_strerror(dec_err_t err)
{
    switch (err) {
    case DEC_OK:
        return "no error";
    case DEC_ERR_EMPTY:
        return "empty string where a decimal number was expected";
    case DEC_ERR_SIGN:
        return "unexpected sign: '+' is never accepted, '-' only where negative values are allowed";
    case DEC_ERR_SYNTAX:
        return "not a decimal number: expected digits, optionally followed by '.' and 1 to 8 "
               "digits";
    case DEC_ERR_TOO_MANY_DECIMALS:
        return "more than 8 decimal places (Binance quotes at most 8)";
    case DEC_ERR_EXPONENT:
        return "exponent notation such as 1e-8 is not accepted: digits must be written out";
    case DEC_ERR_OVERFLOW:
        return "out of range: magnitude above 92233720368.54775807, the limit of 64-bit fixed "
               "point with 8 decimal places";
    }
    return "unknown decimal error";
}

/* Writes the integer part of `magnitude` and its first `places` fractional digits, which the
   caller has checked are all the nonzero ones. */
static size_t format_magnitude(uint64_t magnitude, int negative, unsigned places,
                               char buf[DEC_STRLEN])
{
    char reversed[DEC_STRLEN];
    /* Filled from the end, least significant digit first. */
    char *w = reversed + sizeof reversed;

    uint64_t integer_part = magnitude / (uint64_t)DEC_SCALE;
    if (places > 0) {
        uint64_t fraction = (magnitude % (uint64_t)DEC_SCALE) / pow10_u64[DEC_PLACES - places];
        for (unsigned i = 0; i < places; i++) {
            *--w = (char)('0' + fraction % 10u);
            fraction /= 10u;
        }
        *--w = '.';
    }
    do {
        *--w = (char)('0' + integer_part % 10u);
        integer_part /= 10u;
    } while (integer_part > 0);
    if (negative)
        *--w = '-';

    size_t len = (size_t)(reversed + sizeof reversed - w);
    memcpy(buf, w, len);
    buf[len] = '\0';
    return len;
}

static inline uint64_t magnitude_of(dec_t d)
{
    return d.units < 0 ? 0u - (uint64_t)d.units : (uint64_t)d.units; /* INT64_MIN included */
}

size_t dec_format(dec_t d, char buf[DEC_STRLEN])
{
    uint64_t magnitude = magnitude_of(d);
    uint64_t fraction = magnitude % (uint64_t)DEC_SCALE;
    unsigned places = 0;
    if (fraction != 0) {
        places = DEC_PLACES;
        while (fraction % 10u == 0) {
            fraction /= 10u;
            places--;
        }
    }
    return format_magnitude(magnitude, d.units < 0, places, buf);
}

size_t dec_format_fixed(dec_t d, unsigned places, char buf[DEC_STRLEN])
{
    buf[0] = '\0';
    if (places > DEC_PLACES)
        return 0;
    uint64_t magnitude = magnitude_of(d);
    if (magnitude % pow10_u64[DEC_PLACES - places] != 0)
        return 0; /* a nonzero digit beyond `places`: refuse rather than round */
    return format_magnitude(magnitude, d.units < 0, places, buf);
}
