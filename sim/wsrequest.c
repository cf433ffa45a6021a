/*
 * wsrequest.c — SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY.
 *
 * The requests and responses are [S-WS] "Live Subscribing/Unsubscribing" (binance-protocol.md
 * §2); futures send and receive the same JSON. Responses: {"result":null,"id":N} for the
 * commands, {"result":[…],"id":N} for LIST_SUBSCRIPTIONS (subscription order),
 * {"result":true|false,"id":N} for GET_PROPERTY; errors arrive nested,
 * {"error":{"code":C,"msg":"…"},"id":N} (client fixtures; [PY-SDK] websocket.py reads
 * data["error"]). `id` is a 64-bit signed integer, an alphanumeric string of at most 36
 * characters, or null [S-WS], echoed in the same JSON type.
 *
 * Why a hand-written reader instead of cJSON. Binance's messages are serde_json's: "unknown
 * variant `X`, expected one of `SUBSCRIBE`, … at line 1 column 28", "missing field `method`
 * at line 1 column 73", "expected value at line %s column %s" [S-WS]. Their positions, and
 * which error wins when a message has several, follow from how serde_json reads a derived
 * struct field by field. So this file reads the message the way serde_json would read
 *     struct Request { method: Method, params: Option<Vec<Value>>, id: Option<Value> }
 * (Method an enum of the five methods; unknown fields ignored) and reports serde_json's error
 * texts and positions: line from 1, column = bytes consumed on that line, "peek" errors one
 * byte further. Syntax and EOF errors become code 3 "Invalid JSON: …", data errors (invalid
 * type, unknown variant, missing or duplicate field) code 2 "Invalid request: …". After the
 * struct is read, the checks that carry no position ([S-WS] error table) run in this order:
 *   1. id missing or not one of the three forms → 2 "request ID must be an unsigned integer"
 *      (the table: "`id` had to be provided or … is an unsupported type"); reply id null;
 *   2. per method, below.
 * A message that fails before its id is validated answers "id":null.
 *
 * Decisions where the doc is silent (each a guess, kept simple and strict):
 *   - SUBSCRIBE/UNSUBSCRIBE: every name is checked before any is applied; a malformed name or
 *     a non-string param fails the whole request with 2 "Invalid request: invalid stream",
 *     after which Binance closes the connection (observed on fstream 2026-08 "error + CLOSE",
 *     and a spot client log disconnected right after the same error, ctubio/Krypto-trading-
 *     bot#1121). The close code (1008) and reason are ours.
 *   - params missing or null on SUBSCRIBE/UNSUBSCRIBE: nothing to do, {"result":null}.
 *   - a SUBSCRIBE that would take the connection past 1024 streams changes nothing and gets
 *     2 "Invalid request: too many streams"; the connection stays open.
 *   - duplicates (in the set or within one params list) are subscribed once; UNSUBSCRIBE of a
 *     stream not held is a successful no-op.
 *   - "too many parameters": LIST_SUBSCRIPTIONS with a non-empty params list, SET_PROPERTY
 *     with more than 2, GET_PROPERTY with more than 1; checked first.
 *   - SET/GET_PROPERTY: no params or a non-string name → "property name must be a string"
 *     (the table lists it for "not provided" and "invalid"); a name other than "combined" →
 *     0 "Unknown property"; SET without a boolean value → 1 "Invalid value type: expected
 *     Boolean".
 *   - A top-level value other than an object: 2 "invalid type: …, expected struct Request"
 *     (serde_json's text; the Rust struct name is our guess).
 * Not modelled: serde_json's acceptance of the struct as a JSON array, and invalid UTF-8 (a
 * WebSocket text frame is UTF-8 by RFC 6455; the server validates it).
 */
#include "wsrequest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- growable string */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sb_t;

/* Makes room for n more bytes and the NUL; false (and oom set) when memory runs out. */
static bool sb_reserve(sb_t *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void sb_putn(sb_t *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sb_t *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_putc(sb_t *b, char c)
{
    sb_putn(b, &c, 1);
}

static void sb_vprintf(sb_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void sb_vprintf(sb_t *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (!sb_reserve(b, (size_t)n))
        return;
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    b->len += (size_t)n;
}

static void sb_printf(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(b, fmt, ap);
    va_end(ap);
}

static void sb_free(sb_t *b)
{
    free(b->p);
    *b = (sb_t){0};
}

/* serde_json's string escaping (the response is serialised by it): ", \, and control
   characters as \b \t \n \f \r or \u00xx; everything else as is. */
static void sb_put_json_string(sb_t *b, const char *s, size_t n)
{
    sb_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            sb_puts(b, "\\\"");
            break;
        case '\\':
            sb_puts(b, "\\\\");
            break;
        case '\b':
            sb_puts(b, "\\b");
            break;
        case '\t':
            sb_puts(b, "\\t");
            break;
        case '\n':
            sb_puts(b, "\\n");
            break;
        case '\f':
            sb_puts(b, "\\f");
            break;
        case '\r':
            sb_puts(b, "\\r");
            break;
        default:
            if (c < 0x20)
                sb_printf(b, "\\u%04x", c);
            else
                sb_putc(b, (char)c);
        }
    }
    sb_putc(b, '"');
}

/* Rust's {:?} of a str, as in serde's `string "…"`: \0 \t \r \n \\ \" and \u{x} for other
   ASCII control characters; non-ASCII bytes as they are. */
static void sb_put_rust_debug(sb_t *b, const char *s, size_t n)
{
    sb_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\0')
            sb_puts(b, "\\0");
        else if (c == '\t')
            sb_puts(b, "\\t");
        else if (c == '\r')
            sb_puts(b, "\\r");
        else if (c == '\n')
            sb_puts(b, "\\n");
        else if (c == '\\')
            sb_puts(b, "\\\\");
        else if (c == '"')
            sb_puts(b, "\\\"");
        else if (c < 0x20 || c == 0x7f)
            sb_printf(b, "\\u{%x}", c);
        else
            sb_putc(b, (char)c);
    }
    sb_putc(b, '"');
}

