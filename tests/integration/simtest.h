/*
 * simtest.h — what the integration tests of bookcast-sim share: URLs on a running sim, GETs of
 * its REST and control API, the connection id of a path, and frames read back as JSON (raw or
 * wrapped in the combined {"stream","data"}), depth events in particular.
 *
 * Every wait is bounded: GETs take SIMTEST_GET_TIMEOUT_MS at most.
 */
#ifndef BOOKCAST_SIMTEST_H
#define BOOKCAST_SIMTEST_H

#include "session.h"
#include "simproc.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIMTEST_GET_TIMEOUT_MS 10000

/* "wss://127.0.0.1:<port><path>" of `market` into buf. */
const char *simtest_ws_url(const simproc_t *sim, market_t market, const char *path, char *buf,
                           size_t len);
/* "https://127.0.0.1:<port><path>" of `market` into buf. */
const char *simtest_http_url(const simproc_t *sim, market_t market, const char *path, char *buf,
                             size_t len);

/* GET `path` on `market`'s listener. Returns the status (0 when no response). */
int simtest_get(const simproc_t *sim, market_t market, const char *path, tc_get_result_t *out);

/* GET /_sim/fault?<query> on `market`'s listener; returns the status. */
int simtest_fault(const simproc_t *sim, market_t market, const char *query);

/* GET /_sim/clear; returns the status. */
int simtest_clear(const simproc_t *sim);

/* The id /_sim/status gives the connection of `market` whose path is exactly `path` (the first
   one found), or 0. */
uint64_t simtest_conn_id(const simproc_t *sim, market_t market, const char *path);

/* Parses a text event's payload; NULL when it is not JSON (or not a text event). */
cJSON *simtest_json(const tc_event_t *event);

/* The payload object of a parsed frame: "data" of a combined frame (its "stream" into *stream
   when not NULL), else the frame itself (*stream = NULL). */
const cJSON *simtest_data(const cJSON *frame, const char **stream);

/* An integer member (a JSON number holding a whole value >= 0, below 2^53) into *out. */
bool simtest_u64(const cJSON *obj, const char *key, uint64_t *out);

/* A diff (or futures partial) depth event, as the fault tests read it. */
typedef struct {
    char symbol[40]; /* "s" */
    char stream[96]; /* combined frames: the stream name, else "" */
    uint64_t U, u, pu;
    bool has_pu;
} simtest_depth_t;

/* Reads the event as a depth update (e "depthUpdate" with integer U and u). False otherwise. */
bool simtest_depth(const tc_event_t *event, simtest_depth_t *out);

/* Predicate for tc_session_run_until: stop once connection `conn` (-1: any) has `texts` text
   events, or, when `symbol` is set, that many depth events of that symbol. */
typedef struct {
    int conn;
    size_t texts;
    const char *symbol;
} simtest_want_t;
bool simtest_until_texts(const tc_evlist_t *events, void *want);

/* Text events on `conn` (-1: any) that are depth events of `symbol` (NULL: any) from index
   `from` on, in order, into out (at most max). Returns how many. */
size_t simtest_depth_events(const tc_evlist_t *events, int conn, const char *symbol, size_t from,
                            simtest_depth_t *out, size_t max);

/* If the wall clock is within `margin_s` seconds of the end of a minute, waits for the next
   minute to begin (REST weight windows are calendar minutes). Waits at most margin_s + 1 s. */
void simtest_avoid_minute_boundary(int margin_s);

/* Same for the sim's 5-minute connection-attempt windows, which are aligned on the monotonic
   clock the sim and the test share. */
void simtest_avoid_connrate_boundary(int margin_s);

/* Sleeps ms (for pacing only, never as an assertion). */
void simtest_sleep_ms(int64_t ms);

/* Dumps the events to stderr (for a failing test's message). */
void simtest_dump(const tc_evlist_t *events, size_t max_payload);

#endif
