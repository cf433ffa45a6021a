/*
 * test_bookbuilder_jscan.c — the JSON pull scanner: walking Binance frames, skipping what is not
 * read, and refusing every kind of malformed document, both when walked and when skipped whole.
 *
 * Documents under test are copied to the very end of a heap buffer of exactly their length, with
 * no NUL after them, so that a scanner reading one byte too far is caught by AddressSanitizer.
 *
 * Each malformed document is run through two paths: jscan_value() skipping it whole (the path
 * parse takes for unknown members) and a walk that peeks at every value and opens every
 * container (the path it takes for known ones). Both must return -1 before jscan_end() returns
 * 0. cJSON is the reference for the cases where it is itself strict; where it is lax (it does
 * not check UTF-8, raw control characters, leading zeros, a trailing '.', hex digits in \u
 * escapes, or which bytes are whitespace) the table says so and the comparison is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "jscan.h"

#define DOC(text) text, sizeof(text) - 1

static const char DEPTH_FRAME[] =
    "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161255208,"
    "\"s\":\"BTCUSDT\",\"U\":50093239189,\"u\":50093239202,"
    "\"b\":[[\"61737.63000000\",\"0.00000000\"]],\"a\":[]}}";

/* ---- helpers --------------------------------------------------------------------------------- */

/* A heap copy of text with text's last byte at the last byte of the allocation. Free with
   free_exact(). */
static char *exact_copy(const char *text, size_t len)
{
    char *block = malloc(len > 0 ? len : 1);
    assert_non_null(block);
    char *doc = block + (len > 0 ? 0 : 1); /* len 0: one past the end, nothing to read */
    if (len > 0)
        memcpy(doc, text, len);
    return doc;
}

static void free_exact(char *doc, size_t len)
{
    free(len > 0 ? doc : doc - 1);
}

/* Skips the whole document with one jscan_value, then jscan_end. 0 or -1; s is left for
   inspection. */
static int skip_whole(jscan_t *s, const char *doc, size_t len)
{
    jscan_init(s, doc, len);
    if (jscan_value(s, NULL) < 0)
        return -1;
    return jscan_end(s);
}

/* Walks one value the way a parser reads known members: peek, open containers, read keys and
   scalars, copy every string. Recursion is bounded by JSCAN_MAX_DEPTH + 1. */
static int walk_value(jscan_t *s)
{
    static char text[4096];
    jscan_value_t v;
    int type = jscan_peek(s);
    if (type < 0)
        return -1;
    if (type == JSCAN_OBJECT) {
        if (jscan_object_begin(s) < 0)
            return -1;
        int more;
        while ((more = jscan_object_next(s, &v)) == 1) {
            assert_true(jscan_string_copy(&v, text, sizeof text) >= 0);
            if (walk_value(s) < 0)
                return -1;
        }
        return more;
    }
    if (type == JSCAN_ARRAY) {
        if (jscan_array_begin(s) < 0)
            return -1;
        int more;
        while ((more = jscan_array_next(s)) == 1)
            if (walk_value(s) < 0)
                return -1;
        return more;
    }
    if (jscan_value(s, &v) < 0)
        return -1;
    assert_int_equal(v.type, type);
    if (v.type == JSCAN_STRING)
        assert_true(jscan_string_copy(&v, text, sizeof text) >= 0);
    return 0;
}

static int walk_whole(jscan_t *s, const char *doc, size_t len)
{
    jscan_init(s, doc, len);
    if (walk_value(s) < 0)
        return -1;
    return jscan_end(s);
}

static void print_doc(const char *doc, size_t len)
{
    for (size_t i = 0; i < len && i < 120; i++) {
        unsigned char c = (unsigned char)doc[i];
        if (c >= 0x20 && c < 0x7f)
            print_error("%c", c);
        else
            print_error("\\x%02x", c);
    }
}

/* cJSON's verdict on a document, given a NUL-terminated copy as its strict mode requires. */
static bool cjson_accepts(const char *doc, size_t len)
{
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, doc, len);
    copy[len] = '\0';
    cJSON *tree = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
    bool accepted = tree != NULL;
    cJSON_Delete(tree);
    free(copy);
    return accepted;
}

/* A string value made by hand, as a caller might hold one. */
static jscan_value_t string_value(const char *content, bool escaped)
{
    return (jscan_value_t){JSCAN_STRING, content, strlen(content), escaped};
}

static jscan_value_t number_value(const char *token)
{
    return (jscan_value_t){JSCAN_NUMBER, token, strlen(token), false};
}

/* Nested arrays ("[[…]]") or objects ({"a":{"a":…0…}}) `depth` levels deep, in a heap buffer
   of exactly *len bytes. */
static char *nested(unsigned depth, bool objects, size_t *len)
{
    size_t open_len = objects ? 5 : 1; /* {"a": or [ */
    size_t n = depth * (open_len + 1) + 1;
    char *text = malloc(n);
    assert_non_null(text);
    char *w = text;
    for (unsigned i = 0; i < depth; i++) {
        memcpy(w, objects ? "{\"a\":" : "[", open_len);
        w += open_len;
    }
    *w++ = '0';
    for (unsigned i = 0; i < depth; i++)
        *w++ = objects ? '}' : ']';
    *len = n;
    return text;
}

/* ---- the tables ------------------------------------------------------------------------------ */

typedef struct {
    const char *text;
    size_t len;
    const char *reason; /* a part of jscan_error()'s reason when the document is skipped whole */
    bool cjson_lax;     /* cJSON accepts this one: no comparison */
} malformed_t;

