/*
 * sync.h — Binance's snapshot + diff rules for one book (binance-protocol.md §4).
 *
 * A sync_t owns one book and decides, for every diff event and every snapshot, whether it is
 * applied, kept for later, dropped as old, or proves the book broken. It does no I/O and keeps
 * no clock of its own: the caller passes each event's receive time, asks for a snapshot when
 * sync_wants_snapshot() says so, and publishes what sync reports. That keeps the rules, the part
 * a wrong answer costs money in, testable on hand-made sequences.
 *
 * States: SYNCING (since the start: buffering events, waiting for a snapshot), SYNCED,
 * RESYNCING (the book was broken: the same as SYNCING, with a reason). Rules per market:
 *
 *   spot     drop buffered events with u <= lastUpdateId; the first kept must have
 *            U <= lastUpdateId + 1 (else the snapshot is older than the buffer: fetch again,
 *            still buffering); then each event needs U == book id + 1 (u <= book id: an old or
 *            duplicate event, dropped; U > book id + 1: a gap).
 *   futures  drop buffered events with u < lastUpdateId; the first kept must have
 *            U <= lastUpdateId <= u, or pu == lastUpdateId (futures ids are global, so real books
 *            often continue with U > lastUpdateId); then each event needs pu == book id (u <=
 *            book id: old or duplicate, dropped; anything else: a gap).
 *
 * Spot's "snapshot older than the buffer" test is U > lastUpdateId + 1 rather than Binance's
 * step-4 wording lastUpdateId < U: at lastUpdateId == U - 1 no event is missing, and the apply
 * rule of step 7 accepts that event, so asking for another snapshot would only spend weight.
 *
 * Reordering: an event that arrives ahead of the one the book needs (spot U > id + 1, futures
 * pu > id) — two connections overlapping during a rotation can deliver the same stream in
 * different order — is held for up to reorder_window_ms (and reorder_max events) in case the
 * missing event follows; only then is it a gap. With a window of 0 the rules are applied
 * strictly. Nothing is applied out of order: held events wait until the chain reaches them.
 *
 * Completeness: a snapshot side as deep as the depth asked for was cut, so the book is complete
 * only down to its worst level (book_limit_side); levels learned beyond it are exact but may sit
 * after levels never heard of (Binance: "levels outside the snapshot are unknown until they
 * change"). With min_levels set, a book whose complete part of a side thins below it (the price
 * walked toward the unknown part) resyncs for a fresh snapshot.
 *
 * A book that comes out crossed (best bid >= best ask) after an event or a snapshot is broken:
 * its changes are not reported and it resyncs, so a crossed state is never published.
 */
#ifndef BOOKCAST_SYNC_H
#define BOOKCAST_SYNC_H

#include "book.h"
#include "parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SYNC_RULES_SPOT,
    SYNC_RULES_FUTURES, /* USD-M and COIN-M */
} sync_rules_t;

typedef enum {
    SYNC_SYNCING = 0,
    SYNC_SYNCED,
    SYNC_RESYNCING,
} sync_state_t;

/* Why a book is (re)syncing. The names (sync_reason_name) are metric labels. */
typedef enum {
    SYNC_REASON_START = 0,       /* "start": the book is new */
    SYNC_REASON_GAP,             /* "gap": an update id is missing (spot U, futures pu) */
    SYNC_REASON_DISCONNECT,      /* "disconnect": the stream's connection went down */
    SYNC_REASON_OVERFLOW,        /* "overflow": the collector dropped frames of the stream */
    SYNC_REASON_CROSSED,         /* "crossed": best bid >= best ask */
    SYNC_REASON_SNAPSHOT_STALE,  /* "snapshot_stale": the snapshot is older than the buffer */
    SYNC_REASON_SNAPSHOT_FAILED, /* "snapshot_failed": the request failed or timed out */
    SYNC_REASON_BUFFER_FULL,     /* "buffer_full": too many events waited for a snapshot */
    SYNC_REASON_BAD_DATA,        /* "bad_data": the symbol's data is suspect (invalid frames, a
                                    top of book that disagrees with bookTicker) */
    SYNC_REASON_NO_MEMORY,       /* "no_memory": an allocation failed; the book starts over */
    SYNC_REASON_THIN,            /* "thin": fewer than min_levels known levels left on a side the
                                    snapshot cut; a new snapshot brings the far levels back */
    SYNC_REASON_COUNT
} sync_reason_t;

