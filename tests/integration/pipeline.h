/*
 * pipeline.h — the whole pipeline for one integration test: a real bookcast-sim, a real
 * bookcast-bookbuilder and the three real bookcast-collectors (spot, usdm, coinm) wired together
 * on free loopback ports, and the test's own view of it, as a user program and the monitor would
 * have it:
 *   - a SUB on bus.data, connected (and its subscription through) before any collector starts,
 *     so every topic must be seen from seq 1;
 *   - a SUB bound on bus.status, where every process sends its heartbeat;
 *   - a DEALER on the snapshot service (bus.snapshot);
 *   - GETs of the sim's truth (/_sim/book) and faults (/_sim/fault) on a market's listener.
 * One thread reads both SUB sockets as fast as messages come (no high-water mark on the data
 * SUB), checks every topic's seq, keeps every book's status, rebuilds every book from its book
 * messages as a subscriber would (pipeline_model_t), keeps every program's last heartbeat, and
 * hands each data message to the test's callback. Everything else runs on the caller's thread.
 * Every wait is bounded.
 *
 * Each market follows PIPELINE_SYMBOLS symbols (the sim's first ones, all of them truth symbols,
 * with the long history /_sim/book needs) on every channel: depth, trade, aggTrade, bookTicker
 * and 1m klines. Processes are stopped by pid in pipeline_destroy (collectors first, so the
 * bookbuilder sees their CONN_DOWNs, then the bookbuilder, then the sim); tests stop them
 * themselves first when they assert the exit status.
 *
 * The test binary needs BOOKCAST_SIM_BIN, BOOKCAST_SOURCE_DIR, BOOKCAST_COLLECTOR_BIN and
 * BOOKCAST_BOOKBUILDER_BIN. With KEEP_TEST_DIRS set, every process's directory (logs) is kept;
 * pipeline_start prints where they are.
 */
#ifndef BOOKCAST_PIPELINE_H
#define BOOKCAST_PIPELINE_H

#include "envelope.h" /* market_t */
#include "simproc.h"
#include "tc_book.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIPELINE_MARKETS 3 /* spot, usdm, coinm: index market - 1 */
#define PIPELINE_SYMBOLS 3 /* symbols followed per market */
#define PIPELINE_BOOKS (PIPELINE_MARKETS * PIPELINE_SYMBOLS)
/* bookbuilder.max_levels as the pipeline leaves it, and so the depth of its REST snapshots (spot
   asks for max_levels, futures for the next limit Binance accepts: 1000). Tests must not change
   it: the check against the truth relies on it. */
#define PIPELINE_MAX_LEVELS 1000

typedef struct pipeline pipeline_t;

/* One data-bus message, as the reader thread received it. Everything is borrowed for the
   callback's duration. */
typedef struct {
    const char *topic;   /* "book.spot.BTCUSDT" */
    const char *channel; /* "book", "bbo", "depth20", "trade", "kline", "status" */
    market_t market;
    const char *symbol;
    const char *body; /* the JSON, NUL-terminated */
    size_t len;
    const cJSON *json; /* body parsed */
    uint64_t seq;
    int64_t mono_ms; /* when it was received, monotonic */
} pipeline_msg_t;

/* Called on the reader thread for every data-bus message, in order. It must not block for
   long: the reader is what keeps the test's SUB from falling behind. */
typedef void(pipeline_message_fn)(void *arg, const pipeline_msg_t *msg);

typedef struct {
    const char *const *sim_args;         /* further bookcast-sim arguments, NULL-terminated */
    const char *const *bookbuilder_sets; /* further "key=value" for the bookbuilder */
    const char *const *collector_sets;   /* further "key=value" for every collector */
    pipeline_message_fn *on_message;     /* may be NULL */
    void *arg;
} pipeline_opts_t;

/* Starts everything (the sim, the bookbuilder, the test's sockets and reader, then the three
   collectors) and returns once each process has logged that it started. NULL, with the reason
   and the logs on stderr, when one could not start. */
pipeline_t *pipeline_start(const pipeline_opts_t *opts);

/* Stops whatever still runs (collectors, bookbuilder, sim: SIGTERM, then SIGKILL after a
   grace), the reader thread and the sockets; the processes' logs go to stderr. NULL-safe. */
void pipeline_destroy(pipeline_t **self_p);

