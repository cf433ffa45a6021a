/*
 * test_decimal.c — dec_parse, dec_format and dec_format_fixed against Binance's decimal strings.
 *
 * One test per behaviour, then a round trip of one million generated strings in the shapes the
 * exchange sends, checked against a canonical form the test computes by string manipulation
 * alone, and a test that the same check catches deliberately broken formatters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decimal.h"

#define UNTOUCHED_UNITS INT64_C(0x5a5a5a5a5a5a5a5a) /* what *out holds before a rejected parse */

/* ---- helpers --------------------------------------------------------------------------------- */

static void check_parses_to(const char *text, unsigned flags, int64_t units, const char *file,
                            int line)
{
    dec_t value = {UNTOUCHED_UNITS};
    dec_err_t err = dec_parse(text, strlen(text), flags, &value);
    if (err != DEC_OK || value.units != units) {
        print_error("\"%s\": expected DEC_OK with %lld units, got error %d (%s) with %lld units\n",
                    text, (long long)units, (int)err, dec_strerror(err), (long long)value.units);
        _fail(file, line);
    }
}
#define assert_parses_to(text, flags, units) check_parses_to(text, flags, units, __FILE__, __LINE__)

static void check_rejected(const char *text, size_t len, unsigned flags, dec_err_t expected,
                           const char *file, int line)
{
    dec_t value = {UNTOUCHED_UNITS};
    dec_err_t err = dec_parse(text, len, flags, &value);
    if (err != expected || value.units != UNTOUCHED_UNITS) {
        print_error("\"%.*s\" (flags %u): expected error %d (%s), got %d (%s), out %s\n", (int)len,
                    text, flags, (int)expected, dec_strerror(expected), (int)err, dec_strerror(err),
                    value.units == UNTOUCHED_UNITS ? "untouched" : "written");
        _fail(file, line);
    }
}
#define assert_rejected(text, flags, expected)                                                     \
    check_rejected(text, strlen(text), flags, expected, __FILE__, __LINE__)
#define assert_rejected_len(text, len, flags, expected)                                            \
    check_rejected(text, len, flags, expected, __FILE__, __LINE__)

static void check_formats_as(int64_t units, const char *expected, const char *file, int line)
{
    char buf[DEC_STRLEN];
    memset(buf, 'x', sizeof buf);
    size_t len = dec_format((dec_t){units}, buf);
    if (len != strlen(expected) || strcmp(buf, expected) != 0) {
        print_error("%lld units: expected \"%s\", got \"%.*s\" (length %zu)\n", (long long)units,
                    expected, DEC_STRLEN, buf, len);
        _fail(file, line);
    }
}
#define assert_formats_as(units, expected) check_formats_as(units, expected, __FILE__, __LINE__)

/* `expected` NULL means dec_format_fixed must refuse (return 0, write ""). */
static void check_formats_fixed_as(int64_t units, unsigned places, const char *expected,
                                   const char *file, int line)
{
    char buf[DEC_STRLEN];
    memset(buf, 'x', sizeof buf);
    size_t len = dec_format_fixed((dec_t){units}, places, buf);
    const char *want = expected ? expected : "";
    if (len != strlen(want) || strcmp(buf, want) != 0) {
        print_error("%lld units, %u places: expected \"%s\", got \"%.*s\" (length %zu)\n",
                    (long long)units, places, want, DEC_STRLEN, buf, len);
        _fail(file, line);
    }
}
#define assert_formats_fixed_as(units, places, expected)                                           \
    check_formats_fixed_as(units, places, expected, __FILE__, __LINE__)

/* ---- parsing: accepted forms ----------------------------------------------------------------- */

static void parses_spot_price_with_eight_decimals(void **state)
{
    (void)state;
    assert_parses_to("43250.10000000", 0, INT64_C(4325010000000));
    assert_parses_to("0.00100000", 0, 100000);
}

static void parses_futures_price_with_tick_decimals(void **state)
{
    (void)state;
    assert_parses_to("43250.1", 0, INT64_C(4325010000000));
    assert_parses_to("0.010", 0, 1000000);
    assert_parses_to("2.5", 0, 250000000);
}

static void parses_coin_m_integer_quantity(void **state)
{
    (void)state;
    assert_parses_to("123", 0, INT64_C(12300000000));
    assert_parses_to("1", 0, DEC_SCALE);
}

static void parses_zero_in_every_spelling(void **state)
{
    (void)state;
    assert_parses_to("0", 0, 0);
    assert_parses_to("0.0", 0, 0);
    assert_parses_to("0.00000000", 0, 0);
    assert_parses_to("000", 0, 0);
}

static void parses_smallest_unit(void **state)
{
    (void)state;
    assert_parses_to("0.00000001", 0, 1);
}

static void accepts_leading_zeros_in_integer_part(void **state)
{
    (void)state;
    assert_parses_to("00.5", 0, 50000000);
    assert_parses_to("007", 0, 7 * DEC_SCALE);
}

static void accepts_long_runs_of_leading_zeros(void **state)
{
    (void)state;
    char text[1100];
    memset(text, '0', 1000);
    strcpy(text + 1000, "92233720368.54775807");
    assert_parses_to(text, 0, INT64_MAX);
}

