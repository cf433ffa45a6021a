/*
 * sync.c — Binance's snapshot + diff rules for one book. The rules are in sync.h.
 *
 * Events that cannot be applied yet are copied into an event store: a vector of event headers
 * sorted by u, and one pool of levels they point into by offset. Two stores exist per book: the
 * buffer (events waiting for a snapshot, possibly thousands) and the held list (events ahead of
 * the chain, at most reorder_max). Keeping them sorted by u means a late event slots into place
 * and a duplicate (same u) is recognised on arrival, so a rotation overlap or a reordered pair
 * never reaches the book twice or out of order.
 *
 * The buffer's pool is compacted only when old events are dropped (stale ones at a snapshot, the
 * oldest half when it overflows) or it empties, so appending is amortised O(levels) and nothing
 * allocates once capacities settle; the held list, a few events, closes the hole an event leaves
 * as soon as it is released. A
 * buffer that grew past STORE_SHRINK_EVENTS is freed when it empties, so one long outage does
 * not pin memory in every book for ever.
 */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

#define STORE_SHRINK_EVENTS 4096
#define LEVELS_PER_EVENT_BUDGET 256 /* buffered levels allowed per buffered event, on average */

/* A copied event; its levels are pool[level_off .. level_off + bid_count + ask_count). */
typedef struct {
    uint64_t first_id, last_id, prev_id;
    bool has_prev_id;
    int64_t event_ms, txn_ms, recv_ns;
    size_t level_off;
    size_t bid_count, ask_count;
} stored_event_t;

typedef struct {
    stored_event_t *events;
    size_t count, cap;
    parse_level_t *pool;
    size_t pool_used, pool_cap;
} store_t;

/* An event to apply, whichever store (or the parser) holds it. */
typedef struct {
    uint64_t first_id, last_id, prev_id;
    bool has_prev_id;
    int64_t event_ms, txn_ms, recv_ns;
    const parse_level_t *bids, *asks;
    const parse_level_text_t *bid_text, *ask_text; /* NULL for a stored event */
    size_t bid_count, ask_count;
} view_t;

/* Where an event stands against the book's update id. */
typedef enum {
    CHAIN_APPLY,
    CHAIN_STALE,  /* u at or before the book's id */
    CHAIN_AHEAD,  /* events are missing before it: it may be early */
    CHAIN_BROKEN, /* it cannot follow the book whatever arrives */
} chain_t;

struct sync_t {
    sync_config_t cfg;
    sync_state_t state;
    sync_reason_t reason;
    book_t *book;
    uint64_t update_id;
    bool need_first;  /* synced from a snapshot; no event applied since */
    bool ever_synced; /* "resyncing" once a book has been synced, "syncing" before */
    store_t buffer;
    store_t held;
    sync_change_t *changes;
    size_t change_count, change_cap;
    sync_applied_t applied;
    uint8_t price_places, qty_places;
    book_level_t *scratch; /* snapshot sides */
    size_t scratch_cap;
};

/* ---- event stores ------------------------------------------------------------------------- */

static void store_free(store_t *st)
{
    free(st->events);
    free(st->pool);
    memset(st, 0, sizeof *st);
}

static void store_clear(store_t *st)
{
    if (st->cap > STORE_SHRINK_EVENTS)
        store_free(st);
    st->count = 0;
    st->pool_used = 0;
}

static view_t store_view(const store_t *st, size_t i)
{
    const stored_event_t *e = &st->events[i];
    return (view_t){
        .first_id = e->first_id,
        .last_id = e->last_id,
        .prev_id = e->prev_id,
        .has_prev_id = e->has_prev_id,
        .event_ms = e->event_ms,
        .txn_ms = e->txn_ms,
        .recv_ns = e->recv_ns,
        .bids = st->pool + e->level_off,
        .asks = st->pool + e->level_off + e->bid_count,
        .bid_count = e->bid_count,
        .ask_count = e->ask_count,
    };
}

