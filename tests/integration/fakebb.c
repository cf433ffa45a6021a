/*
 * fakebb.c — the fake bookbuilder (see fakebb.h).
 *
 * One thread owns the PULL and SUB sockets and does all the receiving, so the collector's PUSH is
 * drained as a real bookbuilder would drain it, whatever the test is doing meanwhile (a GET to
 * the sim, a sleep). The thread never calls cmocka (an assertion cannot jump across threads):
 * what it finds wrong goes into the error and gap lists, which the tests assert on.
 *
 * Frames live in fixed chunks that are allocated once and never moved; the thread fills a slot,
 * then publishes it by raising `count` under the mutex, so a reader that took `count` under the
 * mutex may read every frame below it without one. The XPUB socket belongs to the thread that
 * created the fake bookbuilder (the test's), which alone publishes on it.
 */
#include "fakebb.h"

#include "bus.h"
#include "now.h"
#include "testproc.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_FRAMES 4096
#define CHUNKS_MAX 4096 /* 16 M frames: far beyond any test */
#define POLL_MS 10
#define WAIT_SLICE_MS 50
#define ENDPOINT_MAX 64
#define SUBS_MAX 64
#define ERRORS_KEPT 1000 /* beyond it errors are only counted */

typedef struct {
    char *name; /* NULL: an empty slot */
    size_t frames;
    size_t last_index;
} stream_slot_t;

typedef struct {
    uint64_t instance_id;
    uint32_t conn_id;
    uint64_t last_seq;
    size_t last_index; /* of its latest frame */
    bool down;
} conn_state_t;

struct fakebb {
    char ep_frames[ENDPOINT_MAX], ep_control[ENDPOINT_MAX], ep_status[ENDPOINT_MAX];
    zsock_t *pull, *sub; /* the thread's */
    zsock_t *xpub;       /* the creator's */
    bool pull_bound;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    bool bind_requested;
    int bind_result; /* 0 pending, 1 bound, -1 failed */

    fakebb_frame_t *chunks[CHUNKS_MAX];
    size_t count;

    /* the thread's alone */
    conn_state_t *conns;
    size_t conn_count, conn_cap;
    size_t last_overflow_index; /* SIZE_MAX: none yet */

    /* under mu */
    char **errors; /* the first errors_kept of them, as text */
    size_t error_count, errors_kept, error_cap;
    fakebb_gap_t *gaps;
    size_t gap_count, gap_cap;
    char *status_body;
    uint64_t status_count;
    stream_slot_t *streams; /* open addressing, a power of two */
    size_t stream_cap, streams_used;

    /* the creator's: topic prefixes the XPUB has seen subscribed */
    char *subs[SUBS_MAX];
    size_t sub_count;
};

/* ---- ports -------------------------------------------------------------------------------- */

/* A free port below the kernel's ephemeral range (32768…), so that no outgoing connection of
   the collector can take it while the frame socket waits to be bound. */
static int pick_port(unsigned *seed)
{
    for (int attempt = 0; attempt < 500; attempt++) {
        int port = 10000 + (int)(rand_r(seed) % 22000);
        if (testproc_port_free(port))
            return port;
    }
    return -1;
}

/* ---- the lists the thread fills ------------------------------------------------------------ */

static void add_error(fakebb_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_error(fakebb_t *self, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&self->mu);
    if (self->errors_kept == self->error_count && self->errors_kept < ERRORS_KEPT) {
        if (self->errors_kept == self->error_cap) {
            size_t cap = self->error_cap ? self->error_cap * 2 : 16;
            char **grown = realloc(self->errors, cap * sizeof *grown);
            if (grown) {
                self->errors = grown;
                self->error_cap = cap;
            }
        }
        if (self->errors_kept < self->error_cap)
            self->errors[self->errors_kept++] = strdup(text); /* NULL-safe below */
    }
    self->error_count++;
    pthread_mutex_unlock(&self->mu);
}

static void add_gap(fakebb_t *self, const fakebb_gap_t *gap)
{
    pthread_mutex_lock(&self->mu);
    if (self->gap_count == self->gap_cap) {
        size_t cap = self->gap_cap ? self->gap_cap * 2 : 16;
        fakebb_gap_t *grown = realloc(self->gaps, cap * sizeof *grown);
        if (grown) {
            self->gaps = grown;
            self->gap_cap = cap;
        }
    }
    if (self->gap_count < self->gap_cap)
        self->gaps[self->gap_count++] = *gap;
    pthread_mutex_unlock(&self->mu);
}