static void reads_only_len_bytes(void **state)
{
    (void)state;
    const char text[] = {'1', '.', '5', '9', 'x'}; /* no NUL anywhere */
    dec_t value;
    assert_int_equal(dec_parse(text, 3, 0, &value), DEC_OK);
    assert_int_equal(value.units, 150000000);
    assert_int_equal(dec_parse(text, 4, 0, &value), DEC_OK);
    assert_int_equal(value.units, 159000000);
}

/* ---- parsing: signs -------------------------------------------------------------------------- */

static void rejects_minus_sign_unless_negative_allowed(void **state)
{
    (void)state;
    assert_rejected("-1", 0, DEC_ERR_SIGN);
    assert_rejected("-0.5", 0, DEC_ERR_SIGN);
}

static void parses_negative_when_allowed(void **state)
{
    (void)state;
    assert_parses_to("-1", DEC_ALLOW_NEGATIVE, -DEC_SCALE);
    assert_parses_to("-0.00000001", DEC_ALLOW_NEGATIVE, -1);
    assert_parses_to("-43250.1", DEC_ALLOW_NEGATIVE, INT64_C(-4325010000000));
    assert_parses_to("42", DEC_ALLOW_NEGATIVE, 42 * DEC_SCALE); /* the flag permits, not requires */
}

static void parses_minus_zero_as_zero(void **state)
{
    (void)state;
    assert_parses_to("-0", DEC_ALLOW_NEGATIVE, 0);
    assert_parses_to("-0.00000000", DEC_ALLOW_NEGATIVE, 0);
}

static void rejects_plus_sign_always(void **state)
{
    (void)state;
    assert_rejected("+1", 0, DEC_ERR_SIGN);
    assert_rejected("+1", DEC_ALLOW_NEGATIVE, DEC_ERR_SIGN);
    assert_rejected("+", DEC_ALLOW_NEGATIVE, DEC_ERR_SIGN);
}

static void rejects_lone_minus_as_syntax(void **state)
{
    (void)state;
    assert_rejected("-", DEC_ALLOW_NEGATIVE, DEC_ERR_SYNTAX);
    assert_rejected("-", 0, DEC_ERR_SYNTAX);
}

static void rejects_doubled_or_misplaced_sign(void **state)
{
    (void)state;
    assert_rejected("--1", DEC_ALLOW_NEGATIVE, DEC_ERR_SYNTAX);
    assert_rejected("-+1", DEC_ALLOW_NEGATIVE, DEC_ERR_SYNTAX);
    assert_rejected("1-", DEC_ALLOW_NEGATIVE, DEC_ERR_SYNTAX);
    assert_rejected("- 1", DEC_ALLOW_NEGATIVE, DEC_ERR_SYNTAX);
}

/* ---- parsing: errors ------------------------------------------------------------------------- */

static void rejects_empty_string(void **state)
{
    (void)state;
    assert_rejected("", 0, DEC_ERR_EMPTY);
    assert_rejected_len(NULL, 0, DEC_ALLOW_NEGATIVE, DEC_ERR_EMPTY);
}

static void rejects_missing_digits_around_point(void **state)
{
    (void)state;
    assert_rejected(".", 0, DEC_ERR_SYNTAX);
    assert_rejected(".5", 0, DEC_ERR_SYNTAX);
    assert_rejected("5.", 0, DEC_ERR_SYNTAX);
    assert_rejected("-.5", DEC_ALLOW_NEGATIVE, DEC_ERR_SYNTAX);
    assert_rejected("-5.", DEC_ALLOW_NEGATIVE, DEC_ERR_SYNTAX);
}

static void rejects_second_point(void **state)
{
    (void)state;
    assert_rejected("1.2.3", 0, DEC_ERR_SYNTAX);
    assert_rejected("1..2", 0, DEC_ERR_SYNTAX);
}

static void rejects_spaces(void **state)
{
    (void)state;
    assert_rejected(" 1", 0, DEC_ERR_SYNTAX);
    assert_rejected("1 ", 0, DEC_ERR_SYNTAX);
    assert_rejected("1 000", 0, DEC_ERR_SYNTAX);
    assert_rejected("1.5\n", 0, DEC_ERR_SYNTAX);
    assert_rejected(" ", 0, DEC_ERR_SYNTAX);
}

static void rejects_other_characters(void **state)
{
    (void)state;
    assert_rejected("1,5", 0, DEC_ERR_SYNTAX);
    assert_rejected("0x10", 0, DEC_ERR_SYNTAX);
    assert_rejected("\"1.5\"", 0, DEC_ERR_SYNTAX);
    assert_rejected("NaN", 0, DEC_ERR_SYNTAX);
    assert_rejected("inf", 0, DEC_ERR_SYNTAX);
    assert_rejected("1.5x", 0, DEC_ERR_SYNTAX);
    assert_rejected("１", 0, DEC_ERR_SYNTAX); /* fullwidth digit one, UTF-8 */
    assert_rejected_len("1\0002", 3, 0, DEC_ERR_SYNTAX);
}

/* Eight decimals are read eight bytes at a time: any byte that is not a digit, in any of the
   eight places and whatever its value, is still refused. */
