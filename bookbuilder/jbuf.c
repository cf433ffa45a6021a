/*
 * jbuf.c — a growable byte buffer for writing JSON messages fast. See jbuf.h.
 */
#include "jbuf.h"

#include <stdlib.h>
#include <string.h>

static bool reserve(jbuf_t *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void jbuf_reset(jbuf_t *b)
{
    b->len = 0;
    b->failed = false;
}

void jbuf_free(jbuf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

bool jbuf_failed(const jbuf_t *b)
{
    return b->failed;
}

void jbuf_append(jbuf_t *b, const void *bytes, size_t n)
{
    if (n && reserve(b, n)) {
        memcpy(b->data + b->len, bytes, n);
        b->len += n;
    }
}

char *jbuf_extend(jbuf_t *b, size_t n)
{
    if (!reserve(b, n))
        return NULL;
    char *at = b->data + b->len;
    b->len += n;
    return at;
}

void jbuf_raw(jbuf_t *b, const char *s)
{
    jbuf_append(b, s, strlen(s));
}

void jbuf_string(jbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    jbuf_char(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            jbuf_append(b, esc, 2);
        } else if (*p < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            jbuf_append(b, esc, 6);
        } else {
            jbuf_char(b, (char)*p);
        }
    }
    jbuf_char(b, '"');
}

/* Two digits at a time from a table: ids and nanosecond times have 13 to 19 digits, and a
   message carries several. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930"
    "31323334353637383940414243444546474849505152535455565758596061"
    "62636465666768697071727374757677787980818283848586878889909192"
    "93949596979899";

void jbuf_u64(jbuf_t *b, uint64_t v)
{
    char tmp[20];
    char *p = tmp + sizeof tmp;
    while (v >= 100) {
        unsigned pair = (unsigned)(v % 100) * 2;
        v /= 100;
        p -= 2;
        p[0] = digit_pairs[pair];
        p[1] = digit_pairs[pair + 1];
    }
    if (v >= 10) {
        p -= 2;
        p[0] = digit_pairs[v * 2];
        p[1] = digit_pairs[v * 2 + 1];
    } else {
        *--p = (char)('0' + v);
    }
    jbuf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void jbuf_i64(jbuf_t *b, int64_t v)
{
    if (v < 0) {
        jbuf_char(b, '-');
        jbuf_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        jbuf_u64(b, (uint64_t)v);
    }
}

void jbuf_dec(jbuf_t *b, dec_t d, unsigned places)
{
    char tmp[DEC_STRLEN];
    size_t n = dec_format_fixed(d, places, tmp);
    if (n == 0)
        n = dec_format(d, tmp);
    if (!reserve(b, n + 2))
        return;
    b->data[b->len++] = '"';
    memcpy(b->data + b->len, tmp, n);
    b->len += n;
    b->data[b->len++] = '"';
}
