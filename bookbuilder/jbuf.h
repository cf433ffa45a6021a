/*
 * jbuf.h — a growable byte buffer for writing JSON messages fast.
 *
 * Every message the bookbuilder publishes is written here: fixed keys, integers and exact
 * decimals, no floating point and no printf on the hot path (snprintf costs more than the
 * whole book update). The buffer is reused from message to message, so it stops allocating once
 * it has reached the size of the largest message.
 *
 * An allocation failure is sticky: later appends do nothing and jbuf_failed() says so, letting a
 * writer append a whole message and check once at the end.
 */
#ifndef BOOKCAST_JBUF_H
#define BOOKCAST_JBUF_H

#include "decimal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} jbuf_t;

/* Empties the buffer (keeps its capacity) and clears a failure. */
void jbuf_reset(jbuf_t *b);
/* Frees the memory; the buffer can be used again afterwards. */
void jbuf_free(jbuf_t *b);
bool jbuf_failed(const jbuf_t *b);

/* Makes room for n more bytes and returns where they go (the length already counts them), or
   NULL after a failure. The caller writes exactly n bytes there. */
char *jbuf_extend(jbuf_t *b, size_t n);

void jbuf_append(jbuf_t *b, const void *bytes, size_t n);

/* One character: inline, as messages are mostly punctuation between values. */
static inline void jbuf_char(jbuf_t *b, char c)
{
    if (b->len < b->cap)
        b->data[b->len++] = c;
    else
        jbuf_append(b, &c, 1);
}
/* A NUL-terminated text as is (keys, punctuation, already-safe values). */
void jbuf_raw(jbuf_t *b, const char *s);
/* A JSON string: quotes, and escapes for '"', '\\' and control characters. */
void jbuf_string(jbuf_t *b, const char *s);
void jbuf_u64(jbuf_t *b, uint64_t v);
void jbuf_i64(jbuf_t *b, int64_t v);
/* A decimal as a JSON string with exactly `places` fractional digits (the exchange's form); the
   shortest exact form when the value has more digits than that. */
void jbuf_dec(jbuf_t *b, dec_t d, unsigned places);

#endif