static void rejects_a_non_digit_among_eight_decimals(void **state)
{
    (void)state;
    static const char bad[] = {'/', ':', ' ', 'a', '.', '-', (char)0xFA, (char)0xFF, '\0'};
    for (size_t at = 0; at < 8; at++) {
        for (size_t k = 0; k < sizeof bad; k++) {
            char text[] = "61837.63000000";
            text[6 + at] = bad[k];
            dec_t d = {12345};
            dec_err_t err = dec_parse(text, sizeof text - 1, 0, &d);
            assert_int_not_equal(err, DEC_OK);
            assert_int_equal(d.units, 12345);
        }
    }
    check_parses_to("61837.63000000", 0, 6183763000000, __FILE__, __LINE__);
    check_parses_to("92233720368.54775807", 0, INT64_MAX, __FILE__, __LINE__);
}

static void rejects_more_than_eight_decimals(void **state)
{
    (void)state;
    assert_rejected("0.000000001", 0, DEC_ERR_TOO_MANY_DECIMALS);
    assert_rejected("1.000000000", 0, DEC_ERR_TOO_MANY_DECIMALS); /* even if zeros */
    assert_rejected("-1.123456789", DEC_ALLOW_NEGATIVE, DEC_ERR_TOO_MANY_DECIMALS);
}

static void rejects_exponent_form(void **state)
{
    (void)state;
    assert_rejected("1e-8", 0, DEC_ERR_EXPONENT);
    assert_rejected("1E8", 0, DEC_ERR_EXPONENT);
    assert_rejected("1.5e3", 0, DEC_ERR_EXPONENT);
    assert_rejected("1.e5", 0, DEC_ERR_EXPONENT);
    assert_rejected("-2.5E-3", DEC_ALLOW_NEGATIVE, DEC_ERR_EXPONENT);
}

static void reports_leftmost_fault_and_overflow_last(void **state)
{
    (void)state;
    assert_rejected("1e5.5", 0, DEC_ERR_EXPONENT);
    assert_rejected("1.5 e3", 0, DEC_ERR_SYNTAX);
    assert_rejected("1.123456789e3", 0, DEC_ERR_TOO_MANY_DECIMALS);
    assert_rejected("99999999999999999999x", 0, DEC_ERR_SYNTAX); /* malformed, not "too large" */
    assert_rejected("99999999999999999999.123456789", 0, DEC_ERR_TOO_MANY_DECIMALS);
    assert_rejected("99999999999999999999e1", 0, DEC_ERR_EXPONENT);
}

static void leaves_output_untouched_on_error(void **state)
{
    (void)state;
    dec_t value = {12345};
    assert_int_not_equal(dec_parse("1.2.3", 5, 0, &value), DEC_OK);
    assert_int_equal(value.units, 12345);
    assert_int_not_equal(dec_parse("92233720368.54775808", 20, 0, &value), DEC_OK);
    assert_int_equal(value.units, 12345);
}

/* ---- parsing: range -------------------------------------------------------------------------- */

static void parses_int64_maximum(void **state)
{
    (void)state;
    assert_parses_to("92233720368.54775807", 0, INT64_MAX);
}

static void rejects_one_unit_beyond_int64_maximum(void **state)
{
    (void)state;
    assert_rejected("92233720368.54775808", 0, DEC_ERR_OVERFLOW);
    assert_rejected("92233720368.54775808", DEC_ALLOW_NEGATIVE, DEC_ERR_OVERFLOW);
}

static void parses_int64_minimum_when_negative_allowed(void **state)
{
    (void)state;
    assert_parses_to("-92233720368.54775808", DEC_ALLOW_NEGATIVE, INT64_MIN);
    assert_parses_to("-92233720368.54775807", DEC_ALLOW_NEGATIVE, -INT64_MAX);
}

static void rejects_one_unit_beyond_int64_minimum(void **state)
{
    (void)state;
    assert_rejected("-92233720368.54775809", DEC_ALLOW_NEGATIVE, DEC_ERR_OVERFLOW);
}

static void rejects_overflow_in_integer_part(void **state)
{
    (void)state;
    assert_rejected("92233720369", 0, DEC_ERR_OVERFLOW);
    assert_rejected("100000000000", 0, DEC_ERR_OVERFLOW);
    assert_parses_to("92233720368", 0, INT64_C(9223372036800000000));
}

static void rejects_overflow_from_fraction_scaling(void **state)
{
    (void)state;
    /* Unscaled these fit; scaled by 10^(8 - decimals) they do not. */
    assert_rejected("92233720368.6", 0, DEC_ERR_OVERFLOW);
    assert_rejected("92233720368.5477581", 0, DEC_ERR_OVERFLOW);
    assert_parses_to("92233720368.5477580", 0, INT64_C(9223372036854775800));
    assert_rejected("-92233720368.5477581", DEC_ALLOW_NEGATIVE, DEC_ERR_OVERFLOW);
}

