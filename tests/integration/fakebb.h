/*
 * fakebb.h — a fake bookbuilder for the collector's integration tests: the three sockets a real
 * bookbuilder and monitor bind (PULL on bus.frames, PUB on bus.control, SUB on bus.status), a
 * thread that takes every frame as it arrives, and the checks every test wants on every frame.
 *
 * What it checks, for every frame, without being asked (docs/frames.md):
 *   - the envelope decodes (envelope_decode); a frame it refuses is an error;
 *   - per (instance_id, conn_id): the first frame is CONN_UP with seq 1, seq then runs 2, 3, …,
 *     nothing follows CONN_DOWN; connection 0 (SNAPSHOT, SNAPSHOT_ERROR, OVERFLOW) counts from 1;
 *   - CONN_UP, CONN_DOWN and OVERFLOW payloads parse (envelope_control_parse).
 * A sequence that jumps forward is a gap, kept apart from the errors (a test of the queue bound
 * expects gaps, each announced by an OVERFLOW); everything else is an error. Tests assert
 * fakebb_error_count() == 0 and, unless they provoke overflow, fakebb_gap_count() == 0.
 *
 * Frames are kept, in arrival order, for assertions: header fields, a copy of the payload, the
 * parsed control payload, the combined stream's name. Storage is chunked and never moves, so
 * fakebb_frame(i) for i < fakebb_count() may be read without a lock while the thread appends.
 *
 * Status heartbeats (status.collector.<instance>) are kept too: the latest one, and a wait for
 * one that satisfies a predicate. Control messages are published on an XPUB socket (a PUB that
 * also sees subscriptions), so fakebb_publish can wait until the collector has subscribed to
 * the topic: ZeroMQ drops what a PUB sends before its subscriber's subscription arrives.
 *
 * Every wait is bounded by its timeout_ms. The frame socket may be bound late
 * (fakebb_bind_frames), to play a bookbuilder that starts after the collector.
 */
#ifndef BOOKCAST_FAKEBB_H
#define BOOKCAST_FAKEBB_H

#include "envelope.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fakebb fakebb_t;

typedef struct {
    size_t index;       /* position in arrival order */
    int64_t arrived_ms; /* monotonic ms when the fake bookbuilder received it */
    envelope_kind_t kind;
    uint8_t flags; /* ENVELOPE_FLAG_OVERLAP */
    uint64_t instance_id;
    uint32_t conn_id;
    uint64_t seq;
    int64_t recv_ts_ns; /* the collector's receive time */
    char symbol[ENVELOPE_SYMBOL_MAX + 1];
    uint64_t request_id;
    uint16_t http_status;
    char *payload; /* copy, NUL-terminated (payload_len bytes before the NUL) */
    size_t payload_len;
    char stream[128];        /* WS_TEXT of a combined stream: its "stream"; else "" */
    envelope_control_t *ctl; /* CONN_UP, CONN_DOWN, OVERFLOW: the parsed payload; else NULL */
} fakebb_frame_t;

/* A forward jump of seq on one connection (frames lost between collector and us). */
typedef struct {
    uint64_t instance_id;
    uint32_t conn_id;
    uint64_t expected, got;
    size_t frame_index;      /* the frame after the hole */
    bool overflow_announced; /* an OVERFLOW arrived between the connection's previous frame and
                                this one */
} fakebb_gap_t;

/* Binds control (XPUB) and status (SUB) on free loopback ports, and frames (PULL) too when
   bind_frames is true (else its port is chosen and bound by fakebb_bind_frames). Starts the
   receiving thread. NULL with the reason on stderr. */
fakebb_t *fakebb_new(bool bind_frames);

/* Stops the thread, closes the sockets, frees every frame. NULL-safe. */
void fakebb_destroy(fakebb_t **self_p);

/* "tcp://127.0.0.1:<port>" of each socket (fixed from fakebb_new on). */
const char *fakebb_frames_endpoint(const fakebb_t *self);
const char *fakebb_control_endpoint(const fakebb_t *self);
const char *fakebb_status_endpoint(const fakebb_t *self);

/* Binds the frame socket now (a bookbuilder arriving late). Returns 0, or -1 on failure. */
int fakebb_bind_frames(fakebb_t *self);