static const malformed_t MALFORMED[] = {
    /* no value, or an unfinished one */
    {DOC(""), "unexpected end of input", false},
    {DOC(" \t\r\n"), "unexpected end of input", false},
    {DOC("{"), "unexpected end of input inside an object", false},
    {DOC("["), "unexpected end of input inside an array", false},
    {DOC("[1,"), "unexpected end of input where a value", false},
    {DOC("{\"a\":"), "unexpected end of input where a value", false},
    {DOC("{\"a\""), "expected ':'", false},
    /* commas, colons, brackets */
    {DOC("[1,]"), "trailing comma", false},
    {DOC("[1,\n]"), "trailing comma", false},
    {DOC("{\"a\":1,}"), "expected a member name", false},
    {DOC("[,1]"), "expected a value", false},
    {DOC("{,}"), "expected a member name", false},
    {DOC("[1,,2]"), "expected a value", false},
    {DOC("{\"a\":1,,\"b\":2}"), "expected a member name", false},
    {DOC("[1 2]"), "expected ',' or ']'", false},
    {DOC("{\"a\":1 \"b\":2}"), "expected ',' or '}'", false},
    {DOC("{\"a\" 1}"), "expected ':'", false},
    {DOC("{\"a\"=1}"), "expected ':'", false},
    {DOC("{\"a\":}"), "expected a value", false},
    {DOC("{a:1}"), "expected a member name", false},
    {DOC("{1:1}"), "expected a member name", false},
    {DOC("{'a':1}"), "expected a member name", false},
    {DOC("[1}"), "expected ',' or ']'", false},
    {DOC("{\"a\":1]"), "expected ',' or '}'", false},
    {DOC("[\"a\":1]"), "expected ',' or ']'", false},
    /* numbers */
    {DOC("01"), "leading zero", true},
    {DOC("-01"), "leading zero", true},
    {DOC("[00]"), "leading zero", true},
    {DOC("-"), "'-' not followed by a digit", false},
    {DOC("-a"), "'-' not followed by a digit", false},
    {DOC("1."), "no digit after a decimal point", true},
    {DOC("1.e5"), "no digit after a decimal point", true},
    {DOC(".5"), "expected a value", false},
    {DOC("+1"), "expected a value", false},
    {DOC("1e"), "no digit in an exponent", false},
    {DOC("1e+"), "no digit in an exponent", false},
    {DOC("[1E-]"), "no digit in an exponent", false},
    {DOC("0x10"), "trailing data", false},
    {DOC("1.5.3"), "trailing data", false},
    {DOC("NaN"), "expected a value", false},
    {DOC("Infinity"), "expected a value", false},
    {DOC("-Infinity"), "'-' not followed by a digit", false},
    /* literals */
    {DOC("tru"), "invalid literal", false},
    {DOC("nul"), "invalid literal", false},
    {DOC("fals"), "invalid literal", false},
    {DOC("True"), "expected a value", false},
    {DOC("nulll"), "trailing data", false},
    {DOC("[truex]"), "expected ',' or ']'", false},
    {DOC("'a'"), "expected a value", false},
    /* strings: termination, control characters, escapes */
    {DOC("\"abc"), "unterminated string", false},
    {DOC("\"abc\\\""), "unterminated string", false},
    {DOC("\"abc\\"), "unterminated string", false},
    {DOC("{\"a"), "unterminated string", false},
    {DOC("\"a\x01z\""), "control character", true},
    {DOC("\"a\tb\""), "control character", true},
    {DOC("\"a\nb\""), "control character", true},
    {DOC("\"\x1f\""), "control character", true},
    {DOC("\"\\x41\""), "invalid escape", false},
    {DOC("\"\\a\""), "invalid escape", false},
    {DOC("\"\\'\""), "invalid escape", false},
    {DOC("\"\\U0041\""), "invalid escape", false},
    {DOC("\"\\u12\""), "four hex digits", false},
    {DOC("\"\\u12G4\""), "four hex digits", true},
    {DOC("\"\\u0"), "truncated \\u escape", false},
    {DOC("\"\\uD800\""), "high surrogate not followed by a low one", false},
    {DOC("\"\\uD83D\\u0041\""), "high surrogate not followed by a low one", false},
    {DOC("\"\\uD83D\\uD83D\""), "high surrogate not followed by a low one", false},
    {DOC("\"\\uD83Dx\\uDE00\""), "high surrogate not followed by a low one", false},
    {DOC("\"\\uDC00\""), "low surrogate without a high one", false},
    {DOC("\"\\uDE00\\uD83D\""), "low surrogate without a high one", false},
    /* UTF-8 */
    {DOC("\"\xC0\xAF\""), "overlong", true},
    {DOC("\"\xC1\xBF\""), "overlong", true},
    {DOC("\"\xE0\x80\xAF\""), "overlong", true},
    {DOC("\"\xE0\x9F\xBF\""), "overlong", true},
    {DOC("\"\xF0\x80\x80\xAF\""), "overlong", true},
    {DOC("\"\xF0\x8F\xBF\xBF\""), "overlong", true},
    {DOC("\"\xED\xA0\x80\""), "surrogate encoded in UTF-8", true},
    {DOC("\"\xED\xBF\xBF\""), "surrogate encoded in UTF-8", true},
    {DOC("\"\xED\xA0\xBD\xED\xB8\x80\""), "surrogate encoded in UTF-8", true},
    {DOC("\"\xF4\x90\x80\x80\""), "beyond U+10FFFF", true},
    {DOC("\"\xF5\x80\x80\x80\""), "0xF5..0xFF", true},
    {DOC("\"\xFF\""), "0xF5..0xFF", true},
    {DOC("\"\x80\""), "continuation byte without a lead byte", true},
    {DOC("\"\xBF\xBF\""), "continuation byte without a lead byte", true},
    {DOC("\"\xC3\""), "truncated UTF-8 sequence", true},
    {DOC("\"\xE2\x82\""), "truncated UTF-8 sequence", true},
    {DOC("\"\xF0\x9F\x98\""), "truncated UTF-8 sequence", true},
    {DOC("\"\xE2\x82z\""), "truncated UTF-8 sequence", true},
    {DOC("\"\xC3"), "truncated UTF-8 sequence at the end of the input", false},
    {DOC("\"\xF0\x9F\x98"), "truncated UTF-8 sequence at the end of the input", false},
    /* whitespace, comments, trailing garbage */
    {DOC("\f1"), "expected a value", true},
    {DOC("\v1"), "expected a value", true},
    {DOC("\xC2\xA0"
         "1"),
     "expected a value", false},
    {DOC("/* c */ 1"), "expected a value", false},
    {DOC("1 // c"), "trailing data", false},
    {DOC("[1] [2]"), "trailing data", false},
    {DOC("1 2"), "trailing data", false},
    {DOC("{} x"), "trailing data", false},
    {DOC("[1]]"), "trailing data", false},
    {DOC("\"a\"\"b\""), "trailing data", false},
    {DOC("[1]\0"), "trailing data", true},
    {DOC("0\0 1"), "trailing data", false},
};