/* Drops events [0, n) and their levels, keeping the rest in order. */
static void store_drop_front(store_t *st, size_t n)
{
    if (n == 0)
        return;
    if (n >= st->count) {
        store_clear(st);
        return;
    }
    memmove(st->events, st->events + n, (st->count - n) * sizeof *st->events);
    st->count -= n;
    /* Events are sorted by u, levels by arrival. Copying each event's levels down in u order is
       safe in place only when that is also pool order; otherwise a copy could overwrite the levels
       of an event not yet moved, so the levels go to a new pool. */
    bool pool_order = true;
    for (size_t i = 1; i < st->count && pool_order; i++)
        pool_order = st->events[i - 1].level_off <= st->events[i].level_off;
    parse_level_t *from = st->pool;
    parse_level_t *to = pool_order ? st->pool : malloc(st->pool_cap * sizeof *to);
    if (!to)
        return; /* out of memory: the levels stay where they are, uncompacted but valid */
    size_t used = 0;
    for (size_t i = 0; i < st->count; i++) {
        stored_event_t *e = &st->events[i];
        size_t k = e->bid_count + e->ask_count;
        if (k && (to != from || e->level_off != used))
            memmove(to + used, from + e->level_off, k * sizeof *to);
        e->level_off = used;
        used += k;
    }
    if (to != from) {
        free(from);
        st->pool = to;
    }
    st->pool_used = used;
}

/* Removes event i and closes the hole its levels leave in the pool, so that a store which never
   empties (events held throughout a run of reordering) does not grow without bound. */
static void store_remove(store_t *st, size_t i)
{
    stored_event_t gone = st->events[i];
    memmove(st->events + i, st->events + i + 1, (st->count - i - 1) * sizeof *st->events);
    st->count--;
    if (st->count == 0) {
        store_clear(st);
        return;
    }
    size_t k = gone.bid_count + gone.ask_count;
    if (k == 0)
        return;
    size_t tail = st->pool_used - gone.level_off - k;
    memmove(st->pool + gone.level_off, st->pool + gone.level_off + k, tail * sizeof *st->pool);
    st->pool_used -= k;
    for (size_t j = 0; j < st->count; j++)
        if (st->events[j].level_off > gone.level_off)
            st->events[j].level_off -= k;
}

/* True when the store holds an event with this u. */
static bool store_has(const store_t *st, uint64_t last_id)
{
    for (size_t i = st->count; i-- > 0 && st->events[i].last_id >= last_id;)
        if (st->events[i].last_id == last_id)
            return true;
    return false;
}

static int grow(void **ptr, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : first;
    while (cap2 < need) {
        if (cap2 > SIZE_MAX / 2 / size)
            return -1;
        cap2 *= 2;
    }
    void *p = realloc(*ptr, cap2 * size);
    if (!p)
        return -1;
    *ptr = p;
    *cap = cap2;
    return 0;
}

/* Inserts v in u order. Returns 1 when stored, 0 when an event with the same u is already there
   (a duplicate), -1 when out of memory. */
static int store_insert(store_t *st, const view_t *v)
{
    size_t pos = st->count;
    while (pos > 0 && st->events[pos - 1].last_id > v->last_id)
        pos--;
    if (pos > 0 && st->events[pos - 1].last_id == v->last_id)
        return 0;
    size_t k = v->bid_count + v->ask_count;
    /* At least one slot even for events without levels: store_view must not offset a NULL pool. */
    size_t pool_need = st->pool_used + k ? st->pool_used + k : 1;
    if (grow((void **)&st->events, &st->cap, st->count + 1, sizeof *st->events, 16) != 0 ||
        grow((void **)&st->pool, &st->pool_cap, pool_need, sizeof *st->pool, 256) != 0)
        return -1;
    memmove(st->events + pos + 1, st->events + pos, (st->count - pos) * sizeof *st->events);
    stored_event_t *e = &st->events[pos];
    *e = (stored_event_t){
        .first_id = v->first_id,
        .last_id = v->last_id,
        .prev_id = v->prev_id,
        .has_prev_id = v->has_prev_id,
        .event_ms = v->event_ms,
        .txn_ms = v->txn_ms,
        .recv_ns = v->recv_ns,
        .level_off = st->pool_used,
        .bid_count = v->bid_count,
        .ask_count = v->ask_count,
    };
    if (v->bid_count)
        memcpy(st->pool + st->pool_used, v->bids, v->bid_count * sizeof *st->pool);
    if (v->ask_count)
        memcpy(st->pool + st->pool_used + v->bid_count, v->asks, v->ask_count * sizeof *st->pool);
    st->pool_used += k;
    st->count++;
    return 1;
}

