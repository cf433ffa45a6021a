/*
 * tc_sync.c — Binance's local order book rules; see tc_sync.h for the rules themselves.
 *
 * The buffer is an array of events in arrival order. It is empty while the book is synced (every
 * event is applied or ignored as it arrives) and fills from the first event after a start or a
 * resync until a snapshot can anchor it.
 */
#include "tc_sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_sync {
    tc_rules_t rules;
    tc_sync_state_t state;
    tc_book_t book;
    uint64_t book_id;   /* lastUpdateId of the snapshot, then u of the last applied event */
    bool first_pending; /* no event applied since the snapshot: the first-event rule applies */
    tc_depth_event_t *buffer;
    size_t count;
    size_t cap;
};

typedef enum {
    CHAIN_OK,
    CHAIN_STALE, /* entirely at or before the book's id */
    CHAIN_GAP,   /* does not continue the book */
} chain_t;

tc_sync_t *tc_sync_new(tc_rules_t rules)
{
    tc_sync_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    self->rules = rules;
    self->state = TC_SYNC_WAITING;
    tc_book_init(&self->book);
    return self;
}

static void buffer_drop_front(tc_sync_t *self, size_t n)
{
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        tc_depth_event_free(&self->buffer[i]);
    memmove(self->buffer, self->buffer + n, (self->count - n) * sizeof self->buffer[0]);
    self->count -= n;
}

void tc_sync_destroy(tc_sync_t **self_p)
{
    tc_sync_t *self = self_p ? *self_p : NULL;
    if (self == NULL)
        return;
    buffer_drop_front(self, self->count);
    free(self->buffer);
    tc_book_free(&self->book);
    free(self);
    *self_p = NULL;
}

/* Moves *ev to the end of the buffer. Returns -1 when out of memory (ev is then freed). */
static int buffer_push(tc_sync_t *self, tc_depth_event_t *ev)
{
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        tc_depth_event_t *grown = realloc(self->buffer, cap * sizeof *grown);
        if (grown == NULL) {
            tc_depth_event_free(ev);
            return -1;
        }
        self->buffer = grown;
        self->cap = cap;
    }
    self->buffer[self->count++] = *ev;
    memset(ev, 0, sizeof *ev);
    return 0;
}

/* Judges whether `ev` continues the book at book_id (reason filled for STALE after the first
   applied event, where a stale event is a duplicate worth telling, and for GAP). */
static chain_t check_chain(const tc_sync_t *self, const tc_depth_event_t *ev, char *reason,
                           size_t reason_len)
{
    const uint64_t id = self->book_id;
    reason[0] = '\0';
    if (self->rules == TC_RULES_SPOT) {
        if (ev->last_id <= id) {
            if (!self->first_pending)
                snprintf(reason, reason_len,
                         "stale event U=%" PRIu64 " u=%" PRIu64 " at book id %" PRIu64,
                         ev->first_id, ev->last_id, id);
            return CHAIN_STALE;
        }
        if (self->first_pending && ev->first_id > id + 1) {
            snprintf(reason, reason_len,
                     "first event after the snapshot has U=%" PRIu64 " > lastUpdateId+1=%" PRIu64,
                     ev->first_id, id + 1);
            return CHAIN_GAP;
        }
        if (!self->first_pending && ev->first_id != id + 1) {
            snprintf(reason, reason_len, "U=%" PRIu64 " u=%" PRIu64 ", expected U=%" PRIu64,
                     ev->first_id, ev->last_id, id + 1);
            return CHAIN_GAP;
        }
        return CHAIN_OK;
    }
    if (self->first_pending) {
        if (ev->last_id < id)
            return CHAIN_STALE;
        bool straddles = ev->first_id <= id && id <= ev->last_id;
        bool continues = ev->has_prev_last_id && ev->prev_last_id == id;
        if (!straddles && !continues) {
            snprintf(reason, reason_len,
                     "first event after the snapshot (U=%" PRIu64 " u=%" PRIu64 " pu=%" PRIu64
                     ") neither covers nor continues lastUpdateId=%" PRIu64,
                     ev->first_id, ev->last_id, ev->prev_last_id, id);
            return CHAIN_GAP;
        }
        return CHAIN_OK;
    }
    if (ev->last_id <= id) {
        snprintf(reason, reason_len, "stale event U=%" PRIu64 " u=%" PRIu64 " at book id %" PRIu64,
                 ev->first_id, ev->last_id, id);
        return CHAIN_STALE;
    }
    if (ev->prev_last_id != id) {
        snprintf(reason, reason_len,
                 "pu=%" PRIu64 " (U=%" PRIu64 " u=%" PRIu64 "), expected pu=%" PRIu64,
                 ev->prev_last_id, ev->first_id, ev->last_id, id);
        return CHAIN_GAP;
    }
    return CHAIN_OK;
}

/* Sets every level of the event. Returns -1 when out of memory. */
static int apply_levels(tc_sync_t *self, const tc_depth_event_t *ev)
{
    for (size_t i = 0; i < ev->bids.n; i++)
        if (tc_side_set(&self->book.bids, ev->bids.v[i].price, ev->bids.v[i].qty) != 0)
            return -1;
    for (size_t i = 0; i < ev->asks.n; i++)
        if (tc_side_set(&self->book.asks, ev->asks.v[i].price, ev->asks.v[i].qty) != 0)
            return -1;
    return 0;
}

static tc_step_t fail(tc_step_result_t *result, const char *why)
{
    result->step = TC_STEP_FAILED;
    snprintf(result->reason, sizeof result->reason, "%s", why);
    return TC_STEP_FAILED;
}

/* The chain broke: the book is worthless until a new snapshot. */
static void discard_book(tc_sync_t *self)
{
    tc_book_clear(&self->book);
    self->state = TC_SYNC_NEED_SNAPSHOT;
}

