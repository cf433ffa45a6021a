/*
 * builder.h — the bookbuilder's data path: frame in → parse → book → publish.
 *
 * A builder_t takes the collectors' frames one at a time (common/envelope), keeps one book per
 * (market, symbol) by Binance's rules (sync.c), and hands every message it publishes to the
 * caller's io callbacks. It owns no socket, thread or clock: the live process (main.c) connects
 * the callbacks to ZeroMQ and passes the arrival time of each frame; a replay passes each
 * frame's recorded receive time, which makes the output a pure function of the input — the same
 * frames give the same bytes.
 *
 * Snapshot requests go out through io->request_snapshot and come back as SNAPSHOT or
 * SNAPSHOT_ERROR frames. The builder paces them: at most snapshot_inflight_max outstanding per
 * market, a timeout, and an exponential backoff per book with a deterministic jitter, so a mass
 * resync is spread out rather than a storm, and a replay stays deterministic.
 */
#ifndef BOOKCAST_BUILDER_H
#define BOOKCAST_BUILDER_H

#include "envelope.h"
#include "latency.h"
#include "parse.h"
#include "sync.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUILDER_MARKETS 3 /* MARKET_SPOT .. MARKET_COINM, indexed market - 1 */

typedef struct {
    bool enabled;
    bool all_symbols; /* "ALL": any symbol the collector sends */
    char **symbols;   /* otherwise only these (upper case); borrowed */
    size_t symbol_count;
} builder_market_t;

typedef struct {
    builder_market_t markets[BUILDER_MARKETS];
    size_t max_levels;         /* per side of a book */
    size_t min_levels;         /* a side cut by its snapshot resyncs below this many levels */
    size_t buffer_max_events;  /* per book, while waiting for a snapshot */
    int64_t reorder_window_ms; /* 0: an event ahead of the chain is a gap at once */
    size_t reorder_max_events;
    unsigned depth_levels; /* depth<N> topic; 0 = off */
    int64_t depth_interval_ms;
    bool live_klines; /* publish candles that are not closed yet */
    bool raw_tap;     /* republish every frame on raw.<market> */
    bool bbo_check;   /* compare the book's top with bookTicker at the same id */
    int64_t snapshot_timeout_ms;
    int64_t snapshot_retry_base_ms;
    int64_t snapshot_retry_max_ms;
    unsigned snapshot_inflight_max; /* per market */
    size_t max_books;
    uint64_t run_id;    /* announced on status topics; 0 in a replay */
    int64_t started_ns; /* 0: the first frame's time */
} builder_config_t;

typedef struct {
    /* One message on `topic` (NUL-terminated) with a JSON body of len bytes. */
    void (*publish)(void *arg, const char *topic, const char *body, size_t len);
    /* One raw frame on raw.<market> with its topic seq (only with raw_tap). May be NULL. */
    void (*publish_raw)(void *arg, const char *topic, uint64_t seq, const void *frame, size_t len);
    /* Ask the market's collector for a depth snapshot. 0 when sent, -1 when it could not be
       (then retried later). NULL: requests are only counted (a replay). */
    int (*request_snapshot)(void *arg, market_t market, const char *symbol, unsigned limit,
                            uint64_t request_id);
    /* The time written as pub_ns. NULL: the time of the frame being processed. */
    int64_t (*clock_ns)(void *arg);
    void *arg;
} builder_io_t;

/* Counters, for the heartbeat and the tests. */
typedef struct {
    uint64_t frames_in, frames_bad_envelope;
    uint64_t frames_repeated;    /* a (connection, seq) seen before: dropped */
    uint64_t frame_gaps;         /* frames lost between a collector and here */
    uint64_t collector_restarts; /* a new collector instance for a market */
    uint64_t frames_by_kind[8];  /* index envelope_kind_t */
    uint64_t parse_errors[PARSE_ERR_COUNT];
    uint64_t unknown_symbols, books_refused;
    uint64_t depth_applied, depth_buffered, depth_held, depth_stale;
    uint64_t resyncs[SYNC_REASON_COUNT]; /* a synced book breaking, by reason */
    uint64_t snapshot_requests, snapshot_request_failures, snapshot_timeouts;
    uint64_t snapshots_applied, snapshots_too_old, snapshots_broken, snapshots_unused;
    uint64_t snapshot_errors, snapshots_bad;
    uint64_t trades, trade_duplicates, trades_too_old;
    uint64_t klines, kline_duplicates;
    uint64_t bbo_checks, bbo_mismatches;
    uint64_t answers, unused_events;
    uint64_t messages_out, bytes_out, raw_out;
    uint64_t publish_failures;
} builder_counters_t;

typedef struct builder_t builder_t;

/* A builder with copies of what it needs from cfg and io. NULL when out of memory. */
builder_t *builder_new(const builder_config_t *cfg, const builder_io_t *io);
void builder_destroy(builder_t **self_p);

/* Processes one frame (borrowed), received at arrival_ns (wall clock, ns). */
void builder_on_frame(builder_t *self, const void *frame, size_t len, int64_t arrival_ns);

/* Timers at now_ns: top-N depth, snapshot timeouts and retries, held events that waited too
   long. Call at least every depth_interval_ms; returns ms until the next deadline (<= 100). */
int64_t builder_tick(builder_t *self, int64_t now_ns);

/* The market's collector can now take snapshot requests (it was away): books waiting for a
   snapshot ask at their next tick instead of after their backoff. */
void builder_retry_snapshots_now(builder_t *self, market_t market);

const builder_counters_t *builder_counters(const builder_t *self);

/* Books per state, and how many there are. */
void builder_book_states(const builder_t *self, size_t out[3]);
size_t builder_book_count(const builder_t *self);

/* Frame arrival → publish latency of every frame that published something, since the last
   reset. */
latency_t *builder_latency(builder_t *self);

/* The book of (market, symbol), or NULL when unknown. For tests and the snapshot service. */
typedef struct {
    sync_state_t state;
    sync_reason_t reason;
    const book_t *book; /* levels valid when synced */
    uint64_t update_id; /* when synced */
    uint64_t book_seq;  /* seq of the last message on book.<market>.<SYMBOL> */
    uint8_t price_places, qty_places;
    uint64_t resyncs;
} builder_book_view_t;
int builder_book(const builder_t *self, market_t market, const char *symbol,
                 builder_book_view_t *out);

/* Calls fn for every book, in creation order. */
typedef void(builder_book_fn)(void *arg, market_t market, const char *symbol,
                              const builder_book_view_t *view);
void builder_each_book(const builder_t *self, builder_book_fn *fn, void *arg);

#endif