static conn_state_t *conn_state(fakebb_t *self, uint64_t instance_id, uint32_t conn_id, bool *fresh)
{
    *fresh = false;
    for (size_t i = self->conn_count; i-- > 0;)
        if (self->conns[i].conn_id == conn_id && self->conns[i].instance_id == instance_id)
            return &self->conns[i];
    if (self->conn_count == self->conn_cap) {
        size_t cap = self->conn_cap ? self->conn_cap * 2 : 32;
        conn_state_t *grown = realloc(self->conns, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->conns = grown;
        self->conn_cap = cap;
    }
    conn_state_t *c = &self->conns[self->conn_count++];
    *c = (conn_state_t){.instance_id = instance_id, .conn_id = conn_id};
    *fresh = true;
    return c;
}

/* ---- streams: a small hash set of names with counts (under mu) ----------------------------- */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static stream_slot_t *stream_slot(stream_slot_t *table, size_t cap, const char *name)
{
    for (size_t i = hash_name(name) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!table[i].name || strcmp(table[i].name, name) == 0)
            return &table[i];
}

static const stream_slot_t *stream_find(const fakebb_t *self, const char *name)
{
    if (!self->stream_cap)
        return NULL;
    const stream_slot_t *s = stream_slot(self->streams, self->stream_cap, name);
    return s->name ? s : NULL;
}

static void stream_count_frame(fakebb_t *self, const char *name, size_t index)
{
    if (self->streams_used * 2 >= self->stream_cap) {
        size_t cap = self->stream_cap ? self->stream_cap * 2 : 1024;
        stream_slot_t *grown = calloc(cap, sizeof *grown);
        if (!grown)
            return;
        for (size_t i = 0; i < self->stream_cap; i++)
            if (self->streams[i].name)
                *stream_slot(grown, cap, self->streams[i].name) = self->streams[i];
        free(self->streams);
        self->streams = grown;
        self->stream_cap = cap;
    }
    stream_slot_t *s = stream_slot(self->streams, self->stream_cap, name);
    if (!s->name) {
        s->name = strdup(name);
        if (!s->name)
            return;
        self->streams_used++;
    }
    s->frames++;
    s->last_index = index;
}

/* ---- one frame ------------------------------------------------------------------------------ */

static void check_sequence(fakebb_t *self, const fakebb_frame_t *f)
{
    bool fresh;
    conn_state_t *c = conn_state(self, f->instance_id, f->conn_id, &fresh);
    if (!c) {
        add_error(self, "out of memory tracking connections");
        return;
    }
    const char *kind = envelope_kind_name(f->kind);
    if (f->conn_id != ENVELOPE_CONN_NONE) {
        if (fresh && (f->kind != ENVELOPE_CONN_UP || f->seq != 1))
            add_error(self, "frame %zu: conn %u begins with %s seq %llu, not CONN_UP seq 1",
                      f->index, f->conn_id, kind, (unsigned long long)f->seq);
        if (!fresh && f->kind == ENVELOPE_CONN_UP)
            add_error(self, "frame %zu: conn %u has a second CONN_UP (seq %llu)", f->index,
                      f->conn_id, (unsigned long long)f->seq);
        if (c->down)
            add_error(self, "frame %zu: conn %u: %s seq %llu after its CONN_DOWN", f->index,
                      f->conn_id, kind, (unsigned long long)f->seq);
    }
    uint64_t expected = c->last_seq + 1;
    if (f->seq < expected) {
        add_error(self, "frame %zu: conn %u: %s seq %llu after seq %llu (repeated or backwards)",
                  f->index, f->conn_id, kind, (unsigned long long)f->seq,
                  (unsigned long long)c->last_seq);
    } else if (f->seq > expected && !(fresh && f->conn_id != ENVELOPE_CONN_NONE)) {
        fakebb_gap_t gap = {
            .instance_id = f->instance_id,
            .conn_id = f->conn_id,
            .expected = expected,
            .got = f->seq,
            .frame_index = f->index,
            .overflow_announced = self->last_overflow_index != SIZE_MAX &&
                                  (fresh || self->last_overflow_index > c->last_index),
        };
        add_gap(self, &gap);
    }
    if (f->seq > c->last_seq)
        c->last_seq = f->seq;
    c->last_index = f->index;
    if (f->kind == ENVELOPE_CONN_DOWN)
        c->down = true;
}

/* The "stream" of a combined message, which Binance (and the sim) writes first. */
static void combined_stream(const char *payload, size_t len, char *out, size_t out_len)
{
    static const char prefix[] = "{\"stream\":\"";
    out[0] = '\0';
    if (len < sizeof prefix || memcmp(payload, prefix, sizeof prefix - 1) != 0)
        return;
    const char *start = payload + sizeof prefix - 1;
    const char *end = memchr(start, '"', len - (sizeof prefix - 1));
    if (end && (size_t)(end - start) < out_len) {
        memcpy(out, start, (size_t)(end - start));
        out[end - start] = '\0';
    }
}

static void take_frame(fakebb_t *self, const void *data, size_t len)
{
    size_t index = self->count; /* only this thread changes count */
    envelope_header_t h;
    const void *payload;
    size_t payload_len;
    char err[200];
    if (envelope_decode(data, len, &h, &payload, &payload_len, err, sizeof err) != 0) {
        add_error(self, "message %zu (%zu bytes) is not a valid frame: %s", index, len, err);
        return;
    }
    size_t chunk = index / CHUNK_FRAMES;
    if (chunk >= CHUNKS_MAX) {
        add_error(self, "more than %d frames: not kept", CHUNKS_MAX * CHUNK_FRAMES);
        return;
    }
    if (!self->chunks[chunk]) {
        self->chunks[chunk] = calloc(CHUNK_FRAMES, sizeof(fakebb_frame_t));
        if (!self->chunks[chunk]) {
            add_error(self, "out of memory keeping frame %zu", index);
            return;
        }
    }
    fakebb_frame_t *f = &self->chunks[chunk][index % CHUNK_FRAMES];
    *f = (fakebb_frame_t){
        .index = index,
        .arrived_ms = now_monotonic_ms(),
        .kind = h.kind,
        .flags = h.flags,
        .instance_id = h.instance_id,
        .conn_id = h.conn_id,
        .seq = h.seq,
        .recv_ts_ns = h.recv_ts_ns,
        .request_id = h.request_id,
        .http_status = h.http_status,
        .payload_len = payload_len,
    };
    snprintf(f->symbol, sizeof f->symbol, "%s", h.symbol);
    f->payload = malloc(payload_len + 1);
    if (!f->payload) {
        add_error(self, "out of memory copying frame %zu", index);
        return;
    }
    if (payload_len)
        memcpy(f->payload, payload, payload_len);
    f->payload[payload_len] = '\0';
    if (h.kind == ENVELOPE_WS_TEXT)
        combined_stream(f->payload, payload_len, f->stream, sizeof f->stream);
    if (h.kind == ENVELOPE_CONN_UP || h.kind == ENVELOPE_CONN_DOWN || h.kind == ENVELOPE_OVERFLOW) {
        f->ctl = envelope_control_parse(h.kind, payload, payload_len, err, sizeof err);
        if (!f->ctl)
            add_error(self, "frame %zu: %s payload refused: %s", index, envelope_kind_name(h.kind),
                      err);
    }
    check_sequence(self, f);
    if (h.kind == ENVELOPE_OVERFLOW)
        self->last_overflow_index = index;
    pthread_mutex_lock(&self->mu);
    if (f->stream[0])
        stream_count_frame(self, f->stream, index);
    self->count = index + 1;
    pthread_cond_broadcast(&self->cond);
    pthread_mutex_unlock(&self->mu);
}

static void drain_frames(fakebb_t *self)
{
    void *raw = zsock_resolve(self->pull);
    for (int budget = 0; budget < 20000; budget++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        bool more = zmq_msg_more(&msg);
        take_frame(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
        zmq_msg_close(&msg);
        if (more) {
            add_error(self, "a frame came as a multipart message (one frame is one message)");
            /* skip the rest of it */
            do {
                zmq_msg_init(&msg);
                if (zmq_msg_recv(&msg, raw, ZMQ_DONTWAIT) < 0) {
                    zmq_msg_close(&msg);
                    return;
                }
                more = zmq_msg_more(&msg);
                zmq_msg_close(&msg);
            } while (more);
        }
    }
}

static void drain_status(fakebb_t *self)
{
    for (int budget = 0; budget < 100; budget++) {
        zmsg_t *msg = zmsg_recv_nowait(self->sub);
        if (!msg)
            return;
        zframe_t *topic = zmsg_first(msg), *body = zmsg_next(msg);
        if (topic && body) {
            char *text = malloc(zframe_size(body) + 1);
            if (text) {
                memcpy(text, zframe_data(body), zframe_size(body));
                text[zframe_size(body)] = '\0';
                pthread_mutex_lock(&self->mu);
                free(self->status_body);
                self->status_body = text;
                self->status_count++;
                pthread_cond_broadcast(&self->cond);
                pthread_mutex_unlock(&self->mu);
            }
        }
        zmsg_destroy(&msg);
    }
}

static int bind_pull(fakebb_t *self)
{
    char err[200];
    self->pull = bus_bind(ZMQ_PULL, self->ep_frames, err, sizeof err);
    if (!self->pull) {
        fprintf(stderr, "fakebb: %s\n", err);
        return -1;
    }
    zsock_set_rcvhwm(self->pull, 100000);
    zsock_set_linger(self->pull, 0);
    self->pull_bound = true;
    return 0;
}

static void *run(void *arg)
{
    fakebb_t *self = arg;
    for (;;) {
        pthread_mutex_lock(&self->mu);
        bool stop = self->stop;
        bool bind_now = self->bind_requested && !self->pull_bound;
        pthread_mutex_unlock(&self->mu);
        if (stop)
            break;
        if (bind_now) {
            int rc = bind_pull(self);
            pthread_mutex_lock(&self->mu);
            self->bind_result = rc == 0 ? 1 : -1;
            self->bind_requested = false;
            pthread_cond_broadcast(&self->cond);
            pthread_mutex_unlock(&self->mu);
        }
        zmq_pollitem_t items[2] = {
            {zsock_resolve(self->sub), 0, ZMQ_POLLIN, 0},
            {self->pull_bound ? zsock_resolve(self->pull) : NULL, 0, ZMQ_POLLIN, 0},
        };
        int n = zmq_poll(items, self->pull_bound ? 2 : 1, POLL_MS);
        if (n < 0 && zmq_errno() != EINTR)
            break;
        if (self->pull_bound)
            drain_frames(self);
        drain_status(self);
    }
    return NULL;
}

/* ---- life ----------------------------------------------------------------------------------- */

fakebb_t *fakebb_new(bool bind_frames)
{
    zsys_handler_set(NULL); /* the test's signals stay the test's */
    fakebb_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cond, NULL);
    self->last_overflow_index = SIZE_MAX;
    unsigned seed = (unsigned)getpid() ^ (unsigned)now_monotonic_ns();
    int ports[3];
    for (int i = 0; i < 3; i++) {
        ports[i] = pick_port(&seed);
        if (ports[i] < 0 || (i > 0 && ports[i] == ports[0]) || (i > 1 && ports[i] == ports[1])) {
            fprintf(stderr, "fakebb: no free port\n");
            fakebb_destroy(&self);
            return NULL;
        }
    }
    snprintf(self->ep_frames, sizeof self->ep_frames, "tcp://127.0.0.1:%d", ports[0]);
    snprintf(self->ep_control, sizeof self->ep_control, "tcp://127.0.0.1:%d", ports[1]);
    snprintf(self->ep_status, sizeof self->ep_status, "tcp://127.0.0.1:%d", ports[2]);
    char err[200];
    self->xpub = zsock_new(ZMQ_XPUB);
    if (self->xpub) {
        zsock_set_xpub_verbose(self->xpub, 1);
        zsock_set_linger(self->xpub, 0);
        if (zsock_bind(self->xpub, "%s", self->ep_control) == -1) {
            fprintf(stderr, "fakebb: bind %s: %s\n", self->ep_control, zmq_strerror(zmq_errno()));
            zsock_destroy(&self->xpub);
        }
    }
    self->sub = bus_bind(ZMQ_SUB, self->ep_status, err, sizeof err);
    if (!self->xpub || !self->sub) {
        if (!self->sub)
            fprintf(stderr, "fakebb: %s\n", err);
        fakebb_destroy(&self);
        return NULL;
    }
    zsock_set_subscribe(self->sub, "status.collector.");
    zsock_set_linger(self->sub, 0);
    if (bind_frames && bind_pull(self) != 0) {
        fakebb_destroy(&self);
        return NULL;
    }
    if (pthread_create(&self->thread, NULL, run, self) != 0) {
        fprintf(stderr, "fakebb: cannot start its thread\n");
        fakebb_destroy(&self);
        return NULL;
    }
    self->thread_started = true;
    return self;
}

void fakebb_destroy(fakebb_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fakebb_t *self = *self_p;
    if (self->thread_started) {
        pthread_mutex_lock(&self->mu);
        self->stop = true;
        pthread_mutex_unlock(&self->mu);
        pthread_join(self->thread, NULL);
    }
    zsock_destroy(&self->pull);
    zsock_destroy(&self->sub);
    zsock_destroy(&self->xpub);
    for (size_t c = 0; c < CHUNKS_MAX && self->chunks[c]; c++) {
        for (size_t i = 0; i < CHUNK_FRAMES && c * CHUNK_FRAMES + i < self->count; i++) {
            fakebb_frame_t *f = &self->chunks[c][i];
            free(f->payload);
            envelope_control_destroy(&f->ctl);
        }
        free(self->chunks[c]);
    }
    for (size_t i = 0; i < self->errors_kept; i++)
        free(self->errors[i]);
    free(self->errors);
    free(self->gaps);
    free(self->conns);
    free(self->status_body);
    for (size_t i = 0; i < self->stream_cap; i++)
        free(self->streams[i].name);
    free(self->streams);
    for (size_t i = 0; i < self->sub_count; i++)
        free(self->subs[i]);
    pthread_cond_destroy(&self->cond);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}

const char *fakebb_frames_endpoint(const fakebb_t *self)
{
    return self->ep_frames;
}

const char *fakebb_control_endpoint(const fakebb_t *self)
{
    return self->ep_control;
}

const char *fakebb_status_endpoint(const fakebb_t *self)
{
    return self->ep_status;
}

int fakebb_bind_frames(fakebb_t *self)
{
    pthread_mutex_lock(&self->mu);
    if (self->bind_result == 1 || self->pull_bound) {
        pthread_mutex_unlock(&self->mu);
        return 0;
    }
    self->bind_requested = true;
    self->bind_result = 0;
    int64_t deadline = now_monotonic_ms() + 5000;
    while (self->bind_result == 0 && now_monotonic_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&self->cond, &self->mu, &ts);
    }
    int rc = self->bind_result == 1 ? 0 : -1;
    pthread_mutex_unlock(&self->mu);
    return rc;
}

