/*
 * pipeline.c — the sim, the bookbuilder and three collectors for one test (see pipeline.h).
 *
 * Ports. The bookbuilder binds four endpoints the collectors and the test connect to, so their
 * ports are chosen before it starts: random free ports below the kernel's ephemeral range (an
 * outgoing connection cannot take them between the check and the bind), and when the
 * bookbuilder still fails to start (another test took one meanwhile) it is started again on new
 * ones. The status SUB is the test's own socket, bound on a port ZeroMQ picks.
 *
 * Order. The data SUB must hold a live subscription before the first message is published, or
 * ZeroMQ drops that message for it and the test would see seq 2 first. The bookbuilder publishes
 * nothing until a collector sends frames, so the SUB connects right after the bookbuilder is up,
 * waits for its ZMTP handshake (a socket monitor; the subscription goes out with it), and only
 * then are the collectors started. Likewise the bookbuilder's first heartbeat is waited for, so
 * that its last one ("stopped") cannot be lost to a connection still being made.
 *
 * The reader thread owns both SUB sockets once started; the DEALER and every GET stay on the
 * caller's thread. Shared state (topics, statuses, subscriber books, heartbeats) is under one
 * mutex; waits poll it.
 */
#include "pipeline.h"

#include "bookbuilderproc.h"
#include "collectorproc.h"
#include "now.h"
#include "simtest.h"
#include "testproc.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define START_ATTEMPTS 3
#define HANDSHAKE_TIMEOUT_MS 5000
#define FIRST_HEARTBEAT_TIMEOUT_MS 5000
#define STATUS_INTERVAL_MS 500 /* heartbeats twice a second: tests wait on them */
#define COLLECTOR_STOP_MS 6000 /* collector.shutdown_flush_ms is 1.5 s */
#define BOOKBUILDER_STOP_MS 10000
#define SEQ_ERRORS_KEPT 8
#define POLL_MS 20
#define READER_BATCH 2000 /* messages read from one socket before the other gets a turn */

static const char *const SYMBOLS[PIPELINE_MARKETS][PIPELINE_SYMBOLS] = {
    {"BTCUSDT", "ETHUSDT", "BNBUSDT"},
    {"BTCUSDT", "ETHUSDT", "BTCUSDT_251226"},
    {"BTCUSD_PERP", "ETHUSD_PERP", "BTCUSD_251226"},
};

typedef struct {
    char name[96];
    uint64_t messages;
    uint64_t last_seq;
} topic_t;

/* One (re)sync of a book as the subscriber saw it: from a "snapshot" message on. */
typedef struct {
    uint64_t snapshot_seq;
    uint64_t lid;       /* the REST snapshot's lastUpdateId (the message's first_id) */
    uint64_t synced_id; /* its last_id: the book's id once the buffered events were applied */
    bool full_seen[2];  /* as pipeline_model_t, while this epoch lasted */
    dec_t full_worst[2];
    bool depth_resolved;     /* the snapshot's depth is known (from the truth at lid) */
    bool truncated[2];       /* the truth side at lid was deeper than the snapshot */
    dec_t snapshot_worst[2]; /* then: the snapshot's worst price on that side */
    tc_levels_t synced[2];   /* the snapshot message's levels */
    /* Levels the bookbuilder dropped while it applied the buffered events on a full side,
       which no message shows: the best of them; it and worse prices are not surely held. */
    bool lost[2];
    dec_t lost_from[2];
    char sync_problem[300]; /* a loss at sync that a full side cannot explain */
} epoch_t;

typedef struct {
    pipeline_model_t model;
    epoch_t *epochs;
    size_t epoch_count, epoch_cap;
} book_view_t;

typedef struct {
    char topic[96];
    char *last; /* the last body */
    uint64_t count;
    bool stopped;
} heartbeat_slot_t;

struct pipeline {
    simproc_t *sim;
    bookbuilderproc_t *bb;
    collectorproc_t *collectors[PIPELINE_MARKETS];
    char ep_frames[64], ep_control[64], ep_data[64], ep_snapshot[64], ep_status[64];
    zsock_t *data;     /* SUB, reader thread */
    zsock_t *status;   /* SUB bound on bus.status, reader thread */
    zsock_t *snapshot; /* DEALER, caller's thread */
    pipeline_message_fn *on_message;
    void *arg;

    pthread_t reader;
    bool reader_running;
    pthread_mutex_t lock;
    /* under lock: */
    bool stop;
    topic_t *topics;
    size_t topic_count, topic_cap;
    zhashx_t *topic_index; /* name → index + 1 */
    size_t seq_errors;
    char seq_error_text[SEQ_ERRORS_KEPT][200];
    uint64_t messages;
    pipeline_status_t books[PIPELINE_BOOKS];
    book_view_t views[PIPELINE_BOOKS];
    pipeline_status_t *history;
    size_t history_count, history_cap;
    heartbeat_slot_t *heartbeats;
    size_t heartbeat_count, heartbeat_cap;
    size_t sync_losses;     /* (re)syncs that dropped levels on a full side */
    long sync_loss_highest; /* the smallest truth index of such a level (-1: none) */
};

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *pipeline_symbol(market_t market, size_t i)
{
    if (market < MARKET_SPOT || market > MARKET_COINM || i >= PIPELINE_SYMBOLS)
        return NULL;
    return SYMBOLS[market - 1][i];
}

static int book_index(market_t market, const char *symbol)
{
    for (size_t i = 0; i < PIPELINE_SYMBOLS; i++)
        if (market >= MARKET_SPOT && market <= MARKET_COINM &&
            strcmp(SYMBOLS[market - 1][i], symbol) == 0)
            return (int)((market - 1) * PIPELINE_SYMBOLS + i);
    return -1;
}

/* ---- ports -------------------------------------------------------------------------------- */

/* `n` distinct free ports in 10000…31999. */
static int pick_ports(int *ports, int n)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)now_monotonic_ns();
    for (int i = 0; i < n; i++) {
        int attempts = 0;
        for (;;) {
            if (++attempts > 500)
                return -1;
            int port = 10000 + (int)(rand_r(&seed) % 22000);
            bool taken = false;
            for (int k = 0; k < i; k++)
                taken |= ports[k] == port;
            if (!taken && testproc_port_free(port)) {
                ports[i] = port;
                break;
            }
        }
    }
    return 0;
}

/* ---- the reader --------------------------------------------------------------------------- */

static void seq_error(pipeline_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seq_error(pipeline_t *self, const char *fmt, ...)
{
    if (self->seq_errors < SEQ_ERRORS_KEPT) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(self->seq_error_text[self->seq_errors], sizeof self->seq_error_text[0], fmt, ap);
        va_end(ap);
    }
    self->seq_errors++;
}

