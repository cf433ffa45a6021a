/*
 * publish.h — the JSON bodies of everything the bookbuilder publishes (docs/topics.md).
 *
 * One function per message kind, each writing one compact JSON object into a jbuf_t with its keys
 * in a fixed order, so the same input always gives the same bytes (replays are compared byte for
 * byte). Decimals are written with the exchange's number of fractional digits, so a price reads
 * exactly as Binance sent it ("61837.63000000"). Nothing here knows about sockets or topics'
 * sequence counters: the caller passes the seq and sends the result.
 */
#ifndef BOOKCAST_PUBLISH_H
#define BOOKCAST_PUBLISH_H

#include "book.h"
#include "jbuf.h"
#include "parse.h"
#include "sync.h"

#include <stddef.h>
#include <stdint.h>

/* Which book a message is about, and how its decimals are written. */
typedef struct {
    const char *market; /* "spot", "usdm", "coinm" */
    const char *symbol; /* "BTCUSDT" */
    uint8_t price_places, qty_places;
    bool futures; /* write txn_ms */
} publish_book_id_t;

/* `book` type "update": the levels one applied event (or a run of held events) changed. */
void publish_book_update(jbuf_t *b, const publish_book_id_t *id, uint64_t seq,
                         const sync_applied_t *applied, const sync_change_t *changes, size_t count,
                         int64_t pub_ns);

/* `book` type "snapshot": the whole book after a (re)sync, replacing whatever a subscriber
   held. */
void publish_book_snapshot(jbuf_t *b, const publish_book_id_t *id, uint64_t seq, const book_t *book,
                           const sync_applied_t *applied, int64_t pub_ns);

/* `bbo`: best bid and ask with their quantities (null on an empty side). */
void publish_bbo(jbuf_t *b, const publish_book_id_t *id, uint64_t seq, const book_t *book,
                 uint64_t update_id, int64_t event_ms, int64_t recv_ns, int64_t pub_ns);

/* `depth<N>`: the top `levels` of each side. */
void publish_depth(jbuf_t *b, const publish_book_id_t *id, uint64_t seq, const book_t *book,
                   size_t levels, uint64_t update_id, int64_t pub_ns);

/* `trade`: one trade (@trade) or aggregate trade (@aggTrade). */
void publish_trade(jbuf_t *b, const char *market, const char *symbol, uint64_t seq,
                   event_kind_t kind, const trade_event_t *t, int64_t recv_ns, int64_t pub_ns);

/* `kline`: one candle, closed or live. */
void publish_kline(jbuf_t *b, const char *market, const char *symbol, uint64_t seq,
                   const kline_event_t *k, int64_t recv_ns, int64_t pub_ns);

/* `status`: a book's state and why. run_id is drawn once per bookbuilder start (0 in a replay),
   so a subscriber sees a restart even though every seq starts again at 1. */
typedef struct {
    const char *state;  /* "syncing", "synced", "resyncing" */
    const char *reason; /* "start", "gap", … */
    uint64_t update_id; /* the book's id when synced, else 0 */
    uint64_t resyncs;   /* times this book has left the synced state */
    uint64_t run_id;
    int64_t started_ns; /* when this bookbuilder started (the first frame's time in a replay) */
} publish_status_t;
void publish_status(jbuf_t *b, const char *market, const char *symbol, uint64_t seq,
                    const publish_status_t *st, int64_t pub_ns);

#endif