static void rejects_long_digit_strings_without_wrapping(void **state)
{
    (void)state;
    /* 2^64 + 1 units would wrap to 1 unit in an unchecked uint64_t. */
    assert_rejected("184467440737.09551617", 0, DEC_ERR_OVERFLOW);
    assert_rejected("18446744073709551616", 0, DEC_ERR_OVERFLOW); /* 2^64 */
    char text[1100];
    memset(text, '9', 1000);
    text[1000] = '\0';
    assert_rejected(text, 0, DEC_ERR_OVERFLOW);
    memset(text, '0', 1000);
    text[0] = '1';
    assert_rejected(text, 0, DEC_ERR_OVERFLOW);
    strcpy(text + 1000, ".5");
    assert_rejected(text, 0, DEC_ERR_OVERFLOW);
}

/* ---- dec_strerror ---------------------------------------------------------------------------- */

static void strerror_gives_actionable_reason_for_each_error(void **state)
{
    (void)state;
    static const struct {
        dec_err_t err;
        const char *phrase;
    } reasons[] = {
        {DEC_OK, "no error"},
        {DEC_ERR_EMPTY, "empty string"},
        {DEC_ERR_SIGN, "'+' is never accepted"},
        {DEC_ERR_SYNTAX, "not a decimal number"},
        {DEC_ERR_TOO_MANY_DECIMALS, "more than 8 decimal places"},
        {DEC_ERR_EXPONENT, "exponent notation"},
        {DEC_ERR_OVERFLOW, "92233720368.54775807"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        const char *reason = dec_strerror(reasons[i].err);
        assert_non_null(reason);
        if (strstr(reason, reasons[i].phrase) == NULL)
            fail_msg("error %d: \"%s\" lacks \"%s\"", (int)reasons[i].err, reason,
                     reasons[i].phrase);
    }
    assert_non_null(strstr(dec_strerror((dec_err_t)99), "unknown"));
}

/* ---- dec_format ------------------------------------------------------------------------------ */

static void formats_zero(void **state)
{
    (void)state;
    assert_formats_as(0, "0");
}

static void formats_integers_without_point(void **state)
{
    (void)state;
    assert_formats_as(5 * DEC_SCALE, "5");
    assert_formats_as(123 * DEC_SCALE, "123");
    assert_formats_as(INT64_C(4325000000000), "43250");
}

static void formats_values_below_one(void **state)
{
    (void)state;
    assert_formats_as(100000, "0.001");
    assert_formats_as(1, "0.00000001");
    assert_formats_as(50000000, "0.5");
    assert_formats_as(99999999, "0.99999999");
}

static void formats_shortest_exact_fraction(void **state)
{
    (void)state;
    assert_formats_as(INT64_C(4325010000000), "43250.1");
    assert_formats_as(INT64_C(4325010000001), "43250.10000001");
    assert_formats_as(DEC_SCALE + 1000000, "1.01");
}

static void formats_negative_values(void **state)
{
    (void)state;
    assert_formats_as(-1, "-0.00000001");
    assert_formats_as(-50000000, "-0.5");
    assert_formats_as(-5 * DEC_SCALE, "-5");
    assert_formats_as(INT64_C(-4325010000000), "-43250.1");
}

static void formats_int64_extremes_within_strlen(void **state)
{
    (void)state;
    assert_formats_as(INT64_MAX, "92233720368.54775807");
    assert_formats_as(INT64_MIN, "-92233720368.54775808");
    assert_true(strlen("-92233720368.54775808") + 1 <= DEC_STRLEN);
}

/* ---- dec_format_fixed ------------------------------------------------------------------------ */

static void format_fixed_eight_places_like_spot(void **state)
{
    (void)state;
    assert_formats_fixed_as(100000, 8, "0.00100000");
    assert_formats_fixed_as(0, 8, "0.00000000");
    assert_formats_fixed_as(INT64_C(4325010000000), 8, "43250.10000000");
    assert_formats_fixed_as(INT64_MIN, 8, "-92233720368.54775808");
    assert_formats_fixed_as(INT64_MAX, 8, "92233720368.54775807");
}

static void format_fixed_two_places(void **state)
{
    (void)state;
    assert_formats_fixed_as(INT64_C(4325010000000), 2, "43250.10");
    assert_formats_fixed_as(5 * DEC_SCALE, 2, "5.00");
    assert_formats_fixed_as(1000000, 2, "0.01");
    assert_formats_fixed_as(-1000000, 2, "-0.01");
}

static void format_fixed_zero_places_like_coin_m(void **state)
{
    (void)state;
    assert_formats_fixed_as(123 * DEC_SCALE, 0, "123");
    assert_formats_fixed_as(0, 0, "0");
    assert_formats_fixed_as(-7 * DEC_SCALE, 0, "-7");
}

static void format_fixed_refuses_to_round(void **state)
{
    (void)state;
    assert_formats_fixed_as(INT64_C(4325010000000), 0, NULL); /* 43250.1 */
    assert_formats_fixed_as(1, 7, NULL);                      /* 0.00000001 */
    assert_formats_fixed_as(1050000, 2, NULL);                /* 0.0105 */
    assert_formats_fixed_as(99999999, 2, NULL);               /* 0.99999999 would round up */
    assert_formats_fixed_as(-1, 0, NULL);                     /* not "-0" nor "0" */
    assert_formats_fixed_as(INT64_MAX, 7, NULL);
}

static void format_fixed_rejects_more_than_eight_places(void **state)
{
    (void)state;
    assert_formats_fixed_as(DEC_SCALE, 9, NULL);
    assert_formats_fixed_as(0, 100, NULL);
}

/* ---- comparison ------------------------------------------------------------------------------ */

static void cmp_orders_by_value(void **state)
{
    (void)state;
    assert_int_equal(dec_cmp((dec_t){1}, (dec_t){2}), -1);
    assert_int_equal(dec_cmp((dec_t){2}, (dec_t){1}), 1);
    assert_int_equal(dec_cmp((dec_t){7}, (dec_t){7}), 0);
    assert_int_equal(dec_cmp((dec_t){INT64_MIN}, (dec_t){INT64_MAX}), -1);
    assert_int_equal(dec_cmp((dec_t){INT64_MAX}, (dec_t){INT64_MIN}), 1);
}

static void is_zero_only_for_zero(void **state)
{
    (void)state;
    assert_true(dec_is_zero((dec_t){0}));
    assert_false(dec_is_zero((dec_t){1}));
    assert_false(dec_is_zero((dec_t){-1}));
    assert_false(dec_is_zero((dec_t){INT64_MIN}));
}

/* ---- round trip of generated Binance strings ------------------------------------------------- */

#define ROUNDTRIP_SEED UINT64_C(0x6b6f6f6263617374) /* "bookcast" */
#define ROUNDTRIP_COUNT 1000000u
#define GENERATED_MAX 64 /* longest generated string, NUL included */

/* splitmix64: small, deterministic, good enough to spread digits. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *state, uint64_t bound)
{
    return rng_next(state) % bound; /* the bias is irrelevant here */
}