/* The topic's record, created on first sight. Under lock. */
static topic_t *topic_get(pipeline_t *self, const char *name)
{
    uintptr_t at = (uintptr_t)zhashx_lookup(self->topic_index, name);
    if (at)
        return &self->topics[at - 1];
    if (self->topic_count == self->topic_cap) {
        size_t cap = self->topic_cap ? self->topic_cap * 2 : 64;
        topic_t *grown = realloc(self->topics, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->topics = grown;
        self->topic_cap = cap;
    }
    topic_t *t = &self->topics[self->topic_count++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    zhashx_insert(self->topic_index, name, (void *)(uintptr_t)self->topic_count);
    return t;
}

static void copy_string(const cJSON *obj, const char *key, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    snprintf(out, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static uint64_t get_u64(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (uint64_t)v->valuedouble : 0;
}

/* A status message of a book. Under lock. */
static void note_status(pipeline_t *self, market_t market, const char *symbol, const cJSON *json,
                        uint64_t seq, int64_t mono_ms)
{
    pipeline_status_t st;
    memset(&st, 0, sizeof st);
    st.market = market;
    snprintf(st.symbol, sizeof st.symbol, "%s", symbol);
    copy_string(json, "state", st.state, sizeof st.state);
    copy_string(json, "reason", st.reason, sizeof st.reason);
    st.update_id = get_u64(json, "update_id");
    st.resyncs = get_u64(json, "resyncs");
    st.pub_ns = (int64_t)get_u64(json, "pub_ns");
    st.seq = seq;
    st.mono_ms = mono_ms;
    int b = book_index(market, symbol);
    if (b >= 0)
        self->books[b] = st;
    if (self->history_count == self->history_cap) {
        size_t cap = self->history_cap ? self->history_cap * 2 : 256;
        pipeline_status_t *grown = realloc(self->history, cap * sizeof *grown);
        if (!grown)
            return;
        self->history = grown;
        self->history_cap = cap;
    }
    self->history[self->history_count++] = st;
}

/* Receives one multi-part message without waiting: its parts into parts[] (at most max, each
   NUL-terminated, malloc'd). Returns the number of parts, 0 when nothing was waiting. */
static int recv_parts(void *sock, char **parts, size_t *lens, int max)
{
    int n = 0;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (;;) {
        if (zmq_msg_recv(&msg, sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0)
            break;
        if (n < max) {
            size_t len = zmq_msg_size(&msg);
            parts[n] = malloc(len + 1);
            if (parts[n]) {
                memcpy(parts[n], zmq_msg_data(&msg), len);
                parts[n][len] = '\0';
            }
            lens[n] = len;
        }
        n++;
        if (!zmq_msg_more(&msg))
            break;
    }
    zmq_msg_close(&msg);
    return n;
}

static void free_parts(char **parts, int n, int max)
{
    for (int i = 0; i < n && i < max; i++)
        free(parts[i]);
}

/* A book message: onto the subscriber's book of (market, symbol). Under lock. */
static void note_book(pipeline_t *self, market_t market, const char *symbol, const cJSON *json)
{
    int b = book_index(market, symbol);
    if (b < 0)
        return;
    book_view_t *v = &self->views[b];
    char err[160];
    if (pipeline_model_apply(&v->model, json, err, sizeof err) != 0) {
        seq_error(self, "book.%s.%s: %s", market_name(market), symbol, err);
        return;
    }
    if (v->model.snapshot_seq == v->model.seq) {
        if (v->epoch_count == v->epoch_cap) {
            size_t cap = v->epoch_cap ? v->epoch_cap * 2 : 16;
            epoch_t *grown = realloc(v->epochs, cap * sizeof *grown);
            if (!grown)
                return;
            v->epochs = grown;
            v->epoch_cap = cap;
        }
        epoch_t *e = &v->epochs[v->epoch_count++];
        memset(e, 0, sizeof *e);
        e->snapshot_seq = v->model.seq;
        e->lid = v->model.snapshot_first_id;
        e->synced_id = v->model.update_id;
        const tc_levels_t *from[2] = {&v->model.book.bids.levels, &v->model.book.asks.levels};
        for (int s = 0; s < 2; s++)
            for (size_t i = 0; i < from[s]->n; i++)
                if (tc_levels_push(&e->synced[s], from[s]->v[i].price, from[s]->v[i].qty) != 0)
                    seq_error(self, "book.%s.%s: out of memory", market_name(market), symbol);
    }
    if (v->epoch_count) {
        epoch_t *e = &v->epochs[v->epoch_count - 1];
        for (int s = 0; s < 2; s++) {
            e->full_seen[s] = v->model.full_seen[s];
            e->full_worst[s] = v->model.full_worst[s];
        }
    }
}

static void on_data(pipeline_t *self, char *topic, char *body, size_t len)
{
    int64_t mono_ms = now_monotonic_ms();
    cJSON *json = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *seqv = json ? cJSON_GetObjectItemCaseSensitive(json, "seq") : NULL;
    char channel[32] = "", market_text[16] = "", symbol[48] = "";
    const char *d1 = topic ? strchr(topic, '.') : NULL;
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (d1 && d2 && (size_t)(d1 - topic) < sizeof channel &&
        (size_t)(d2 - d1 - 1) < sizeof market_text && strlen(d2 + 1) < sizeof symbol) {
        memcpy(channel, topic, (size_t)(d1 - topic));
        channel[d1 - topic] = '\0';
        memcpy(market_text, d1 + 1, (size_t)(d2 - d1 - 1));
        market_text[d2 - d1 - 1] = '\0';
        strcpy(symbol, d2 + 1);
    }
    market_t market = MARKET_SPOT;
    bool named = symbol[0] && market_parse(market_text, &market) == 0;
    pthread_mutex_lock(&self->lock);
    self->messages++;
    uint64_t seq = 0;
    if (!named || !cJSON_IsNumber(seqv) || seqv->valuedouble < 1) {
        seq_error(self, "unreadable message on %s: %.80s", topic ? topic : "?",
                  body ? body : "(no body)");
    } else {
        seq = (uint64_t)seqv->valuedouble;
        topic_t *t = topic_get(self, topic);
        if (t) {
            if (t->messages == 0 && seq != 1)
                seq_error(self, "%s: first seq %" PRIu64, topic, seq);
            else if (t->messages > 0 && seq != t->last_seq + 1)
                seq_error(self, "%s: seq %" PRIu64 " after %" PRIu64, topic, seq, t->last_seq);
            t->messages++;
            t->last_seq = seq;
        }
        if (strcmp(channel, "status") == 0)
            note_status(self, market, symbol, json, seq, mono_ms);
        else if (strcmp(channel, "book") == 0)
            note_book(self, market, symbol, json);
    }
    pthread_mutex_unlock(&self->lock);
    if (named && seq && self->on_message) {
        pipeline_msg_t m = {
            .topic = topic,
            .channel = channel,
            .market = market,
            .symbol = symbol,
            .body = body,
            .len = len,
            .json = json,
            .seq = seq,
            .mono_ms = mono_ms,
        };
        self->on_message(self->arg, &m);
    }
    cJSON_Delete(json);
}

static void on_heartbeat(pipeline_t *self, const char *topic, char *body, size_t len)
{
    cJSON *json = cJSON_ParseWithLength(body, len);
    const cJSON *state = json ? cJSON_GetObjectItemCaseSensitive(json, "state") : NULL;
    bool stopped = cJSON_IsString(state) && strcmp(state->valuestring, "stopped") == 0;
    cJSON_Delete(json);
    pthread_mutex_lock(&self->lock);
    heartbeat_slot_t *slot = NULL;
    for (size_t i = 0; i < self->heartbeat_count; i++)
        if (strcmp(self->heartbeats[i].topic, topic) == 0)
            slot = &self->heartbeats[i];
    if (!slot && self->heartbeat_count == self->heartbeat_cap) {
        size_t cap = self->heartbeat_cap ? self->heartbeat_cap * 2 : 8;
        heartbeat_slot_t *grown = realloc(self->heartbeats, cap * sizeof *grown);
        if (grown) {
            self->heartbeats = grown;
            self->heartbeat_cap = cap;
        }
    }
    if (!slot && self->heartbeat_count < self->heartbeat_cap) {
        slot = &self->heartbeats[self->heartbeat_count++];
        memset(slot, 0, sizeof *slot);
        snprintf(slot->topic, sizeof slot->topic, "%s", topic);
    }
    if (slot) {
        free(slot->last);
        slot->last = strdup(body);
        slot->count++;
        slot->stopped |= stopped;
    }
    pthread_mutex_unlock(&self->lock);
}

/* Reads up to a batch of messages from `sock`. Returns how many. */
static int drain(pipeline_t *self, void *sock, bool data)
{
    int n = 0;
    while (n < READER_BATCH) {
        char *parts[3] = {NULL, NULL, NULL};
        size_t lens[3] = {0, 0, 0};
        int count = recv_parts(sock, parts, lens, 3);
        if (count == 0)
            break;
        n++;
        if (data) {
            if (count != 2) {
                pthread_mutex_lock(&self->lock);
                seq_error(self, "a data message of %d frames on %s", count,
                          parts[0] ? parts[0] : "?");
                pthread_mutex_unlock(&self->lock);
            } else {
                on_data(self, parts[0], parts[1], lens[1]);
            }
        } else if (count == 2 && parts[0] && parts[1]) {
            on_heartbeat(self, parts[0], parts[1], lens[1]);
        }
        free_parts(parts, count, 3);
    }
    return n;
}

static void *reader_main(void *arg)
{
    pipeline_t *self = arg;
    void *data = zsock_resolve(self->data);
    void *status = zsock_resolve(self->status);
    for (;;) {
        pthread_mutex_lock(&self->lock);
        bool stop = self->stop;
        pthread_mutex_unlock(&self->lock);
        if (stop)
            break;
        zmq_pollitem_t items[2] = {{data, 0, ZMQ_POLLIN, 0}, {status, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, 50) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            drain(self, data, true);
        if (items[1].revents & ZMQ_POLLIN)
            drain(self, status, false);
    }
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------- */

/* Connects the data SUB and waits for its handshake with the bookbuilder's PUB. */
static int connect_data(pipeline_t *self)
{
    self->data = zsock_new(ZMQ_SUB);
    if (!self->data)
        return -1;
    zsock_set_rcvhwm(self->data, 0); /* no limit: the test must see every message */
    zsock_set_subscribe(self->data, "");
    char monitor_ep[64];
    snprintf(monitor_ep, sizeof monitor_ep, "inproc://pipeline-monitor-%p", (void *)self);
    if (zmq_socket_monitor(zsock_resolve(self->data), monitor_ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) !=
        0)
        return -1;
    zsock_t *events = zsock_new(ZMQ_PAIR);
    if (!events || zsock_connect(events, "%s", monitor_ep) != 0) {
        zsock_destroy(&events);
        return -1;
    }
    int rc = -1;
    if (zsock_connect(self->data, "%s", self->ep_data) == 0) {
        zsock_set_rcvtimeo(events, HANDSHAKE_TIMEOUT_MS);
        zmsg_t *event = zmsg_recv(events);
        if (event) {
            rc = 0;
            zmsg_destroy(&event);
        } else {
            fprintf(stderr, "pipeline: no handshake with the data bus %s\n", self->ep_data);
        }
    }
    zmq_socket_monitor(zsock_resolve(self->data), NULL, 0);
    zsock_destroy(&events);
    return rc;
}

static int start_bookbuilder(pipeline_t *self, const pipeline_opts_t *opts)
{
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        int ports[4];
        if (pick_ports(ports, 4) != 0) {
            fprintf(stderr, "pipeline: no free ports\n");
            return -1;
        }
        snprintf(self->ep_frames, sizeof self->ep_frames, "tcp://127.0.0.1:%d", ports[0]);
        snprintf(self->ep_control, sizeof self->ep_control, "tcp://127.0.0.1:%d", ports[1]);
        snprintf(self->ep_data, sizeof self->ep_data, "tcp://127.0.0.1:%d", ports[2]);
        snprintf(self->ep_snapshot, sizeof self->ep_snapshot, "tcp://127.0.0.1:%d", ports[3]);
        char sets[16][200];
        int n = 0;
        snprintf(sets[n++], sizeof sets[0], "bus.frames=%s", self->ep_frames);
        snprintf(sets[n++], sizeof sets[0], "bus.control=%s", self->ep_control);
        snprintf(sets[n++], sizeof sets[0], "bus.data=%s", self->ep_data);
        snprintf(sets[n++], sizeof sets[0], "bus.snapshot=%s", self->ep_snapshot);
        snprintf(sets[n++], sizeof sets[0], "bus.status=%s", self->ep_status);
        snprintf(sets[n++], sizeof sets[0], "bus.status_interval_ms=%d", STATUS_INTERVAL_MS);
        for (int m = 0; m < PIPELINE_MARKETS; m++)
            snprintf(sets[n++], sizeof sets[0], "markets.%s.symbols=%s,%s,%s",
                     market_name((market_t)(m + 1)), SYMBOLS[m][0], SYMBOLS[m][1], SYMBOLS[m][2]);
        const char *argv[64];
        int k = 0;
        for (int i = 0; i < n; i++)
            argv[k++] = sets[i];
        for (int i = 0; opts->bookbuilder_sets && opts->bookbuilder_sets[i] && k < 63; i++)
            argv[k++] = opts->bookbuilder_sets[i];
        argv[k] = NULL;
        self->bb = bookbuilderproc_start(argv);
        if (self->bb)
            return 0;
        fprintf(stderr, "pipeline: the bookbuilder did not start (attempt %d)\n", attempt + 1);
    }
    return -1;
}

static int start_collector(pipeline_t *self, market_t market, const pipeline_opts_t *opts)
{
    const char *name = market_name(market);
    char sets[8][200];
    int n = 0;
    snprintf(sets[n++], sizeof sets[0], "markets.%s.symbols=%s,%s,%s", name, SYMBOLS[market - 1][0],
             SYMBOLS[market - 1][1], SYMBOLS[market - 1][2]);
    snprintf(sets[n++], sizeof sets[0], "markets.%s.channels.trade=true", name);
    snprintf(sets[n++], sizeof sets[0], "markets.%s.channels.agg_trade=true", name);
    snprintf(sets[n++], sizeof sets[0], "bus.status_interval_ms=%d", STATUS_INTERVAL_MS);
    const char *argv[64];
    int k = 0;
    for (int i = 0; i < n; i++)
        argv[k++] = sets[i];
    for (int i = 0; opts->collector_sets && opts->collector_sets[i] && k < 63; i++)
        argv[k++] = opts->collector_sets[i];
    argv[k] = NULL;
    collectorproc_opts_t o = {
        .sim = self->sim,
        .market = market,
        .frames = self->ep_frames,
        .control = self->ep_control,
        .status = self->ep_status,
        .sets = argv,
    };
    self->collectors[market - 1] = collectorproc_start(&o);
    return self->collectors[market - 1] ? 0 : -1;
}

static bool first_heartbeat(pipeline_t *self, int64_t timeout_ms)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    while (now_monotonic_ms() < deadline) {
        if (pipeline_heartbeat_count(self, PIPELINE_BOOKBUILDER_STATUS, NULL) > 0)
            return true;
        sleep_ms(POLL_MS);
    }
    return false;
}

pipeline_t *pipeline_start(const pipeline_opts_t *opts)
{
    pipeline_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->sync_loss_highest = -1;
    self->on_message = opts->on_message;
    self->arg = opts->arg;
    self->topic_index = zhashx_new();
    for (int m = 0; m < PIPELINE_MARKETS; m++)
        for (int i = 0; i < PIPELINE_SYMBOLS; i++) {
            pipeline_status_t *b = &self->books[m * PIPELINE_SYMBOLS + i];
            b->market = (market_t)(m + 1);
            snprintf(b->symbol, sizeof b->symbol, "%s", SYMBOLS[m][i]);
            pipeline_model_init(&self->views[m * PIPELINE_SYMBOLS + i].model, PIPELINE_MAX_LEVELS);
        }

    /* Every followed symbol is a truth symbol: the test checks them all against /_sim/book. */
    char truth[400] = "";
    for (int m = 0; m < PIPELINE_MARKETS; m++)
        for (int i = 0; i < PIPELINE_SYMBOLS; i++) {
            size_t used = strlen(truth);
            snprintf(truth + used, sizeof truth - used, "%s%s", used ? "," : "", SYMBOLS[m][i]);
        }
    char symbols[8];
    snprintf(symbols, sizeof symbols, "%d", PIPELINE_SYMBOLS);
    const char *sim_argv[80];
    int k = 0;
    sim_argv[k++] = "--symbols";
    sim_argv[k++] = symbols;
    sim_argv[k++] = "--truth-symbols";
    sim_argv[k++] = truth;
    for (int i = 0; opts->sim_args && opts->sim_args[i] && k < 79; i++)
        sim_argv[k++] = opts->sim_args[i];
    sim_argv[k] = NULL;
    self->sim = simproc_start(sim_argv);
    if (!self->sim || !self->topic_index)
        goto fail;

    self->status = zsock_new(ZMQ_SUB);
    if (!self->status)
        goto fail;
    zsock_set_subscribe(self->status, "");
    int status_port = zsock_bind(self->status, "tcp://127.0.0.1:*");
    if (status_port < 0) {
        fprintf(stderr, "pipeline: cannot bind the status SUB: %s\n", zmq_strerror(errno));
        goto fail;
    }
    snprintf(self->ep_status, sizeof self->ep_status, "tcp://127.0.0.1:%d", status_port);

    if (start_bookbuilder(self, opts) != 0 || connect_data(self) != 0)
        goto fail;
    self->snapshot = zsock_new(ZMQ_DEALER);
    if (!self->snapshot || zsock_connect(self->snapshot, "%s", self->ep_snapshot) != 0)
        goto fail;
    zsock_set_linger(self->snapshot, 0);
    if (pthread_create(&self->reader, NULL, reader_main, self) != 0)
        goto fail;
    self->reader_running = true;
    if (!first_heartbeat(self, FIRST_HEARTBEAT_TIMEOUT_MS)) {
        fprintf(stderr, "pipeline: no heartbeat from the bookbuilder on %s\n", self->ep_status);
        goto fail;
    }
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        if (start_collector(self, m, opts) != 0)
            goto fail;
    fprintf(stderr,
            "pipeline: sim %s (ports %d %d %d), bookbuilder %s, collectors %s %s %s; data %s, "
            "snapshots %s, status %s\n",
            simproc_dir(self->sim), simproc_port(self->sim, MARKET_SPOT),
            simproc_port(self->sim, MARKET_USDM), simproc_port(self->sim, MARKET_COINM),
            bookbuilderproc_dir(self->bb), collectorproc_dir(self->collectors[0]),
            collectorproc_dir(self->collectors[1]), collectorproc_dir(self->collectors[2]),
            self->ep_data, self->ep_snapshot, self->ep_status);
    return self;
fail:
    pipeline_destroy(&self);
    return NULL;
}

int pipeline_stop_collectors(pipeline_t *self)
{
    int unclean = 0;
    for (int m = 0; m < PIPELINE_MARKETS; m++) {
        if (!self->collectors[m])
            continue;
        int64_t took = 0;
        int status = collectorproc_terminate(self->collectors[m], COLLECTOR_STOP_MS, &took);
        fprintf(stderr, "pipeline: collector %s exited with %d after %lld ms\n",
                market_name((market_t)(m + 1)), status, (long long)took);
        unclean += status != 0;
    }
    return unclean;
}

int pipeline_stop_bookbuilder(pipeline_t *self)
{
    if (!self->bb)
        return -1;
    int64_t took = 0;
    int status = bookbuilderproc_terminate(self->bb, BOOKBUILDER_STOP_MS, &took);
    fprintf(stderr, "pipeline: bookbuilder exited with %d after %lld ms\n", status,
            (long long)took);
    return status;
}

void pipeline_destroy(pipeline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pipeline_t *self = *self_p;
    for (int m = 0; m < PIPELINE_MARKETS; m++)
        collectorproc_destroy(&self->collectors[m]);
    bookbuilderproc_destroy(&self->bb);
    int sim_status = simproc_stop(&self->sim);
    if (sim_status != 0)
        fprintf(stderr, "pipeline: bookcast-sim exited with %d\n", sim_status);
    if (self->reader_running) {
        pthread_mutex_lock(&self->lock);
        self->stop = true;
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->reader, NULL);
    }
    zsock_destroy(&self->data);
    zsock_destroy(&self->status);
    zsock_destroy(&self->snapshot);
    zhashx_destroy(&self->topic_index);
    free(self->topics);
    free(self->history);
    for (int b = 0; b < PIPELINE_BOOKS; b++) {
        pipeline_model_free(&self->views[b].model);
        for (size_t i = 0; i < self->views[b].epoch_count; i++) {
            tc_levels_free(&self->views[b].epochs[i].synced[0]);
            tc_levels_free(&self->views[b].epochs[i].synced[1]);
        }
        free(self->views[b].epochs);
    }
    for (size_t i = 0; i < self->heartbeat_count; i++)
        free(self->heartbeats[i].last);
    free(self->heartbeats);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

bool pipeline_bookbuilder_alive(pipeline_t *self)
{
    return self->bb && bookbuilderproc_alive(self->bb);
}

int pipeline_bookbuilder_log_count(const pipeline_t *self, const char *needle)
{
    return self->bb ? bookbuilderproc_log_count(self->bb, needle) : 0;
}

const char *pipeline_bookbuilder_dir(const pipeline_t *self)
{
    return self->bb ? bookbuilderproc_dir(self->bb) : "";
}

const simproc_t *pipeline_sim(const pipeline_t *self)
{
    return self->sim;
}

/* ---- what the reader saw ------------------------------------------------------------------ */

bool pipeline_book_status(pipeline_t *self, market_t market, const char *symbol,
                          pipeline_status_t *out)
{
    int b = book_index(market, symbol);
    if (b < 0)
        return false;
    pthread_mutex_lock(&self->lock);
    *out = self->books[b];
    pthread_mutex_unlock(&self->lock);
    return out->state[0] != '\0';
}

size_t pipeline_status_count(pipeline_t *self)
{
    pthread_mutex_lock(&self->lock);
    size_t n = self->history_count;
    pthread_mutex_unlock(&self->lock);
    return n;
}

bool pipeline_status_at(pipeline_t *self, size_t i, pipeline_status_t *out)
{
    pthread_mutex_lock(&self->lock);
    bool ok = i < self->history_count;
    if (ok)
        *out = self->history[i];
    pthread_mutex_unlock(&self->lock);
    return ok;
}

bool pipeline_wait_all_synced(pipeline_t *self, int64_t timeout_ms)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    for (;;) {
        size_t synced = 0;
        pthread_mutex_lock(&self->lock);
        for (int b = 0; b < PIPELINE_BOOKS; b++)
            synced += strcmp(self->books[b].state, "synced") == 0;
        pthread_mutex_unlock(&self->lock);
        if (synced == PIPELINE_BOOKS)
            return true;
        if (now_monotonic_ms() >= deadline)
            return false;
        sleep_ms(POLL_MS);
    }
}

bool pipeline_wait_status(pipeline_t *self, market_t market, const char *symbol, const char *state,
                          const char *reason, size_t *from, int64_t timeout_ms)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&self->lock);
        for (size_t i = *from; i < self->history_count; i++) {
            const pipeline_status_t *st = &self->history[i];
            if (st->market == market && strcmp(st->symbol, symbol) == 0 &&
                strcmp(st->state, state) == 0 && (!reason || strcmp(st->reason, reason) == 0)) {
                *from = i + 1;
                pthread_mutex_unlock(&self->lock);
                return true;
            }
        }
        pthread_mutex_unlock(&self->lock);
        if (now_monotonic_ms() >= deadline)
            return false;
        sleep_ms(POLL_MS);
    }
}

size_t pipeline_topic_count(pipeline_t *self)
{
    pthread_mutex_lock(&self->lock);
    size_t n = self->topic_count;
    pthread_mutex_unlock(&self->lock);
    return n;
}

bool pipeline_topic_at(pipeline_t *self, size_t i, char *name, size_t name_len, uint64_t *messages,
                       uint64_t *last_seq)
{
    pthread_mutex_lock(&self->lock);
    bool ok = i < self->topic_count;
    if (ok) {
        snprintf(name, name_len, "%s", self->topics[i].name);
        *messages = self->topics[i].messages;
        *last_seq = self->topics[i].last_seq;
    }
    pthread_mutex_unlock(&self->lock);
    return ok;
}

uint64_t pipeline_topic_last_seq(pipeline_t *self, const char *topic)
{
    pthread_mutex_lock(&self->lock);
    uintptr_t at = (uintptr_t)zhashx_lookup(self->topic_index, topic);
    uint64_t seq = at ? self->topics[at - 1].last_seq : 0;
    pthread_mutex_unlock(&self->lock);
    return seq;
}

bool pipeline_wait_topic_seq(pipeline_t *self, const char *topic, uint64_t seq, int64_t timeout_ms)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    while (pipeline_topic_last_seq(self, topic) < seq) {
        if (now_monotonic_ms() >= deadline)
            return false;
        sleep_ms(2);
    }
    return true;
}