/* What happened to one diff event. */
typedef enum {
    SYNC_APPLIED,  /* applied to a synced book: sync_changes() lists what changed */
    SYNC_BUFFERED, /* the book is not synced: kept until the snapshot comes */
    SYNC_HELD,     /* ahead of the chain: held for the reorder window */
    SYNC_STALE,    /* u <= the book's id: an old or duplicate event, dropped */
    SYNC_BROKEN,   /* a gap or a crossed book: now RESYNCING (sync_reason says which) */
} sync_event_result_t;

/* What a snapshot did. */
typedef enum {
    SYNC_SNAPSHOT_APPLIED, /* the book is synced from it (and the buffer applied) */
    SYNC_SNAPSHOT_TOO_OLD, /* older than the buffered events: ask for another, keep buffering */
    SYNC_SNAPSHOT_BROKEN,  /* the buffer had a gap after it, or the result was crossed */
    SYNC_SNAPSHOT_UNUSED,  /* the book is synced: not needed, ignored */
} sync_snapshot_result_t;

/* One level the book changed: its new quantity, 0 when removed. When the change comes straight
   from the event being fed, price_text/qty_text point at the exchange's own strings for it (valid
   while that event's payload is); otherwise their lengths are 0. */
typedef struct {
    book_side_t side;
    dec_t price;
    dec_t qty;
    const char *price_text, *qty_text;
    uint8_t price_len, qty_len;
} sync_change_t;

typedef struct {
    sync_rules_t rules;
    size_t max_levels;         /* per side, for the book */
    size_t buffer_max_events;  /* events kept while waiting for a snapshot */
    int64_t reorder_window_ns; /* how long an event ahead of the chain may wait; 0 = strict */
    size_t reorder_max;        /* events held at most */
    size_t snapshot_depth;     /* levels a side of the requested snapshot holds at most: a side
                                  that full was cut, and nothing is known beyond it; 0 = never
                                  assume a cut */
    size_t min_levels;         /* a cut side thinner than this resyncs (at most half of
                                  snapshot_depth counts); 0 = never */
} sync_config_t;

typedef struct sync_t sync_t;

/* A new book in SYNCING (reason "start"). NULL when out of memory. */
sync_t *sync_new(const sync_config_t *config);
void sync_destroy(sync_t **self_p);

/* Feeds one diff event received at recv_ns (borrowed: copied if kept). In a synced book an
   applied event's changes are in sync_changes(); releasing held events that it unblocks adds
   theirs, and sync_last_applied() then names the last event applied. */
sync_event_result_t sync_on_depth(sync_t *self, const depth_event_t *ev, int64_t recv_ns);

/* Feeds a snapshot (borrowed). After SYNC_SNAPSHOT_APPLIED the book holds the snapshot plus
   every buffered event after it. */
sync_snapshot_result_t sync_on_snapshot(sync_t *self, const snapshot_t *snap);

/* The book is broken for an outside reason (disconnect, overflow, failed snapshot, suspect
   data): a synced book is cleared and RESYNCING; buffered events are dropped for disconnect and
   overflow (their stream lost events) and kept otherwise. Returns true when the state or the
   reason changed. */
bool sync_break(sync_t *self, sync_reason_t reason);

/* Gives up on held events older than the reorder window at now_ns: a gap when any.
   Returns true when that broke the book. */
bool sync_expire(sync_t *self, int64_t now_ns);

/* True when the book needs a snapshot and has at least one event buffered (Binance: buffer
   first, then fetch), so a snapshot can be checked against the buffer. */
bool sync_wants_snapshot(const sync_t *self);

sync_state_t sync_state(const sync_t *self);
sync_reason_t sync_reason(const sync_t *self);
const book_t *sync_book(const sync_t *self);

/* The book's update id (the last applied u, or the snapshot's lastUpdateId); 0 before sync. */
uint64_t sync_update_id(const sync_t *self);

/* Changes of the last sync_on_depth that returned SYNC_APPLIED, in application order. */
const sync_change_t *sync_changes(const sync_t *self, size_t *count);

/* First U and last u, event and transaction time, of the events the last SYNC_APPLIED covered. */
typedef struct {
    uint64_t first_id, last_id;
    int64_t event_ms, txn_ms;
    int64_t recv_ns; /* receive time of the last one */
} sync_applied_t;
const sync_applied_t *sync_last_applied(const sync_t *self);

/* The most fractional digits seen in prices and quantities (snapshot and events): formatting a
   level with dec_format_fixed at these gives the exchange's strings. */
uint8_t sync_price_places(const sync_t *self);
uint8_t sync_qty_places(const sync_t *self);

/* Buffered and held events now. */
size_t sync_buffered(const sync_t *self);
size_t sync_held(const sync_t *self);

const char *sync_state_name(sync_state_t state);    /* "syncing", "synced", "resyncing" */
const char *sync_reason_name(sync_reason_t reason); /* "start", "gap", … */

#endif
