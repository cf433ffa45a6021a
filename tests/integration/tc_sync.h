/*
 * tc_sync.h — Binance's rules for keeping a local order book from a REST snapshot and the diff
 * depth stream (binance-protocol.md §4), as a state machine with no I/O: the sync subcommand
 * feeds it events and snapshots and acts on what each step says (fetch a snapshot, print a
 * resync). Keeping the rules apart from sockets is what lets a reader check them line by line
 * against the documentation.
 *
 * Spot:    drop buffered events with u <= lastUpdateId; the first applied event must have
 *          U <= lastUpdateId+1 <= u; every later event U == previous u + 1.
 * Futures: drop buffered events with u < lastUpdateId; the first applied event must have
 *          U <= lastUpdateId <= u, or pu == lastUpdateId (update ids are global across symbols,
 *          so a snapshot can fall between two events of this symbol; pu proves continuity);
 *          every later event pu == previous u.
 * Both:    a snapshot older than the first buffered event is fetched again while buffering
 *          (the buffer is kept); a broken chain discards the book and starts again from a new
 *          snapshot, keeping the event that broke it and everything after it buffered; an event
 *          entirely at or before the book's id (u <= id) is stale and ignored, as Binance's spot
 *          procedure says; quantities are absolute, zero removes, removing an absent level is
 *          a no-op.
 */
#ifndef BOOKCAST_TC_SYNC_H
#define BOOKCAST_TC_SYNC_H

#include "tc_book.h"
#include "tc_depth.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TC_RULES_SPOT,
    TC_RULES_FUTURES, /* USD-M and COIN-M */
} tc_rules_t;

typedef enum {
    TC_SYNC_WAITING,       /* no event yet: nothing to anchor a snapshot to */
    TC_SYNC_NEED_SNAPSHOT, /* buffering; a snapshot must be fetched */
    TC_SYNC_SYNCED,        /* the book is valid at tc_sync_book_id() */
} tc_sync_state_t;

typedef enum {
    TC_STEP_BUFFERED,     /* the event was stored until a snapshot arrives */
    TC_STEP_APPLIED,      /* the event changed the book */
    TC_STEP_IGNORED,      /* a stale event (u <= book id), reason says which */
    TC_STEP_RESYNC,       /* the chain broke: book discarded, a snapshot is needed */
    TC_STEP_SNAPSHOT_OLD, /* the snapshot predates the first buffered event: fetch again */
    TC_STEP_SYNCED,       /* the snapshot and the buffered events made a valid book */
    TC_STEP_FAILED,       /* out of memory; the run cannot go on */
} tc_step_t;

typedef struct {
    tc_step_t step;
    char reason[512];     /* RESYNC, SNAPSHOT_OLD, IGNORED, FAILED: why */
    uint64_t snapshot_id; /* SYNCED: the snapshot's lastUpdateId */
    size_t buffered;      /* SYNCED: events buffered when the snapshot arrived */
    size_t applied;       /* SYNCED: how many of them were applied */
} tc_step_result_t;

typedef struct tc_sync tc_sync_t;

/* A synchroniser for one symbol, waiting for its first event. NULL when out of memory. */
tc_sync_t *tc_sync_new(tc_rules_t rules);
void tc_sync_destroy(tc_sync_t **self_p);

/* Feeds one event; takes ownership of *ev's levels (the caller's copy is emptied). */
tc_step_t tc_sync_on_event(tc_sync_t *self, tc_depth_event_t *ev, tc_step_result_t *result);

/* Feeds a snapshot fetched while in TC_SYNC_NEED_SNAPSHOT. `depth_limit` is the number of
   levels per side the request could return at most: a side that came back with that many is
   bounded at its worst price (tc_book.h). The snapshot is borrowed. */
tc_step_t tc_sync_on_snapshot(tc_sync_t *self, const tc_book_json_t *snapshot, size_t depth_limit,
                              tc_step_result_t *result);

/* Forgets book and buffer (the stream was lost) and waits for a first event again. */
void tc_sync_reset(tc_sync_t *self);

tc_sync_state_t tc_sync_state(const tc_sync_t *self);
/* The update id the book is valid at (SYNCED only). */
uint64_t tc_sync_book_id(const tc_sync_t *self);
/* The book (meaningful when SYNCED). */
const tc_book_t *tc_sync_book(const tc_sync_t *self);
/* Events waiting in the buffer. */
size_t tc_sync_buffered(const tc_sync_t *self);

#endif