/* How often the generator produced each shape, to show the round trip covered them. */
typedef struct {
    unsigned spot_eight_places;
    unsigned futures_tick_places;
    unsigned coin_m_integers;
    unsigned zeros;
    unsigned negatives_below_one;
    unsigned integer_part_above_2_32;
    unsigned int64_limits;
    unsigned leading_zeros;
} shape_counts_t;

static const char *const limit_strings[] = {
    "92233720368.54775807", "-92233720368.54775808", "0.00000001",
    "-0.00000001",          "92233720368",           "-92233720368.54775807",
};

/* Writes into `text` a string in one of the shapes Binance sends, NUL-terminated; returns its
   length. Negative zero is never produced (its fixed form cannot keep the '-'). */
static size_t generate_binance_string(uint64_t *rng, char text[GENERATED_MAX],
                                      shape_counts_t *counts)
{
    uint64_t shape = rng_below(rng, 1000);
    if (shape == 0) {
        const char *limit =
            limit_strings[rng_below(rng, sizeof limit_strings / sizeof *limit_strings)];
        counts->int64_limits++;
        strcpy(text, limit);
        return strlen(text);
    }

    unsigned places;
    int all_zero = 0;
    if (shape < 400) {
        places = 8; /* spot: always 8 decimals */
        counts->spot_eight_places++;
    } else if (shape < 700) {
        places = (unsigned)rng_below(rng, 9); /* futures: as many decimals as the tick has */
        counts->futures_tick_places++;
    } else if (shape < 850) {
        places = 0; /* COIN-M quantities in contracts */
        counts->coin_m_integers++;
    } else if (shape < 900) {
        places = (unsigned)rng_below(rng, 9);
        all_zero = 1; /* "0.00000000": a level removed */
        counts->zeros++;
    } else {
        places = (unsigned)rng_below(rng, 9); /* any magnitude, tiny to the limit */
    }

    /* Integer part with 1 to 11 digits, at most 92233720368 (the int64 limit's). */
    static const uint64_t pow10_table[] = {1,         10,         100,          1000,
                                           10000,     100000,     1000000,      10000000,
                                           100000000, 1000000000, 10000000000u, 100000000000u};
    int tiny = shape >= 900 && rng_below(rng, 2) == 0; /* "0.000…": a small quantity */
    uint64_t integer_part = 0;
    if (!all_zero && !tiny) {
        unsigned digits = 1 + (unsigned)rng_below(rng, 11);
        if (shape >= 900)
            digits = 9 + (unsigned)rng_below(rng, 3); /* large: near the int64 limit */
        uint64_t low = digits == 1 ? 0 : pow10_table[digits - 1];
        uint64_t high = digits == 11 ? UINT64_C(92233720368) : pow10_table[digits] - 1;
        integer_part = low + rng_below(rng, high - low + 1);
    }

    /* Fraction: `places` digits; those past `significant` are the tick's trailing zeros, the
       first `leading` are the zeros of a tiny value. */
    char fraction[DEC_PLACES + 1];
    unsigned significant = all_zero ? 0 : (unsigned)rng_below(rng, places + 1);
    unsigned leading = integer_part == 0 ? (unsigned)rng_below(rng, significant + 1) : 0;
    for (unsigned i = 0; i < places; i++)
        fraction[i] = (i < leading || i >= significant) ? '0' : (char)('0' + rng_below(rng, 10));
    fraction[places] = '\0';

    int nonzero = integer_part != 0 || strspn(fraction, "0") != places;
    int negative = nonzero && rng_below(rng, 10) == 0;

    /* Keep within int64 units: compare the fraction, padded to 8 digits, with the limit's. */
    if (integer_part == UINT64_C(92233720368)) {
        char padded[DEC_PLACES + 1] = "00000000";
        memcpy(padded, fraction, places);
        if (strcmp(padded, negative ? "54775808" : "54775807") > 0)
            integer_part--;
    }

    size_t len = 0;
    if (negative)
        text[len++] = '-';
    if (rng_below(rng, 100) == 0) {
        unsigned zeros = 1 + (unsigned)rng_below(rng, 3); /* not Binance's, but legal input */
        for (unsigned i = 0; i < zeros; i++)
            text[len++] = '0';
        counts->leading_zeros++;
    }
    len +=
        (size_t)snprintf(text + len, GENERATED_MAX - len, "%llu", (unsigned long long)integer_part);
    if (places > 0)
        len += (size_t)snprintf(text + len, GENERATED_MAX - len, ".%s", fraction);

    if (negative && integer_part == 0)
        counts->negatives_below_one++;
    if (integer_part > UINT32_MAX)
        counts->integer_part_above_2_32++;
    return len;
}