typedef struct {
    const char *text;
    size_t len;
} wellformed_t;

static const wellformed_t WELLFORMED[] = {
    {DOC("0")},
    {DOC("-0")},
    {DOC("7")},
    {DOC("-1")},
    {DOC("0.5")},
    {DOC("-0.0e-0")},
    {DOC("1E+10")},
    {DOC("1e-7")},
    {DOC("12.34E56")},
    {DOC("123456789012345678901234567890")},
    {DOC("true")},
    {DOC("false")},
    {DOC("null")},
    {DOC("\"\"")},
    {DOC("\"abc\"")},
    {DOC("[]")},
    {DOC("{}")},
    {DOC(" \t\n\r[ 1 , 2 ]\r\n\t ")},
    {DOC("{ \"a\" : 1 , \"b\" : [ ] }")},
    {DOC("[[[]]]")},
    {DOC("[1,\"a\",true,false,null,{},[],-2.5e3]")},
    {DOC("{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":\"e\"}")},
    {DOC("{\"a\":1,\"a\":2}")},
    {DOC("{\"\":0}")},
    {DOC("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"")},
    {DOC("\"\\u0041\\u00e9\\u20AC\\uFFFF\\u0000\"")},
    {DOC("\"\\uD83D\\uDE00\\udbff\\udfff\"")},
    {DOC("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"")},
    {DOC("\"\xC2\x80\xDF\xBF\"")},                 /* U+0080, U+07FF */
    {DOC("\"\xE0\xA0\x80\xED\x9F\xBF\"")},         /* U+0800, U+D7FF */
    {DOC("\"\xEE\x80\x80\xEF\xBF\xBF\"")},         /* U+E000, U+FFFF */
    {DOC("\"\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"")}, /* U+10000, U+10FFFF */
    {DOC("\"\x7f ~ !\"")},
    {DOC("\"/* not a comment */\"")},
    {DOC("{\"lastUpdateId\":1027024,\"bids\":[[\"4.00000000\",\"431.00000000\"]],"
         "\"asks\":[[\"4.00000200\",\"12.00000000\"]]}")},
    {DOC("{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\","
         "\"E\":1723161255208,\"s\":\"BTCUSDT\",\"U\":50093239189,\"u\":50093239202,"
         "\"b\":[[\"61737.63000000\",\"0.00000000\"]],\"a\":[]}}")},
};

/* ---- walking a Binance frame ----------------------------------------------------------------- */

static void walks_binance_combined_depth_frame_pulling_every_field(void **state)
{
    (void)state;
    size_t len = sizeof DEPTH_FRAME - 1;
    char *doc = exact_copy(DEPTH_FRAME, len);
    jscan_t s;
    jscan_value_t key, v;
    char text[64];
    jscan_init(&s, doc, len);

    assert_int_equal(jscan_object_begin(&s), 0);
    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "stream"));
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(v.type, JSCAN_STRING);
    assert_true(jscan_string_is(&v, "btcusdt@depth@100ms"));
    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "data"));
    assert_int_equal(jscan_peek(&s), JSCAN_OBJECT);
    assert_int_equal(jscan_object_begin(&s), 0);

    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "e"));
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_true(jscan_string_is(&v, "depthUpdate"));

    uint64_t u64;
    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "E"));
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(v.type, JSCAN_NUMBER);
    assert_int_equal(jscan_to_u64(&v, &u64), 0);
    assert_int_equal(u64, 1723161255208u);

    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "s"));
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_string_copy(&v, text, sizeof text), 7);
    assert_string_equal(text, "BTCUSDT");

    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "U"));
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_to_u64(&v, &u64), 0);
    assert_int_equal(u64, 50093239189u);

    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "u"));
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_to_u64(&v, &u64), 0);
    assert_int_equal(u64, 50093239202u);

    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "b"));
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_string_copy(&v, text, sizeof text), 14);
    assert_string_equal(text, "61737.63000000");
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_true(jscan_string_is(&v, "0.00000000"));
    assert_false(v.escaped);
    assert_int_equal(jscan_array_next(&s), 0); /* the level closes */
    assert_int_equal(jscan_array_next(&s), 0); /* the side closes */

    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_true(jscan_string_is(&key, "a"));
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 0);

    assert_int_equal(jscan_object_next(&s, &key), 0); /* data closes */
    assert_int_equal(jscan_object_next(&s, &key), 0); /* the frame closes */
    assert_int_equal(jscan_end(&s), 0);
    assert_null(jscan_error(&s, NULL));
    free_exact(doc, len);
}

