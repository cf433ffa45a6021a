/*
 * book.c — one order book: each side a sorted array, best level at the end, bounded in size.
 *
 * Layout. A side is one contiguous run of levels, worst first (bids ascending, asks descending),
 * so the best level is the last and the top of the book, where nearly every update lands, is
 * moved by only the few levels above it. Both sides are searched by one routine through a rank:
 * the price's units for bids and their bitwise complement for asks (~x orders every int64
 * exactly in reverse and, unlike -x, cannot overflow), so ranks ascend toward the best level.
 *
 * Slack at both ends. The run sits inside its allocation with free slots below and above it
 * (`start` is the index of the worst level). An insert or removal moves whichever part is
 * shorter: the levels above it toward the top, or the levels below it toward the bottom. This
 * matters for a full side: a new level near the top drops the worst, and instead of sliding the
 * whole ladder down over the dropped slot the run just starts one slot higher and the few levels
 * above the new one move up. When the end a move needs is against the wall, the run is re-centred
 * (one copy of the side) or, when little room is left and the bound allows, moved into an
 * allocation twice as large; a re-centred run has about capacity / 16 free slots at each end,
 * so the copy is paid for by that many cheap updates. Capacity starts at 64 and doubles up to
 * max_levels plus an eighth (the slack that keeps a full side from re-centring often).
 *
 * Nothing is allocated in the steady state: only growth and snapshots allocate. A snapshot is
 * normally already sorted (Binance sends best first), so book_replace_side checks the order and
 * copies straight into the side; only unsorted input pays for a scratch buffer and a merge sort,
 * which is stable so that the last of duplicate prices wins.
 *
 * Rejected: a tree or skip list (pointer chasing and an allocation per level, for ladders of a
 * few thousand levels at most), a ring buffer (the search would have to map every index), and a
 * dense array indexed by tick (prices walk away from any window, and far levels waste memory).
 */
#include "book.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_CAPACITY 64
#define LOW_ROOM_FRACTION 8 /* grow rather than re-centre when under 1/8 of capacity is free */

typedef struct {
    book_level_t *buf; /* `capacity` slots; the levels are buf[start .. start + depth) */
    size_t start;
    size_t depth;
    size_t capacity;
    int64_t flip;       /* 0 for bids, -1 for asks: rank = price units ^ flip */
    bool limited;       /* levels beyond limit_rank are unknown: new ones there are refused */
    int64_t limit_rank; /* the rank of the worst price whose state is known */
} side_t;

struct book_t {
    side_t sides[2];
    size_t max_levels;
    size_t capacity_limit; /* max_levels plus slack */
    uint64_t trimmed;
    dec_t dropped; /* the worst level the last book_set pushed out, 0 when none */
};

static inline int64_t rank_of(const side_t *s, dec_t price)
{
    return price.units ^ s->flip;
}

/* The index of the first level whose rank is >= rank (depth when none): where a level of that
   rank is or would go. Branch-free, so the 10 or so probes of a deep side do not mispredict. */
static inline size_t lower_bound(const side_t *s, int64_t rank)
{
    const book_level_t *first = s->buf + s->start;
    const book_level_t *base = first;
    size_t n = s->depth;
    if (n == 0)
        return 0;
    while (n > 1) {
        size_t half = n / 2;
        base = (rank_of(s, base[half].price) < rank) ? base + half : base;
        n -= half;
    }
    return (size_t)(base - first) + (rank_of(s, base->price) < rank);
}

static int side_init(side_t *s, size_t capacity, int64_t flip)
{
    s->buf = malloc(capacity * sizeof *s->buf);
    if (!s->buf)
        return -1;
    s->capacity = capacity;
    s->start = 0;
    s->depth = 0;
    s->flip = flip;
    return 0;
}