size_t pipeline_bus_errors(pipeline_t *self, char *first, size_t first_len)
{
    pthread_mutex_lock(&self->lock);
    size_t n = self->seq_errors;
    if (first && first_len) {
        first[0] = '\0';
        for (size_t i = 0; i < n && i < SEQ_ERRORS_KEPT; i++) {
            size_t used = strlen(first);
            snprintf(first + used, first_len - used, "%s%s", i ? "; " : "",
                     self->seq_error_text[i]);
        }
    }
    pthread_mutex_unlock(&self->lock);
    return n;
}

uint64_t pipeline_messages(pipeline_t *self)
{
    pthread_mutex_lock(&self->lock);
    uint64_t n = self->messages;
    pthread_mutex_unlock(&self->lock);
    return n;
}

cJSON *pipeline_heartbeat(pipeline_t *self, const char *topic)
{
    cJSON *json = NULL;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->heartbeat_count; i++)
        if (strcmp(self->heartbeats[i].topic, topic) == 0 && self->heartbeats[i].last)
            json = cJSON_Parse(self->heartbeats[i].last);
    pthread_mutex_unlock(&self->lock);
    return json;
}

uint64_t pipeline_heartbeat_count(pipeline_t *self, const char *topic, bool *stopped)
{
    uint64_t n = 0;
    if (stopped)
        *stopped = false;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->heartbeat_count; i++)
        if (strcmp(self->heartbeats[i].topic, topic) == 0) {
            n = self->heartbeats[i].count;
            if (stopped)
                *stopped = self->heartbeats[i].stopped;
        }
    pthread_mutex_unlock(&self->lock);
    return n;
}