static void skips_unknown_nested_members(void **state)
{
    (void)state;
    static const char frame[] =
        "{\"x\":{\"y\":[1,{\"z\":\"w\"},[[]],\"\\u00e9\"],\"q\":null},\"stream\":\"ethbtc@depth\","
        "\"extra\":[{\"a\":[{\"b\":{}}]}],\"data\":{\"st\":{\"deep\":[true,false]},\"u\":42}}";
    size_t len = sizeof frame - 1;
    char *doc = exact_copy(frame, len);
    jscan_t s;
    jscan_value_t key, v;
    uint64_t u = 0;
    bool saw_stream = false;
    jscan_init(&s, doc, len);

    assert_int_equal(jscan_object_begin(&s), 0);
    int more;
    while ((more = jscan_object_next(&s, &key)) == 1) {
        if (jscan_string_is(&key, "stream")) {
            assert_int_equal(jscan_value(&s, &v), 0);
            saw_stream = jscan_string_is(&v, "ethbtc@depth");
        } else if (jscan_string_is(&key, "data")) {
            assert_int_equal(jscan_object_begin(&s), 0);
            while ((more = jscan_object_next(&s, &key)) == 1) {
                if (jscan_string_is(&key, "u")) {
                    assert_int_equal(jscan_value(&s, &v), 0);
                    assert_int_equal(jscan_to_u64(&v, &u), 0);
                } else {
                    assert_int_equal(jscan_value(&s, NULL), 0);
                }
            }
            assert_int_equal(more, 0);
        } else {
            assert_int_equal(jscan_value(&s, &v), 0);
            assert_true(v.type == JSCAN_OBJECT || v.type == JSCAN_ARRAY);
        }
    }
    assert_int_equal(more, 0);
    assert_int_equal(jscan_end(&s), 0);
    assert_true(saw_stream);
    assert_int_equal(u, 42);
    free_exact(doc, len);
}

static void skipped_container_value_spans_bracket_to_match(void **state)
{
    (void)state;
    static const char text[] = "{\"k\": [1, {\"a\": \"]\"}, [] ] , \"n\":{ } }";
    jscan_t s;
    jscan_value_t key, v;
    jscan_init(&s, text, sizeof text - 1);
    assert_int_equal(jscan_object_begin(&s), 0);
    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(v.type, JSCAN_ARRAY);
    assert_int_equal(v.len, strlen("[1, {\"a\": \"]\"}, [] ]"));
    assert_memory_equal(v.start, "[1, {\"a\": \"]\"}, [] ]", v.len);
    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(v.type, JSCAN_OBJECT);
    assert_int_equal(v.len, 3);
    assert_int_equal(jscan_object_next(&s, &key), 0);
    assert_int_equal(jscan_end(&s), 0);
}

static void scalar_values_are_slices_of_the_input(void **state)
{
    (void)state;
    static const char text[] = "[\"a\\nb\", -12.5e+3, true, false, null, \"plain\"]";
    static const struct {
        jscan_type_t type;
        const char *token;
        bool escaped;
    } want[] = {
        {JSCAN_STRING, "a\\nb", true}, {JSCAN_NUMBER, "-12.5e+3", false},
        {JSCAN_TRUE, "true", false},   {JSCAN_FALSE, "false", false},
        {JSCAN_NULL, "null", false},   {JSCAN_STRING, "plain", false},
    };
    jscan_t s;
    jscan_value_t v;
    jscan_init(&s, text, sizeof text - 1);
    assert_int_equal(jscan_array_begin(&s), 0);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(jscan_array_next(&s), 1);
        assert_int_equal(jscan_peek(&s), want[i].type);
        assert_int_equal(jscan_peek(&s), want[i].type); /* peeking does not consume */
        assert_int_equal(jscan_value(&s, &v), 0);
        assert_int_equal(v.type, want[i].type);
        assert_int_equal(v.len, strlen(want[i].token));
        assert_memory_equal(v.start, want[i].token, v.len);
        assert_int_equal(v.escaped, want[i].escaped);
    }
    assert_int_equal(jscan_array_next(&s), 0);
    assert_int_equal(jscan_end(&s), 0);
}

/* ---- malformed and well-formed documents ----------------------------------------------------- */

static void rejects_malformed_documents_when_skipped_whole(void **state)
{
    (void)state;
    assert_true(sizeof MALFORMED / sizeof MALFORMED[0] >= 30);
    for (size_t i = 0; i < sizeof MALFORMED / sizeof MALFORMED[0]; i++) {
        const malformed_t *m = &MALFORMED[i];
        char *doc = exact_copy(m->text, m->len);
        jscan_t s;
        size_t offset = SIZE_MAX;
        int rc = skip_whole(&s, doc, m->len);
        const char *reason = jscan_error(&s, &offset);
        bool bad = rc != -1 || !reason || !strstr(reason, m->reason) || offset > m->len;
        if (bad) {
            print_error("MALFORMED[%zu] \"", i);
            print_doc(m->text, m->len);
            print_error("\": want -1 with \"%s\", got %d with \"%s\" at %zu\n", m->reason, rc,
                        reason ? reason : "(none)", offset);
        }
        free_exact(doc, m->len);
        if (bad)
            fail();
    }
}

static void rejects_malformed_documents_when_walked(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof MALFORMED / sizeof MALFORMED[0]; i++) {
        const malformed_t *m = &MALFORMED[i];
        char *doc = exact_copy(m->text, m->len);
        jscan_t s;
        int rc = walk_whole(&s, doc, m->len);
        bool bad = rc != -1 || !jscan_error(&s, NULL);
        if (bad) {
            print_error("MALFORMED[%zu] \"", i);
            print_doc(m->text, m->len);
            print_error("\": walked to jscan_end() == %d\n", rc);
        }
        free_exact(doc, m->len);
        if (bad)
            fail();
    }
}

static void accepts_wellformed_documents_when_skipped_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof WELLFORMED / sizeof WELLFORMED[0]; i++) {
        const wellformed_t *w = &WELLFORMED[i];
        char *doc = exact_copy(w->text, w->len);
        jscan_t s;
        jscan_value_t v;
        jscan_init(&s, doc, w->len);
        int rc = jscan_value(&s, &v);
        if (rc == 0)
            rc = jscan_end(&s);
        if (rc != 0) {
            size_t offset = 0;
            const char *reason = jscan_error(&s, &offset);
            print_error("WELLFORMED[%zu] \"", i);
            print_doc(w->text, w->len);
            print_error("\": %s at %zu\n", reason ? reason : "(no reason)", offset);
        } else {
            /* The value is the document less its surrounding whitespace (and a string's
               quotes). */
            const char *first = doc;
            while (*first == ' ' || *first == '\t' || *first == '\r' || *first == '\n')
                first++;
            assert_ptr_equal(v.start, first + (v.type == JSCAN_STRING));
        }
        free_exact(doc, w->len);
        if (rc != 0)
            fail();
    }
}

