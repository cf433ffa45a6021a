/*
 * real_book.c — an order book of strings for the real-data replay tests. See real_book.h.
 */
#include "real_book.h"

#include <stdlib.h>
#include <string.h>

#define UNITS_PER_ONE INT64_C(100000000)
#define MAX_PLACES 8

int real_dec(const char *s, int64_t *units)
{
    int64_t whole = 0, frac = 0;
    size_t i = 0, digits = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (whole > (INT64_MAX / UNITS_PER_ONE) / 10)
            return -1;
        whole = whole * 10 + (s[i] - '0');
    }
    if (digits == 0)
        return -1;
    size_t places = 0;
    if (s[i] == '.') {
        for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
            if (++places > MAX_PLACES)
                return -1;
            frac = frac * 10 + (s[i] - '0');
        }
        if (places == 0)
            return -1;
    }
    if (s[i] != '\0')
        return -1;
    for (; places < MAX_PLACES; places++)
        frac *= 10;
    if (whole > (INT64_MAX - frac) / UNITS_PER_ONE)
        return -1;
    *units = whole * UNITS_PER_ONE + frac;
    return 0;
}

/* True when a belongs before b on side, that is, a is the worse price. */
static bool worse(real_side_t side, int64_t a, int64_t b)
{
    return side == REAL_BID ? a < b : a > b;
}

/* The first index whose price is not worse than price: where price is, or would go. */
static size_t position(const real_book_t *b, real_side_t side, int64_t price)
{
    size_t lo = 0, hi = b->count[side];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (worse(side, b->levels[side][mid].price_units, price))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int grow(real_book_t *b, real_side_t side)
{
    if (b->count[side] < b->cap[side])
        return 0;
    size_t cap = b->cap[side] ? 2 * b->cap[side] : 256;
    real_level_t *bigger = realloc(b->levels[side], cap * sizeof *bigger);
    if (!bigger)
        return -1;
    b->levels[side] = bigger;
    b->cap[side] = cap;
    return 0;
}

/* Checks price and qty and fills a level with them; *zero tells whether qty is 0. */
static int make_level(const char *price, const char *qty, real_level_t *l, bool *zero)
{
    int64_t q;
    if (strlen(price) >= REAL_DEC_STRLEN || strlen(qty) >= REAL_DEC_STRLEN ||
        real_dec(price, &l->price_units) != 0 || l->price_units == 0 || real_dec(qty, &q) != 0)
        return -1;
    strcpy(l->price, price);
    strcpy(l->qty, qty);
    *zero = q == 0;
    return 0;
}

int real_book_set(real_book_t *b, real_side_t side, const char *price, const char *qty)
{
    real_level_t l;
    bool zero;
    if (make_level(price, qty, &l, &zero) != 0)
        return -1;
    size_t at = position(b, side, l.price_units);
    bool held = at < b->count[side] && b->levels[side][at].price_units == l.price_units;
    real_level_t *v = b->levels[side];
    if (zero) {
        if (held) {
            memmove(&v[at], &v[at + 1], (b->count[side] - at - 1) * sizeof *v);
            b->count[side]--;
        }
        return 0;
    }
    if (held) {
        v[at] = l;
        return 0;
    }
    if (grow(b, side) != 0)
        return -1;
    v = b->levels[side];
    memmove(&v[at + 1], &v[at], (b->count[side] - at) * sizeof *v);
    v[at] = l;
    b->count[side]++;
    return 0;
}

void real_book_clear(real_book_t *b)
{
    b->count[REAL_BID] = b->count[REAL_ASK] = 0;
}

int real_book_append(real_book_t *b, real_side_t side, const char *price, const char *qty)
{
    real_level_t l;
    bool zero;
    if (make_level(price, qty, &l, &zero) != 0 || zero || grow(b, side) != 0)
        return -1;
    b->levels[side][b->count[side]++] = l;
    return 0;
}

static int cmp_ascending(const void *pa, const void *pb)
{
    const real_level_t *a = pa, *b = pb;
    return (a->price_units > b->price_units) - (a->price_units < b->price_units);
}

static int cmp_descending(const void *pa, const void *pb)
{
    return cmp_ascending(pb, pa);
}

int real_book_sort_side(real_book_t *b, real_side_t side)
{
    real_level_t *v = b->levels[side];
    size_t n = b->count[side];
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, side == REAL_BID ? cmp_ascending : cmp_descending);
    for (size_t i = 1; i < n; i++)
        if (v[i].price_units == v[i - 1].price_units)
            return -1;
    return 0;
}

size_t real_book_depth(const real_book_t *b, real_side_t side)
{
    return b->count[side];
}

const real_level_t *real_book_level(const real_book_t *b, real_side_t side, size_t i)
{
    if (i >= b->count[side])
        return NULL;
    return &b->levels[side][b->count[side] - 1 - i];
}

bool real_book_crossed(const real_book_t *b)
{
    const real_level_t *bid = real_book_level(b, REAL_BID, 0);
    const real_level_t *ask = real_book_level(b, REAL_ASK, 0);
    return bid && ask && bid->price_units >= ask->price_units;
}

void real_book_free(real_book_t *b)
{
    free(b->levels[REAL_BID]);
    free(b->levels[REAL_ASK]);
    memset(b, 0, sizeof *b);
}