/* ---- frames --------------------------------------------------------------------------------- */

size_t fakebb_count(fakebb_t *self)
{
    pthread_mutex_lock(&self->mu);
    size_t n = self->count;
    pthread_mutex_unlock(&self->mu);
    return n;
}

const fakebb_frame_t *fakebb_frame(const fakebb_t *self, size_t i)
{
    return &self->chunks[i / CHUNK_FRAMES][i % CHUNK_FRAMES];
}

/* Waits on the condition for at most ms (something arrived, or the time passed). */
static void wait_a_little(fakebb_t *self, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->mu);
    pthread_cond_timedwait(&self->cond, &self->mu, &ts);
    pthread_mutex_unlock(&self->mu);
}

bool fakebb_wait(fakebb_t *self, int64_t timeout_ms, fakebb_pred_fn pred, void *arg)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    for (;;) {
        if (pred(self, arg))
            return true;
        int64_t left = deadline - now_monotonic_ms();
        if (left <= 0)
            return pred(self, arg);
        wait_a_little(self, left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS);
    }
}

size_t fakebb_count_kind(fakebb_t *self, envelope_kind_t kind, uint32_t conn_id, size_t from)
{
    size_t n = fakebb_count(self), hits = 0;
    for (size_t i = from; i < n; i++) {
        const fakebb_frame_t *f = fakebb_frame(self, i);
        if ((kind == 0 || f->kind == kind) && (conn_id == UINT32_MAX || f->conn_id == conn_id))
            hits++;
    }
    return hits;
}