static void accepts_wellformed_documents_when_walked(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof WELLFORMED / sizeof WELLFORMED[0]; i++) {
        const wellformed_t *w = &WELLFORMED[i];
        char *doc = exact_copy(w->text, w->len);
        jscan_t s;
        int rc = walk_whole(&s, doc, w->len);
        if (rc != 0) {
            size_t offset = 0;
            const char *reason = jscan_error(&s, &offset);
            print_error("WELLFORMED[%zu] \"", i);
            print_doc(w->text, w->len);
            print_error("\": %s at %zu\n", reason ? reason : "(no reason)", offset);
        }
        free_exact(doc, w->len);
        if (rc != 0)
            fail();
    }
}

static void agrees_with_cjson_where_cjson_is_strict(void **state)
{
    (void)state;
    unsigned compared = 0;
    for (size_t i = 0; i < sizeof WELLFORMED / sizeof WELLFORMED[0]; i++) {
        if (!cjson_accepts(WELLFORMED[i].text, WELLFORMED[i].len)) {
            print_error("cJSON refuses WELLFORMED[%zu]\n", i);
            fail();
        }
        compared++;
    }
    for (size_t i = 0; i < sizeof MALFORMED / sizeof MALFORMED[0]; i++) {
        const malformed_t *m = &MALFORMED[i];
        if (m->cjson_lax)
            continue;
        if (cjson_accepts(m->text, m->len)) {
            print_error("cJSON accepts MALFORMED[%zu] \"", i);
            print_doc(m->text, m->len);
            print_error("\"; mark it cjson_lax if cJSON is lax there\n");
            fail();
        }
        compared++;
    }
    assert_true(compared >= 80);
}

static void rejects_every_truncation_of_a_depth_frame(void **state)
{
    (void)state;
    for (size_t len = 0; len < sizeof DEPTH_FRAME - 1; len++) {
        char *doc = exact_copy(DEPTH_FRAME, len);
        jscan_t s;
        bool bad = skip_whole(&s, doc, len) != -1 || walk_whole(&s, doc, len) != -1;
        free_exact(doc, len);
        if (bad) {
            print_error("the first %zu bytes of the frame were accepted\n", len);
            fail();
        }
    }
}

/* Deterministic, so that a failure reproduces: xorshift64. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* One to four random edits of doc (at most cap bytes) in place: delete, insert or replace a byte
   drawn from JSON's structural characters and the UTF-8 edge bytes, cut the tail, or repeat a
   slice. Returns the new length. */
static size_t mutate(char *doc, size_t len, size_t cap, uint64_t *rng)
{
    static const char bytes[] = "{}[],:\"\\ \t\n0123456789-+.eEtrufalsnuD\x01\x1f\x7f\x80\xbf"
                                "\xc0\xc2\xe0\xed\xf0\xf4\xf5\xff";
    unsigned edits = 1 + (unsigned)(next_random(rng) % 4);
    for (unsigned e = 0; e < edits; e++) {
        size_t at = len ? (size_t)(next_random(rng) % len) : 0;
        char byte = bytes[next_random(rng) % (sizeof bytes - 1)];
        switch (next_random(rng) % 5) {
        case 0:
            if (len > 0) {
                memmove(doc + at, doc + at + 1, len - at - 1);
                len--;
            }
            break;
        case 1:
            if (len < cap) {
                memmove(doc + at + 1, doc + at, len - at);
                doc[at] = byte;
                len++;
            }
            break;
        case 2:
            if (len > 0)
                doc[at] = byte;
            break;
        case 3:
            len = at;
            break;
        default: {
            size_t n = 1 + (size_t)(next_random(rng) % 16);
            if (n > len - at)
                n = len - at;
            if (len + n <= cap) {
                memmove(doc + at + n, doc + at, len - at);
                len += n; /* the slice [at, at+n) now appears twice */
            }
        }
        }
    }
    return len;
}

static void skipping_and_walking_agree_on_mutated_frames(void **state)
{
    (void)state;
    enum { ROUNDS = 50000 };
    char work[2 * sizeof DEPTH_FRAME];
    uint64_t rng = 0x9e3779b97f4a7c15u;
    unsigned accepted = 0;
    for (unsigned round = 0; round < ROUNDS; round++) {
        memcpy(work, DEPTH_FRAME, sizeof DEPTH_FRAME - 1);
        size_t len = mutate(work, sizeof DEPTH_FRAME - 1, sizeof work, &rng);
        char *doc = exact_copy(work, len);
        jscan_t s;
        int skipped = skip_whole(&s, doc, len);
        int walked = walk_whole(&s, doc, len);
        free_exact(doc, len);
        if (skipped != walked) {
            print_error("round %u: skipped %d, walked %d: \"", round, skipped, walked);
            print_doc(work, len);
            print_error("\"\n");
            fail();
        }
        accepted += skipped == 0;
    }
    /* Both verdicts occur, or the edits test nothing. */
    assert_true(accepted > ROUNDS / 100 && accepted < ROUNDS / 2);
}

static void reads_only_len_bytes(void **state)
{
    (void)state;
    jscan_t s;
    jscan_value_t v;
    uint64_t n;
    assert_int_equal(skip_whole(&s, "[1]garbage", 3), 0);
    jscan_init(&s, "1234", 2);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_to_u64(&v, &n), 0);
    assert_int_equal(n, 12);
    assert_int_equal(jscan_end(&s), 0);
    jscan_init(&s, "\"ab\"", 3); /* the closing quote is outside */
    assert_int_equal(jscan_value(&s, &v), -1);
    jscan_init(&s, "true", 3);
    assert_int_equal(jscan_value(&s, &v), -1);
    jscan_init(&s, NULL, 0);
    assert_int_equal(jscan_value(&s, &v), -1);
}