/* Splits `text` into sign, integer digits without superfluous leading zeros, and fraction. */
typedef struct {
    int negative;
    const char *integer;
    size_t integer_len;
    const char *fraction; /* after the '.', or "" */
    size_t fraction_len;
} decimal_parts_t;

static decimal_parts_t split_decimal(const char *text)
{
    decimal_parts_t parts = {0};
    if (*text == '-') {
        parts.negative = 1;
        text++;
    }
    const char *point = strchr(text, '.');
    size_t integer_len = point ? (size_t)(point - text) : strlen(text);
    while (integer_len > 1 && *text == '0') {
        text++;
        integer_len--;
    }
    parts.integer = text;
    parts.integer_len = integer_len;
    parts.fraction = point ? point + 1 : "";
    parts.fraction_len = strlen(parts.fraction);
    return parts;
}

/* The shortest form, by string manipulation only: no leading zeros, no trailing fractional
   zeros, no '.' without digits after it, no sign on zero. */
static void canonical_form(const char *text, char out[GENERATED_MAX])
{
    decimal_parts_t parts = split_decimal(text);
    size_t fraction_len = parts.fraction_len;
    while (fraction_len > 0 && parts.fraction[fraction_len - 1] == '0')
        fraction_len--;
    int is_zero = fraction_len == 0 && parts.integer_len == 1 && parts.integer[0] == '0';
    snprintf(out, GENERATED_MAX, "%s%.*s%s%.*s", parts.negative && !is_zero ? "-" : "",
             (int)parts.integer_len, parts.integer, fraction_len ? "." : "", (int)fraction_len,
             parts.fraction);
}

/* The original with superfluous leading zeros removed: what a fixed format must give back. */
static void fixed_form(const char *text, char out[GENERATED_MAX])
{
    decimal_parts_t parts = split_decimal(text);
    snprintf(out, GENERATED_MAX, "%s%.*s%s%.*s", parts.negative ? "-" : "", (int)parts.integer_len,
             parts.integer, parts.fraction_len ? "." : "", (int)parts.fraction_len, parts.fraction);
}

typedef size_t (*format_fn)(dec_t d, char buf[DEC_STRLEN]);
typedef size_t (*format_fixed_fn)(dec_t d, unsigned places, char buf[DEC_STRLEN]);

/* Checks one string through parse, format, parse again and fixed format. Returns 0, or -1 with
   what went wrong in `why`. */
static int check_roundtrip(const char *text, size_t len, format_fn format,
                           format_fixed_fn format_fixed, char *why, size_t why_size)
{
    dec_t value;
    dec_err_t err = dec_parse(text, len, DEC_ALLOW_NEGATIVE, &value);
    if (err != DEC_OK) {
        snprintf(why, why_size, "\"%s\" does not parse: %s", text, dec_strerror(err));
        return -1;
    }

    char expected[GENERATED_MAX];
    char formatted[DEC_STRLEN];
    canonical_form(text, expected);
    size_t formatted_len = format(value, formatted);
    if (formatted_len != strlen(expected) || strcmp(formatted, expected) != 0) {
        snprintf(why, why_size, "\"%s\" formats as \"%s\" (length %zu), expected \"%s\"", text,
                 formatted, formatted_len, expected);
        return -1;
    }

    dec_t reparsed = {0};
    err = dec_parse(formatted, formatted_len, DEC_ALLOW_NEGATIVE, &reparsed);
    if (err != DEC_OK || reparsed.units != value.units) {
        snprintf(why, why_size, "\"%s\" -> \"%s\" reparses as %lld units (%s), expected %lld", text,
                 formatted, (long long)reparsed.units, dec_strerror(err), (long long)value.units);
        return -1;
    }

    decimal_parts_t parts = split_decimal(text);
    fixed_form(text, expected);
    formatted_len = format_fixed(value, (unsigned)parts.fraction_len, formatted);
    if (formatted_len != strlen(expected) || strcmp(formatted, expected) != 0) {
        snprintf(why, why_size, "\"%s\" with %zu places formats as \"%s\", expected \"%s\"", text,
                 parts.fraction_len, formatted, expected);
        return -1;
    }
    return 0;
}