const fakebb_frame_t *fakebb_find(fakebb_t *self, envelope_kind_t kind, uint32_t conn_id,
                                  size_t from)
{
    size_t n = fakebb_count(self);
    for (size_t i = from; i < n; i++) {
        const fakebb_frame_t *f = fakebb_frame(self, i);
        if ((kind == 0 || f->kind == kind) && (conn_id == UINT32_MAX || f->conn_id == conn_id))
            return f;
    }
    return NULL;
}

typedef struct {
    envelope_kind_t kind;
    uint32_t conn_id;
    size_t next; /* scanned up to here */
    size_t seen, want;
} kind_wait_t;

static bool enough_of_kind(fakebb_t *self, void *arg)
{
    kind_wait_t *w = arg;
    size_t n = fakebb_count(self);
    for (; w->next < n; w->next++) {
        const fakebb_frame_t *f = fakebb_frame(self, w->next);
        if ((w->kind == 0 || f->kind == w->kind) &&
            (w->conn_id == UINT32_MAX || f->conn_id == w->conn_id))
            w->seen++;
    }
    return w->seen >= w->want;
}

bool fakebb_wait_kind(fakebb_t *self, envelope_kind_t kind, uint32_t conn_id, size_t from, size_t n,
                      int64_t timeout_ms)
{
    kind_wait_t w = {kind, conn_id, from, 0, n};
    return fakebb_wait(self, timeout_ms, enough_of_kind, &w);
}