/* Moves every event of `from` into `to` (sorted; duplicates dropped). -1 when out of memory. */
static int store_move_all(store_t *to, store_t *from)
{
    for (size_t i = 0; i < from->count; i++) {
        view_t v = store_view(from, i);
        if (store_insert(to, &v) < 0)
            return -1;
    }
    store_clear(from);
    return 0;
}

/* ---- the rules ---------------------------------------------------------------------------- */

static chain_t chain_check(const sync_t *self, const view_t *v)
{
    uint64_t id = self->update_id;
    if (self->cfg.rules == SYNC_RULES_SPOT) {
        if (v->last_id <= id)
            return CHAIN_STALE;
        if (v->first_id <= id + 1)
            return CHAIN_APPLY;
        return CHAIN_AHEAD;
    }
    if (self->need_first) {
        /* Binance drops u < lastUpdateId; the event with u == lastUpdateId brackets it. */
        if (v->last_id < id)
            return CHAIN_STALE;
        if (v->first_id <= id && id <= v->last_id)
            return CHAIN_APPLY;
        if (v->has_prev_id && v->prev_id == id)
            return CHAIN_APPLY;
        return v->has_prev_id && v->prev_id < id ? CHAIN_BROKEN : CHAIN_AHEAD;
    }
    if (v->last_id <= id)
        return CHAIN_STALE;
    if (!v->has_prev_id)
        return CHAIN_BROKEN;
    if (v->prev_id == id)
        return CHAIN_APPLY;
    return v->prev_id > id ? CHAIN_AHEAD : CHAIN_BROKEN;
}

static sync_change_t *change_push(sync_t *self, book_side_t side, dec_t price, dec_t qty)
{
    if (self->change_count == self->change_cap &&
        grow((void **)&self->changes, &self->change_cap, self->change_count + 1,
             sizeof *self->changes, 64) != 0)
        return NULL;
    sync_change_t *c = &self->changes[self->change_count++];
    *c = (sync_change_t){.side = side, .price = price, .qty = qty};
    return c;
}

/* Applies one side's levels, recording every change (and the level a full side drops to make
   room). Removals of levels the book does not hold, and levels a full side refuses, change
   nothing and are not recorded. */
static int apply_side(sync_t *self, book_side_t side, const parse_level_t *levels,
                      const parse_level_text_t *texts, size_t n, bool record)
{
    for (size_t i = 0; i < n; i++) {
        book_result_t r = book_set(self->book, side, levels[i].price, levels[i].qty);
        if (r == BOOK_NOMEM)
            return -1;
        if (!record || r == BOOK_NOOP || r == BOOK_TRIMMED)
            continue;
        if (r == BOOK_INSERTED) {
            dec_t dropped = book_dropped(self->book);
            if (dropped.units != 0 && !change_push(self, side, dropped, (dec_t){0}))
                return -1;
        }
        sync_change_t *c = change_push(self, side, levels[i].price, levels[i].qty);
        if (!c)
            return -1;
        if (texts) {
            c->price_text = texts[i].price;
            c->qty_text = texts[i].qty;
            c->price_len = texts[i].price_len;
            c->qty_len = texts[i].qty_len;
        }
    }
    return 0;
}

static int apply_view(sync_t *self, const view_t *v, bool record)
{
    if (apply_side(self, BOOK_BID, v->bids, v->bid_text, v->bid_count, record) != 0 ||
        apply_side(self, BOOK_ASK, v->asks, v->ask_text, v->ask_count, record) != 0)
        return -1;
    self->applied.last_id = v->last_id;
    self->applied.event_ms = v->event_ms;
    self->applied.txn_ms = v->txn_ms;
    self->applied.recv_ns = v->recv_ns;
    self->update_id = v->last_id;
    self->need_first = false;
    return 0;
}

/* The book is broken: it is cleared and waits for a snapshot; held events (and `keep`, the event
   that showed the break, when not NULL) start the new buffer. */
static void enter_resync(sync_t *self, sync_reason_t reason, const view_t *keep)
{
    book_clear(self->book);
    self->update_id = 0;
    self->need_first = false;
    self->change_count = 0;
    self->state = self->ever_synced ? SYNC_RESYNCING : SYNC_SYNCING;
    self->reason = reason;
    if (store_move_all(&self->buffer, &self->held) != 0 ||
        (keep && store_insert(&self->buffer, keep) < 0)) {
        /* Without memory for the events the buffer cannot be trusted: start it empty. */
        store_clear(&self->buffer);
        store_clear(&self->held);
    }
}