/* Runs `count` generated strings through check_roundtrip; returns how many failed and keeps the
   first reason in `first_why`. */
static unsigned roundtrip_generated(unsigned count, format_fn format, format_fixed_fn format_fixed,
                                    shape_counts_t *counts, char *first_why, size_t why_size)
{
    uint64_t rng = ROUNDTRIP_SEED;
    unsigned failures = 0;
    char text[GENERATED_MAX];
    char why[256];
    first_why[0] = '\0';
    for (unsigned i = 0; i < count; i++) {
        size_t len = generate_binance_string(&rng, text, counts);
        if (check_roundtrip(text, len, format, format_fixed, why, sizeof why) != 0) {
            if (failures++ == 0)
                snprintf(first_why, why_size, "string %u: %s", i, why);
        }
    }
    return failures;
}

static void roundtrips_one_million_binance_strings(void **state)
{
    (void)state;
    shape_counts_t counts = {0};
    char why[512];
    unsigned failures = roundtrip_generated(ROUNDTRIP_COUNT, dec_format, dec_format_fixed, &counts,
                                            why, sizeof why);
    if (failures != 0)
        fail_msg("%u of %u strings failed the round trip; first: %s", failures, ROUNDTRIP_COUNT,
                 why);

    /* The generator really produced every shape, in numbers. */
    assert_true(counts.spot_eight_places > 300000);
    assert_true(counts.futures_tick_places > 200000);
    assert_true(counts.coin_m_integers > 100000);
    assert_true(counts.zeros > 10000);
    assert_true(counts.negatives_below_one > 1000);
    assert_true(counts.integer_part_above_2_32 > 10000);
    assert_true(counts.int64_limits > 100);
    assert_true(counts.leading_zeros > 1000);
}

/* dec_scan reads exactly what dec_parse reads, to the same value, whether the number is followed
   by more text (the wide path) or ends the buffer (the careful path); what it does not read it
   leaves to dec_parse (returns 0). Checked on the generated Binance strings and on the rejected
   shapes. */
static void check_scan_agrees(const char *text, size_t len)
{
    dec_t parsed = {0};
    dec_err_t err = dec_parse(text, len, 0, &parsed);
    char followed[GENERATED_MAX + 16];
    memcpy(followed, text, len);
    memcpy(followed + len, "\",\"0.001\"]", 10);
    for (int tail = 0; tail < 2; tail++) {
        size_t avail = tail ? len + 10 : len;
        char *buf = malloc(avail ? avail : 1); /* exact size: a read past it is caught by ASan */
        assert_non_null(buf);
        memcpy(buf, followed, avail);
        dec_t scanned = {0};
        uint8_t places = 99;
        size_t n = dec_scan(buf, buf + avail, &scanned, &places);
        if (n != 0 && n == len) {
            if (err != DEC_OK || scanned.units != parsed.units)
                fail_msg("dec_scan read \"%.*s\" as %lld, dec_parse as %lld (error %d)", (int)len,
                         text, (long long)scanned.units, (long long)parsed.units, (int)err);
            const char *point = memchr(text, '.', len);
            assert_int_equal(places, point ? (unsigned)(text + len - point - 1) : 0u);
        } else if (n != 0) {
            /* A shorter read stops where the text cannot continue a plain decimal. */
            assert_true(n < len);
            assert_true(text[n] != '.' && (text[n] < '0' || text[n] > '9'));
        }
        free(buf);
    }
}