size_t fakebb_stream_frames(fakebb_t *self, const char *stream)
{
    pthread_mutex_lock(&self->mu);
    const stream_slot_t *s = stream_find(self, stream);
    size_t n = s ? s->frames : 0;
    pthread_mutex_unlock(&self->mu);
    return n;
}

size_t fakebb_stream_last(fakebb_t *self, const char *stream)
{
    pthread_mutex_lock(&self->mu);
    const stream_slot_t *s = stream_find(self, stream);
    size_t i = s ? s->last_index : SIZE_MAX;
    pthread_mutex_unlock(&self->mu);
    return i;
}

size_t fakebb_streams_seen(fakebb_t *self)
{
    pthread_mutex_lock(&self->mu);
    size_t n = self->streams_used;
    pthread_mutex_unlock(&self->mu);
    return n;
}

bool fakebb_ctl_has_stream(const envelope_control_t *ctl, const char *stream)
{
    for (size_t i = 0; ctl && i < ctl->stream_count; i++)
        if (strcmp(ctl->streams[i], stream) == 0)
            return true;
    return false;
}

/* ---- the checks ---------------------------------------------------------------------------- */

size_t fakebb_error_count(fakebb_t *self)
{
    pthread_mutex_lock(&self->mu);
    size_t n = self->error_count;
    pthread_mutex_unlock(&self->mu);
    return n;
}