static void note_places(sync_t *self, uint8_t price_places, uint8_t qty_places)
{
    if (price_places > self->price_places)
        self->price_places = price_places;
    if (qty_places > self->qty_places)
        self->qty_places = qty_places;
}

/* Applies held events the chain has reached, until none fits. false when the book broke. */
static bool release_held(sync_t *self)
{
    size_t i = 0;
    while (i < self->held.count) {
        view_t v = store_view(&self->held, i);
        chain_t c = chain_check(self, &v);
        if (c == CHAIN_AHEAD) {
            i++;
            continue;
        }
        if (c == CHAIN_APPLY && apply_view(self, &v, true) != 0) {
            enter_resync(self, SYNC_REASON_NO_MEMORY, NULL);
            return false;
        }
        if (c == CHAIN_BROKEN) {
            enter_resync(self, SYNC_REASON_GAP, NULL);
            return false;
        }
        /* Applied or stale: take it out and look again from the start, since the book's id moved.
         */
        store_remove(&self->held, i);
        i = 0;
    }
    return true;
}

static void keep_buffer_bounded(sync_t *self)
{
    size_t max_events = self->cfg.buffer_max_events;
    size_t max_levels = max_events * LEVELS_PER_EVENT_BUDGET;
    if (self->buffer.count <= max_events && self->buffer.pool_used <= max_levels)
        return;
    /* Keep the newest half: the snapshot asked for next will be newer than them. */
    store_drop_front(&self->buffer, self->buffer.count - self->buffer.count / 2);
    self->reason = SYNC_REASON_BUFFER_FULL;
}

/* A side the snapshot cut has fewer known levels left than the configuration wants. */
static bool too_thin(const sync_t *self)
{
    size_t min = self->cfg.min_levels;
    if (min > self->cfg.snapshot_depth / 2)
        min = self->cfg.snapshot_depth / 2; /* a fresh snapshot must never count as thin */
    if (min == 0)
        return false;
    for (int side = BOOK_BID; side <= BOOK_ASK; side++)
        if (book_side_limited(self->book, (book_side_t)side) &&
            book_complete_depth(self->book, (book_side_t)side) < min)
            return true;
    return false;
}

/* ---- public ------------------------------------------------------------------------------- */

sync_t *sync_new(const sync_config_t *config)
{
    sync_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *config;
    if (self->cfg.buffer_max_events == 0)
        self->cfg.buffer_max_events = 1;
    self->book = book_new(config->max_levels ? config->max_levels : 1);
    if (!self->book) {
        free(self);
        return NULL;
    }
    self->state = SYNC_SYNCING;
    self->reason = SYNC_REASON_START;
    return self;
}

void sync_destroy(sync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sync_t *self = *self_p;
    book_destroy(&self->book);
    store_free(&self->buffer);
    store_free(&self->held);
    free(self->changes);
    free(self->scratch);
    free(self);
    *self_p = NULL;
}

sync_event_result_t sync_on_depth(sync_t *self, const depth_event_t *ev, int64_t recv_ns)
{
    self->change_count = 0;
    view_t v = {
        .first_id = ev->first_id,
        .last_id = ev->last_id,
        .prev_id = ev->prev_id,
        .has_prev_id = ev->has_prev_id,
        .event_ms = ev->event_ms,
        .txn_ms = ev->txn_ms,
        .recv_ns = recv_ns,
        .bids = ev->bids,
        .asks = ev->asks,
        .bid_text = ev->bid_text,
        .ask_text = ev->ask_text,
        .bid_count = ev->bid_count,
        .ask_count = ev->ask_count,
    };
    note_places(self, ev->price_places, ev->qty_places);

    if (self->state != SYNC_SYNCED) {
        int r = store_insert(&self->buffer, &v);
        if (r == 0)
            return SYNC_STALE;
        if (r < 0) {
            enter_resync(self, SYNC_REASON_NO_MEMORY, NULL);
            return SYNC_BROKEN;
        }
        keep_buffer_bounded(self);
        return SYNC_BUFFERED;
    }

    switch (chain_check(self, &v)) {
    case CHAIN_STALE:
        return SYNC_STALE;
    case CHAIN_BROKEN:
        enter_resync(self, SYNC_REASON_GAP, &v);
        return SYNC_BROKEN;
    case CHAIN_AHEAD:
        /* A second copy of a held event takes no room: it is a duplicate, not one more to hold. */
        if (store_has(&self->held, v.last_id))
            return SYNC_STALE;
        if (self->cfg.reorder_window_ns <= 0 || self->held.count >= self->cfg.reorder_max) {
            enter_resync(self, SYNC_REASON_GAP, &v);
            return SYNC_BROKEN;
        }
        int r = store_insert(&self->held, &v);
        if (r < 0) {
            enter_resync(self, SYNC_REASON_NO_MEMORY, &v);
            return SYNC_BROKEN;
        }
        return r == 0 ? SYNC_STALE : SYNC_HELD;
    case CHAIN_APPLY:
        break;
    }
    self->applied.first_id = v.first_id;
    if (apply_view(self, &v, true) != 0) {
        enter_resync(self, SYNC_REASON_NO_MEMORY, NULL);
        return SYNC_BROKEN;
    }
    if (self->held.count && !release_held(self))
        return SYNC_BROKEN;
    if (book_crossed(self->book)) {
        enter_resync(self, SYNC_REASON_CROSSED, NULL);
        return SYNC_BROKEN;
    }
    if (too_thin(self)) {
        enter_resync(self, SYNC_REASON_THIN, NULL);
        return SYNC_BROKEN;
    }
    return SYNC_APPLIED;
}

