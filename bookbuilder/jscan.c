/*
 * jscan.c — the strict, allocation-free JSON pull scanner behind the bookbuilder's parser.
 *
 * What it is for. Every Binance frame (a ~1 KB combined-stream message, hundreds of thousands a
 * second) is read through jscan: parse (parse.h) pulls the members it knows and skips the rest.
 * jscan.h states the contract; this comment says how the implementation keeps it cheap and strict.
 *
 * No recursion, no allocation. The only state is the jscan_t: the cursor, a depth counter and a
 * 64-bit stack of "array or object" bits, one per open container. Skipping a container whole
 * (jscan_value on '{' or '[') is a loop over the same step functions the caller's walk uses, so
 * skipped bytes get exactly the validation walked bytes get, the C stack does not grow with the
 * input, and a hostile document cannot nest deeper than JSCAN_MAX_DEPTH (the width of the bit
 * stack).
 *
 * Where the scanner is, without a state enum. Between calls the scanner is in one of four
 * places: before the top-level value, inside a container before an item, before a member's
 * value, or after a value. `need_comma` marks "after a value" (at depth 0: the document's value
 * is complete). The other three are told apart by the byte just before the cursor, which the
 * step functions leave in place on purpose: '{' or '[' right after an open, ':' right after a
 * member name, ',' right after a separator. So a value may be read in an object only when the
 * cursor follows a ':', which keeps a caller that forgets jscan_object_next from reading a key
 * as a value ({"a"} walked as a value), and jscan_object_next refuses to run while a member's
 * value is pending (which would read "b" in {"a":"b":1} as the next key). Whitespace is skipped
 * at the start of each step, never at the end, for the same reason. jscan_peek therefore never
 * moves the cursor.
 *
 * The hot loops. Strings: eight bytes at a time, loaded as one word and tested with the classic
 * word-at-a-time byte tests for a quote, a backslash, a control character or a byte >= 0x80;
 * a word with none of them is skipped whole, otherwise the bit scan of the mask gives the first
 * byte that needs attention. Nothing is loaded past the end: the last few bytes of the input go
 * through a 256-entry table of plain bytes instead. Numbers: a digit loop, with the grammar's
 * few decision points (sign, leading zero, '.', exponent) checked once each. Numbers are
 * validated but not converted: the caller converts the few it wants (jscan_to_u64 …), and prices
 * arrive as strings anyway. Whitespace: one comparison (> ' ') in the usual case of none. The
 * step functions are forced inline so that skipping a container is one loop with no calls but
 * into the string scanner.
 *
 * Strictness details. UTF-8 follows the Unicode standard's table of well-formed byte sequences
 * (Table 3-7): no overlong forms, no encoded surrogates (ED A0..BF), nothing above U+10FFFF, no
 * stray continuation bytes, no sequence cut short by the end of the string or of the input. A
 * \u escape of a surrogate must be a high one followed at once by an escaped low one: RFC 8259
 * leaves lone surrogates' meaning undefined and jscan_string_copy could not turn one into UTF-8,
 * so a document holding one is refused where it is scanned rather than when a string is read.
 * Error reasons are static strings; the first error is kept and every later call fails, so a
 * caller checks once after its walk and logs one reason with its byte offset.
 *
 * Rejected alternatives.
 *  - cJSON or any tree parser: an allocation per value, and a tree built only to be read once.
 *  - A two-stage SIMD scanner (simdjson style): it wins on large documents, reads a padded tail
 *    past the end of the buffer (frames here are exact-size slices of ZeroMQ messages) and is a
 *    large body of code; a 1 KB message mostly made of short keys and 14-digit decimals gains
 *    little from finding structure 64 bytes at a time.
 *  - Validating only what the caller reads: a message would then be valid or not depending on
 *    which fields the parser of the day looks at. Skipped bytes are validated too.
 *  - strtoull/strtoll for integers: they need a NUL terminator the slice does not have, accept
 *    leading spaces and '+', and report overflow through errno.
 */
#include "jscan.h"

#include <limits.h>
#include <string.h>

#if defined(__GNUC__)
#define JSCAN_COLD __attribute__((cold, noinline))
#define JSCAN_HOT_INLINE __attribute__((always_inline)) inline
#define JSCAN_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define JSCAN_COLD
#define JSCAN_HOT_INLINE inline
#define JSCAN_LIKELY(x) (x)
#endif