static void scan_agrees_with_parse(void **state)
{
    (void)state;
    uint64_t rng = ROUNDTRIP_SEED;
    shape_counts_t counts = {0};
    char text[GENERATED_MAX];
    unsigned read_whole = 0;
    for (unsigned i = 0; i < 200000; i++) {
        size_t len = generate_binance_string(&rng, text, &counts);
        check_scan_agrees(text, len);
        dec_t d;
        uint8_t places;
        read_whole += text[0] != '-' && dec_scan(text, text + len, &d, &places) == len;
    }
    assert_true(read_whole > 150000);
    static const char *const odd[] = {
        "1.",
        "1..5",
        "1.5.",
        ".5",
        "1.123456789",
        "123456789012",
        "99999999999.99999999",
        "92233720368.54775808",
        "12345678",
        "12345678.1",
        "1234567.12345678",
        "0000001.5",
        "1e5",
        "1x",
        "1.2x",
        "",
        "-1",
        "+1",
        "1.12345678\xfa",
        "\xfa\xfa\xfa\xfa\xfa\xfa\xfa\xfa",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        check_scan_agrees(odd[i], strlen(odd[i]));
}

/* Deliberately broken formatters, each a plausible bug. */
static size_t broken_format_keeps_trailing_zeros(dec_t d, char buf[DEC_STRLEN])
{
    return dec_format_fixed(d, DEC_PLACES, buf);
}

static size_t broken_format_loses_sign_below_one(dec_t d, char buf[DEC_STRLEN])
{
    if (d.units < 0 && d.units > -DEC_SCALE)
        d.units = -d.units;
    return dec_format(d, buf);
}

static size_t broken_format_32_bit_integer_part(dec_t d, char buf[DEC_STRLEN])
{
    if (d.units < 0)
        return dec_format(d, buf);
    uint32_t integer_part = (uint32_t)(d.units / DEC_SCALE); /* truncates above 2^32 - 1 */
    return dec_format((dec_t){(int64_t)integer_part * DEC_SCALE + d.units % DEC_SCALE}, buf);
}

static size_t broken_format_fixed_drops_zero_integer(dec_t d, unsigned places, char buf[DEC_STRLEN])
{
    size_t len = dec_format_fixed(d, places, buf);
    if (len > 1 && buf[0] == '0' && buf[1] == '.') {
        memmove(buf, buf + 1, len); /* ".5" instead of "0.5" */
        len--;
    }
    return len;
}

static size_t broken_format_fixed_ignores_places(dec_t d, unsigned places, char buf[DEC_STRLEN])
{
    (void)places;
    return dec_format_fixed(d, DEC_PLACES, buf); /* ignores the places asked for */
}

static void roundtrip_check_catches_broken_formatters(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        format_fn format;
        format_fixed_fn format_fixed;
    } broken[] = {
        {"keeps trailing zeros", broken_format_keeps_trailing_zeros, dec_format_fixed},
        {"loses sign below one", broken_format_loses_sign_below_one, dec_format_fixed},
        {"32-bit integer part", broken_format_32_bit_integer_part, dec_format_fixed},
        {"fixed drops zero integer", dec_format, broken_format_fixed_drops_zero_integer},
        {"fixed ignores places", dec_format, broken_format_fixed_ignores_places},
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        shape_counts_t counts = {0};
        char why[512];
        unsigned failures = roundtrip_generated(ROUNDTRIP_COUNT / 10, broken[i].format,
                                                broken[i].format_fixed, &counts, why, sizeof why);
        if (failures == 0)
            fail_msg("the round trip did not catch the broken formatter \"%s\"", broken[i].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_spot_price_with_eight_decimals),
        cmocka_unit_test(parses_futures_price_with_tick_decimals),
        cmocka_unit_test(parses_coin_m_integer_quantity),
        cmocka_unit_test(parses_zero_in_every_spelling),
        cmocka_unit_test(parses_smallest_unit),
        cmocka_unit_test(accepts_leading_zeros_in_integer_part),
        cmocka_unit_test(accepts_long_runs_of_leading_zeros),
        cmocka_unit_test(reads_only_len_bytes),
        cmocka_unit_test(rejects_minus_sign_unless_negative_allowed),
        cmocka_unit_test(parses_negative_when_allowed),
        cmocka_unit_test(parses_minus_zero_as_zero),
        cmocka_unit_test(rejects_plus_sign_always),
        cmocka_unit_test(rejects_lone_minus_as_syntax),
        cmocka_unit_test(rejects_doubled_or_misplaced_sign),
        cmocka_unit_test(rejects_empty_string),
        cmocka_unit_test(rejects_missing_digits_around_point),
        cmocka_unit_test(rejects_second_point),
        cmocka_unit_test(rejects_spaces),
        cmocka_unit_test(rejects_other_characters),
        cmocka_unit_test(rejects_a_non_digit_among_eight_decimals),
        cmocka_unit_test(rejects_more_than_eight_decimals),
        cmocka_unit_test(rejects_exponent_form),
        cmocka_unit_test(reports_leftmost_fault_and_overflow_last),
        cmocka_unit_test(leaves_output_untouched_on_error),
        cmocka_unit_test(parses_int64_maximum),
        cmocka_unit_test(rejects_one_unit_beyond_int64_maximum),
        cmocka_unit_test(parses_int64_minimum_when_negative_allowed),
        cmocka_unit_test(rejects_one_unit_beyond_int64_minimum),
        cmocka_unit_test(rejects_overflow_in_integer_part),
        cmocka_unit_test(rejects_overflow_from_fraction_scaling),
        cmocka_unit_test(rejects_long_digit_strings_without_wrapping),
        cmocka_unit_test(strerror_gives_actionable_reason_for_each_error),
        cmocka_unit_test(formats_zero),
        cmocka_unit_test(formats_integers_without_point),
        cmocka_unit_test(formats_values_below_one),
        cmocka_unit_test(formats_shortest_exact_fraction),
        cmocka_unit_test(formats_negative_values),
        cmocka_unit_test(formats_int64_extremes_within_strlen),
        cmocka_unit_test(format_fixed_eight_places_like_spot),
        cmocka_unit_test(format_fixed_two_places),
        cmocka_unit_test(format_fixed_zero_places_like_coin_m),
        cmocka_unit_test(format_fixed_refuses_to_round),
        cmocka_unit_test(format_fixed_rejects_more_than_eight_places),
        cmocka_unit_test(cmp_orders_by_value),
        cmocka_unit_test(is_zero_only_for_zero),
        cmocka_unit_test(roundtrips_one_million_binance_strings),
        cmocka_unit_test(scan_agrees_with_parse),
        cmocka_unit_test(roundtrip_check_catches_broken_formatters),
    };
    return cmocka_run_group_tests_name("decimal", tests, NULL, NULL);
}
