/*
 * session.h — a synchronous facade over bookcast-testclient's event-driven client library
 * (tc_net.h, tc_ws.h, tc_http.h), for integration tests written as straight-line code.
 *
 * A test describes a session — N WebSocket connections, the messages each sends after it opens,
 * GETs to fire at given times (a /_sim/fault mid-stream) — and gets back the list of everything
 * that happened, in order, each event stamped with its time and connection. It then asserts on
 * that list. Every call is bounded in time: a session by its duration (or an explicit timeout),
 * a GET by its timeout.
 *
 * (It was planned as tc_sync.h, a name that went to the book-sync rules of
 * `bookcast-testclient sync`; it keeps the tc_ prefix of the client library it wraps.)
 *
 * Two ways to drive a session:
 *   - tc_session_run: one call, for the common case (connect, send, collect, stop);
 *   - tc_session_start / tc_session_run_until / tc_session_get / tc_session_send /
 *     tc_session_end: step by step, when the test must act on what it has seen so far (read a
 *     connection id from /_sim/status, then fault that connection).
 * Both record into the caller's tc_evlist_t; events that happen after the session decided to
 * stop (the echo of our own close, say) are not recorded, so a TC_EV_CLOSED in the list always
 * means the server or the network ended the connection.
 *
 * Not thread-safe; one session at a time per thread (libwebsockets' log hook is global).
 */
#ifndef BOOKCAST_SESSION_H
#define BOOKCAST_SESSION_H

#include "tc_http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- one GET ---------------------------------------------------------------------------- */

typedef struct {
    int status;      /* HTTP status, or 0 when no response arrived */
    char error[256]; /* status 0: why */
    bool header_present[TC_HDR_COUNT];
    char header[TC_HDR_COUNT][TC_HTTP_HEADER_VALUE_MAX]; /* tc_http.h's headers */
    char *body; /* malloc'd, NUL-terminated ("" when empty); NULL only after free */
    size_t body_len;
    int64_t elapsed_ms; /* from the request's start to its response (monotonic) */
} tc_get_result_t;

/* One GET of `url` (http:// or https://, verified against `ca_file` when https), waiting at most
   timeout_ms. Returns 0 when a response arrived (any status), -1 otherwise (out->status 0 and
   out->error say why). *out is always filled; release it with tc_get_result_free. */
int tc_get(const char *url, const char *ca_file, int64_t timeout_ms, tc_get_result_t *out);

/* Frees the body; the result may be reused. NULL-safe. */
void tc_get_result_free(tc_get_result_t *result);

/* ---- events ----------------------------------------------------------------------------- */

typedef enum {
    TC_EV_OPEN = 0,   /* the connection opened */
    TC_EV_TEXT,       /* a text message: data/len is the payload */
    TC_EV_BINARY,     /* a binary message: len is its length (data NULL) */
    TC_EV_PEER_CLOSE, /* the server's close frame: code, data/len the reason ("" when none) */
    TC_EV_ERROR,      /* it never opened: code the handshake's HTTP status (0: none), data why */
    TC_EV_CLOSED,     /* an opened connection ended (after TC_EV_PEER_CLOSE when there was one) */
    TC_EV_HTTP,       /* a GET of the session answered (or failed): http holds the result */
} tc_ev_kind_t;

typedef struct {
    tc_ev_kind_t kind;
    int conn;        /* connection index 0..connections-1; TC_EV_HTTP: the GET's index */
    int64_t recv_ns; /* wall clock, ns since the Unix epoch */
    int64_t t_ms;    /* monotonic ms since the session started */
    int code;        /* PEER_CLOSE: close code; ERROR: HTTP status; HTTP: status */
    char *data;      /* malloc'd, NUL-terminated; NULL for OPEN, BINARY, CLOSED, HTTP */
    size_t len;
    tc_get_result_t *http; /* TC_EV_HTTP only, owned by the list */
} tc_event_t;

typedef enum {
    TC_STOP_NONE = 0,
    TC_STOP_DURATION,  /* duration_ms (or run_until's timeout) elapsed */
    TC_STOP_MAX_TEXTS, /* max_texts text messages arrived */
    TC_STOP_ENDED,     /* every connection ended and no GET was in flight */
    TC_STOP_UNTIL,     /* run_until's predicate said so */
    TC_STOP_FAILED,    /* the client library failed (no context, out of memory) */
} tc_stop_t;