_Static_assert(JSCAN_MAX_DEPTH <= 64, "open_bits holds one bit per open container");

/* 1 for a byte a string may contain as is and that ends nothing: 0x20..0x7F except '"' and
   '\\'. Control characters, quote, backslash and every byte of a multi-byte UTF-8 sequence are
   0 and leave the fast loop. Used for the tail of the input shorter than a word, and on targets
   without the word-at-a-time test. */
static const unsigned char plain_string_byte[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x80..0xFF: 0 */
};

/* ---- errors ----------------------------------------------------------------------------- */

/* Records the first error; the caller returns -1 (or NULL) at once. */
static JSCAN_COLD int fail(jscan_t *s, const char *at, const char *reason)
{
    if (!s->error) {
        s->error = reason;
        s->error_offset = (size_t)(at - s->begin);
    }
    return -1;
}

static JSCAN_COLD const char *fail_at(jscan_t *s, const char *at, const char *reason)
{
    fail(s, at, reason);
    return NULL;
}

/* ---- small helpers ---------------------------------------------------------------------- */

static inline bool is_digit(char c)
{
    return (unsigned char)((unsigned char)c - (unsigned char)'0') < 10u;
}

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (unsigned char)*p <= ' ' &&
           (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static inline int hex_digit(char c)
{
    unsigned u = (unsigned char)c;
    if (u - '0' < 10u)
        return (int)(u - '0');
    u |= 0x20u; /* lower case */
    if (u - 'a' < 6u)
        return (int)(u - 'a' + 10u);
    return -1;
}

/* The value of four hex digits at p (the caller has checked they are in the input), or -1. */
static inline long hex4(const char *p)
{
    long value = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_digit(p[i]);
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

static inline bool is_high_surrogate(long cp)
{
    return cp >= 0xD800 && cp <= 0xDBFF;
}

static inline bool is_low_surrogate(long cp)
{
    return cp >= 0xDC00 && cp <= 0xDFFF;
}

/* The innermost open container is an array; depth > 0. */
static inline bool in_array(const jscan_t *s)
{
    return (s->open_bits >> (s->depth - 1u)) & 1u;
}

/* ---- strings ---------------------------------------------------------------------------- */

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSCAN_SWAR 1

#define BYTES_OF(b) (UINT64_C(0x0101010101010101) * (b))

/* The 8 bytes at p as one word in *word, and a mask with the top bit of each byte that is not a
   plain string byte set: a quote, a backslash, a control character or >= 0x80. The classic "has
   a zero byte" expressions can also flag a byte above a true hit (a borrow runs upward), never
   below it, so the lowest set bit always marks the first special byte, and the caller needs only
   that one. */
static inline uint64_t special_bytes(const char *p, uint64_t *word)
{
    uint64_t x;
    memcpy(&x, p, sizeof x); /* an unaligned load */
    *word = x;
    uint64_t quote = x ^ BYTES_OF(0x22);
    uint64_t backslash = x ^ BYTES_OF(0x5C);
    uint64_t control = (x - BYTES_OF(0x20)) & ~x;
    quote = (quote - BYTES_OF(0x01)) & ~quote;
    backslash = (backslash - BYTES_OF(0x01)) & ~backslash;
    return (control | quote | backslash | x) & BYTES_OF(0x80);
}
#else
#define JSCAN_SWAR 0
#endif

/* q at a byte >= 0x80 inside a string: the byte after its well-formed UTF-8 sequence, or NULL. */
static const char *scan_utf8(jscan_t *s, const char *q, const char *end)
{
    const unsigned char *u = (const unsigned char *)q;
    unsigned lead = u[0];
    unsigned lo = 0x80u, hi = 0xBFu; /* the range of the second byte */
    size_t n;
    if (lead < 0xC0u)
        return fail_at(s, q, "UTF-8 continuation byte without a lead byte");
    if (lead < 0xC2u)
        return fail_at(s, q, "overlong UTF-8 encoding");
    if (lead < 0xE0u) {
        n = 2;
    } else if (lead < 0xF0u) {
        n = 3;
        if (lead == 0xE0u)
            lo = 0xA0u; /* below: a code point under U+0800, overlong */
        else if (lead == 0xEDu)
            hi = 0x9Fu; /* above: U+D800..U+DFFF, a UTF-16 surrogate */
    } else if (lead < 0xF5u) {
        n = 4;
        if (lead == 0xF0u)
            lo = 0x90u; /* below: under U+10000, overlong */
        else if (lead == 0xF4u)
            hi = 0x8Fu; /* above: beyond U+10FFFF */
    } else {
        return fail_at(s, q, "byte 0xF5..0xFF, which never occurs in UTF-8");
    }
    if ((size_t)(end - q) < n)
        return fail_at(s, q, "truncated UTF-8 sequence at the end of the input");
    unsigned second = u[1];
    if (second < lo || second > hi) {
        if (second < 0x80u || second > 0xBFu)
            return fail_at(s, q, "truncated UTF-8 sequence");
        if (lead == 0xEDu)
            return fail_at(s, q, "UTF-16 surrogate encoded in UTF-8");
        if (lead == 0xF4u)
            return fail_at(s, q, "UTF-8 sequence beyond U+10FFFF");
        return fail_at(s, q, "overlong UTF-8 encoding");
    }
    for (size_t i = 2; i < n; i++)
        if ((u[i] & 0xC0u) != 0x80u)
            return fail_at(s, q, "truncated UTF-8 sequence");
    return q + n;
}

/* q at a backslash inside a string: the byte after the escape (after both halves of an escaped
   surrogate pair), or NULL. */
static const char *scan_escape(jscan_t *s, const char *q, const char *end)
{
    if (end - q < 2)
        return fail_at(s, q, "unterminated string");
    switch (q[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return q + 2;
    case 'u':
        break;
    default:
        return fail_at(s, q, "invalid escape (only \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    }
    if (end - q < 6) {
        for (const char *h = q + 2; h < end; h++)
            if (hex_digit(*h) < 0)
                return fail_at(s, q, "\\u escape without four hex digits");
        return fail_at(s, q, "truncated \\u escape");
    }
    long cp = hex4(q + 2);
    if (cp < 0)
        return fail_at(s, q, "\\u escape without four hex digits");
    if (is_low_surrogate(cp))
        return fail_at(s, q, "\\u escape of a low surrogate without a high one before it");
    if (!is_high_surrogate(cp))
        return q + 6;
    if (end - q < 12 || q[6] != '\\' || q[7] != 'u')
        return fail_at(s, q, "\\u escape of a high surrogate not followed by a low one");
    long low = hex4(q + 8);
    if (low < 0)
        return fail_at(s, q + 6, "\\u escape without four hex digits");
    if (!is_low_surrogate(low))
        return fail_at(s, q, "\\u escape of a high surrogate not followed by a low one");
    return q + 12;
}

/* q just after an opening quote: the closing quote, or NULL. *escaped is set when the string
   holds a backslash. */
static const char *scan_string(jscan_t *s, const char *q, bool *escaped)
{
    const char *end = s->end;
    for (;;) {
        unsigned char c;
#if JSCAN_SWAR
        if (end - q >= 8) {
            uint64_t word;
            uint64_t special = special_bytes(q, &word);
            if (!special) {
                q += 8;
                continue;
            }
            /* The byte is taken from the word already loaded: reloading it from q would wait
               for the mask, the bit scan and the address to be computed first. */
            unsigned bit = (unsigned)__builtin_ctzll(special) & ~7u;
            c = (unsigned char)(word >> bit);
            q += bit / 8u;
        } else
#endif
        {
            while (q < end && plain_string_byte[(unsigned char)*q])
                q++;
            if (q == end)
                return fail_at(s, q, "unterminated string");
            c = (unsigned char)*q;
        }
        if (JSCAN_LIKELY(c == '"'))
            return q;
        if (c == '\\') {
            *escaped = true;
            q = scan_escape(s, q, end);
        } else if (c < 0x20u) {
            return fail_at(s, q, "control character in a string (must be escaped)");
        } else {
            q = scan_utf8(s, q, end);
        }
        if (!q)
            return NULL;
    }
}

/* ---- scalars ---------------------------------------------------------------------------- */

/* p at '-' or a digit: the byte after the number, or NULL. */
static JSCAN_HOT_INLINE const char *scan_number(jscan_t *s, const char *p)
{
    const char *end = s->end;
    const char *q = p;
    if (*q == '-') {
        q++;
        if (q == end || !is_digit(*q))
            return fail_at(s, q, "'-' not followed by a digit");
    }
    if (*q == '0') {
        q++;
        if (q < end && is_digit(*q))
            return fail_at(s, q, "leading zero in a number");
    } else {
        while (q < end && is_digit(*q))
            q++;
    }
    if (q < end && *q == '.') {
        q++;
        if (q == end || !is_digit(*q))
            return fail_at(s, q, "no digit after a decimal point");
        while (q < end && is_digit(*q))
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q == end || !is_digit(*q))
            return fail_at(s, q, "no digit in an exponent");
        while (q < end && is_digit(*q))
            q++;
    }
    return q;
}

/* The literal's type when the input at p spells one of true, false, null; else 0. */
static inline int literal_at(const char *p, const char *end, size_t *len)
{
    size_t avail = (size_t)(end - p);
    switch (*p) {
    case 't':
        *len = 4;
        return avail >= 4 && memcmp(p, "true", 4) == 0 ? JSCAN_TRUE : 0;
    case 'f':
        *len = 5;
        return avail >= 5 && memcmp(p, "false", 5) == 0 ? JSCAN_FALSE : 0;
    case 'n':
        *len = 4;
        return avail >= 4 && memcmp(p, "null", 4) == 0 ? JSCAN_NULL : 0;
    }
    return 0;
}

static JSCAN_COLD int fail_no_value(jscan_t *s, const char *p)
{
    if (p == s->end)
        return fail(s, p, "unexpected end of input where a value was expected");
    if (*p == ']' || *p == '}')
        return fail(s, p, "expected a value, found a closing bracket (trailing comma?)");
    if (*p == 't' || *p == 'f' || *p == 'n')
        return fail(s, p, "invalid literal (only true, false and null)");
    return fail(s, p, "expected a value");
}

/* p at the first byte of a value that is not a container (after whitespace): consumes it. */
static JSCAN_HOT_INLINE int read_scalar(jscan_t *s, const char *p, jscan_value_t *v)
{
    const char *end = s->end;
    if (p == end)
        return fail_no_value(s, p);
    jscan_type_t type;
    const char *start = p;
    const char *after;
    bool escaped = false;
    if (*p == '"') {
        start = p + 1;
        const char *close = scan_string(s, start, &escaped);
        if (!close)
            return -1;
        type = JSCAN_STRING;
        if (v)
            v->len = (size_t)(close - start);
        after = close + 1;
    } else if (*p == '-' || is_digit(*p)) {
        after = scan_number(s, p);
        if (!after)
            return -1;
        type = JSCAN_NUMBER;
        if (v)
            v->len = (size_t)(after - p);
    } else {
        size_t len;
        int literal = literal_at(p, end, &len);
        if (!literal)
            return fail_no_value(s, p);
        type = (jscan_type_t)literal;
        after = p + len;
        if (v)
            v->len = len;
    }
    if (v) {
        v->type = type;
        v->start = start;
        v->escaped = escaped;
    }
    s->p = after;
    s->need_comma = true;
    return 0;
}

/* ---- containers ------------------------------------------------------------------------- */

/* p at '{' or '[': pushes the container and moves the cursor just past the bracket. */
static inline int open_container(jscan_t *s, const char *p, bool is_array)
{
    if (s->depth == JSCAN_MAX_DEPTH)
        return fail(s, p, "nesting deeper than JSCAN_MAX_DEPTH (64)");
    uint64_t bit = (uint64_t)1 << s->depth;
    s->open_bits = is_array ? (s->open_bits | bit) : (s->open_bits & ~bit);
    s->depth++;
    s->p = p + 1;
    s->need_comma = false;
    return 0;
}

/* p at the matching '}' or ']': pops the container, which counts as a value read in its parent. */
static inline int close_container(jscan_t *s, const char *p)
{
    s->depth--;
    s->p = p + 1;
    s->need_comma = true;
    return 0;
}

/* The innermost container is an object whose last member, if any, has been consumed: 1 with the
   next key in *key and the cursor just past its ':', 0 when the object closed, or -1. */
static JSCAN_HOT_INLINE int object_step(jscan_t *s, jscan_value_t *key)
{
    const char *end = s->end;
    const char *p = skip_ws(s->p, end);
    if (p == end)
        return fail(s, p, "unexpected end of input inside an object");
    if (s->need_comma) {
        if (*p == '}')
            return close_container(s, p);
        if (*p != ',')
            return fail(s, p, "expected ',' or '}' after an object member");
        p = skip_ws(p + 1, end);
        if (p == end)
            return fail(s, p, "unexpected end of input inside an object");
        if (*p != '"')
            return fail(s, p, "expected a member name (a string) after ','");
    } else {
        if (*p == '}')
            return close_container(s, p);
        if (*p != '"')
            return fail(s, p, "expected a member name (a string) or '}'");
    }
    bool escaped = false;
    const char *close = scan_string(s, p + 1, &escaped);
    if (!close)
        return -1;
    const char *colon = skip_ws(close + 1, end);
    if (colon == end || *colon != ':')
        return fail(s, colon, "expected ':' after a member name");
    if (key) {
        key->type = JSCAN_STRING;
        key->start = p + 1;
        key->len = (size_t)(close - (p + 1));
        key->escaped = escaped;
    }
    s->p = colon + 1;
    s->need_comma = false;
    return 1;
}

/* The innermost container is an array whose last item, if any, has been consumed: 1 with the
   cursor before the next item, 0 when the array closed, or -1. */
static JSCAN_HOT_INLINE int array_step(jscan_t *s)
{
    const char *end = s->end;
    const char *p = skip_ws(s->p, end);
    if (p == end)
        return fail(s, p, "unexpected end of input inside an array");
    if (*p == ']')
        return close_container(s, p);
    if (s->need_comma) {
        if (*p != ',')
            return fail(s, p, "expected ',' or ']' after an array item");
        s->p = p + 1;
        s->need_comma = false;
    }
    /* The item itself is checked by whoever consumes it; a ']' right after ',' is refused there
       as a value that cannot start. */
    return 1;
}

/* The cursor is just past the bracket of a container open_container pushed: consumes the rest
   of it. Iterative: nesting is bounded by the depth limit, not by the C stack. */
static int skip_open_container(jscan_t *s)
{
    const unsigned base = s->depth - 1u;
    while (s->depth > base) {
        int step = in_array(s) ? array_step(s) : object_step(s, NULL);
        if (step < 0)
            return -1;
        if (step == 0)
            continue;
        const char *p = skip_ws(s->p, s->end);
        if (p < s->end && (*p == '{' || *p == '[')) {
            if (open_container(s, p, *p == '[') < 0)
                return -1;
        } else if (read_scalar(s, p, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Whether a value may be consumed at the cursor now (see the top of the file), else -1. */
static inline int value_may_start(jscan_t *s)
{
    if (s->need_comma) {
        if (s->depth == 0)
            return fail(s, s->p, "a second value after the top-level value");
        return fail(s, s->p,
                    in_array(s) ? "a value was already read here: call jscan_array_next first"
                                : "a value was already read here: call jscan_object_next first");
    }
    if (s->depth > 0 && !in_array(s) && s->p[-1] != ':')
        return fail(s, s->p, "a member's value read before its name (call jscan_object_next)");
    return 0;
}

/* ---- the walking API -------------------------------------------------------------------- */

void jscan_init(jscan_t *s, const char *buf, size_t len)
{
    if (!buf) {
        buf = ""; /* len is 0: no null pointer arithmetic below */
        len = 0;
    }
    s->p = buf;
    s->begin = buf;
    s->end = buf + len;
    s->depth = 0;
    s->open_bits = 0;
    s->need_comma = false;
    s->error = NULL;
    s->error_offset = 0;
}

int jscan_peek(jscan_t *s)
{
    if (s->error || value_may_start(s) < 0)
        return -1;
    const char *p = skip_ws(s->p, s->end);
    if (p == s->end)
        return fail_no_value(s, p);
    switch (*p) {
    case '{':
        return JSCAN_OBJECT;
    case '[':
        return JSCAN_ARRAY;
    case '"':
        return JSCAN_STRING;
    case '-':
        if (s->end - p < 2 || !is_digit(p[1]))
            return fail(s, p + 1, "'-' not followed by a digit");
        return JSCAN_NUMBER;
    }
    if (is_digit(*p))
        return JSCAN_NUMBER;
    size_t len;
    int literal = literal_at(p, s->end, &len);
    return literal ? literal : fail_no_value(s, p);
}

static int begin_container(jscan_t *s, char bracket)
{
    if (s->error || value_may_start(s) < 0)
        return -1;
    const char *p = skip_ws(s->p, s->end);
    if (p == s->end || *p != bracket) {
        if (p == s->end)
            return fail_no_value(s, p);
        return fail(s, p, bracket == '{' ? "expected an object ('{')" : "expected an array ('[')");
    }
    return open_container(s, p, bracket == '[');
}

int jscan_object_begin(jscan_t *s)
{
    return begin_container(s, '{');
}

int jscan_array_begin(jscan_t *s)
{
    return begin_container(s, '[');
}

int jscan_object_next(jscan_t *s, jscan_value_t *key)
{
    if (s->error)
        return -1;
    if (s->depth == 0 || in_array(s))
        return fail(s, s->p, "jscan_object_next outside an object");
    if (!s->need_comma && s->p[-1] != '{')
        return fail(s, s->p, "jscan_object_next before the previous member's value was read");
    return object_step(s, key);
}

int jscan_array_next(jscan_t *s)
{
    if (s->error)
        return -1;
    if (s->depth == 0 || !in_array(s))
        return fail(s, s->p, "jscan_array_next outside an array");
    if (!s->need_comma && s->p[-1] != '[')
        return fail(s, s->p, "jscan_array_next before the previous item was read");
    return array_step(s);
}

int jscan_value(jscan_t *s, jscan_value_t *v)
{
    if (s->error || value_may_start(s) < 0)
        return -1;
    const char *p = skip_ws(s->p, s->end);
    if (p < s->end && (*p == '{' || *p == '[')) {
        bool is_array = *p == '[';
        if (open_container(s, p, is_array) < 0 || skip_open_container(s) < 0)
            return -1;
        if (v) {
            v->type = is_array ? JSCAN_ARRAY : JSCAN_OBJECT;
            v->start = p;
            v->len = (size_t)(s->p - p);
            v->escaped = false;
        }
        return 0;
    }
    return read_scalar(s, p, v);
}

int jscan_value_consumed(jscan_t *s, const char *after)
{
    if (s->error || value_may_start(s) < 0)
        return -1;
    if (after <= s->p || after > s->end)
        return fail(s, s->p, "jscan_value_consumed outside the input");
    s->p = after;
    s->need_comma = true;
    return 0;
}

int jscan_end(jscan_t *s)
{
    if (s->error)
        return -1;
    if (s->depth > 0)
        return fail(s, s->p, "jscan_end inside an unfinished container");
    if (!s->need_comma)
        return fail(s, s->p, "jscan_end before the top-level value was read");
    const char *p = skip_ws(s->p, s->end);
    if (p != s->end)
        return fail(s, p, "trailing data after the top-level value");
    s->p = p;
    return 0;
}

const char *jscan_error(const jscan_t *s, size_t *offset)
{
    if (s->error && offset)
        *offset = s->error_offset;
    return s->error;
}

/* ---- reading values --------------------------------------------------------------------- */

/* Decodes the unit of string content at *pp: one raw byte, or one escape (a surrogate pair
   counts as one) as UTF-8 in out. Returns the bytes written to out, or -1 for an escape jscan
   would not have accepted (possible only in a jscan_value_t not made by the scanner). */
static int unescape_unit(const char **pp, const char *end, char out[4])
{
    const char *p = *pp;
    if (*p != '\\') {
        out[0] = *p;
        *pp = p + 1;
        return 1;
    }
    if (end - p < 2)
        return -1;
    char simple;
    switch (p[1]) {
    case '"':
        simple = '"';
        break;
    case '\\':
        simple = '\\';
        break;
    case '/':
        simple = '/';
        break;
    case 'b':
        simple = '\b';
        break;
    case 'f':
        simple = '\f';
        break;
    case 'n':
        simple = '\n';
        break;
    case 'r':
        simple = '\r';
        break;
    case 't':
        simple = '\t';
        break;
    case 'u':
        simple = 0;
        break;
    default:
        return -1;
    }
    if (p[1] != 'u') {
        out[0] = simple;
        *pp = p + 2;
        return 1;
    }
    if (end - p < 6)
        return -1;
    long cp = hex4(p + 2);
    if (cp < 0 || is_low_surrogate(cp))
        return -1;
    p += 6;
    if (is_high_surrogate(cp)) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
            return -1;
        long low = hex4(p + 2);
        if (low < 0 || !is_low_surrogate(low))
            return -1;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        p += 6;
    }
    *pp = p;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool jscan_string_is(const jscan_value_t *v, const char *lit)
{
    if (v->type != JSCAN_STRING)
        return false;
    const char *p = v->start;
    const char *end = p + v->len;
    if (!v->escaped) {
        /* lit's NUL is checked before each byte, so lit is never read past its end. */
        for (; p < end; p++, lit++)
            if (*lit == '\0' || *lit != *p)
                return false;
        return *lit == '\0';
    }
    while (p < end) {
        char unit[4];
        int n = unescape_unit(&p, end, unit);
        if (n < 0)
            return false;
        for (int i = 0; i < n; i++, lit++)
            if (*lit == '\0' || *lit != unit[i])
                return false;
    }
    return *lit == '\0';
}

/* The digits [p, end) as a uint64, or -1 when empty, not all digits, with a leading zero, or
   beyond UINT64_MAX. */
static int digits_to_u64(const char *p, const char *end, uint64_t *out)
{
    if (p == end || (*p == '0' && end - p > 1))
        return -1;
    uint64_t x = 0;
    for (; p < end; p++) {
        unsigned digit = (unsigned char)*p - (unsigned)'0';
        if (digit > 9u)
            return -1;
        if (x >= UINT64_MAX / 10u && (x > UINT64_MAX / 10u || digit > UINT64_MAX % 10u))
            return -1;
        x = x * 10u + digit;
    }
    *out = x;
    return 0;
}

int jscan_to_u64(const jscan_value_t *v, uint64_t *out)
{
    if (v->type != JSCAN_NUMBER)
        return -1;
    return digits_to_u64(v->start, v->start + v->len, out);
}

int jscan_to_i64(const jscan_value_t *v, int64_t *out)
{
    if (v->type != JSCAN_NUMBER || v->len == 0)
        return -1;
    const char *p = v->start;
    bool negative = *p == '-';
    uint64_t magnitude;
    if (digits_to_u64(p + negative, v->start + v->len, &magnitude) < 0)
        return -1;
    if (magnitude > (uint64_t)INT64_MAX + negative)
        return -1;
    /* magnitude <= 2^63 when negative: negate without signed overflow. */
    *out = (negative && magnitude) ? -(int64_t)(magnitude - 1u) - 1 : (int64_t)magnitude;
    return 0;
}

long jscan_string_copy(const jscan_value_t *v, char *buf, size_t cap)
{
    if (cap == 0)
        return -1;
    buf[0] = '\0';
    if (v->type != JSCAN_STRING || v->len > (size_t)LONG_MAX)
        return -1;
    const char *p = v->start;
    const char *end = p + v->len;
    if (!v->escaped) {
        if (v->len >= cap)
            return -1;
        memcpy(buf, p, v->len);
        buf[v->len] = '\0';
        return (long)v->len;
    }
    size_t n = 0; /* bytes written; n < cap always, leaving room for the NUL */
    while (p < end) {
        const char *backslash = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((backslash ? backslash : end) - p);
        if (run >= cap - n)
            goto refused;
        memcpy(buf + n, p, run);
        n += run;
        p += run;
        if (p == end)
            break;
        char unit[4];
        int k = unescape_unit(&p, end, unit);
        if (k < 0 || (size_t)k >= cap - n)
            goto refused;
        memcpy(buf + n, unit, (size_t)k);
        n += (size_t)k;
    }
    buf[n] = '\0';
    return (long)n;
refused:
    buf[0] = '\0';
    return -1;
}
