/*
 * faults.h — the sim's faults on command: what a client must survive, one name each.
 *
 * A fault is named and given arguments in one grammar, "key=value&key=value", both on the
 * control API (GET /_sim/fault?name=gap&symbol=BTCUSDT&count=2, control.c) and on the command
 * line (--fault gap:symbol=BTCUSDT&count=2&after_ms=5000). sim_fault_apply hands it to the part
 * that acts: the server for connection faults, the venue for stream and snapshot faults.
 *
 *   connection   drop (socket killed, no close frame), rotation_storm (every connection of every
 *                market closed at once, 1001), no_ping, ignore_pongs (the pong deadline then
 *                closes), malformed (a text frame that is not JSON), truncated (the next data
 *                frame cut in half), wrong_types (a depth event whose fields have the wrong JSON
 *                types), oversized (one text frame of `bytes`, default 2 MiB)
 *                — on connection `conn` (see /_sim/status), or on every one of the market;
 *   stream       gap (drop the next `count` diff depth events), break_pu (futures: wrong pu),
 *                duplicate, reorder, stall (nothing for `ms`) — on `symbol`, or every symbol;
 *   snapshot     snapshot_stale, snapshot_5xx, snapshot_429, snapshot_418, snapshot_slow (`ms`)
 *                — the next `count` depth requests of the market.
 * `market` (spot, usdm, coinm, all) picks the market; the control API defaults to its own
 * listener's, the command line to all. after_ms and every_ms (command line) schedule a fault at
 * a logical time and repeat it.
 */
#ifndef BOOKCAST_SIM_FAULTS_H
#define BOOKCAST_SIM_FAULTS_H

#include "envelope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SIM_FAULT_DROP = 0,
    SIM_FAULT_ROTATION_STORM,
    SIM_FAULT_NO_PING,
    SIM_FAULT_IGNORE_PONGS,
    SIM_FAULT_MALFORMED,
    SIM_FAULT_TRUNCATED,
    SIM_FAULT_WRONG_TYPES,
    SIM_FAULT_OVERSIZED,
    SIM_FAULT_GAP,
    SIM_FAULT_BREAK_PU,
    SIM_FAULT_DUPLICATE,
    SIM_FAULT_REORDER,
    SIM_FAULT_STALL,
    SIM_FAULT_SNAPSHOT_STALE,
    SIM_FAULT_SNAPSHOT_5XX,
    SIM_FAULT_SNAPSHOT_429,
    SIM_FAULT_SNAPSHOT_418,
    SIM_FAULT_SNAPSHOT_SLOW,
    SIM_FAULT_COUNT
} sim_fault_kind_t;

/* "every market" in a fault (market_t has no such value). */
#define SIM_MARKET_ALL ((market_t)0)

#define SIM_FAULT_OVERSIZED_DEFAULT (2u << 20)
#define SIM_FAULT_OVERSIZED_MAX (64u << 20)

typedef struct {
    sim_fault_kind_t kind;
    market_t market;   /* SIM_MARKET_ALL: every market */
    bool market_given;
    uint64_t conn;     /* connection id; 0: every connection */
    char symbol[33];   /* "": every symbol */
    uint32_t count;    /* events or requests; default 1 */
    int64_t ms;        /* stall length, snapshot delay; default 5000 */
    size_t bytes;      /* oversized frame size */
    int64_t after_ms;  /* command line: logical time of the first firing */
    int64_t every_ms;  /* command line: repeat period; 0 = once */
} sim_fault_t;

/* The fault's name ("gap"); "?" for an unknown kind. */
const char *sim_fault_name(sim_fault_kind_t kind);

/* Parses `name` and `args` ("key=value&…", may be NULL or "") into *out. Returns 0, or -1 with
   the reason in err: an unknown name or key, a value out of range. */
int sim_fault_parse(const char *name, const char *args, sim_fault_t *out, char *err,
                    size_t err_len);

/* Parses the command-line form "name[:args]". */
int sim_fault_parse_spec(const char *spec, sim_fault_t *out, char *err, size_t err_len);

#endif