/* ---- the snapshot service ----------------------------------------------------------------- */

cJSON *pipeline_snapshot_request(pipeline_t *self, const char *request, int64_t timeout_ms)
{
    void *s = zsock_resolve(self->snapshot);
    /* An answer that came after an earlier request timed out must not pass for this one's. */
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) >= 0)
        ;
    cJSON *answer = NULL;
    if (zmq_send(s, request, strlen(request), 0) < 0) {
        zmq_msg_close(&msg);
        return NULL;
    }
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_monotonic_ms();
        if (left <= 0)
            break;
        int rc = zmq_poll(&item, 1, (long)left);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc > 0 && zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) >= 0) {
            answer = cJSON_ParseWithLength(zmq_msg_data(&msg), zmq_msg_size(&msg));
            break;
        }
    }
    zmq_msg_close(&msg);
    return answer;
}

cJSON *pipeline_snapshot_book(pipeline_t *self, market_t market, const char *symbol)
{
    char request[160];
    snprintf(request, sizeof request,
             "{\"op\":\"book\",\"market\":\"%s\",\"symbol\":\"%s\",\"depth\":0}",
             market_name(market), symbol);
    return pipeline_snapshot_request(self, request, 5000);
}

/* ---- the sim ------------------------------------------------------------------------------ */