sync_snapshot_result_t sync_on_snapshot(sync_t *self, const snapshot_t *snap)
{
    self->change_count = 0;
    if (self->state == SYNC_SYNCED)
        return SYNC_SNAPSHOT_UNUSED;
    note_places(self, snap->price_places, snap->qty_places);
    uint64_t lid = snap->last_update_id;

    /* Binance: spot drops u <= lastUpdateId, futures u < lastUpdateId. */
    size_t drop = 0;
    while (drop < self->buffer.count &&
           (self->cfg.rules == SYNC_RULES_SPOT ? self->buffer.events[drop].last_id <= lid
                                               : self->buffer.events[drop].last_id < lid))
        drop++;
    store_drop_front(&self->buffer, drop);

    self->update_id = lid;
    self->need_first = true;
    if (self->buffer.count) {
        view_t first = store_view(&self->buffer, 0);
        if (chain_check(self, &first) != CHAIN_APPLY) {
            self->update_id = 0;
            self->need_first = false;
            self->reason = SYNC_REASON_SNAPSHOT_STALE;
            return SYNC_SNAPSHOT_TOO_OLD;
        }
    }

    size_t n = snap->bid_count > snap->ask_count ? snap->bid_count : snap->ask_count;
    if (grow((void **)&self->scratch, &self->scratch_cap, n ? n : 1, sizeof *self->scratch, 64) !=
        0) {
        enter_resync(self, SYNC_REASON_NO_MEMORY, NULL);
        return SYNC_SNAPSHOT_BROKEN;
    }
    int rc = 0;
    for (size_t i = 0; i < snap->bid_count; i++)
        self->scratch[i] = (book_level_t){snap->bids[i].price, snap->bids[i].qty};
    rc |= book_replace_side(self->book, BOOK_BID, self->scratch, snap->bid_count);
    for (size_t i = 0; i < snap->ask_count; i++)
        self->scratch[i] = (book_level_t){snap->asks[i].price, snap->asks[i].qty};
    rc |= book_replace_side(self->book, BOOK_ASK, self->scratch, snap->ask_count);
    if (rc != 0) {
        enter_resync(self, SYNC_REASON_NO_MEMORY, NULL);
        return SYNC_SNAPSHOT_BROKEN;
    }
    if (self->cfg.snapshot_depth && snap->bid_count >= self->cfg.snapshot_depth)
        book_limit_side(self->book, BOOK_BID);
    if (self->cfg.snapshot_depth && snap->ask_count >= self->cfg.snapshot_depth)
        book_limit_side(self->book, BOOK_ASK);
    self->applied = (sync_applied_t){
        .first_id = lid, .last_id = lid, .event_ms = snap->event_ms, .txn_ms = snap->txn_ms};
    self->state = SYNC_SYNCED;

    for (size_t i = 0; i < self->buffer.count; i++) {
        view_t v = store_view(&self->buffer, i);
        chain_t c = chain_check(self, &v);
        if (c == CHAIN_STALE)
            continue;
        if (c != CHAIN_APPLY) {
            /* Events are missing inside the buffer: the book restarts from this event on. */
            store_drop_front(&self->buffer, i);
            self->state = self->ever_synced ? SYNC_RESYNCING : SYNC_SYNCING;
            book_clear(self->book);
            self->update_id = 0;
            self->need_first = false;
            self->reason = SYNC_REASON_GAP;
            return SYNC_SNAPSHOT_BROKEN;
        }
        if (apply_view(self, &v, false) != 0) {
            enter_resync(self, SYNC_REASON_NO_MEMORY, NULL);
            return SYNC_SNAPSHOT_BROKEN;
        }
    }
    store_clear(&self->buffer);
    if (book_crossed(self->book)) {
        enter_resync(self, SYNC_REASON_CROSSED, NULL);
        return SYNC_SNAPSHOT_BROKEN;
    }
    self->applied.last_id = self->update_id;
    self->ever_synced = true;
    return SYNC_SNAPSHOT_APPLIED;
}