/* SIGTERM to every collector, each waited for up to 6 s. Returns how many did not exit with
   status 0 (0: all clean); each one's status is on stderr. */
int pipeline_stop_collectors(pipeline_t *self);
/* SIGTERM to the bookbuilder, waited for up to 10 s. Returns its exit status (-1: killed or
   died by a signal). */
int pipeline_stop_bookbuilder(pipeline_t *self);
/* True while the bookbuilder runs. */
bool pipeline_bookbuilder_alive(pipeline_t *self);
/* Lines of the bookbuilder's log holding `needle`. */
int pipeline_bookbuilder_log_count(const pipeline_t *self, const char *needle);
/* The bookbuilder's directory (its log is bookbuilder.log there). */
const char *pipeline_bookbuilder_dir(const pipeline_t *self);

const simproc_t *pipeline_sim(const pipeline_t *self);
/* The i-th symbol (0 … PIPELINE_SYMBOLS-1) of `market`, e.g. "BTCUSD_PERP". */
const char *pipeline_symbol(market_t market, size_t i);

/* ---- what the reader saw ------------------------------------------------------------------ */

/* A book's state as its status topic last said it. */
typedef struct {
    market_t market;
    char symbol[40];
    char state[16];  /* "syncing", "synced", "resyncing"; "" before any status */
    char reason[24]; /* "start", "gap", "disconnect", … */
    uint64_t update_id;
    uint64_t resyncs;
    uint64_t seq;    /* of the status message */
    int64_t pub_ns;  /* the bookbuilder's publish time */
    int64_t mono_ms; /* when the test received it */
} pipeline_status_t;

/* The last status of (market, symbol). False when none arrived yet. */
bool pipeline_book_status(pipeline_t *self, market_t market, const char *symbol,
                          pipeline_status_t *out);
/* Every status message received, in order: how many, and the i-th. */
size_t pipeline_status_count(pipeline_t *self);
bool pipeline_status_at(pipeline_t *self, size_t i, pipeline_status_t *out);

/* Waits until every followed book's last status is "synced". */
bool pipeline_wait_all_synced(pipeline_t *self, int64_t timeout_ms);
/* Waits for a status message of (market, symbol) at history index >= *from with `state` and,
   when not NULL, `reason`. On success *from is set past it. */
bool pipeline_wait_status(pipeline_t *self, market_t market, const char *symbol, const char *state,
                          const char *reason, size_t *from, int64_t timeout_ms);

/* Topics seen, and the seq checks: every topic's first message must have seq 1 and each next
   one the seq after it. */
size_t pipeline_topic_count(pipeline_t *self);
/* The i-th topic seen (in order of first appearance): its name, messages and last seq. */
bool pipeline_topic_at(pipeline_t *self, size_t i, char *name, size_t name_len, uint64_t *messages,
                       uint64_t *last_seq);
/* The last seq received on `topic` (0: none). */
uint64_t pipeline_topic_last_seq(pipeline_t *self, const char *topic);
/* Waits until the reader has received seq >= `seq` on `topic`. */
bool pipeline_wait_topic_seq(pipeline_t *self, const char *topic, uint64_t seq, int64_t timeout_ms);
/* Errors on the bus so far: a topic's first seq other than 1, a seq jump or repeat, a message
   that is not two frames or whose body is not JSON with a seq, a book message the subscriber's
   book cannot take. The first few are described in `first` (may be NULL). */
size_t pipeline_bus_errors(pipeline_t *self, char *first, size_t first_len);
/* Data-bus messages received. */
uint64_t pipeline_messages(pipeline_t *self);

/* The last heartbeat received on `topic` ("status.bookbuilder.main"), parsed (the caller
   deletes it), or NULL when none came. */
cJSON *pipeline_heartbeat(pipeline_t *self, const char *topic);
/* Heartbeats received on `topic`, and whether one had state "stopped". */
uint64_t pipeline_heartbeat_count(pipeline_t *self, const char *topic, bool *stopped);
/* The bookbuilder's heartbeat topic. */
#define PIPELINE_BOOKBUILDER_STATUS "status.bookbuilder.main"

/* ---- the snapshot service ----------------------------------------------------------------- */

/* Sends one request (JSON text) and waits up to timeout_ms for its answer, parsed (the caller
   deletes it). NULL on a timeout or an answer that is not JSON. */