int pipeline_fault(pipeline_t *self, market_t market, const char *query)
{
    return simtest_fault(self->sim, market, query);
}

int pipeline_truth(pipeline_t *self, market_t market, const char *symbol, uint64_t update_id,
                   tc_levels_t *bids, tc_levels_t *asks)
{
    char path[200];
    snprintf(path, sizeof path, "/_sim/book?symbol=%s&update_id=%" PRIu64, symbol, update_id);
    tc_get_result_t r;
    int status = simtest_get(self->sim, market, path, &r);
    if (status == 200) {
        cJSON *json = cJSON_ParseWithLength(r.body, r.body_len);
        const cJSON *id = json ? cJSON_GetObjectItemCaseSensitive(json, "update_id") : NULL;
        if (!cJSON_IsNumber(id) || (uint64_t)id->valuedouble != update_id ||
            pipeline_levels_parse(cJSON_GetObjectItemCaseSensitive(json, "bids"), bids) != 0 ||
            pipeline_levels_parse(cJSON_GetObjectItemCaseSensitive(json, "asks"), asks) != 0) {
            fprintf(stderr, "pipeline: unreadable truth for %s at %" PRIu64 ": %.200s\n", symbol,
                    update_id, r.body);
            status = -1;
        }
        cJSON_Delete(json);
    } else {
        fprintf(stderr, "pipeline: %s on %s: %d %.200s\n", path, market_name(market), status,
                r.body && r.body[0] ? r.body : r.error);
    }
    tc_get_result_free(&r);
    return status;
}