static void reports_reason_and_offset_of_the_first_error(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t offset;
    } cases[] = {
        {"[1,]", 3},
        {"{\"a\":1,}", 7},
        {"[1 2]", 3},
        {"\"ab\\qc\"", 3},
        {"\"a\xED\xA0\x80\"", 2},
        {"  01", 3},
        {"{\"a\":[tru]}", 6},
        {"[1] x", 4},
        {"\"\\uD800\\u0041\"", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jscan_t s;
        size_t offset = SIZE_MAX;
        assert_int_equal(skip_whole(&s, cases[i].text, strlen(cases[i].text)), -1);
        assert_non_null(jscan_error(&s, &offset));
        if (offset != cases[i].offset) {
            print_error("\"%s\": error \"%s\" at %zu, expected at %zu\n", cases[i].text,
                        jscan_error(&s, NULL), offset, cases[i].offset);
            fail();
        }
    }
}

static void errors_are_sticky(void **state)
{
    (void)state;
    static const char text[] = "{\"a\":[1,,2],\"b\":3}";
    jscan_t s;
    jscan_value_t key, v = {JSCAN_NULL, NULL, 0, false};
    size_t offset, later_offset;
    jscan_init(&s, text, sizeof text - 1);
    assert_int_equal(jscan_object_begin(&s), 0);
    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value(&s, &v), -1); /* the second ',' */
    const char *reason = jscan_error(&s, &offset);
    assert_non_null(reason);
    assert_int_equal(offset, 8);

    assert_int_equal(jscan_value(&s, &v), -1);
    assert_int_equal(jscan_peek(&s), -1);
    assert_int_equal(jscan_array_next(&s), -1);
    assert_int_equal(jscan_array_begin(&s), -1);
    assert_int_equal(jscan_object_begin(&s), -1);
    assert_int_equal(jscan_object_next(&s, &key), -1);
    assert_int_equal(jscan_end(&s), -1);
    assert_ptr_equal(jscan_error(&s, &later_offset), reason);
    assert_int_equal(later_offset, offset);

    jscan_init(&s, text, 3); /* init starts afresh */
    assert_null(jscan_error(&s, NULL));
}

static void refuses_calls_out_of_order_instead_of_accepting_bad_json(void **state)
{
    (void)state;
    jscan_t s;
    jscan_value_t key, v;

    /* {"a"}: reading the name as a value without jscan_object_next */
    jscan_init(&s, "{\"a\"}", 5);
    assert_int_equal(jscan_object_begin(&s), 0);
    assert_int_equal(jscan_value(&s, &v), -1);

    /* {"a":"b":1}: a second jscan_object_next while "b" is pending */
    jscan_init(&s, "{\"a\":\"b\":1}", 11);
    assert_int_equal(jscan_object_begin(&s), 0);
    assert_int_equal(jscan_object_next(&s, &key), 1);
    assert_int_equal(jscan_object_next(&s, &key), -1);

    /* [1 2]: two values without jscan_array_next between them */
    jscan_init(&s, "[1 2]", 5);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_value(&s, &v), -1);

    /* 1 2: a second top-level value */
    jscan_init(&s, "1 2", 3);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_value(&s, &v), -1);

    /* the wrong kind of container, and next outside any container */
    jscan_init(&s, "[1]", 3);
    assert_int_equal(jscan_object_begin(&s), -1);
    jscan_init(&s, "[1]", 3);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_object_next(&s, &key), -1);
    jscan_init(&s, "1", 1);
    assert_int_equal(jscan_array_next(&s), -1);

    /* jscan_end before the document is complete */
    jscan_init(&s, "[1]", 3);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_end(&s), -1);
    jscan_init(&s, " ", 1);
    assert_int_equal(jscan_end(&s), -1);
}

static void end_accepts_trailing_whitespace_only(void **state)
{
    (void)state;
    jscan_t s;
    assert_int_equal(skip_whole(&s, "{} \r\n\t", 6), 0);
    assert_int_equal(skip_whole(&s, "{} \r\n\tx", 7), -1);
    assert_non_null(strstr(jscan_error(&s, NULL), "trailing data"));
}

/* ---- depth ----------------------------------------------------------------------------------- */

static void check_depth(unsigned depth, bool objects, int expected)
{
    size_t len;
    char *doc = nested(depth, objects, &len);
    jscan_t s;
    int skipped = skip_whole(&s, doc, len);
    const char *reason = jscan_error(&s, NULL);
    int walked = walk_whole(&s, doc, len);
    free(doc);
    if (skipped != expected || walked != expected) {
        print_error("%u nested %s: skipped %d, walked %d, expected %d\n", depth,
                    objects ? "objects" : "arrays", skipped, walked, expected);
        fail();
    }
    if (expected < 0)
        assert_non_null(strstr(reason, "nesting deeper"));
}

static void accepts_nesting_of_exactly_max_depth(void **state)
{
    (void)state;
    check_depth(JSCAN_MAX_DEPTH, false, 0);
    check_depth(JSCAN_MAX_DEPTH, true, 0);
    check_depth(1, false, 0);
}

static void rejects_nesting_one_level_deeper(void **state)
{
    (void)state;
    check_depth(JSCAN_MAX_DEPTH + 1, false, -1);
    check_depth(JSCAN_MAX_DEPTH + 1, true, -1);
    check_depth(10000, false, -1);
}

static void depth_is_restored_after_each_container(void **state)
{
    (void)state;
    /* 64 levels twice in a row, then a sibling at the top: the bit stack must unwind exactly. */
    size_t len;
    char *deep = nested(JSCAN_MAX_DEPTH - 1, false, &len);
    size_t doc_len = 1 + len + 1 + len + 4;
    char *doc = malloc(doc_len);
    assert_non_null(doc);
    doc[0] = '[';
    memcpy(doc + 1, deep, len);
    doc[1 + len] = ',';
    memcpy(doc + 2 + len, deep, len);
    memcpy(doc + 2 + 2 * len, ",{}]", 4);
    jscan_t s;
    assert_int_equal(skip_whole(&s, doc, doc_len), 0);
    assert_int_equal(walk_whole(&s, doc, doc_len), 0);
    free(deep);
    free(doc);
}

/* ---- numbers --------------------------------------------------------------------------------- */