bool sync_break(sync_t *self, sync_reason_t reason)
{
    bool changed = self->state == SYNC_SYNCED || self->reason != reason;
    if (reason == SYNC_REASON_DISCONNECT || reason == SYNC_REASON_OVERFLOW) {
        store_clear(&self->buffer);
        store_clear(&self->held);
    }
    if (self->state == SYNC_SYNCED) {
        enter_resync(self, reason, NULL);
    } else {
        self->reason = reason;
        self->change_count = 0;
    }
    return changed;
}

bool sync_expire(sync_t *self, int64_t now_ns)
{
    if (self->state != SYNC_SYNCED || self->held.count == 0)
        return false;
    int64_t oldest = self->held.events[0].recv_ns;
    for (size_t i = 1; i < self->held.count; i++)
        if (self->held.events[i].recv_ns < oldest)
            oldest = self->held.events[i].recv_ns;
    if (now_ns - oldest <= self->cfg.reorder_window_ns)
        return false;
    enter_resync(self, SYNC_REASON_GAP, NULL);
    return true;
}

bool sync_wants_snapshot(const sync_t *self)
{
    return self->state != SYNC_SYNCED && self->buffer.count > 0;
}

sync_state_t sync_state(const sync_t *self)
{
    return self->state;
}

sync_reason_t sync_reason(const sync_t *self)
{
    return self->reason;
}

const book_t *sync_book(const sync_t *self)
{
    return self->book;
}

uint64_t sync_update_id(const sync_t *self)
{
    return self->state == SYNC_SYNCED ? self->update_id : 0;
}

const sync_change_t *sync_changes(const sync_t *self, size_t *count)
{
    *count = self->change_count;
    return self->changes;
}

const sync_applied_t *sync_last_applied(const sync_t *self)
{
    return &self->applied;
}

uint8_t sync_price_places(const sync_t *self)
{
    return self->price_places;
}

uint8_t sync_qty_places(const sync_t *self)
{
    return self->qty_places;
}

size_t sync_buffered(const sync_t *self)
{
    return self->buffer.count;
}

size_t sync_held(const sync_t *self)
{
    return self->held.count;
}

const char *sync_state_name(sync_state_t state)
{
    switch (state) {
    case SYNC_SYNCING:
        return "syncing";
    case SYNC_SYNCED:
        return "synced";
    case SYNC_RESYNCING:
        return "resyncing";
    }
    return "unknown";
}

const char *sync_reason_name(sync_reason_t reason)
{
    static const char *const names[SYNC_REASON_COUNT] = {
        [SYNC_REASON_START] = "start",
        [SYNC_REASON_GAP] = "gap",
        [SYNC_REASON_DISCONNECT] = "disconnect",
        [SYNC_REASON_OVERFLOW] = "overflow",
        [SYNC_REASON_CROSSED] = "crossed",
        [SYNC_REASON_SNAPSHOT_STALE] = "snapshot_stale",
        [SYNC_REASON_SNAPSHOT_FAILED] = "snapshot_failed",
        [SYNC_REASON_BUFFER_FULL] = "buffer_full",
        [SYNC_REASON_BAD_DATA] = "bad_data",
        [SYNC_REASON_NO_MEMORY] = "no_memory",
        [SYNC_REASON_THIN] = "thin",
    };
    return (unsigned)reason < SYNC_REASON_COUNT && names[reason] ? names[reason] : "unknown";
}