/* ---- books -------------------------------------------------------------------------------- */

int pipeline_levels_parse(const cJSON *array, tc_levels_t *out)
{
    if (!cJSON_IsArray(array))
        return -1;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, array)
    {
        const cJSON *p = cJSON_GetArrayItem(pair, 0), *q = cJSON_GetArrayItem(pair, 1);
        dec_t price, qty;
        if (cJSON_GetArraySize(pair) != 2 || !cJSON_IsString(p) || !cJSON_IsString(q) ||
            dec_parse(p->valuestring, strlen(p->valuestring), 0, &price) != DEC_OK ||
            dec_parse(q->valuestring, strlen(q->valuestring), 0, &qty) != DEC_OK ||
            tc_levels_push(out, price, qty) != 0)
            return -1;
    }
    return 0;
}

void pipeline_model_init(pipeline_model_t *model, size_t max_levels)
{
    memset(model, 0, sizeof *model);
    tc_book_init(&model->book);
    model->max_levels = max_levels;
}

void pipeline_model_free(pipeline_model_t *model)
{
    tc_book_free(&model->book);
}

/* Notes the side's worst level when the side is full (see pipeline_model_t). */
static void note_full(pipeline_model_t *model, int s)
{
    const tc_side_t *side = s == 0 ? &model->book.bids : &model->book.asks;
    if (!model->max_levels || side->levels.n < model->max_levels)
        return;
    dec_t worst = side->levels.v[side->levels.n - 1].price;
    if (!model->full_seen[s] || tc_side_better(side, worst, model->full_worst[s]))
        model->full_worst[s] = worst;
    model->full_seen[s] = true;
}

/* The levels of one side of a message, in order. The bookbuilder refuses or trims a level only
   while the side is full, and a refusal is not published, so fullness is noted before every
   change (the state any unpublished refusal saw) and after the last; a snapshot's levels are
   one state, noted once. */
static int apply_side(pipeline_model_t *model, int s, const cJSON *array, bool snapshot)
{
    tc_side_t *side = s == 0 ? &model->book.bids : &model->book.asks;
    tc_levels_t levels = {0};
    int rc = pipeline_levels_parse(array, &levels);
    for (size_t i = 0; rc == 0 && i < levels.n; i++) {
        if (!snapshot)
            note_full(model, s);
        rc = tc_side_set(side, levels.v[i].price, levels.v[i].qty);
    }
    note_full(model, s);
    tc_levels_free(&levels);
    return rc;
}

int pipeline_model_apply(pipeline_model_t *model, const cJSON *msg, char *err, size_t err_len)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
    uint64_t seq = get_u64(msg, "seq");
    bool snapshot = cJSON_IsString(type) && strcmp(type->valuestring, "snapshot") == 0;
    bool update = cJSON_IsString(type) && strcmp(type->valuestring, "update") == 0;
    if (!snapshot && !update) {
        snprintf(err, err_len, "book message seq %" PRIu64 " of no known type", seq);
        return -1;
    }
    if (update && !model->has_snapshot) {
        snprintf(err, err_len, "book update seq %" PRIu64 " before any snapshot", seq);
        return -1;
    }
    if (snapshot) {
        tc_book_clear(&model->book);
        model->has_snapshot = true;
        model->snapshot_seq = seq;
        model->snapshot_first_id = get_u64(msg, "first_id");
        model->full_seen[0] = model->full_seen[1] = false;
    }
    if (apply_side(model, 0, cJSON_GetObjectItemCaseSensitive(msg, "bids"), snapshot) != 0 ||
        apply_side(model, 1, cJSON_GetObjectItemCaseSensitive(msg, "asks"), snapshot) != 0) {
        snprintf(err, err_len, "book message seq %" PRIu64 ": unreadable levels", seq);
        return -1;
    }
    model->seq = seq;
    model->update_id = get_u64(msg, "last_id");
    return 0;
}