typedef struct {
    tc_event_t *v;
    size_t n, cap;
    tc_stop_t stop;     /* why the last run ended */
    int64_t elapsed_ms; /* session time when it ended */
    bool oom;           /* an event could not be recorded */
} tc_evlist_t;

/* Empties the list (frees every payload and GET result); the list may be reused. NULL-safe. */
void tc_evlist_free(tc_evlist_t *list);

/* How many events of `kind` the list holds on connection `conn` (-1: any connection). */
size_t tc_evlist_count(const tc_evlist_t *list, tc_ev_kind_t kind, int conn);

/* The first event of `kind` on `conn` (-1: any) at index >= from, or NULL. */
const tc_event_t *tc_evlist_find(const tc_evlist_t *list, tc_ev_kind_t kind, int conn, size_t from);

/* "open", "text", … for messages. */
const char *tc_ev_kind_name(tc_ev_kind_t kind);

/* ---- sessions --------------------------------------------------------------------------- */

typedef struct {
    int64_t at_ms;   /* session time at which to send the GET */
    const char *url; /* http:// or https:// */
} tc_timed_get_t;

typedef struct {
    const char *url;          /* ws:// or wss://, for every connection ... */
    const char *const *urls;  /* ... or one per connection (`connections` entries) */
    const char *ca_file;      /* CA for wss:// and https://; NULL for plain URLs */
    int connections;          /* 0 counts as 1 */
    bool all_at_once;         /* open every connection at the start; else one after another,
                                 the next when the previous has opened or failed */
    const char *const *sends; /* text messages each connection sends after it opens */
    size_t send_count;
    int64_t send_interval_ms;   /* 0: all at once; else one every interval */
    int64_t duration_ms;        /* tc_session_run: how long at most (required, > 0) */
    size_t max_texts;           /* stop once this many text messages arrived (0: no limit);
                                   later ones are not recorded */
    const tc_timed_get_t *gets; /* GETs fired at session times, recorded as TC_EV_HTTP */
    size_t get_count;
} tc_session_opts_t;

/* Runs a whole session: connects, sends, fires the timed GETs and records every event into
   *out (appended), until duration_ms elapses, max_texts texts arrived, or every connection has
   ended with no GET in flight; then closes what is still open (1000, up to 1 s of grace, not
   recorded). Returns 0, or -1 when the options are invalid or the client library failed
   (out->stop TC_STOP_FAILED). The strings of opts are borrowed for the call. */
int tc_session_run(const tc_session_opts_t *opts, tc_evlist_t *out);

typedef struct tc_session tc_session_t;

/* Starts a session (connections begin opening; nothing runs until run_until). opts and its
   strings are borrowed until tc_session_end; duration_ms is ignored (each run_until has its own
   timeout). Events go to *out, which must outlive the session. NULL on invalid options or
   failure (the reason on stderr). */
tc_session_t *tc_session_start(const tc_session_opts_t *opts, tc_evlist_t *out);

/* A predicate over the events recorded so far: true to stop waiting. */
typedef bool (*tc_until_fn)(const tc_evlist_t *events, void *arg);

/* Runs the session for at most timeout_ms, or until `until` (may be NULL) returns true, max_texts
   texts arrived, or every connection ended with no GET in flight. Returns out->stop, the reason
   it returned (TC_STOP_DURATION on the timeout). */
tc_stop_t tc_session_run_until(tc_session_t *self, int64_t timeout_ms, tc_until_fn until,
                               void *arg);

/* One GET inside the session, on its loop (connections keep being served and recorded while it
   is in flight). Waits at most timeout_ms. The response is recorded as a TC_EV_HTTP event and
   copied to *out (release with tc_get_result_free). Returns 0 when a response arrived. */
int tc_session_get(tc_session_t *self, const char *url, int64_t timeout_ms, tc_get_result_t *out);

/* Queues a text message on connection `conn` (sent once it is open). Returns 0, or -1 when the
   connection has ended or does not exist. */
int tc_session_send(tc_session_t *self, int conn, const char *text);

/* True when connection `conn` is open (opened, not ended). */
bool tc_session_is_open(const tc_session_t *self, int conn);

/* Session time now, ms. */
int64_t tc_session_now_ms(const tc_session_t *self);

/* Ends the session: closes what is open (1000, up to 1 s of grace, not recorded), frees
   everything, sets *self_p to NULL. The event list stays the caller's. NULL-safe. */
void tc_session_end(tc_session_t **self_p);

#endif
