/*
 * jscan.h — a strict JSON pull scanner that allocates nothing.
 *
 * The bookbuilder reads every frame the exchange sends, hundreds of thousands a second, and a
 * tree parser that allocates a node per value (cJSON: 7 µs for a 900-byte USD-M depth update)
 * would spend more time in malloc than the whole budget of a message. jscan walks the bytes in
 * place instead: the caller pulls members and items in document order, reads the scalars it
 * wants, and skips the rest. Strings and numbers come back as slices of the input.
 *
 * Strict means RFC 8259: one value, optional surrounding whitespace, no trailing commas, no
 * comments, no NaN, no leading zeros ("01"), no control characters in strings, valid escapes
 * (\uXXXX with four hex digits; an escaped surrogate only as a high-low pair), valid UTF-8 (no
 * overlongs, no surrogates encoded in UTF-8), nesting at most JSCAN_MAX_DEPTH. Every byte the
 * caller walks or skips is validated; a document is fully validated once the caller has walked it
 * to jscan_end() returning 0.
 *
 * Usage: jscan_init(); then jscan_object_begin()/jscan_object_next() to walk an object,
 * jscan_array_begin()/jscan_array_next() for an array, jscan_value() for a scalar (or to skip
 * a container whole), finally jscan_end(). After any -1 the scanner is in error: every later
 * call returns -1 and jscan_error() says what and where.
 */
#ifndef BOOKCAST_JSCAN_H
#define BOOKCAST_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSCAN_MAX_DEPTH 64

typedef enum {
    JSCAN_OBJECT = 1,
    JSCAN_ARRAY,
    JSCAN_STRING,
    JSCAN_NUMBER,
    JSCAN_TRUE,
    JSCAN_FALSE,
    JSCAN_NULL,
} jscan_type_t;

/* A value read by jscan_value(). For a string, [start, start+len) is its content between the
   quotes, still escaped when `escaped` is true. For a number, true, false and null, the token
   itself. For an object or array (skipped whole), the text from the bracket to its match. */
typedef struct {
    jscan_type_t type;
    const char *start;
    size_t len;
    bool escaped;
} jscan_value_t;

typedef struct {
    const char *p;      /* the cursor */
    const char *begin;  /* start of the input, for error offsets */
    const char *end;    /* one past the last byte */
    unsigned depth;     /* containers open */
    uint64_t open_bits; /* bit i: container at depth i+1 is an array (1) or object (0) */
    bool need_comma;    /* inside a container, a value was read: ',' or the close comes next */
    const char *error;  /* NULL, or a static reason */
    size_t error_offset;
} jscan_t;

/* Starts scanning the len bytes at buf (borrowed; need not be NUL-terminated). */
void jscan_init(jscan_t *s, const char *buf, size_t len);

/* The type of the value at the cursor, without consuming it; -1 (and the scanner in error)
   when no valid value can start there. */
int jscan_peek(jscan_t *s);

/* Consumes '{' at the cursor. 0, or -1. */
int jscan_object_begin(jscan_t *s);

/* In an object: returns 1 and the member's key (a string value; key may be NULL) with the cursor
   at its value, which the caller must then consume (jscan_value, a begin, …); 0 when the object
   closed (the '}' is consumed); -1 on a syntax error. */
int jscan_object_next(jscan_t *s, jscan_value_t *key);

/* Consumes '[' at the cursor. 0, or -1. */
int jscan_array_begin(jscan_t *s);

/* In an array: 1 with the cursor at the next item (to be consumed by the caller), 0 when the
   array closed (']' consumed), -1 on a syntax error. */
int jscan_array_next(jscan_t *s);

/* Consumes the value at the cursor into *v (v may be NULL to skip): a scalar, or an object or
   array validated and skipped whole. 0, or -1. */
int jscan_value(jscan_t *s, jscan_value_t *v);

/* For a caller's own fast path over a value of a shape it knows completely (a level of two
   plain number strings, which it reads and converts in the same pass): the caller has checked
   that the bytes from the cursor up to `after` are one whole, valid JSON value, and the scanner
   goes on after it as if jscan_value had read it. The validity of those bytes is the caller's
   promise. 0, or -1 when no value may be read at the cursor or `after` is outside the input. */
int jscan_value_consumed(jscan_t *s, const char *after);

/* After the top-level value: 0 when only whitespace remains, else -1. */
int jscan_end(jscan_t *s);

/* NULL while no error; else a static reason ("unterminated string") and, in *offset when not
   NULL, the byte offset where it was found. */
const char *jscan_error(const jscan_t *s, size_t *offset);

/* ---- reading values --------------------------------------------------------------------- */

/* Nonzero when v is a string whose value, escapes decoded in place (nothing is copied), equals
   the NUL-terminated lit. */
bool jscan_string_is(const jscan_value_t *v, const char *lit);

/* A JSON number that is a non-negative integer (no sign, fraction or exponent) fitting uint64:
   0 and *out set, else -1. */
int jscan_to_u64(const jscan_value_t *v, uint64_t *out);

/* A JSON number that is an integer (optional '-', no fraction or exponent) fitting int64. */
int jscan_to_i64(const jscan_value_t *v, int64_t *out);

/* Copies string v unescaped (\uXXXX to UTF-8, surrogate pairs joined; a lone surrogate is an
   error) into buf, NUL-terminated. Returns the length, or -1 (buf then holds "" when cap > 0)
   when it does not fit in cap bytes (NUL included) or is not a string. */
long jscan_string_copy(const jscan_value_t *v, char *buf, size_t cap);

#endif