/* ---- the check against the truth ---------------------------------------------------------- */

/* True when `a` is at least as good a price as `b` on the side (bids: higher, asks: lower). */
static bool at_or_better(bool bids, dec_t a, dec_t b)
{
    return bids ? a.units >= b.units : a.units <= b.units;
}

/* The index of `price` in levels sorted best first, or -1. */
static long find_level(bool bids, const tc_levels_t *levels, dec_t price)
{
    size_t lo = 0, hi = levels->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        dec_t p = levels->v[mid].price;
        if (p.units == price.units)
            return (long)mid;
        if (at_or_better(bids, p, price))
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const char *fmt_dec(dec_t d, char buf[DEC_STRLEN])
{
    dec_format(d, buf);
    return buf;
}

/* Compares one side (see pipeline_check_book). Returns true when equal; the first difference
   goes to detail. */
static bool compare_side(bool bids, const tc_levels_t *held, const tc_levels_t *truth,
                         const epoch_t *e, size_t *covered, char *detail, size_t len)
{
    const char *name = bids ? "bids" : "asks";
    int s = bids ? 0 : 1;
    char a[DEC_STRLEN], b[DEC_STRLEN], c[DEC_STRLEN];
    for (size_t i = 0; i < held->n; i++) {
        const tc_level_t *h = &held->v[i];
        if (i > 0 && at_or_better(bids, h->price, held->v[i - 1].price)) {
            snprintf(detail, len, "%s[%zu] %s is not worse than the level before it", name, i,
                     fmt_dec(h->price, a));
            return false;
        }
        long t = find_level(bids, truth, h->price);
        if (t < 0) {
            snprintf(detail, len, "%s[%zu] %s qty %s is held but not in the truth", name, i,
                     fmt_dec(h->price, a), fmt_dec(h->qty, b));
            return false;
        }
        if (truth->v[t].qty.units != h->qty.units) {
            snprintf(detail, len, "%s[%zu] %s: held qty %s, truth qty %s (truth level %ld)", name,
                     i, fmt_dec(h->price, a), fmt_dec(h->qty, b), fmt_dec(truth->v[t].qty, c), t);
            return false;
        }
    }
    *covered = 0;
    for (size_t j = 0; j < truth->n && held->n; j++) {
        dec_t p = truth->v[j].price;
        if (!at_or_better(bids, p, held->v[held->n - 1].price) ||
            (e->truncated[s] && !at_or_better(bids, p, e->snapshot_worst[s])) ||
            (e->full_seen[s] && at_or_better(bids, e->full_worst[s], p)) ||
            (e->lost[s] && at_or_better(bids, e->lost_from[s], p)))
            break;
        if (find_level(bids, held, p) < 0) {
            snprintf(detail, len, "%s: truth level %zu (%s qty %s) is missing", name, j,
                     fmt_dec(p, a), fmt_dec(truth->v[j].qty, b));
            return false;
        }
        (*covered)++;
    }
    size_t want = truth->n < 20 ? truth->n : 20;
    if (*covered < want) {
        snprintf(detail, len, "%s: only %zu truth levels are covered (held %zu, truth %zu)", name,
                 *covered, held->n, truth->n);
        return false;
    }
    return true;
}

/* The epoch the book was in at book seq `seq` (copied), under lock. False when none. */
static bool epoch_at(pipeline_t *self, int b, uint64_t seq, epoch_t *out)
{
    const book_view_t *v = &self->views[b];
    for (size_t i = v->epoch_count; i > 0; i--)
        if (v->epochs[i - 1].snapshot_seq <= seq) {
            *out = v->epochs[i - 1];
            return true;
        }
    return false;
}

/* The first truth level within the snapshot's reach and the message's worst level that the
   snapshot message of epoch `e` lacks, on side s: its index, or -1. */
static long first_lost(const epoch_t *e, int s, const tc_levels_t *truth)
{
    bool bids = s == 0;
    const tc_levels_t *held = &e->synced[s];
    for (size_t j = 0; j < truth->n && held->n; j++) {
        dec_t p = truth->v[j].price;
        if (!at_or_better(bids, p, held->v[held->n - 1].price) ||
            (e->truncated[s] && !at_or_better(bids, p, e->snapshot_worst[s])))
            break;
        if (find_level(bids, held, p) < 0)
            return (long)j;
    }
    return -1;
}

/* Learns what epoch `e` can know: how deep its REST snapshot reached (the truth at its
   lastUpdateId, cut where the bookbuilder's request cuts it), and which levels it dropped while
   it applied the events buffered during the request (the truth once they were applied, against
   the snapshot message). A side can drop a level only while it holds PIPELINE_MAX_LEVELS, and
   then only at its worst end: a dropped level had max_levels - 1 better levels, of which each
   buffered update removes at most three, so one found higher up is a loss no bound explains.
   Futures ids skip, so the number of buffered updates is unknown there: a loss is accepted in
   the deeper half only. */
static int resolve_depth(pipeline_t *self, market_t market, const char *symbol, int b, epoch_t *e)
{
    if (e->depth_resolved)
        return 0;
    tc_levels_t side[2] = {{0}, {0}};
    int status = pipeline_truth(self, market, symbol, e->lid, &side[0], &side[1]);
    if (status == 200) {
        for (int s = 0; s < 2; s++) {
            e->truncated[s] = side[s].n > PIPELINE_MAX_LEVELS;
            if (e->truncated[s])
                e->snapshot_worst[s] = side[s].v[PIPELINE_MAX_LEVELS - 1].price;
        }
    }
    if (status == 200 && e->synced_id != e->lid) {
        tc_levels_free(&side[0]);
        tc_levels_free(&side[1]);
        status = pipeline_truth(self, market, symbol, e->synced_id, &side[0], &side[1]);
        long reach = market == MARKET_SPOT
                         ? (long)PIPELINE_MAX_LEVELS - 1 - 3 * (long)(e->synced_id - e->lid)
                         : (long)PIPELINE_MAX_LEVELS / 2;
        for (int s = 0; status == 200 && s < 2; s++) {
            long j = first_lost(e, s, &side[s]);
            if (j < 0)
                continue;
            char a[DEC_STRLEN];
            if (j >= reach) {
                e->lost[s] = true;
                e->lost_from[s] = side[s].v[j].price;
                pthread_mutex_lock(&self->lock);
                self->sync_losses++;
                if (self->sync_loss_highest < 0 || j < self->sync_loss_highest)
                    self->sync_loss_highest = j;
                pthread_mutex_unlock(&self->lock);
            } else {
                snprintf(e->sync_problem, sizeof e->sync_problem,
                         "synced at %" PRIu64 " from a snapshot at %" PRIu64
                         " without %s level %ld (%s) of the truth",
                         e->synced_id, e->lid, s ? "ask" : "bid", j,
                         fmt_dec(side[s].v[j].price, a));
            }
        }
    }
    if (status == 200) {
        e->depth_resolved = true;
        pthread_mutex_lock(&self->lock);
        book_view_t *v = &self->views[b];
        for (size_t i = 0; i < v->epoch_count; i++)
            if (v->epochs[i].snapshot_seq == e->snapshot_seq) {
                epoch_t *x = &v->epochs[i];
                x->depth_resolved = true;
                memcpy(x->truncated, e->truncated, sizeof e->truncated);
                memcpy(x->snapshot_worst, e->snapshot_worst, sizeof e->snapshot_worst);
                memcpy(x->lost, e->lost, sizeof e->lost);
                memcpy(x->lost_from, e->lost_from, sizeof e->lost_from);
                memcpy(x->sync_problem, e->sync_problem, sizeof e->sync_problem);
            }
        pthread_mutex_unlock(&self->lock);
    }
    tc_levels_free(&side[0]);
    tc_levels_free(&side[1]);
    return status == 200 ? 0 : -1;
}

int pipeline_check_book(pipeline_t *self, market_t market, const char *symbol,
                        pipeline_check_t *out)
{
    memset(out, 0, sizeof *out);
    int b = book_index(market, symbol);
    if (b < 0) {
        snprintf(out->detail, sizeof out->detail, "%s %s is not followed", market_name(market),
                 symbol);
        return -1;
    }
    cJSON *answer = pipeline_snapshot_book(self, market, symbol);
    if (!answer) {
        snprintf(out->detail, sizeof out->detail, "%s %s: no answer from the snapshot service",
                 market_name(market), symbol);
        return -1;
    }
    int rc = -1;
    tc_levels_t held[2] = {{0}, {0}}, truth[2] = {{0}, {0}};
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(answer, "state");
    const cJSON *sym = cJSON_GetObjectItemCaseSensitive(answer, "symbol");
    if (!cJSON_IsString(state) || !cJSON_IsString(sym) || strcmp(sym->valuestring, symbol) != 0) {
        char *text = cJSON_PrintUnformatted(answer);
        snprintf(out->detail, sizeof out->detail, "%s %s: the service answered %.300s",
                 market_name(market), symbol, text ? text : "?");
        free(text);
        goto done;
    }
    out->seq = get_u64(answer, "seq");
    out->update_id = get_u64(answer, "update_id");
    if (strcmp(state->valuestring, "synced") != 0) {
        rc = 0;
        goto done;
    }
    out->synced = true;
    if (pipeline_levels_parse(cJSON_GetObjectItemCaseSensitive(answer, "bids"), &held[0]) != 0 ||
        pipeline_levels_parse(cJSON_GetObjectItemCaseSensitive(answer, "asks"), &held[1]) != 0) {
        snprintf(out->detail, sizeof out->detail, "%s %s: unreadable levels from the service",
                 market_name(market), symbol);
        goto done;
    }
    out->held[0] = held[0].n;
    out->held[1] = held[1].n;
    char topic[96];
    snprintf(topic, sizeof topic, "book.%s.%s", market_name(market), symbol);
    if (!pipeline_wait_topic_seq(self, topic, out->seq, 5000)) {
        snprintf(out->detail, sizeof out->detail,
                 "%s: the service is at seq %" PRIu64 ", the bus reader only at %" PRIu64, topic,
                 out->seq, pipeline_topic_last_seq(self, topic));
        goto done;
    }
    epoch_t e;
    pthread_mutex_lock(&self->lock);
    bool have_epoch = epoch_at(self, b, out->seq, &e);
    pthread_mutex_unlock(&self->lock);
    if (!have_epoch) {
        /* Synced, yet no "snapshot" message up to its seq: a subscriber could not rebuild it. */
        snprintf(out->detail, sizeof out->detail,
                 "%s: synced at seq %" PRIu64 " but no book snapshot message came by then", topic,
                 out->seq);
        rc = 0;
        goto done;
    }
    if (resolve_depth(self, market, symbol, b, &e) != 0) {
        snprintf(out->detail, sizeof out->detail, "%s: no truth at the snapshot's id %" PRIu64,
                 topic, e.lid);
        goto done;
    }
    int status = pipeline_truth(self, market, symbol, out->update_id, &truth[0], &truth[1]);
    if (status != 200) {
        snprintf(out->detail, sizeof out->detail, "%s: no truth at update id %" PRIu64 " (%d)",
                 topic, out->update_id, status);
        goto done;
    }
    rc = 0;
    char diff[400] = "";
    out->equal = compare_side(true, &held[0], &truth[0], &e, &out->covered[0], diff, sizeof diff) &&
                 compare_side(false, &held[1], &truth[1], &e, &out->covered[1], diff, sizeof diff);
    if (out->equal && e.sync_problem[0]) {
        out->equal = false;
        snprintf(diff, sizeof diff, "%s", e.sync_problem);
    }
    if (!out->equal) {
        char range[2][160];
        for (int k = 0; k < 2; k++) {
            char a[DEC_STRLEN], b[DEC_STRLEN], c[DEC_STRLEN], d[DEC_STRLEN];
            snprintf(range[k], sizeof range[k],
                     "worst held %s, snapshot to %s, full at %s, dropped at sync from %s",
                     held[k].n ? fmt_dec(held[k].v[held[k].n - 1].price, a) : "-",
                     e.truncated[k] ? fmt_dec(e.snapshot_worst[k], b) : "the end",
                     e.full_seen[k] ? fmt_dec(e.full_worst[k], c) : "never",
                     e.lost[k] ? fmt_dec(e.lost_from[k], d) : "none");
        }
        snprintf(out->detail, sizeof out->detail,
                 "%s at update id %" PRIu64 " (seq %" PRIu64 ", synced at %" PRIu64
                 " from a snapshot at %" PRIu64 "): %s [bids: %s; asks: %s]",
                 topic, out->update_id, out->seq, e.synced_id, e.lid, diff, range[0], range[1]);
    }
done:
    for (int s = 0; s < 2; s++) {
        tc_levels_free(&held[s]);
        tc_levels_free(&truth[s]);
    }
    cJSON_Delete(answer);
    return rc;
}

size_t pipeline_sync_losses(pipeline_t *self, long *highest)
{
    pthread_mutex_lock(&self->lock);
    size_t n = self->sync_losses;
    if (highest)
        *highest = self->sync_loss_highest;
    pthread_mutex_unlock(&self->lock);
    return n;
}