/* Rust's Display of an f64 (shortest digits that read back exactly, never an exponent), plus
   serde's ".0" when there is no decimal point. */
static void sb_put_rust_f64(sb_t *b, double x)
{
    char e[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, x);
        if (strtod(e, NULL) == x)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *c = e;
    if (*c == '-') {
        sb_putc(b, '-');
        c++;
    }
    for (; *c && *c != 'e'; c++)
        if (*c != '.' && nd < sizeof digits - 1)
            digits[nd++] = *c;
    int exp10 = atoi(c + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (nd == 1 && digits[0] == '0')
        exp10 = 0;
    if (exp10 < 0) {
        sb_puts(b, "0.");
        for (int z = -1; z > exp10; z--)
            sb_putc(b, '0');
        sb_putn(b, digits, nd);
        return;
    }
    size_t int_digits = (size_t)exp10 + 1;
    for (size_t k = 0; k < int_digits; k++)
        sb_putc(b, k < nd ? digits[k] : '0');
    if (nd > int_digits) {
        sb_putc(b, '.');
        sb_putn(b, digits + int_digits, nd - int_digits);
    } else {
        sb_puts(b, ".0");
    }
}

/* ---------------------------------------------------------------- serde_json-like reader */

/* serde_json's ErrorCode texts. */
#define E_EOF_LIST "EOF while parsing a list"
#define E_EOF_OBJECT "EOF while parsing an object"
#define E_EOF_STRING "EOF while parsing a string"
#define E_EOF_VALUE "EOF while parsing a value"
#define E_COLON "expected `:`"
#define E_LIST_COMMA "expected `,` or `]`"
#define E_OBJECT_COMMA "expected `,` or `}`"
#define E_IDENT "expected ident"
#define E_VALUE "expected value"
#define E_ESCAPE "invalid escape"
#define E_NUMBER "invalid number"
#define E_RANGE "number out of range"
#define E_CONTROL "control character (\\u0000-\\u001F) found while parsing a string"
#define E_KEY "key must be a string"
#define E_LONE_SURROGATE "lone leading surrogate in hex escape"
#define E_TRAILING_COMMA "trailing comma"
#define E_TRAILING_CHARS "trailing characters"
#define E_HEX_END "unexpected end of hex escape"
#define E_RECURSION "recursion limit exceeded"

#define CODE_DATA 2   /* "Invalid request: …" */
#define CODE_SYNTAX 3 /* "Invalid JSON: …" */
#define RECURSION_LIMIT 128 /* serde_json's default nesting budget */

typedef enum { JV_NULL, JV_BOOL, JV_INT, JV_FLOAT, JV_STR, JV_ARRAY, JV_OBJECT } jv_kind_t;

/* The kept part of a JSON value: scalars in full, arrays and objects by kind only. */
typedef struct {
    jv_kind_t kind;
    bool b;
    bool negative; /* JV_INT: value is -mag */
    uint64_t mag;  /* JV_INT */
    double f;      /* JV_FLOAT */
    char *str;     /* JV_STR: decoded bytes, NUL-terminated (may also contain NUL) */
    size_t str_len;
} jv_t;

typedef struct {
    const unsigned char *s;
    size_t len, i;
    int depth; /* remaining nesting budget */
    int code;  /* CODE_DATA or CODE_SYNTAX once failed */
    sb_t msg;  /* the error text with its position */
    bool oom;
} rd_t;

static int fail(rd_t *r, int code, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(rd_t *r, int code, size_t at, const char *fmt, ...)
{
    size_t line = 1, column = 0;
    for (size_t k = 0; k < at && k < r->len; k++) {
        if (r->s[k] == '\n') {
            line++;
            column = 0;
        } else {
            column++;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&r->msg, fmt, ap);
    va_end(ap);
    sb_printf(&r->msg, " at line %zu column %zu", line, column);
    r->code = code;
    return -1;
}

/* serde_json reports "peek" errors at the byte after the cursor, capped at the end. */
static size_t peek_at(const rd_t *r)
{
    return r->i < r->len ? r->i + 1 : r->len;
}

static int peek(const rd_t *r)
{
    return r->i < r->len ? r->s[r->i] : -1;
}

static int peek_ws(rd_t *r)
{
    while (r->i < r->len &&
           (r->s[r->i] == ' ' || r->s[r->i] == '\n' || r->s[r->i] == '\t' || r->s[r->i] == '\r'))
        r->i++;
    return peek(r);
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int enter(rd_t *r)
{
    if (--r->depth == 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_RECURSION);
    return 0;
}

static int parse_ident(rd_t *r, const char *rest)
{
    for (; *rest; rest++) {
        if (r->i >= r->len)
            return fail(r, CODE_SYNTAX, r->i, E_EOF_VALUE);
        if (r->s[r->i++] != (unsigned char)*rest)
            return fail(r, CODE_SYNTAX, r->i, E_IDENT);
    }
    return 0;
}

static void put_utf8(sb_t *out, unsigned cp)
{
    char u[4];
    if (cp < 0x80) {
        sb_putc(out, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        sb_putn(out, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        sb_putn(out, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        sb_putn(out, u, 4);
    }
}

static int hex4(rd_t *r, unsigned *value)
{
    if (r->len - r->i < 4) {
        r->i = r->len;
        return fail(r, CODE_SYNTAX, r->i, E_EOF_STRING);
    }
    unsigned v = 0;
    bool ok = true;
    for (int k = 0; k < 4; k++) {
        unsigned char c = r->s[r->i + (size_t)k];
        int d = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                               : -1;
        if (d < 0)
            ok = false;
        v = v * 16 + (unsigned)(d < 0 ? 0 : d);
    }
    r->i += 4;
    if (!ok)
        return fail(r, CODE_SYNTAX, r->i, E_ESCAPE);
    *value = v;
    return 0;
}

/* After a backslash. `validate` is serde_json's parse_str (kept strings, keys): surrogates must
   pair. Otherwise ignore_str (values of unknown fields): \u needs only four hex digits. */
static int parse_escape(rd_t *r, bool validate, sb_t *out)
{
    if (r->i >= r->len)
        return fail(r, CODE_SYNTAX, r->i, E_EOF_STRING);
    unsigned char c = r->s[r->i++];
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
        if (out)
            sb_putc(out, to[hit - from]);
        return 0;
    }
    if (c != 'u')
        return fail(r, CODE_SYNTAX, r->i, E_ESCAPE);
    unsigned n;
    if (hex4(r, &n) != 0)
        return -1;
    if (!validate)
        return 0;
    if (n >= 0xDC00 && n <= 0xDFFF)
        return fail(r, CODE_SYNTAX, r->i, E_LONE_SURROGATE);
    if (n >= 0xD800 && n <= 0xDBFF) {
        if (r->i >= r->len)
            return fail(r, CODE_SYNTAX, r->i, E_EOF_STRING);
        if (r->s[r->i++] != '\\')
            return fail(r, CODE_SYNTAX, r->i, E_HEX_END);
        if (r->i >= r->len)
            return fail(r, CODE_SYNTAX, r->i, E_EOF_STRING);
        if (r->s[r->i++] != 'u')
            return fail(r, CODE_SYNTAX, r->i, E_HEX_END);
        unsigned n2;
        if (hex4(r, &n2) != 0)
            return -1;
        if (n2 < 0xDC00 || n2 > 0xDFFF)
            return fail(r, CODE_SYNTAX, r->i, E_LONE_SURROGATE);
        n = 0x10000 + ((n - 0xD800) << 10) + (n2 - 0xDC00);
    }
    if (out)
        put_utf8(out, n);
    return 0;
}

/* After the opening quote; decodes into out when not NULL. */
static int parse_string(rd_t *r, bool validate, sb_t *out)
{
    for (;;) {
        if (r->i >= r->len)
            return fail(r, CODE_SYNTAX, r->i, E_EOF_STRING);
        unsigned char c = r->s[r->i];
        if (c == '"') {
            r->i++;
            if (out)
                sb_putn(out, "", 0); /* a string, even an empty one, is allocated */
            return 0;
        }
        if (c == '\\') {
            r->i++;
            if (parse_escape(r, validate, out) != 0)
                return -1;
            continue;
        }
        if (c < 0x20) {
            if (validate)
                r->i++; /* parse_str consumes the byte before reporting, ignore_str does not */
            return fail(r, CODE_SYNTAX, r->i, E_CONTROL);
        }
        if (out)
            sb_putc(out, (char)c);
        r->i++;
    }
}

/* serde_json's parse_any_number, at '-' or a digit. */
static int parse_number(rd_t *r, jv_t *v)
{
    size_t start = r->i;
    bool negative = false;
    if (r->s[r->i] == '-') {
        negative = true;
        r->i++;
    }
    if (r->i >= r->len)
        return fail(r, CODE_SYNTAX, r->i, E_EOF_VALUE);
    unsigned char c = r->s[r->i++];
    uint64_t mag = 0;
    bool is_float = false;
    if (c == '0') {
        if (is_digit(peek(r)))
            return fail(r, CODE_SYNTAX, peek_at(r), E_NUMBER);
    } else if (c >= '1' && c <= '9') {
        mag = c - '0';
        while (is_digit(peek(r))) {
            unsigned d = r->s[r->i++] - '0';
            if (mag > (UINT64_MAX - d) / 10)
                is_float = true; /* serde_json continues as a float */
            else
                mag = mag * 10 + d;
        }
    } else {
        return fail(r, CODE_SYNTAX, r->i, E_NUMBER);
    }
    if (peek(r) == '.') {
        r->i++;
        size_t digits = 0;
        while (is_digit(peek(r))) {
            r->i++;
            digits++;
        }
        if (digits == 0)
            return fail(r, CODE_SYNTAX, peek_at(r), r->i < r->len ? E_NUMBER : E_EOF_VALUE);
        is_float = true;
    }
    if (peek(r) == 'e' || peek(r) == 'E') {
        r->i++;
        if (peek(r) == '+' || peek(r) == '-')
            r->i++;
        if (r->i >= r->len)
            return fail(r, CODE_SYNTAX, r->i, E_EOF_VALUE);
        if (!is_digit(r->s[r->i++]))
            return fail(r, CODE_SYNTAX, r->i, E_NUMBER);
        while (is_digit(peek(r)))
            r->i++;
        is_float = true;
    }
    /* A negative integer must fit an i64; -0 and anything lower become floats. */
    if (!is_float && negative && (mag == 0 || mag > (uint64_t)INT64_MAX + 1))
        is_float = true;
    if (!is_float) {
        if (v)
            *v = (jv_t){.kind = JV_INT, .negative = negative, .mag = mag};
        return 0;
    }
    size_t n = r->i - start;
    char *tok = malloc(n + 1);
    if (!tok) {
        r->oom = true;
        return -1;
    }
    memcpy(tok, r->s + start, n);
    tok[n] = '\0';
    double f = strtod(tok, NULL);
    free(tok);
    if (isinf(f))
        return fail(r, CODE_SYNTAX, r->i, E_RANGE);
    if (v)
        *v = (jv_t){.kind = JV_FLOAT, .f = f};
    return 0;
}

/* serde_json's ignore_integer/decimal/exponent: same grammar, slightly different errors. */
static int ignore_number(rd_t *r)
{
    if (r->s[r->i] == '-')
        r->i++;
    int c = r->i < r->len ? r->s[r->i++] : 0;
    if (c == '0') {
        if (is_digit(peek(r)))
            return fail(r, CODE_SYNTAX, peek_at(r), E_NUMBER);
    } else if (c >= '1' && c <= '9') {
        while (is_digit(peek(r)))
            r->i++;
    } else {
        return fail(r, CODE_SYNTAX, r->i, E_NUMBER);
    }
    if (peek(r) == '.') {
        r->i++;
        if (!is_digit(peek(r)))
            return fail(r, CODE_SYNTAX, peek_at(r), E_NUMBER);
        while (is_digit(peek(r)))
            r->i++;
    }
    if (peek(r) == 'e' || peek(r) == 'E') {
        r->i++;
        if (peek(r) == '+' || peek(r) == '-')
            r->i++;
        c = r->i < r->len ? r->s[r->i++] : 0;
        if (!is_digit(c))
            return fail(r, CODE_SYNTAX, r->i, E_NUMBER);
        while (is_digit(peek(r)))
            r->i++;
    }
    return 0;
}

static int seq_next(rd_t *r, bool *first, bool *more)
{
    int c = peek_ws(r);
    if (c < 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_LIST);
    *more = true;
    if (c == ']') {
        *more = false;
    } else if (*first) {
        *first = false;
    } else if (c == ',') {
        r->i++;
        c = peek_ws(r);
        if (c == ']')
            return fail(r, CODE_SYNTAX, peek_at(r), E_TRAILING_COMMA);
        if (c < 0)
            return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
    } else {
        return fail(r, CODE_SYNTAX, peek_at(r), E_LIST_COMMA);
    }
    return 0;
}

static int map_next(rd_t *r, bool *first, bool *more)
{
    int c = peek_ws(r);
    if (c < 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_OBJECT);
    *more = true;
    if (c == '}') {
        *more = false;
    } else if (*first) {
        *first = false;
        if (c != '"')
            return fail(r, CODE_SYNTAX, peek_at(r), E_KEY);
    } else if (c == ',') {
        r->i++;
        c = peek_ws(r);
        if (c == '}')
            return fail(r, CODE_SYNTAX, peek_at(r), E_TRAILING_COMMA);
        if (c < 0)
            return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
        if (c != '"')
            return fail(r, CODE_SYNTAX, peek_at(r), E_KEY);
    } else {
        return fail(r, CODE_SYNTAX, peek_at(r), E_OBJECT_COMMA);
    }
    return 0;
}

static int map_colon(rd_t *r)
{
    int c = peek_ws(r);
    if (c == ':') {
        r->i++;
        return 0;
    }
    return fail(r, CODE_SYNTAX, peek_at(r), c < 0 ? E_EOF_OBJECT : E_COLON);
}

/* The closing bracket after seq_next/map_next said "no more". */
static void close_bracket(rd_t *r)
{
    r->i++;
    r->depth++;
}

/* A kept value (serde_json::Value); *v filled when v is not NULL. */
static int parse_value(rd_t *r, jv_t *v)
{
    int c = peek_ws(r);
    if (c < 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
    jv_t dummy;
    if (!v)
        v = &dummy;
    *v = (jv_t){0};
    bool first = true, more;
    switch (c) {
    case 'n':
        r->i++;
        v->kind = JV_NULL;
        return parse_ident(r, "ull");
    case 't':
    case 'f':
        r->i++;
        *v = (jv_t){.kind = JV_BOOL, .b = c == 't'};
        return parse_ident(r, c == 't' ? "rue" : "alse");
    case '"': {
        r->i++;
        sb_t s = {0};
        int rc = parse_string(r, true, v == &dummy ? NULL : &s);
        if (s.oom)
            r->oom = true;
        if (rc != 0 || s.oom) {
            sb_free(&s);
            return -1;
        }
        *v = (jv_t){.kind = JV_STR, .str = s.p, .str_len = s.len};
        return 0;
    }
    case '[':
        if (enter(r) != 0)
            return -1;
        r->i++;
        for (;;) {
            if (seq_next(r, &first, &more) != 0)
                return -1;
            if (!more)
                break;
            if (parse_value(r, NULL) != 0)
                return -1;
        }
        close_bracket(r);
        v->kind = JV_ARRAY;
        return 0;
    case '{':
        if (enter(r) != 0)
            return -1;
        r->i++;
        for (;;) {
            if (map_next(r, &first, &more) != 0)
                return -1;
            if (!more)
                break;
            r->i++;
            if (parse_string(r, true, NULL) != 0 || map_colon(r) != 0 || parse_value(r, NULL) != 0)
                return -1;
        }
        close_bracket(r);
        v->kind = JV_OBJECT;
        return 0;
    default:
        if (c == '-' || is_digit(c))
            return parse_number(r, v);
        return fail(r, CODE_SYNTAX, peek_at(r), E_VALUE);
    }
}

/* serde_json's ignore_value: the value of an unknown field, read without nesting limit. */
static int ignore_value(rd_t *r)
{
    sb_t stack = {0}; /* open brackets, innermost last */
    int rc = -1;
    for (;;) {
        int c = peek_ws(r);
        if (c < 0) {
            fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
            goto done;
        }
        bool opened = false;
        if (c == 'n' || c == 't' || c == 'f') {
            r->i++;
            if (parse_ident(r, c == 'n' ? "ull" : c == 't' ? "rue" : "alse") != 0)
                goto done;
        } else if (c == '-' || is_digit(c)) {
            if (ignore_number(r) != 0)
                goto done;
        } else if (c == '"') {
            r->i++;
            if (parse_string(r, false, NULL) != 0)
                goto done;
        } else if (c == '[' || c == '{') {
            sb_putc(&stack, (char)c);
            if (stack.oom) {
                r->oom = true;
                goto done;
            }
            r->i++;
            opened = true;
        } else {
            fail(r, CODE_SYNTAX, peek_at(r), E_VALUE);
            goto done;
        }
        bool accept_comma = !opened;
        /* Close every bracket that ends here; stop at a ',' or at the next element. */
        for (;;) {
            if (stack.len == 0) {
                rc = 0;
                goto done;
            }
            char frame = stack.p[stack.len - 1];
            c = peek_ws(r);
            if (c < 0) {
                fail(r, CODE_SYNTAX, peek_at(r), frame == '[' ? E_EOF_LIST : E_EOF_OBJECT);
                goto done;
            }
            if (c == ',' && accept_comma) {
                r->i++;
                break;
            }
            if ((c == ']' && frame == '[') || (c == '}' && frame == '{')) {
                r->i++;
                stack.len--;
                accept_comma = true;
                continue;
            }
            if (accept_comma) {
                fail(r, CODE_SYNTAX, peek_at(r), frame == '[' ? E_LIST_COMMA : E_OBJECT_COMMA);
                goto done;
            }
            break;
        }
        if (stack.p[stack.len - 1] == '{') {
            c = peek_ws(r);
            if (c != '"') {
                fail(r, CODE_SYNTAX, peek_at(r), c < 0 ? E_EOF_OBJECT : E_KEY);
                goto done;
            }
            r->i++;
            if (parse_string(r, false, NULL) != 0)
                goto done;
            c = peek_ws(r);
            if (c != ':') {
                fail(r, CODE_SYNTAX, peek_at(r), c < 0 ? E_EOF_OBJECT : E_COLON);
                goto done;
            }
            r->i++;
        }
    }
done:
    sb_free(&stack);
    return rc;
}

/* serde_json's peek_invalid_type: consumes a scalar to describe it, then reports a data error
   "invalid type: <what>, expected <expected>" at the cursor. */
static int invalid_type(rd_t *r, const char *expected)
{
    int c = peek(r);
    sb_t what = {0};
    jv_t v = {0};
    int rc = -1;
    if (c == 'n') {
        r->i++;
        if (parse_ident(r, "ull") != 0)
            goto done;
        sb_puts(&what, "null");
    } else if (c == 't' || c == 'f') {
        r->i++;
        if (parse_ident(r, c == 't' ? "rue" : "alse") != 0)
            goto done;
        sb_puts(&what, c == 't' ? "boolean `true`" : "boolean `false`");
    } else if (c == '-' || is_digit(c)) {
        if (parse_number(r, &v) != 0)
            goto done;
        if (v.kind == JV_INT) {
            sb_printf(&what, "integer `%s%llu`", v.negative ? "-" : "", (unsigned long long)v.mag);
        } else {
            sb_puts(&what, "floating point `");
            sb_put_rust_f64(&what, v.f);
            sb_putc(&what, '`');
        }
    } else if (c == '"') {
        r->i++;
        sb_t s = {0};
        if (parse_string(r, true, &s) != 0 || s.oom) {
            r->oom |= s.oom;
            sb_free(&s);
            goto done;
        }
        sb_puts(&what, "string ");
        sb_put_rust_debug(&what, s.p, s.len);
        sb_free(&s);
    } else if (c == '[') {
        sb_puts(&what, "sequence");
    } else if (c == '{') {
        sb_puts(&what, "map");
    } else {
        fail(r, CODE_SYNTAX, peek_at(r), E_VALUE);
        goto done;
    }
    if (what.oom) {
        r->oom = true;
        goto done;
    }
    fail(r, CODE_DATA, r->i, "invalid type: %s, expected %s", what.p, expected);
done:
    sb_free(&what);
    return rc;
}

/* ---------------------------------------------------------------- the request struct */

static const char *const METHOD_NAMES[] = {NULL, "SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS",
                                           "SET_PROPERTY", "GET_PROPERTY"};
#define METHOD_COUNT 5
#define METHODS_EXPECTED                                                                       \
    "one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"

typedef struct {
    sim_wsmethod_t method; /* NONE until read */
    bool seen_params;
    jv_t *params;
    size_t param_count, param_cap;
    bool seen_id;
    jv_t id;
} request_t;

static void jv_free(jv_t *v)
{
    if (v->kind == JV_STR)
        free(v->str);
    *v = (jv_t){0};
}

static void request_free(request_t *q)
{
    for (size_t k = 0; k < q->param_count; k++)
        jv_free(&q->params[k]);
    free(q->params);
    jv_free(&q->id);
}

/* The method's variant name, at the opening quote (deserialize_identifier). */
static int parse_variant(rd_t *r, request_t *q)
{
    r->i++;
    sb_t s = {0};
    if (parse_string(r, true, &s) != 0 || s.oom) {
        r->oom |= s.oom;
        sb_free(&s);
        return -1;
    }
    for (int m = 1; m <= METHOD_COUNT; m++) {
        if (strlen(METHOD_NAMES[m]) == s.len && memcmp(METHOD_NAMES[m], s.p, s.len) == 0) {
            q->method = (sim_wsmethod_t)m;
            sb_free(&s);
            return 0;
        }
    }
    fail(r, CODE_DATA, r->i, "unknown variant `%s`, expected " METHODS_EXPECTED, s.p);
    sb_free(&s);
    return -1;
}

/* deserialize_enum: "NAME", or the externally tagged {"NAME":null}. */
static int parse_method(rd_t *r, request_t *q)
{
    int c = peek_ws(r);
    if (c < 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
    if (c == '"')
        return parse_variant(r, q);
    if (c != '{')
        return fail(r, CODE_SYNTAX, peek_at(r), E_VALUE);
    if (enter(r) != 0)
        return -1;
    r->i++;
    c = peek_ws(r);
    if (c < 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
    if (c != '"')
        return invalid_type(r, "variant identifier");
    if (parse_variant(r, q) != 0 || map_colon(r) != 0)
        return -1;
    c = peek_ws(r); /* a unit variant's value: null */
    if (c < 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
    if (c != 'n')
        return invalid_type(r, "unit");
    r->i++;
    if (parse_ident(r, "ull") != 0)
        return -1;
    c = peek_ws(r);
    if (c != '}')
        return fail(r, CODE_SYNTAX, r->i, c < 0 ? E_EOF_OBJECT : E_VALUE);
    close_bracket(r);
    return 0;
}

/* Option<Vec<Value>>: null, or an array whose elements are kept. */
static int parse_params(rd_t *r, request_t *q)
{
    int c = peek_ws(r);
    if (c == 'n') {
        r->i++;
        return parse_ident(r, "ull");
    }
    if (c < 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
    if (c != '[')
        return invalid_type(r, "a sequence");
    if (enter(r) != 0)
        return -1;
    r->i++;
    bool first = true, more;
    for (;;) {
        if (seq_next(r, &first, &more) != 0)
            return -1;
        if (!more)
            break;
        if (q->param_count == q->param_cap) {
            size_t cap = q->param_cap ? q->param_cap * 2 : 8;
            jv_t *p = realloc(q->params, cap * sizeof *p);
            if (!p) {
                r->oom = true;
                return -1;
            }
            q->params = p;
            q->param_cap = cap;
        }
        jv_t *v = &q->params[q->param_count];
        if (parse_value(r, v) != 0)
            return -1;
        q->param_count++;
    }
    close_bracket(r);
    return 0;
}

/* serde runs end_map after a failed visit_map: it skips whitespace and eats a '}', and a data
   error without a position gets the position after that. */
static int fail_after_end_map(rd_t *r, const char *fmt, const char *field)
{
    if (peek_ws(r) == '}')
        r->i++;
    return fail(r, CODE_DATA, r->i, fmt, field);
}

static int parse_request(rd_t *r, request_t *q)
{
    int c = peek_ws(r);
    if (c < 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_EOF_VALUE);
    if (c != '{')
        return invalid_type(r, "struct Request");
    if (enter(r) != 0)
        return -1;
    r->i++;
    bool first = true, more, seen_method = false;
    for (;;) {
        if (map_next(r, &first, &more) != 0)
            return -1;
        if (!more)
            break;
        r->i++;
        sb_t key = {0};
        if (parse_string(r, true, &key) != 0 || key.oom) {
            r->oom |= key.oom;
            sb_free(&key);
            return -1;
        }
        const char *field = key.len == 6 && memcmp(key.p, "method", 6) == 0   ? "method"
                            : key.len == 6 && memcmp(key.p, "params", 6) == 0 ? "params"
                            : key.len == 2 && memcmp(key.p, "id", 2) == 0     ? "id"
                                                                              : NULL;
        sb_free(&key);
        bool *seen = !field                    ? NULL
                     : strcmp(field, "method") == 0 ? &seen_method
                     : strcmp(field, "params") == 0 ? &q->seen_params
                                                    : &q->seen_id;
        if (seen && *seen)
            return fail_after_end_map(r, "duplicate field `%s`", field);
        if (map_colon(r) != 0)
            return -1;
        int rc;
        if (!field)
            rc = ignore_value(r);
        else if (seen == &seen_method)
            rc = parse_method(r, q);
        else if (seen == &q->seen_params)
            rc = parse_params(r, q);
        else
            rc = parse_value(r, &q->id);
        if (rc != 0)
            return -1;
        if (seen)
            *seen = true;
    }
    if (!seen_method)
        return fail_after_end_map(r, "missing field `%s`", "method");
    close_bracket(r);
    if (peek_ws(r) >= 0)
        return fail(r, CODE_SYNTAX, peek_at(r), E_TRAILING_CHARS);
    return 0;
}

/* ---------------------------------------------------------------- connection state */

typedef struct {
    char *name;
    sim_streamname_t parsed;
} sub_t;

struct sim_wsconn_t {
    market_t market;
    sim_wsroute_t route;
    bool combined;
    sub_t *subs; /* subscription order */
    size_t count, cap;
};


void sim_wsconn_destroy(sim_wsconn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_wsconn_t *self = *self_p;
    for (size_t k = 0; k < self->count; k++)
        free(self->subs[k].name);
    free(self->subs);
    free(self);
    *self_p = NULL;
}

static long find(const sim_wsconn_t *self, const char *name)
{
    for (size_t k = 0; k < self->count; k++)
        if (strcmp(self->subs[k].name, name) == 0)
            return (long)k;
    return -1;
}

static int append(sim_wsconn_t *self, const char *name, const sim_streamname_t *parsed)
{
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        sub_t *p = realloc(self->subs, cap * sizeof *p);
        if (!p)
            return -1;
        self->subs = p;
        self->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    self->subs[self->count++] = (sub_t){copy, *parsed};
    return 0;
}

sim_wsconn_add_t sim_wsconn_add(sim_wsconn_t *self, const char *name)
{
    sim_streamname_t parsed;
    if (sim_streamname_parse(self->market, name, &parsed) == SIM_STREAMNAME_INVALID)
        return SIM_WSCONN_ADD_INVALID;
    if (find(self, name) >= 0)
        return SIM_WSCONN_ADD_DUPLICATE;
    if (self->count >= SIM_WSCONN_MAX_STREAMS)
        return SIM_WSCONN_ADD_LIMIT;
    return append(self, name, &parsed) == 0 ? SIM_WSCONN_ADD_OK : SIM_WSCONN_ADD_NOMEM;
}

static void say(char *err, size_t err_len, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));
static void say(char *err, size_t err_len, const char *fmt, const char *arg)
{
    if (err && err_len)
        snprintf(err, err_len, fmt, arg);
}

/* Subscribes the '/'-separated names in list; 0, or -1 with a reason. */
static int add_list(sim_wsconn_t *self, const char *list, char *err, size_t err_len)
{
    while (list && *list) {
        const char *end = strchr(list, '/');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        if (n > 0) {
            char *name = strndup(list, n);
            if (!name) {
                say(err, err_len, "%s", "out of memory");
                return -1;
            }
            sim_wsconn_add_t rc = sim_wsconn_add(self, name);
            if (rc == SIM_WSCONN_ADD_INVALID)
                say(err, err_len, "invalid stream name \"%s\"", name);
            else if (rc == SIM_WSCONN_ADD_LIMIT)
                say(err, err_len, "more than %s streams", "1024");
            else if (rc == SIM_WSCONN_ADD_NOMEM)
                say(err, err_len, "%s", "out of memory");
            free(name);
            if (rc != SIM_WSCONN_ADD_OK && rc != SIM_WSCONN_ADD_DUPLICATE)
                return -1;
        }
        list = end ? end + 1 : NULL;
    }
    return 0;
}

sim_wsconn_t *sim_wsconn_new(market_t market, const char *path, const char *streams, char *err,
                             size_t err_len)
{
    sim_wspath_t where;
    if (sim_streamname_path_parse(market, path, &where) != 0) {
        say(err, err_len, "no WebSocket at \"%s\"", path ? path : "");
        return NULL;
    }
    sim_wsconn_t *self = calloc(1, sizeof *self);
    if (!self) {
        say(err, err_len, "%s", "out of memory");
        return NULL;
    }
    self->market = market;
    self->route = where.route;
    self->combined = where.combined;
    if (add_list(self, where.raw, err, err_len) != 0 || add_list(self, streams, err, err_len) != 0)
        sim_wsconn_destroy(&self);
    return self;
}

size_t sim_wsconn_stream_count(const sim_wsconn_t *self)
{
    return self->count;
}

const char *sim_wsconn_stream(const sim_wsconn_t *self, size_t index)
{
    return index < self->count ? self->subs[index].name : NULL;
}

const sim_streamname_t *sim_wsconn_parsed(const sim_wsconn_t *self, size_t index)
{
    return index < self->count ? &self->subs[index].parsed : NULL;
}

bool sim_wsconn_delivers(const sim_wsconn_t *self, size_t index)
{
    return index < self->count &&
           sim_streamname_delivered_on(self->market, &self->subs[index].parsed, self->route);
}

bool sim_wsconn_has(const sim_wsconn_t *self, const char *name)
{
    return find(self, name) >= 0;
}

bool sim_wsconn_combined(const sim_wsconn_t *self)
{
    return self->combined;
}

market_t sim_wsconn_market(const sim_wsconn_t *self)
{
    return self->market;
}

sim_wsroute_t sim_wsconn_route(const sim_wsconn_t *self)
{
    return self->route;
}

/* ---------------------------------------------------------------- answering */

/* The outcome of one method before it is written out. */
typedef struct {
    int code;        /* -1: success */
    const char *msg; /* the error's full text */
    sb_t result;     /* success: the JSON of "result" */
} outcome_t;

static void err(outcome_t *o, int code, const char *msg)
{
    o->code = code;
    o->msg = msg;
}

static bool is_name(const jv_t *v)
{
    return v->kind == JV_STR && strlen(v->str) == v->str_len;
}

static bool jv_equals(const jv_t *v, const char *s)
{
    return is_name(v) && strcmp(v->str, s) == 0;
}

/* True when every param is a well-formed stream name. */
static bool names_valid(const sim_wsconn_t *self, const request_t *q)
{
    for (size_t k = 0; k < q->param_count; k++) {
        sim_streamname_t parsed;
        if (!is_name(&q->params[k]) ||
            sim_streamname_parse(self->market, q->params[k].str, &parsed) ==
                SIM_STREAMNAME_INVALID)
            return false;
    }
    return true;
}

static bool earlier_param(const request_t *q, size_t k)
{
    for (size_t j = 0; j < k; j++)
        if (strcmp(q->params[j].str, q->params[k].str) == 0)
            return true;
    return false;
}

static int push_name(char ***list, size_t *count, const char *name)
{
    char **p = realloc(*list, (*count + 1) * sizeof *p);
    if (!p)
        return -1;
    *list = p;
    if (!(p[*count] = strdup(name)))
        return -1;
    (*count)++;
    return 0;
}

static int do_subscribe(sim_wsconn_t *self, const request_t *q, outcome_t *o,
                        sim_wsreply_t *reply)
{
    if (!names_valid(self, q)) {
        err(o, 2, "Invalid request: invalid stream");
        reply->close = true;
        return 0;
    }
    size_t fresh = 0;
    for (size_t k = 0; k < q->param_count; k++)
        if (find(self, q->params[k].str) < 0 && !earlier_param(q, k))
            fresh++;
    if (self->count + fresh > SIM_WSCONN_MAX_STREAMS) {
        err(o, 2, "Invalid request: too many streams");
        return 0;
    }
    for (size_t k = 0; k < q->param_count; k++) {
        const char *name = q->params[k].str;
        if (find(self, name) >= 0)
            continue;
        sim_streamname_t parsed;
        sim_streamname_parse(self->market, name, &parsed);
        if (append(self, name, &parsed) != 0 ||
            push_name(&reply->added, &reply->added_count, name) != 0)
            return -1;
    }
    sb_puts(&o->result, "null");
    return 0;
}

static int do_unsubscribe(sim_wsconn_t *self, const request_t *q, outcome_t *o,
                          sim_wsreply_t *reply)
{
    if (!names_valid(self, q)) {
        err(o, 2, "Invalid request: invalid stream");
        reply->close = true;
        return 0;
    }
    for (size_t k = 0; k < q->param_count; k++) {
        long at = find(self, q->params[k].str);
        if (at < 0)
            continue;
        if (push_name(&reply->removed, &reply->removed_count, self->subs[at].name) != 0)
            return -1;
        free(self->subs[at].name);
        memmove(&self->subs[at], &self->subs[at + 1],
                (self->count - (size_t)at - 1) * sizeof *self->subs);
        self->count--;
    }
    sb_puts(&o->result, "null");
    return 0;
}

static void do_list(const sim_wsconn_t *self, const request_t *q, outcome_t *o)
{
    if (q->param_count > 0) {
        err(o, 2, "Invalid request: too many parameters");
        return;
    }
    sb_putc(&o->result, '[');
    for (size_t k = 0; k < self->count; k++) {
        if (k)
            sb_putc(&o->result, ',');
        sb_put_json_string(&o->result, self->subs[k].name, strlen(self->subs[k].name));
    }
    sb_putc(&o->result, ']');
}

static void do_property(sim_wsconn_t *self, const request_t *q, bool set, outcome_t *o)
{
    size_t max = set ? 2 : 1;
    if (q->param_count > max)
        err(o, 2, "Invalid request: too many parameters");
    else if (q->param_count == 0 || q->params[0].kind != JV_STR)
        err(o, 2, "Invalid request: property name must be a string");
    else if (!jv_equals(&q->params[0], "combined"))
        err(o, 0, "Unknown property");
    else if (set && (q->param_count < 2 || q->params[1].kind != JV_BOOL))
        err(o, 1, "Invalid value type: expected Boolean");
    else if (set) {
        self->combined = q->params[1].b;
        sb_puts(&o->result, "null");
    } else {
        sb_puts(&o->result, self->combined ? "true" : "false");
    }
}

static bool id_alphanumeric(const jv_t *v)
{
    if (v->str_len == 0 || v->str_len > 36)
        return false;
    for (size_t k = 0; k < v->str_len; k++) {
        char c = v->str[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* Writes the id as it will be echoed; false when it is not one of the accepted forms. */
static bool id_echo(const request_t *q, sb_t *out)
{
    const jv_t *v = &q->id;
    if (!q->seen_id)
        return false;
    if (v->kind == JV_NULL) {
        sb_puts(out, "null");
        return true;
    }
    if (v->kind == JV_INT && (v->negative || v->mag <= (uint64_t)INT64_MAX)) {
        sb_printf(out, "%s%llu", v->negative ? "-" : "", (unsigned long long)v->mag);
        return true;
    }
    if (v->kind == JV_STR && id_alphanumeric(v)) {
        sb_put_json_string(out, v->str, v->str_len);
        return true;
    }
    return false;
}

static void write_reply(sb_t *out, const outcome_t *o, const char *id)
{
    if (o->code < 0) {
        sb_printf(out, "{\"result\":%s,\"id\":%s}", o->result.p, id);
        return;
    }
    sb_printf(out, "{\"error\":{\"code\":%d,\"msg\":", o->code);
    sb_put_json_string(out, o->msg, strlen(o->msg));
    sb_printf(out, "},\"id\":%s}", id);
}

void sim_wsreply_clear(sim_wsreply_t *reply)
{
    if (!reply)
        return;
    free(reply->response);
    for (size_t k = 0; k < reply->added_count; k++)
        free(reply->added[k]);
    free(reply->added);
    for (size_t k = 0; k < reply->removed_count; k++)
        free(reply->removed[k]);
    free(reply->removed);
    *reply = (sim_wsreply_t){0};
}

int sim_wsconn_handle(sim_wsconn_t *self, const char *msg, size_t len, sim_wsreply_t *reply)
{
    *reply = (sim_wsreply_t){.error_code = -1};
    rd_t r = {.s = (const unsigned char *)msg, .len = msg ? len : 0, .depth = RECURSION_LIMIT};
    request_t q = {0};
    outcome_t o = {.code = -1};
    sb_t id = {0}, out = {0}, parse_msg = {0};
    int rc = 0;

    if (parse_request(&r, &q) != 0) {
        if (r.oom || r.msg.oom)
            goto nomem;
        reply->method = q.method;
        sb_puts(&parse_msg, r.code == CODE_SYNTAX ? "Invalid JSON: " : "Invalid request: ");
        sb_puts(&parse_msg, r.msg.p);
        err(&o, r.code, parse_msg.p ? parse_msg.p : "");
        sb_puts(&id, "null");
    } else {
        reply->method = q.method;
        if (!id_echo(&q, &id)) {
            sb_free(&id);
            sb_puts(&id, "null");
            err(&o, 2, "Invalid request: request ID must be an unsigned integer");
        } else {
            switch (q.method) {
            case SIM_WSMETHOD_SUBSCRIBE:
                rc = do_subscribe(self, &q, &o, reply);
                break;
            case SIM_WSMETHOD_UNSUBSCRIBE:
                rc = do_unsubscribe(self, &q, &o, reply);
                break;
            case SIM_WSMETHOD_LIST_SUBSCRIPTIONS:
                do_list(self, &q, &o);
                break;
            case SIM_WSMETHOD_SET_PROPERTY:
            case SIM_WSMETHOD_GET_PROPERTY:
                do_property(self, &q, q.method == SIM_WSMETHOD_SET_PROPERTY, &o);
                break;
            case SIM_WSMETHOD_NONE:
                break;
            }
            if (rc != 0)
                goto nomem;
        }
    }
    write_reply(&out, &o, id.p ? id.p : "null");
    if (out.oom || id.oom || o.result.oom || parse_msg.oom)
        goto nomem;
    reply->response = out.p;
    reply->response_len = out.len;
    reply->error_code = o.code;
    if (reply->close) {
        reply->close_code = SIM_WSCONN_CLOSE_INVALID_CODE;
        reply->close_reason = SIM_WSCONN_CLOSE_INVALID_REASON;
    }
    out = (sb_t){0};
    goto done;
nomem:
    sim_wsreply_clear(reply);
    rc = -1;
done:
    sb_free(&out);
    sb_free(&id);
    sb_free(&parse_msg);
    sb_free(&o.result);
    sb_free(&r.msg);
    request_free(&q);
    return rc == 0 ? 0 : -1;
}