cJSON *pipeline_snapshot_request(pipeline_t *self, const char *request, int64_t timeout_ms);
/* {"op":"book","market":…,"symbol":…,"depth":0}: the whole book. */
cJSON *pipeline_snapshot_book(pipeline_t *self, market_t market, const char *symbol);

/* ---- the sim ------------------------------------------------------------------------------ */

/* GET /_sim/fault?<query> on `market`'s listener. Returns the HTTP status. */
int pipeline_fault(pipeline_t *self, market_t market, const char *query);

/* The true book of (market, symbol) after `update_id`, from /_sim/book. Returns the HTTP status
   (200 with *bids and *asks filled, best first; the caller frees them). */
int pipeline_truth(pipeline_t *self, market_t market, const char *symbol, uint64_t update_id,
                   tc_levels_t *bids, tc_levels_t *asks);

/* ---- books -------------------------------------------------------------------------------- */

/* Appends the levels of a JSON array of ["price","qty"] pairs to *out. Returns 0, or -1 when
   the array is not that. */
int pipeline_levels_parse(const cJSON *array, tc_levels_t *out);

/* A book rebuilt from its book.<market>.<SYMBOL> messages alone, as a subscriber holds it: a
   "snapshot" message replaces it, an "update" changes the levels it names (quantity 0
   removes). It also notes what a comparison with the truth needs (pipeline_check_book): while a
   bookbuilder side holds max_levels levels it refuses new levels beyond its worst and trims the
   worst for better ones, so from then on only prices better than that worst are surely all
   held. */
typedef struct {
    tc_book_t book;
    bool has_snapshot;
    uint64_t seq;               /* of the last message applied */
    uint64_t update_id;         /* its last_id */
    uint64_t snapshot_seq;      /* of the last "snapshot" message */
    uint64_t snapshot_first_id; /* its first_id: the lastUpdateId of the REST snapshot */
    size_t max_levels;          /* the bookbuilder's bound */
    bool full_seen[2];          /* [0] bids, [1] asks: held max_levels since the snapshot */
    dec_t full_worst[2];        /* the best of the worst levels at those moments */
} pipeline_model_t;

void pipeline_model_init(pipeline_model_t *model, size_t max_levels);
void pipeline_model_free(pipeline_model_t *model);
/* Applies one book message. Returns 0, or -1 with the reason in err when it is malformed or an
   update arrives before any snapshot. */
int pipeline_model_apply(pipeline_model_t *model, const cJSON *msg, char *err, size_t err_len);

/* One comparison of a book the snapshot service holds with the sim's truth at its update id. */
typedef struct {
    bool synced;        /* the service said synced; otherwise nothing was compared */
    bool equal;         /* synced and no difference */
    uint64_t update_id; /* the book's, as the service gave it */
    uint64_t seq;       /* the service's seq */
    size_t held[2];     /* levels the bookbuilder holds, bids and asks */
    size_t covered[2];  /* truth levels in the range compared level by level */
    char detail[800];   /* the first difference, or why the check could not be made */
} pipeline_check_t;

/* Asks the snapshot service for the whole book of (market, symbol) and, when it is synced,
   compares it with GET /_sim/book at its update id:
     - every level it holds must be a level of the truth with the same quantity;
     - every truth level from the best price down to its worst held level must be held, except
       where it cannot know: beyond the REST snapshot's depth (PIPELINE_MAX_LEVELS levels a side
       at the snapshot's lastUpdateId, the first_id of the book's last "snapshot" message);
       once the side was full, at or beyond the worst level it then held (the pipeline's own
       subscriber book, pipeline_model_t, tells); and at or beyond the best level it dropped on
       a full side while it applied the events buffered during its snapshot request, which no
       message shows (the snapshot message against the truth at its last_id tells, and a
       dropped level must lie where a full side drops levels: near its worst end);
     - that range must hold the truth's top 20 levels (or all of a thinner side).
   Returns 0 when the check was made (*out says how it went), -1 when it could not be (no answer
   from the service, no truth, the bus reader behind): out->detail says why. */
int pipeline_check_book(pipeline_t *self, market_t market, const char *symbol,
                        pipeline_check_t *out);

/* Sides that, by the checks so far, dropped levels while a (re)sync applied its buffered events
   on a full side (the bookbuilder publishes no sign of it); *highest (may be NULL) is the best
   truth index of such a level, -1 when none. */
size_t pipeline_sync_losses(pipeline_t *self, long *highest);

#endif