book_t *book_new(size_t max_levels)
{
    if (max_levels == 0 || max_levels > SIZE_MAX / 4 / sizeof(book_level_t))
        return NULL;
    book_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->max_levels = max_levels;
    self->capacity_limit = max_levels + max_levels / 8;
    size_t initial =
        INITIAL_CAPACITY < self->capacity_limit ? INITIAL_CAPACITY : self->capacity_limit;
    if (side_init(&self->sides[BOOK_BID], initial, 0) != 0 ||
        side_init(&self->sides[BOOK_ASK], initial, -1) != 0) {
        free(self->sides[BOOK_BID].buf);
        free(self);
        return NULL;
    }
    return self;
}

void book_destroy(book_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    book_t *self = *self_p;
    free(self->sides[BOOK_BID].buf);
    free(self->sides[BOOK_ASK].buf);
    free(self);
    *self_p = NULL;
}

void book_clear(book_t *self)
{
    for (int i = 0; i < 2; i++) {
        self->sides[i].start = 0;
        self->sides[i].depth = 0;
        self->sides[i].limited = false;
    }
}

/* From now on the side knows nothing beyond its worst level. */
static void limit_at_worst(side_t *s)
{
    if (s->depth == 0)
        return;
    s->limited = true;
    s->limit_rank = rank_of(s, s->buf[s->start].price);
}

void book_limit_side(book_t *self, book_side_t side)
{
    limit_at_worst(&self->sides[side]);
}

bool book_side_limited(const book_t *self, book_side_t side)
{
    return self->sides[side].limited;
}

bool book_complete_to(const book_t *self, book_side_t side, dec_t *price)
{
    const side_t *s = &self->sides[side];
    if (!s->limited)
        return false;
    price->units = s->limit_rank ^ s->flip;
    return true;
}

size_t book_complete_depth(const book_t *self, book_side_t side)
{
    const side_t *s = &self->sides[side];
    if (!s->limited)
        return s->depth;
    return s->depth - lower_bound(s, s->limit_rank);
}

/* Copies the run into `dst` (the side's own buffer or a new one of dst_capacity slots), centred,
   with a free slot at index pos, and makes that slot part of the run. Returns the slot. */
static book_level_t *recentre_with_gap(side_t *s, book_level_t *dst, size_t dst_capacity,
                                       size_t pos)
{
    const book_level_t *src = s->buf + s->start;
    size_t new_start = (dst_capacity - s->depth - 1) / 2;
    book_level_t *to = dst + new_start;
    size_t above = s->depth - pos;
    /* Within one buffer the two parts must move in the order that does not overwrite the
       other's source: upward moves start with the upper part, downward ones with the lower. */
    if (dst == s->buf && new_start >= s->start) {
        memmove(to + pos + 1, src + pos, above * sizeof *src);
        memmove(to, src, pos * sizeof *src);
    } else {
        memmove(to, src, pos * sizeof *src);
        memmove(to + pos + 1, src + pos, above * sizeof *src);
    }
    if (dst != s->buf) {
        free(s->buf);
        s->buf = dst;
        s->capacity = dst_capacity;
    }
    s->start = new_start;
    s->depth++;
    return to + pos;
}

/* Makes room for a new level at run index pos of a side holding fewer than max_levels and
   returns its slot, or NULL when the side is full to its capacity and growing failed (the side
   is then unchanged). */
static book_level_t *open_slot(book_t *self, side_t *s, size_t pos)
{
    size_t above = s->depth - pos;
    bool move_down = pos < above; /* the part below the slot is the shorter one */
    bool room_below = s->start > 0;
    bool room_above = s->start + s->depth < s->capacity;
    if (move_down ? !room_below : !room_above) {
        size_t free_slots = s->capacity - s->depth;
        if (s->capacity < self->capacity_limit && free_slots * LOW_ROOM_FRACTION < s->capacity) {
            size_t capacity = s->capacity * 2;
            if (capacity > self->capacity_limit)
                capacity = self->capacity_limit;
            book_level_t *grown = malloc(capacity * sizeof *grown);
            if (grown)
                return recentre_with_gap(s, grown, capacity, pos);
            if (free_slots == 0)
                return NULL;
            /* Out of memory but not out of room: carry on in the buffer we have. */
        }
        return recentre_with_gap(s, s->buf, s->capacity, pos);
    }
    book_level_t *run = s->buf + s->start;
    if (move_down) {
        memmove(run - 1, run, pos * sizeof *run);
        s->start--;
    } else {
        memmove(run + pos + 1, run + pos, above * sizeof *run);
    }
    s->depth++;
    return s->buf + s->start + pos;
}