const char *fakebb_error(fakebb_t *self, size_t i, char *buf, size_t len)
{
    pthread_mutex_lock(&self->mu);
    if (i < self->errors_kept && self->errors[i])
        snprintf(buf, len, "%s", self->errors[i]);
    else
        snprintf(buf, len, "(error %zu not kept)", i);
    pthread_mutex_unlock(&self->mu);
    return buf;
}

size_t fakebb_gap_count(fakebb_t *self)
{
    pthread_mutex_lock(&self->mu);
    size_t n = self->gap_count;
    pthread_mutex_unlock(&self->mu);
    return n;
}

bool fakebb_gap(fakebb_t *self, size_t i, fakebb_gap_t *out)
{
    pthread_mutex_lock(&self->mu);
    bool ok = i < self->gap_count;
    if (ok)
        *out = self->gaps[i];
    pthread_mutex_unlock(&self->mu);
    return ok;
}

void fakebb_report(fakebb_t *self, size_t max)
{
    size_t errors = fakebb_error_count(self), gaps = fakebb_gap_count(self);
    fprintf(stderr, "fakebb: %zu frames, %zu errors, %zu gaps\n", fakebb_count(self), errors, gaps);
    char buf[400];
    for (size_t i = 0; i < errors && i < max; i++)
        fprintf(stderr, "  error: %s\n", fakebb_error(self, i, buf, sizeof buf));
    for (size_t i = 0; i < gaps && i < max; i++) {
        fakebb_gap_t g;
        if (fakebb_gap(self, i, &g))
            fprintf(stderr, "  gap: conn %u seq %llu expected, %llu came (frame %zu)%s\n",
                    g.conn_id, (unsigned long long)g.expected, (unsigned long long)g.got,
                    g.frame_index, g.overflow_announced ? ", after an OVERFLOW" : "");
    }
}

