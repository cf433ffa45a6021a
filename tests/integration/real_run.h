/*
 * real_run.h — one real capture through the bookbuilder, frame by frame, with an independent
 * reading of both sides: what went in and what came out.
 *
 * real_run drives a builder_t exactly as `bookcast-bookbuilder --replay` does (replay.c: the
 * recording's clock, a tick whenever it passes the deadline the last tick returned, before the
 * frame that moved it), and around every frame it
 *   - reads the input frame with cJSON, not with the bookbuilder's parser: diff events, the
 *     bookTickers, the trade ids, the snapshots;
 *   - looks at the book (builder_book) before and after the frame: its top at every update id,
 *     the deletions of levels it does not hold;
 *   - reads back every message published during the frame and applies the book messages to an
 *     independent book (real_book.h), so that the stream can be compared with the book.
 * What it finds goes into figures (counts the tests print and bound) and problems (violations,
 * by the property they break, each with the first few described by frame number and ids).
 * The frame number is the record's position in the frame file, from 1.
 */
#ifndef BOOKCAST_REAL_RUN_H
#define BOOKCAST_REAL_RUN_H

#include "builder.h"
#include "real_book.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REAL_PROBLEMS_KEPT 5
#define REAL_STATUS_KEPT 8

/* The configuration of every run, in-process and of the program (as --set key=value). */
void real_builder_config(builder_config_t *cfg);
extern const char *const REAL_PROGRAM_SETTINGS[];

typedef enum {
    REAL_P_INPUT,   /* a frame or a published message this test cannot read */
    REAL_P_STATUS,  /* a status, snapshot request or book state off the expected course */
    REAL_P_TOP,     /* the book's top differs from a bookTicker of the same update id */
    REAL_P_TRADE,   /* a trade id missing, published twice, invented, or changed */
    REAL_P_UNKNOWN, /* a deletion of a level the book did not hold was not a no-op */
    REAL_P_MODEL,   /* the published book stream does not rebuild the book */
    REAL_P_CROSSED, /* a crossed book: published or held */
    REAL_P_COUNT
} real_problem_t;

typedef struct {
    uint64_t count;
    char first[REAL_PROBLEMS_KEPT][400];
} real_problems_t;

typedef struct {
    uint64_t id;
    char price[REAL_DEC_STRLEN];
    char qty[REAL_DEC_STRLEN];
} real_trade_t;

typedef struct {
    real_trade_t *v;
    size_t n, cap;
} real_trades_t;

/* A top of book, or a bookTicker, in 10^-8 units, at update id u. */
typedef struct {
    uint64_t u;
    bool has_bid, has_ask;
    int64_t bid, bid_qty, ask, ask_qty;
} real_top_t;

typedef struct {
    real_top_t *v;
    size_t n, cap;
} real_tops_t;

typedef struct {
    char state[16];
    char reason[24];
    uint64_t resyncs;
    uint64_t frame; /* published while processing this frame (or the tick before it) */
} real_status_t;

/* Everything known about one symbol of the capture. */
typedef struct {
    char symbol[ENVELOPE_SYMBOL_MAX + 1];
    bool has_depth; /* the input has a diff-depth stream of it: the builder keeps a book */
    uint64_t depth_events, first_depth_frame;
    int64_t first_depth_ns;
    uint64_t snapshot_frames, first_snapshot_frame;
    int64_t first_snapshot_ns;
    uint64_t snapshot_requests;  /* asked through the io callback */
    real_trades_t trades_in[2];  /* [0] @trade t, [1] @aggTrade a */
    real_trades_t trades_out[2]; /* published type "trade", "agg_trade" */
    real_tops_t tickers, tops;   /* bookTickers read; the book's top after each change */
    real_status_t status[REAL_STATUS_KEPT];
    size_t status_count;
    real_book_t model;              /* rebuilt from the book messages */
    bool model_loaded;              /* a book snapshot message has come */
    uint64_t book_seq;              /* seq of the last book message */
    uint64_t events_applied_synced; /* diff events applied to the synced book */
    uint64_t events_stale;          /* ... and dropped as old by it */
    uint64_t unknown_deletes;       /* deletions of levels the synced book did not hold */
    uint64_t comparisons, top_mismatches;
} real_symbol_t;

typedef struct {
    size_t topic, topic_len, body, body_len; /* offsets into out */
} real_msg_t;

typedef struct {
    int side; /* book_side_t */
    int64_t price;
} real_unknown_t;

/* The frame being processed, as read before the builder saw it. */
typedef struct {
    real_symbol_t *sym; /* the symbol it is about, or NULL */
    bool depth;         /* a diff-depth event */
    uint64_t u;
    bool synced_before;
    uint64_t id_before;
    real_unknown_t *unknown; /* deletions of levels the book does not hold, sorted */
    size_t unknown_count, unknown_cap;
    bool update_seen; /* a book update with last_id u was published */
} real_frame_t;

typedef struct {
    const char *name;
    market_t market;
    const char *frames_path;
    /* results */
    real_symbol_t **syms; /* each allocated alone: pointers to them stay valid */
    size_t sym_count, sym_cap;
    char *out; /* every message published, "<topic> <body>\n", as --replay --out writes it */
    size_t out_len, out_cap;
    real_msg_t *msgs;
    size_t msg_count, msg_cap, msgs_taken;
    uint64_t frames, frame_no;
    real_frame_t cur;
    builder_counters_t counters;
    size_t builder_books, states[3];
    uint64_t depth_messages, bbo_messages, checkpoints, levels_compared;
    real_problems_t problems[REAL_P_COUNT];
    double seconds;
} real_run_t;

/* Runs the frame file at run->frames_path (name and market set by the caller). Returns 0 when
   the file was read to its end (its findings are in run, problems included), -1 with the reason
   in err when it could not be. */
int real_run(real_run_t *run, char *err, size_t err_len);

/* Frees what real_run allocated (name and frames_path stay the caller's). */
void real_run_free(real_run_t *run);

#endif