/* Removes the level at run index pos, moving the shorter part over it. */
static void close_slot(side_t *s, size_t pos)
{
    book_level_t *run = s->buf + s->start;
    size_t above = s->depth - pos - 1;
    if (pos < above) {
        memmove(run + 1, run, pos * sizeof *run);
        s->start++;
    } else {
        memmove(run + pos, run + pos + 1, above * sizeof *run);
    }
    s->depth--;
}

book_result_t book_set(book_t *self, book_side_t side, dec_t price, dec_t qty)
{
    side_t *s = &self->sides[side];
    self->dropped.units = 0;
    size_t pos = lower_bound(s, rank_of(s, price));
    if (pos < s->depth && s->buf[s->start + pos].price.units == price.units) {
        if (qty.units == 0) {
            close_slot(s, pos);
            return BOOK_REMOVED;
        }
        s->buf[s->start + pos].qty = qty;
        return BOOK_UPDATED;
    }
    if (qty.units == 0)
        return BOOK_NOOP;
    if (s->depth == self->max_levels) {
        self->trimmed++;
        if (pos == 0) /* below the worst level of a full side */
            return BOOK_TRIMMED;
        /* Drop the worst; the slot it leaves means open_slot below never needs to allocate. */
        self->dropped = s->buf[s->start].price;
        s->start++;
        s->depth--;
        pos--;
    }
    book_level_t *slot = open_slot(self, s, pos);
    if (!slot)
        return BOOK_NOMEM;
    slot->price = price;
    slot->qty = qty;
    if (self->dropped.units != 0) {
        /* The levels beyond the dropped one are no longer followed: the side is complete at
           most down to the level now worst. */
        int64_t worst_rank = rank_of(s, s->buf[s->start].price);
        if (!s->limited || s->limit_rank < worst_rank) {
            s->limited = true;
            s->limit_rank = worst_rank;
        }
    }
    return BOOK_INSERTED;
}