tc_step_t tc_sync_on_event(tc_sync_t *self, tc_depth_event_t *ev, tc_step_result_t *result)
{
    memset(result, 0, sizeof *result);
    if (self->state != TC_SYNC_SYNCED) {
        if (buffer_push(self, ev) != 0)
            return fail(result, "out of memory buffering an event");
        self->state = TC_SYNC_NEED_SNAPSHOT;
        return result->step = TC_STEP_BUFFERED;
    }
    switch (check_chain(self, ev, result->reason, sizeof result->reason)) {
    case CHAIN_STALE:
        tc_depth_event_free(ev);
        return result->step = TC_STEP_IGNORED;
    case CHAIN_GAP:
        discard_book(self);
        if (buffer_push(self, ev) != 0)
            return fail(result, "out of memory buffering an event");
        return result->step = TC_STEP_RESYNC;
    case CHAIN_OK:
        break;
    }
    int rc = apply_levels(self, ev);
    self->book_id = ev->last_id;
    self->first_pending = false;
    tc_depth_event_free(ev);
    if (rc != 0)
        return fail(result, "out of memory applying an event");
    return result->step = TC_STEP_APPLIED;
}

/* True when the snapshot predates the first buffered event, so no buffered event can follow it
   and fetching again is the only way forward. */
static bool snapshot_too_old(const tc_sync_t *self, uint64_t last_update_id, char *reason,
                             size_t reason_len)
{
    if (self->count == 0)
        return false;
    const tc_depth_event_t *first = &self->buffer[0];
    bool old = self->rules == TC_RULES_SPOT
                   ? last_update_id + 1 < first->first_id
                   : last_update_id < first->first_id &&
                         !(first->has_prev_last_id && first->prev_last_id == last_update_id);
    if (old)
        snprintf(reason, reason_len,
                 "snapshot lastUpdateId %" PRIu64 " is older than the first buffered event "
                 "U=%" PRIu64,
                 last_update_id, first->first_id);
    return old;
}

/* Replaces the book with the snapshot and records the range it vouches for. */
static int load_snapshot(tc_sync_t *self, const tc_book_json_t *snapshot, size_t depth_limit)
{
    tc_book_clear(&self->book);
    const tc_levels_t *sides[2] = {&snapshot->bids, &snapshot->asks};
    tc_side_t *book_sides[2] = {&self->book.bids, &self->book.asks};
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < sides[s]->n; i++)
            if (tc_side_set(book_sides[s], sides[s]->v[i].price, sides[s]->v[i].qty) != 0)
                return -1;
        book_sides[s]->bounded = sides[s]->n > 0 && sides[s]->n >= depth_limit;
        if (book_sides[s]->bounded)
            book_sides[s]->worst = sides[s]->v[sides[s]->n - 1].price;
    }
    return 0;
}

/* Whether the buffered event is already covered by the snapshot (dropped unapplied). */
static bool covered_by_snapshot(const tc_sync_t *self, const tc_depth_event_t *ev, uint64_t id)
{
    return self->rules == TC_RULES_SPOT ? ev->last_id <= id : ev->last_id < id;
}

tc_step_t tc_sync_on_snapshot(tc_sync_t *self, const tc_book_json_t *snapshot, size_t depth_limit,
                              tc_step_result_t *result)
{
    memset(result, 0, sizeof *result);
    if (self->state != TC_SYNC_NEED_SNAPSHOT) {
        snprintf(result->reason, sizeof result->reason, "snapshot arrived while not needed");
        return result->step = TC_STEP_IGNORED;
    }
    const uint64_t last_update_id = snapshot->update_id;
    if (snapshot_too_old(self, last_update_id, result->reason, sizeof result->reason))
        return result->step = TC_STEP_SNAPSHOT_OLD;

    result->snapshot_id = last_update_id;
    result->buffered = self->count;
    size_t covered = 0;
    while (covered < self->count &&
           covered_by_snapshot(self, &self->buffer[covered], last_update_id))
        covered++;
    buffer_drop_front(self, covered);
    if (load_snapshot(self, snapshot, depth_limit) != 0)
        return fail(result, "out of memory loading the snapshot");
    self->book_id = last_update_id;
    self->first_pending = true;
    self->state = TC_SYNC_SYNCED;

    while (self->count > 0) {
        tc_depth_event_t *ev = &self->buffer[0];
        char why[256];
        chain_t chain = check_chain(self, ev, why, sizeof why);
        if (chain == CHAIN_GAP) {
            discard_book(self); /* the breaking event and the rest stay buffered */
            snprintf(result->reason, sizeof result->reason,
                     "buffered events after snapshot %" PRIu64 ": %s", last_update_id, why);
            return result->step = TC_STEP_RESYNC;
        }
        if (chain == CHAIN_OK) {
            if (apply_levels(self, ev) != 0)
                return fail(result, "out of memory applying a buffered event");
            self->book_id = ev->last_id;
            self->first_pending = false;
            result->applied++;
        }
        buffer_drop_front(self, 1);
    }
    return result->step = TC_STEP_SYNCED;
}

void tc_sync_reset(tc_sync_t *self)
{
    buffer_drop_front(self, self->count);
    tc_book_clear(&self->book);
    self->state = TC_SYNC_WAITING;
    self->first_pending = false;
    self->book_id = 0;
}

tc_sync_state_t tc_sync_state(const tc_sync_t *self)
{
    return self->state;
}

uint64_t tc_sync_book_id(const tc_sync_t *self)
{
    return self->book_id;
}

const tc_book_t *tc_sync_book(const tc_sync_t *self)
{
    return &self->book;
}

size_t tc_sync_buffered(const tc_sync_t *self)
{
    return self->count;
}
