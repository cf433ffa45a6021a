/*
 * conns.c — the collectors' connections, as their frames describe them. See conns.h.
 */
#include "conns.h"

#include <stdlib.h>
#include <string.h>

#define MARKETS 3

typedef struct {
    uint32_t conn_id;
    uint64_t last_seq;
    char **streams;
    size_t stream_count;
} conn_t;

typedef struct {
    uint64_t instance_id; /* 0 until the first frame */
    conn_t *conns;
    size_t count, cap;
} market_conns_t;

struct conns_t {
    market_conns_t markets[MARKETS];
};

static void free_streams(conn_t *c)
{
    for (size_t i = 0; i < c->stream_count; i++)
        free(c->streams[i]);
    free(c->streams);
    c->streams = NULL;
    c->stream_count = 0;
}

static market_conns_t *market_of(conns_t *self, market_t m)
{
    return m >= MARKET_SPOT && m <= MARKET_COINM ? &self->markets[m - 1] : NULL;
}

static conn_t *find(market_conns_t *mc, uint32_t conn_id)
{
    for (size_t i = 0; i < mc->count; i++)
        if (mc->conns[i].conn_id == conn_id)
            return &mc->conns[i];
    return NULL;
}

static conn_t *add(market_conns_t *mc, uint32_t conn_id)
{
    if (mc->count == mc->cap) {
        size_t cap = mc->cap ? mc->cap * 2 : 8;
        conn_t *grown = realloc(mc->conns, cap * sizeof *grown);
        if (!grown)
            return NULL;
        mc->conns = grown;
        mc->cap = cap;
    }
    conn_t *c = &mc->conns[mc->count++];
    memset(c, 0, sizeof *c);
    c->conn_id = conn_id;
    return c;
}

static void forget_all(market_conns_t *mc)
{
    for (size_t i = 0; i < mc->count; i++)
        free_streams(&mc->conns[i]);
    mc->count = 0;
}

conns_t *conns_new(void)
{
    return calloc(1, sizeof(conns_t));
}

void conns_destroy(conns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    conns_t *self = *self_p;
    for (int m = 0; m < MARKETS; m++) {
        forget_all(&self->markets[m]);
        free(self->markets[m].conns);
    }
    free(self);
    *self_p = NULL;
}

conns_verdict_t conns_note(conns_t *self, const envelope_header_t *h)
{
    market_conns_t *mc = market_of(self, h->market);
    if (!mc)
        return CONNS_IN_ORDER;
    conns_verdict_t verdict = CONNS_IN_ORDER;
    if (mc->instance_id != h->instance_id) {
        if (mc->instance_id != 0)
            verdict = CONNS_NEW_INSTANCE;
        forget_all(mc);
        mc->instance_id = h->instance_id;
    }
    conn_t *c = find(mc, h->conn_id);
    if (!c) {
        /* The first frame seen of this connection: nothing to compare with. Without memory the
           connection is simply not followed; its frames still pass. */
        c = add(mc, h->conn_id);
        if (c)
            c->last_seq = h->seq;
        return verdict;
    }
    if (h->seq <= c->last_seq)
        return CONNS_REPEAT;
    if (h->seq != c->last_seq + 1)
        verdict = CONNS_GAP;
    c->last_seq = h->seq;
    return verdict;
}

int conns_set_streams(conns_t *self, market_t market, uint32_t conn_id, const char *const *streams,
                      size_t count)
{
    market_conns_t *mc = market_of(self, market);
    conn_t *c = mc ? find(mc, conn_id) : NULL;
    if (!c)
        return -1;
    free_streams(c);
    if (count == 0)
        return 0;
    c->streams = calloc(count, sizeof *c->streams);
    if (!c->streams)
        return -1;
    for (size_t i = 0; i < count; i++) {
        c->streams[i] = strdup(streams[i]);
        if (!c->streams[i]) {
            c->stream_count = i;
            free_streams(c);
            return -1;
        }
    }
    c->stream_count = count;
    return 0;
}

const char *const *conns_streams(const conns_t *self, market_t market, uint32_t conn_id,
                                 size_t *count)
{
    *count = 0;
    market_conns_t *mc = market_of((conns_t *)self, market);
    conn_t *c = mc ? find(mc, conn_id) : NULL;
    if (!c || !c->streams)
        return NULL;
    *count = c->stream_count;
    return (const char *const *)c->streams;
}

void conns_forget(conns_t *self, market_t market, uint32_t conn_id)
{
    market_conns_t *mc = market_of(self, market);
    conn_t *c = mc ? find(mc, conn_id) : NULL;
    if (!c)
        return;
    free_streams(c);
    *c = mc->conns[--mc->count];
}