/* Sorts a[0..n) worst first by rank, stably, using tmp[0..n) as the other half of each pass. */
static void merge_sort(const side_t *s, book_level_t *a, book_level_t *tmp, size_t n)
{
    book_level_t *src = a, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) /* <= takes the earlier of equal ranks first: stable */
                dst[k++] =
                    rank_of(s, src[i].price) <= rank_of(s, src[j].price) ? src[i++] : src[j++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        book_level_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* Makes the side empty with room for `depth` levels, placed centred. -1 when out of memory
   (the side is then empty, with its old buffer). */
static int side_reserve_empty(book_t *self, side_t *s, size_t depth)
{
    s->depth = 0;
    s->start = 0;
    if (depth > s->capacity) {
        size_t capacity = s->capacity;
        while (capacity < depth)
            capacity *= 2;
        if (capacity > self->capacity_limit)
            capacity = self->capacity_limit;
        book_level_t *buf = malloc(capacity * sizeof *buf);
        if (!buf)
            return -1;
        free(s->buf);
        s->buf = buf;
        s->capacity = capacity;
    }
    s->start = (s->capacity - depth) / 2;
    return 0;
}

/* The unsorted case of book_replace_side: sort a copy, keep the last of equal prices, then the
   best max_levels of what is left. */
static int replace_unsorted(book_t *self, side_t *s, const book_level_t *levels, size_t count,
                            size_t nonzero)
{
    s->depth = 0;
    book_level_t *work = malloc(2 * nonzero * sizeof *work);
    if (!work)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (levels[i].qty.units != 0)
            work[n++] = levels[i];
    merge_sort(s, work, work + nonzero, n);
    size_t unique = 0; /* compact in place; the later of equal prices sorts later: keep it */
    for (size_t i = 0; i < n; i++) {
        if (unique > 0 && work[unique - 1].price.units == work[i].price.units)
            unique--;
        work[unique++] = work[i];
    }
    size_t keep = unique < self->max_levels ? unique : self->max_levels;
    if (side_reserve_empty(self, s, keep) != 0) {
        free(work);
        return -1;
    }
    memcpy(s->buf + s->start, work + (unique - keep), keep * sizeof *work);
    s->depth = keep;
    self->trimmed += unique - keep;
    s->limited = false;
    if (keep < unique)
        limit_at_worst(s);
    free(work);
    return 0;
}

int book_replace_side(book_t *self, book_side_t side, const book_level_t *levels, size_t count)
{
    side_t *s = &self->sides[side];
    /* One pass decides whether the non-zero levels are strictly ordered, either way round. */
    size_t nonzero = 0;
    bool worst_first = true, best_first = true;
    int64_t prev = 0;
    for (size_t i = 0; i < count; i++) {
        if (levels[i].qty.units == 0)
            continue;
        int64_t rank = rank_of(s, levels[i].price);
        if (nonzero > 0) {
            worst_first = worst_first && prev < rank;
            best_first = best_first && prev > rank;
        }
        prev = rank;
        nonzero++;
    }
    if (!worst_first && !best_first)
        return replace_unsorted(self, s, levels, count, nonzero);

    size_t keep = nonzero < self->max_levels ? nonzero : self->max_levels;
    if (side_reserve_empty(self, s, keep) != 0)
        return -1;
    book_level_t *run = s->buf + s->start;
    size_t taken = 0;
    if (best_first) { /* the first `keep` non-zero levels, written from the top down */
        for (size_t i = 0; i < count && taken < keep; i++)
            if (levels[i].qty.units != 0)
                run[keep - 1 - taken++] = levels[i];
    } else { /* the last `keep` non-zero levels, written from the top down */
        for (size_t i = count; i-- > 0 && taken < keep;)
            if (levels[i].qty.units != 0)
                run[keep - 1 - taken++] = levels[i];
    }
    s->depth = keep;
    self->trimmed += nonzero - keep;
    s->limited = false;
    if (keep < nonzero)
        limit_at_worst(s);
    return 0;
}

size_t book_depth(const book_t *self, book_side_t side)
{
    return self->sides[side].depth;
}

const book_level_t *book_level(const book_t *self, book_side_t side, size_t i)
{
    const side_t *s = &self->sides[side];
    if (i >= s->depth)
        return NULL;
    return &s->buf[s->start + s->depth - 1 - i];
}

dec_t book_qty_at(const book_t *self, book_side_t side, dec_t price)
{
    const side_t *s = &self->sides[side];
    size_t pos = lower_bound(s, rank_of(s, price));
    if (pos < s->depth && s->buf[s->start + pos].price.units == price.units)
        return s->buf[s->start + pos].qty;
    return (dec_t){0};
}

bool book_crossed(const book_t *self)
{
    const book_level_t *bid = book_level(self, BOOK_BID, 0);
    const book_level_t *ask = book_level(self, BOOK_ASK, 0);
    return bid && ask && bid->price.units >= ask->price.units;
}

dec_t book_dropped(const book_t *self)
{
    return self->dropped;
}

uint64_t book_trimmed(const book_t *self)
{
    return self->trimmed;
}

size_t book_memory_bytes(const book_t *self)
{
    return sizeof *self +
           (self->sides[BOOK_BID].capacity + self->sides[BOOK_ASK].capacity) * sizeof(book_level_t);
}

size_t book_max_levels(const book_t *self)
{
    return self->max_levels;
}