/* ---- status heartbeats --------------------------------------------------------------------- */

uint64_t fakebb_status_count(fakebb_t *self)
{
    pthread_mutex_lock(&self->mu);
    uint64_t n = self->status_count;
    pthread_mutex_unlock(&self->mu);
    return n;
}

cJSON *fakebb_status(fakebb_t *self)
{
    pthread_mutex_lock(&self->mu);
    cJSON *copy = self->status_body ? cJSON_Parse(self->status_body) : NULL;
    pthread_mutex_unlock(&self->mu);
    return copy;
}

cJSON *fakebb_wait_status(fakebb_t *self, int64_t timeout_ms, fakebb_status_fn pred, void *arg)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    uint64_t seen = fakebb_status_count(self);
    for (;;) {
        pthread_mutex_lock(&self->mu);
        cJSON *hb = NULL;
        if (self->status_count > seen) {
            seen = self->status_count;
            hb = self->status_body ? cJSON_Parse(self->status_body) : NULL;
        }
        pthread_mutex_unlock(&self->mu);
        if (hb) {
            if (!pred || pred(fakebb_counters(hb), arg))
                return hb;
            cJSON_Delete(hb);
        }
        int64_t left = deadline - now_monotonic_ms();
        if (left <= 0)
            return NULL;
        wait_a_little(self, left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS);
    }
}

const cJSON *fakebb_counters(const cJSON *heartbeat)
{
    return heartbeat ? cJSON_GetObjectItemCaseSensitive(heartbeat, "counters") : NULL;
}

double fakebb_counter(const cJSON *counters, const char *path)
{
    const cJSON *node = counters;
    char part[64];
    const char *p = path;
    while (node && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part)
            return -1;
        memcpy(part, p, n);
        part[n] = '\0';
        node = cJSON_GetObjectItemCaseSensitive(node, part);
        p = dot ? dot + 1 : p + n;
    }
    return cJSON_IsNumber(node) ? node->valuedouble : -1;
}

/* ---- control ------------------------------------------------------------------------------- */

static void read_subscriptions(fakebb_t *self)
{
    for (;;) {
        zframe_t *frame = zframe_recv_nowait(self->xpub);
        if (!frame)
            return;
        const unsigned char *d = zframe_data(frame);
        size_t n = zframe_size(frame);
        if (n >= 1 && d[0] == 1 && self->sub_count < SUBS_MAX) {
            char *topic = malloc(n);
            if (topic) {
                memcpy(topic, d + 1, n - 1);
                topic[n - 1] = '\0';
                self->subs[self->sub_count++] = topic;
            }
        }
        zframe_destroy(&frame);
    }
}

static bool subscribed(const fakebb_t *self, const char *topic)
{
    for (size_t i = 0; i < self->sub_count; i++)
        if (strncmp(topic, self->subs[i], strlen(self->subs[i])) == 0)
            return true;
    return false;
}

int fakebb_publish(fakebb_t *self, const char *topic, const char *body, int64_t timeout_ms)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    read_subscriptions(self);
    while (!subscribed(self, topic)) {
        int64_t left = deadline - now_monotonic_ms();
        if (left <= 0) {
            fprintf(stderr, "fakebb: nobody subscribed to %s within %lld ms\n", topic,
                    (long long)timeout_ms);
            return -1;
        }
        zmq_pollitem_t item = {zsock_resolve(self->xpub), 0, ZMQ_POLLIN, 0};
        zmq_poll(&item, 1, left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS);
        read_subscriptions(self);
    }
    if (bus_send(self->xpub, topic, body, strlen(body)) != 0) {
        fprintf(stderr, "fakebb: publishing %s failed: %s\n", topic, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}