static void to_u64_accepts_integers_up_to_uint64_max(void **state)
{
    (void)state;
    uint64_t n = 7;
    jscan_value_t v = number_value("0");
    assert_int_equal(jscan_to_u64(&v, &n), 0);
    assert_int_equal(n, 0);
    v = number_value("18446744073709551615");
    assert_int_equal(jscan_to_u64(&v, &n), 0);
    assert_true(n == UINT64_MAX);
    v = number_value("18446744073709551610");
    assert_int_equal(jscan_to_u64(&v, &n), 0);
    assert_true(n == UINT64_MAX - 5u);
}

static void to_u64_refuses_overflow_signs_fractions_and_exponents(void **state)
{
    (void)state;
    static const char *const refused[] = {
        "18446744073709551616",
        "18446744073709551620",
        "99999999999999999999",
        "100000000000000000000",
        "-1",
        "-0",
        "1.0",
        "1e3",
        "1E3",
        "01",
        "",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        uint64_t n = 7;
        jscan_value_t v = number_value(refused[i]);
        if (jscan_to_u64(&v, &n) != -1 || n != 7) {
            print_error("jscan_to_u64(\"%s\") accepted\n", refused[i]);
            fail();
        }
    }
    uint64_t n;
    jscan_value_t s = string_value("12", false);
    assert_int_equal(jscan_to_u64(&s, &n), -1); /* "12" is a string */
}

static void to_i64_accepts_the_whole_int64_range(void **state)
{
    (void)state;
    int64_t n;
    jscan_value_t v = number_value("9223372036854775807");
    assert_int_equal(jscan_to_i64(&v, &n), 0);
    assert_true(n == INT64_MAX);
    v = number_value("-9223372036854775808");
    assert_int_equal(jscan_to_i64(&v, &n), 0);
    assert_true(n == INT64_MIN);
    v = number_value("-0");
    assert_int_equal(jscan_to_i64(&v, &n), 0);
    assert_true(n == 0);
    v = number_value("-1");
    assert_int_equal(jscan_to_i64(&v, &n), 0);
    assert_true(n == -1);
}

static void to_i64_refuses_one_beyond_each_end(void **state)
{
    (void)state;
    static const char *const refused[] = {
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "-18446744073709551616",
        "-",
        "--1",
        "1.5",
        "-2e2",
        "",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int64_t n = 7;
        jscan_value_t v = number_value(refused[i]);
        if (jscan_to_i64(&v, &n) != -1 || n != 7) {
            print_error("jscan_to_i64(\"%s\") accepted\n", refused[i]);
            fail();
        }
    }
}