/* ---- frames -------------------------------------------------------------------------------- */

/* Frames received so far. */
size_t fakebb_count(fakebb_t *self);
/* Frame i (< fakebb_count()); stable for the life of the fake bookbuilder. */
const fakebb_frame_t *fakebb_frame(const fakebb_t *self, size_t i);

/* A predicate over what has arrived: true to stop waiting. Called from the waiting thread. */
typedef bool (*fakebb_pred_fn)(fakebb_t *self, void *arg);
/* Calls pred whenever frames or heartbeats arrive (and at least every 50 ms) until it is true or
   timeout_ms passed. Returns its last answer. */
bool fakebb_wait(fakebb_t *self, int64_t timeout_ms, fakebb_pred_fn pred, void *arg);

/* Frames of `kind` (0: any) on conn_id (UINT32_MAX: any) from index `from` on. */
size_t fakebb_count_kind(fakebb_t *self, envelope_kind_t kind, uint32_t conn_id, size_t from);
/* The first frame of `kind` on conn_id (UINT32_MAX: any) at index >= from, or NULL. */
const fakebb_frame_t *fakebb_find(fakebb_t *self, envelope_kind_t kind, uint32_t conn_id,
                                  size_t from);
/* Waits until at least `n` frames of `kind` on conn_id (UINT32_MAX: any) arrived at index >=
   from. Returns whether they did within timeout_ms. */
bool fakebb_wait_kind(fakebb_t *self, envelope_kind_t kind, uint32_t conn_id, size_t from, size_t n,
                      int64_t timeout_ms);

/* WS_TEXT frames of a combined stream ("btcusdt@trade") so far, and the index of the latest
   (SIZE_MAX when none). */
size_t fakebb_stream_frames(fakebb_t *self, const char *stream);
size_t fakebb_stream_last(fakebb_t *self, const char *stream);
/* Distinct streams that delivered at least one WS_TEXT frame. */
size_t fakebb_streams_seen(fakebb_t *self);

/* True when the control payload `ctl` names `stream`. */
bool fakebb_ctl_has_stream(const envelope_control_t *ctl, const char *stream);

/* ---- the checks ---------------------------------------------------------------------------- */

size_t fakebb_error_count(fakebb_t *self);
/* Error i as text ("conn 3: WS_TEXT seq 9 after CONN_DOWN"), copied into buf. */
const char *fakebb_error(fakebb_t *self, size_t i, char *buf, size_t len);
size_t fakebb_gap_count(fakebb_t *self);
/* Gap i copied into *out; false when i is out of range. */
bool fakebb_gap(fakebb_t *self, size_t i, fakebb_gap_t *out);
/* Writes the errors and gaps (at most `max` of each) to stderr. */
void fakebb_report(fakebb_t *self, size_t max);

/* ---- status heartbeats --------------------------------------------------------------------- */

/* Heartbeats received so far. */
uint64_t fakebb_status_count(fakebb_t *self);
/* A copy of the latest heartbeat's whole JSON object (the caller cJSON_Deletes it), or NULL. */
cJSON *fakebb_status(fakebb_t *self);
/* A predicate over one heartbeat's "counters" object. */
typedef bool (*fakebb_status_fn)(const cJSON *counters, void *arg);
/* Waits for a heartbeat received from now on whose counters satisfy pred (NULL: any new one).
   Returns a copy of that whole heartbeat (the caller deletes it), or NULL at the timeout. */
cJSON *fakebb_wait_status(fakebb_t *self, int64_t timeout_ms, fakebb_status_fn pred, void *arg);
/* A number in a counters object by dotted path ("rest.queued", "connect_attempts"); -1 when
   it is absent or not a number. */
double fakebb_counter(const cJSON *counters, const char *path);
/* The "counters" object of a heartbeat (NULL-safe). */
const cJSON *fakebb_counters(const cJSON *heartbeat);

/* ---- control ------------------------------------------------------------------------------- */

/* Publishes [topic][body] on bus.control once a subscriber has subscribed to a prefix of topic
   (waits up to timeout_ms for that). Only from the thread that created the fake bookbuilder.
   Returns 0, or -1 when nobody subscribed in time or the send failed. */
int fakebb_publish(fakebb_t *self, const char *topic, const char *body, int64_t timeout_ms);

#endif
