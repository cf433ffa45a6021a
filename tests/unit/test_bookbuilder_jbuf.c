/*
 * test_bookbuilder_jbuf.c — the JSON byte buffer every published message is written into
 * (bookbuilder/jbuf.h): integers at the ends of their ranges, exact decimals, string escapes and
 * growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jbuf.h"

static dec_t D(const char *s)
{
    dec_t d = {0};
    assert_int_equal(dec_parse(s, strlen(s), DEC_ALLOW_NEGATIVE, &d), DEC_OK);
    return d;
}

static void assert_jbuf(const jbuf_t *b, const char *want)
{
    assert_false(jbuf_failed(b));
    assert_int_equal(b->len, strlen(want));
    assert_memory_equal(b->data, want, b->len);
}

static void u64_zero_and_max(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_u64(&b, 0);
    assert_jbuf(&b, "0");
    jbuf_reset(&b);
    jbuf_u64(&b, UINT64_MAX);
    assert_jbuf(&b, "18446744073709551615");
    jbuf_reset(&b);
    jbuf_u64(&b, 10);
    assert_jbuf(&b, "10");
    jbuf_free(&b);
}

static void i64_zero_negative_and_extremes(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_i64(&b, 0);
    jbuf_char(&b, ' ');
    jbuf_i64(&b, -1);
    jbuf_char(&b, ' ');
    jbuf_i64(&b, INT64_MIN);
    jbuf_char(&b, ' ');
    jbuf_i64(&b, INT64_MAX);
    assert_jbuf(&b, "0 -1 -9223372036854775808 9223372036854775807");
    jbuf_free(&b);
}

static void decimal_is_written_with_the_exchanges_places(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_dec(&b, D("61837.63"), 8);
    jbuf_char(&b, ',');
    jbuf_dec(&b, D("61800.2"), 2);
    jbuf_char(&b, ',');
    jbuf_dec(&b, D("10"), 0);
    jbuf_char(&b, ',');
    jbuf_dec(&b, D("0"), 8);
    jbuf_char(&b, ',');
    jbuf_dec(&b, D("0.00000001"), 8);
    jbuf_char(&b, ',');
    jbuf_dec(&b, D("-1.5"), 3);
    assert_jbuf(&b, "\"61837.63000000\",\"61800.20\",\"10\",\"0.00000000\",\"0.00000001\","
                    "\"-1.500\"");
    jbuf_free(&b);
}

static void decimal_with_more_digits_than_places_falls_back_to_the_exact_form(void **state)
{
    (void)state;
    jbuf_t b = {0};
    /* Never rounded: "0.125" at 2 places would lose a digit. */
    jbuf_dec(&b, D("0.125"), 2);
    jbuf_char(&b, ',');
    jbuf_dec(&b, D("61800.12345678"), 0);
    jbuf_char(&b, ',');
    /* places beyond 8 cannot be written: the exact form instead */
    jbuf_dec(&b, D("1.5"), 9);
    assert_jbuf(&b, "\"0.125\",\"61800.12345678\",\"1.5\"");
    jbuf_free(&b);
}

static void decimal_extremes(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_dec(&b, (dec_t){INT64_MAX}, 8);
    jbuf_char(&b, ',');
    jbuf_dec(&b, (dec_t){INT64_MIN}, 8);
    assert_jbuf(&b, "\"92233720368.54775807\",\"-92233720368.54775808\"");
    jbuf_free(&b);
}

static void string_plain_text_is_quoted(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_string(&b, "synced");
    jbuf_char(&b, ',');
    jbuf_string(&b, "");
    assert_jbuf(&b, "\"synced\",\"\"");
    jbuf_free(&b);
}

static void string_escapes_quote_backslash_and_control_characters(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_string(&b, "a\"b\\c\nd\te\x01\x1f/\x7f");
    assert_jbuf(&b, "\"a\\\"b\\\\c\\u000ad\\u0009e\\u0001\\u001f/\x7f\"");
    jbuf_free(&b);
}

static void string_passes_utf8_through(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_string(&b, "\xc3\xa9\xe2\x82\xac");
    assert_jbuf(&b, "\"\xc3\xa9\xe2\x82\xac\"");
    jbuf_free(&b);
}

static void raw_append_and_char_concatenate(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_raw(&b, "{\"k\":");
    jbuf_append(&b, "12345", 3);
    jbuf_append(&b, NULL, 0);
    jbuf_char(&b, '}');
    assert_jbuf(&b, "{\"k\":123}");
    jbuf_free(&b);
}

static void buffer_grows_past_its_first_capacity(void **state)
{
    (void)state;
    jbuf_t b = {0};
    char want[100001];
    for (size_t i = 0; i < 100000; i++) {
        char c = (char)('a' + i % 26);
        jbuf_char(&b, c);
        want[i] = c;
    }
    want[100000] = '\0';
    assert_jbuf(&b, want);
    assert_true(b.cap >= 100000);
    /* One append larger than the whole capacity. */
    jbuf_reset(&b);
    jbuf_append(&b, want, 100000);
    jbuf_append(&b, want, 100000);
    assert_false(jbuf_failed(&b));
    assert_int_equal(b.len, 200000);
    assert_memory_equal(b.data + 100000, want, 100000);
    jbuf_free(&b);
}

static void reset_keeps_the_capacity_and_empties(void **state)
{
    (void)state;
    jbuf_t b = {0};
    jbuf_raw(&b, "hello");
    size_t cap = b.cap;
    char *data = b.data;
    jbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_ptr_equal(b.data, data);
    jbuf_raw(&b, "x");
    assert_jbuf(&b, "x");
    jbuf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* usable again after free */
    jbuf_u64(&b, 42);
    assert_jbuf(&b, "42");
    jbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(u64_zero_and_max),
        cmocka_unit_test(i64_zero_negative_and_extremes),
        cmocka_unit_test(decimal_is_written_with_the_exchanges_places),
        cmocka_unit_test(decimal_with_more_digits_than_places_falls_back_to_the_exact_form),
        cmocka_unit_test(decimal_extremes),
        cmocka_unit_test(string_plain_text_is_quoted),
        cmocka_unit_test(string_escapes_quote_backslash_and_control_characters),
        cmocka_unit_test(string_passes_utf8_through),
        cmocka_unit_test(raw_append_and_char_concatenate),
        cmocka_unit_test(buffer_grows_past_its_first_capacity),
        cmocka_unit_test(reset_keeps_the_capacity_and_empties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