static void converts_numbers_as_scanned_from_a_document(void **state)
{
    (void)state;
    static const char text[] = "[18446744073709551615,18446744073709551616,-9223372036854775808]";
    jscan_t s;
    jscan_value_t v;
    uint64_t u;
    int64_t i;
    jscan_init(&s, text, sizeof text - 1);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_to_u64(&v, &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(jscan_to_i64(&v, &i), -1);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value(&s, &v), 0); /* valid JSON, too large to convert */
    assert_int_equal(jscan_to_u64(&v, &u), -1);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_to_i64(&v, &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(jscan_to_u64(&v, &u), -1);
    assert_int_equal(jscan_array_next(&s), 0);
    assert_int_equal(jscan_end(&s), 0);
}

/* ---- strings --------------------------------------------------------------------------------- */

static void string_copy_unescapes_every_escape(void **state)
{
    (void)state;
    static const char text[] = "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u0041\\u00e9\\u20ac\\u0000!\"";
    static const char want[] = "q\" b\\ s/ \b\f\n\r\t A\xC3\xA9\xE2\x82\xAC\0!";
    jscan_t s;
    jscan_value_t v;
    char buf[64];
    jscan_init(&s, text, sizeof text - 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_true(v.escaped);
    assert_int_equal(jscan_string_copy(&v, buf, sizeof buf), sizeof want - 1);
    assert_memory_equal(buf, want, sizeof want); /* the NUL from \u0000 and the terminator */
}

static void string_copy_joins_surrogate_pairs(void **state)
{
    (void)state;
    static const char text[] = "\"\\uD83D\\uDE00 \\ud800\\udc00 \\uDBFF\\uDFFF\"";
    static const char want[] = "\xF0\x9F\x98\x80 \xF0\x90\x80\x80 \xF4\x8F\xBF\xBF";
    jscan_t s;
    jscan_value_t v;
    char buf[64];
    jscan_init(&s, text, sizeof text - 1);
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(jscan_string_copy(&v, buf, sizeof buf), sizeof want - 1);
    assert_string_equal(buf, want);
}

static void string_copy_refuses_lone_surrogates(void **state)
{
    (void)state;
    static const char *const lone[] = {"\\uD83D", "a\\uD83Db",      "\\uD83D\\u0041",
                                       "\\uDE00", "\\uDE00\\uD83D", "\\uD83D\\uD83D\\uDE00"};
    for (size_t i = 0; i < sizeof lone / sizeof lone[0]; i++) {
        char buf[64] = "x";
        jscan_value_t v = string_value(lone[i], true);
        assert_int_equal(jscan_string_copy(&v, buf, sizeof buf), -1);
        assert_string_equal(buf, "");
    }
}

static void string_copy_refuses_a_buffer_too_small(void **state)
{
    (void)state;
    char buf[16];
    jscan_value_t plain = string_value("BTCUSDT", false);
    assert_int_equal(jscan_string_copy(&plain, buf, 8), 7); /* exactly fits with its NUL */
    assert_string_equal(buf, "BTCUSDT");
    assert_int_equal(jscan_string_copy(&plain, buf, 7), -1);
    assert_string_equal(buf, "");
    assert_int_equal(jscan_string_copy(&plain, buf, 0), -1);

    jscan_value_t escaped = string_value("a\\u20acb", true); /* "a€b": 5 bytes */
    assert_int_equal(jscan_string_copy(&escaped, buf, 6), 5);
    assert_string_equal(buf, "a\xE2\x82\xAC"
                             "b");
    assert_int_equal(jscan_string_copy(&escaped, buf, 5), -1);
    assert_string_equal(buf, "");
    assert_int_equal(jscan_string_copy(&escaped, buf, 4), -1); /* the escape does not fit */
    assert_int_equal(jscan_string_copy(&escaped, buf, 1), -1); /* nor the "a" before it */
    assert_string_equal(buf, "");

    jscan_value_t pair = string_value("\\uD83D\\uDE00", true); /* 4 bytes */
    assert_int_equal(jscan_string_copy(&pair, buf, 5), 4);
    assert_int_equal(jscan_string_copy(&pair, buf, 4), -1);
}

static void string_copy_refuses_what_is_not_a_string(void **state)
{
    (void)state;
    char buf[16] = "x";
    jscan_value_t n = number_value("12");
    assert_int_equal(jscan_string_copy(&n, buf, sizeof buf), -1);
    assert_string_equal(buf, "");
}

static void string_is_compares_the_decoded_value(void **state)
{
    (void)state;
    jscan_value_t plain = string_value("depthUpdate", false);
    assert_true(jscan_string_is(&plain, "depthUpdate"));
    assert_false(jscan_string_is(&plain, "depthUpdat"));
    assert_false(jscan_string_is(&plain, "depthUpdates"));
    assert_false(jscan_string_is(&plain, "DepthUpdate"));
    assert_false(jscan_string_is(&plain, ""));

    jscan_value_t empty = string_value("", false);
    assert_true(jscan_string_is(&empty, ""));
    assert_false(jscan_string_is(&empty, "a"));

    jscan_value_t escaped = string_value("\\u0064epth\\/\\uD83D\\uDE00", true);
    assert_true(jscan_string_is(&escaped, "depth/\xF0\x9F\x98\x80"));
    assert_false(jscan_string_is(&escaped, "depth/"));
    assert_false(jscan_string_is(&escaped, "\\u0064epth\\/\\uD83D\\uDE00"));

    /* an escaped NUL never matches the literal's terminator */
    jscan_value_t nul = string_value("a\\u0000", true);
    assert_false(jscan_string_is(&nul, "a"));

    jscan_value_t number = number_value("1");
    assert_false(jscan_string_is(&number, "1"));
}

/* A caller that read a value of a known shape itself tells the scanner where it ends; the walk
   goes on from there as after jscan_value, and a span outside the input is refused. */
static void value_consumed_continues_the_walk_after_it(void **state)
{
    (void)state;
    static const char text[] = "[[\"1.5\",\"2\"],[\"3\",\"4\"]]";
    char *doc = exact_copy(text, sizeof text - 1);
    jscan_t s;
    jscan_init(&s, doc, sizeof text - 1);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value_consumed(&s, doc + 12), 0);  /* ["1.5","2"] */
    assert_int_equal(jscan_value_consumed(&s, doc + 13), -1); /* a value was already read */
    jscan_init(&s, doc, sizeof text - 1);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value_consumed(&s, doc + 12), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    jscan_value_t v;
    assert_int_equal(jscan_value(&s, &v), 0);
    assert_int_equal(v.type, JSCAN_ARRAY);
    assert_int_equal(jscan_array_next(&s), 0);
    assert_int_equal(jscan_end(&s), 0);
    jscan_init(&s, doc, sizeof text - 1);
    assert_int_equal(jscan_array_begin(&s), 0);
    assert_int_equal(jscan_array_next(&s), 1);
    assert_int_equal(jscan_value_consumed(&s, doc + sizeof text), -1); /* past the input */
    assert_non_null(jscan_error(&s, NULL));
    free_exact(doc, sizeof text - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(walks_binance_combined_depth_frame_pulling_every_field),
        cmocka_unit_test(skips_unknown_nested_members),
        cmocka_unit_test(skipped_container_value_spans_bracket_to_match),
        cmocka_unit_test(scalar_values_are_slices_of_the_input),
        cmocka_unit_test(rejects_malformed_documents_when_skipped_whole),
        cmocka_unit_test(rejects_malformed_documents_when_walked),
        cmocka_unit_test(accepts_wellformed_documents_when_skipped_whole),
        cmocka_unit_test(accepts_wellformed_documents_when_walked),
        cmocka_unit_test(agrees_with_cjson_where_cjson_is_strict),
        cmocka_unit_test(rejects_every_truncation_of_a_depth_frame),
        cmocka_unit_test(skipping_and_walking_agree_on_mutated_frames),
        cmocka_unit_test(reads_only_len_bytes),
        cmocka_unit_test(reports_reason_and_offset_of_the_first_error),
        cmocka_unit_test(errors_are_sticky),
        cmocka_unit_test(refuses_calls_out_of_order_instead_of_accepting_bad_json),
        cmocka_unit_test(end_accepts_trailing_whitespace_only),
        cmocka_unit_test(accepts_nesting_of_exactly_max_depth),
        cmocka_unit_test(rejects_nesting_one_level_deeper),
        cmocka_unit_test(depth_is_restored_after_each_container),
        cmocka_unit_test(to_u64_accepts_integers_up_to_uint64_max),
        cmocka_unit_test(to_u64_refuses_overflow_signs_fractions_and_exponents),
        cmocka_unit_test(to_i64_accepts_the_whole_int64_range),
        cmocka_unit_test(to_i64_refuses_one_beyond_each_end),
        cmocka_unit_test(converts_numbers_as_scanned_from_a_document),
        cmocka_unit_test(string_copy_unescapes_every_escape),
        cmocka_unit_test(string_copy_joins_surrogate_pairs),
        cmocka_unit_test(string_copy_refuses_lone_surrogates),
        cmocka_unit_test(string_copy_refuses_a_buffer_too_small),
        cmocka_unit_test(string_copy_refuses_what_is_not_a_string),
        cmocka_unit_test(string_is_compares_the_decoded_value),
        cmocka_unit_test(value_consumed_continues_the_walk_after_it),
    };
    return cmocka_run_group_tests_name("bookbuilder_jscan", tests, NULL, NULL);
}
