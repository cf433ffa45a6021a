/*
 * session.c — the synchronous facade over tc_net/tc_ws/tc_http; see session.h.
 *
 * One tc_net per session (or per tc_get). The caller's thread runs the lws loop only inside
 * tc_session_run_until, tc_session_get and tc_session_end; between those calls nothing is
 * serviced, sockets simply buffer. A 5 ms tick does the scheduling the callbacks cannot: opening
 * the next connection, due sends, due GETs, and the stop conditions, which end the loop with
 * tc_net_stop. Callbacks only append events.
 *
 * Ownership: the net owns every tc_ws and tc_http until tc_net_destroy, and no callback reaches
 * us once destruction has begun (tc_net.h), so slots and request records (the callbacks' args)
 * are freed only after the net.
 */
#include "session.h"

#include "tc_net.h"
#include "tc_url.h"
#include "tc_ws.h"

#include "now.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 5
#define CLOSE_GRACE_MS 1000

/* ---- event lists ------------------------------------------------------------------------ */

static void result_clear(tc_get_result_t *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

void tc_get_result_free(tc_get_result_t *result)
{
    if (result == NULL)
        return;
    free(result->body);
    result->body = NULL;
    result->body_len = 0;
}

void tc_evlist_free(tc_evlist_t *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->n; i++) {
        free(list->v[i].data);
        if (list->v[i].http != NULL) {
            tc_get_result_free(list->v[i].http);
            free(list->v[i].http);
        }
    }
    free(list->v);
    memset(list, 0, sizeof *list);
}

size_t tc_evlist_count(const tc_evlist_t *list, tc_ev_kind_t kind, int conn)
{
    size_t count = 0;
    for (size_t i = 0; i < list->n; i++)
        if (list->v[i].kind == kind && (conn < 0 || list->v[i].conn == conn))
            count++;
    return count;
}

const tc_event_t *tc_evlist_find(const tc_evlist_t *list, tc_ev_kind_t kind, int conn, size_t from)
{
    for (size_t i = from; i < list->n; i++)
        if (list->v[i].kind == kind && (conn < 0 || list->v[i].conn == conn))
            return &list->v[i];
    return NULL;
}

const char *tc_ev_kind_name(tc_ev_kind_t kind)
{
    static const char *const names[] = {"open",  "text",   "binary", "close",
                                        "error", "closed", "http"};
    return kind >= TC_EV_OPEN && kind <= TC_EV_HTTP ? names[kind] : "?";
}

/* Copies `len` bytes into a NUL-terminated heap string; NULL when out of memory. */
static char *copy_bytes(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* Copies a tc_http response into a result (body duplicated). -1 when out of memory. */
static int result_from_response(tc_get_result_t *r, const tc_http_response_t *resp,
                                int64_t elapsed_ms)
{
    memset(r, 0, sizeof *r);
    r->status = resp->status;
    snprintf(r->error, sizeof r->error, "%s", resp->error);
    memcpy(r->header_present, resp->header_present, sizeof r->header_present);
    memcpy(r->header, resp->header, sizeof r->header);
    r->elapsed_ms = elapsed_ms;
    r->body = copy_bytes(resp->body ? resp->body : "", resp->body ? resp->body_len : 0);
    r->body_len = resp->body ? resp->body_len : 0;
    return r->body ? 0 : -1;
}

static int result_copy(tc_get_result_t *dst, const tc_get_result_t *src)
{
    *dst = *src;
    dst->body = copy_bytes(src->body ? src->body : "", src->body_len);
    return dst->body ? 0 : -1;
}

/* ---- tc_get ----------------------------------------------------------------------------- */

typedef struct {
    tc_net_t *net;
    bool done;
    int64_t start_ms;
    int64_t deadline_ms;
    tc_get_result_t *out;
} get_run_t;

static void get_done(void *arg, tc_http_t *request, const tc_http_response_t *resp)
{
    (void)request;
    get_run_t *run = arg;
    run->done = true;
    if (result_from_response(run->out, resp, now_monotonic_ms() - run->start_ms) != 0)
        snprintf(run->out->error, sizeof run->out->error, "out of memory copying the response");
}

static void get_tick(void *arg)
{
    get_run_t *run = arg;
    if (run->done || now_monotonic_ms() >= run->deadline_ms)
        tc_net_stop(run->net);
}

int tc_get(const char *url, const char *ca_file, int64_t timeout_ms, tc_get_result_t *out)
{
    memset(out, 0, sizeof *out);
    tc_url_t parsed;
    char err[256];
    if (tc_url_parse(url, &parsed, err, sizeof err) != 0 || parsed.websocket) {
        snprintf(out->error, sizeof out->error, "%s",
                 parsed.websocket ? "tc_get needs an http:// or https:// URL" : err);
        out->body = copy_bytes("", 0);
        return -1;
    }
    get_run_t run = {.start_ms = now_monotonic_ms(), .out = out};
    run.deadline_ms = run.start_ms + timeout_ms;
    run.net = tc_net_new(parsed.tls ? ca_file : NULL);
    if (run.net == NULL) {
        snprintf(out->error, sizeof out->error, "no libwebsockets context");
        out->body = copy_bytes("", 0);
        return -1;
    }
    if (tc_http_get(run.net, &parsed, get_done, &run) != NULL && !run.done)
        tc_net_run(run.net, TICK_MS, get_tick, &run);
    tc_net_destroy(&run.net);
    if (!run.done) {
        out->status = 0;
        snprintf(out->error, sizeof out->error, "no response within %lld ms",
                 (long long)timeout_ms);
    }
    if (out->body == NULL)
        out->body = copy_bytes("", 0);
    return out->status > 0 ? 0 : -1;
}

/* ---- sessions --------------------------------------------------------------------------- */

typedef struct slot {
    tc_session_t *session;
    int index;
    tc_url_t url;
    tc_ws_t *ws;
    bool resolved; /* opened or failed */
    size_t next_send;
    int64_t next_send_ms;
} slot_t;

/* One GET of the session: its callback's argument, kept until the net is gone. */
typedef struct req {
    tc_session_t *session;
    int index;
    int64_t start_ms;
    bool done;
    bool keep_result;       /* tc_session_get: a copy for the caller */
    tc_get_result_t result; /* when keep_result */
    struct req *next;
} req_t;

struct tc_session {
    tc_session_opts_t opts;
    tc_evlist_t *out;
    tc_net_t *net;
    slot_t *slots;
    int count;
    int started;
    int64_t start_ms;
    size_t texts;
    bool recording;
    size_t next_timed_get;
    int next_get_index;
    req_t *reqs;
    int in_flight;
    bool failed;
    /* the current run */
    int64_t deadline_ms;
    tc_until_fn until;
    void *until_arg;
    bool session_conditions; /* max_texts and "all ended" end the run */
    /* tc_session_end */
    bool ending;
    int64_t end_deadline_ms;
};

static void record(tc_session_t *s, tc_ev_kind_t kind, int conn, int64_t recv_ns, int code,
                   const char *data, size_t len, tc_get_result_t *http)
{
    tc_evlist_t *l = s->out;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        tc_event_t *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL) {
            l->oom = true;
            if (http != NULL) {
                tc_get_result_free(http);
                free(http);
            }
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    tc_event_t *e = &l->v[l->n];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->conn = conn;
    e->recv_ns = recv_ns;
    e->t_ms = now_monotonic_ms() - s->start_ms;
    e->code = code;
    e->http = http;
    if (data != NULL) {
        e->data = copy_bytes(data, len);
        if (e->data == NULL) {
            l->oom = true;
            return;
        }
        e->len = len;
    } else {
        e->len = len; /* BINARY: the length alone */
    }
    l->n++;
}

static void send_due(slot_t *slot, int64_t now_ms)
{
    tc_session_t *s = slot->session;
    while (slot->next_send < s->opts.send_count && now_ms >= slot->next_send_ms &&
           tc_ws_is_open(slot->ws)) {
        const char *msg = s->opts.sends[slot->next_send++];
        if (tc_ws_send_text(slot->ws, msg, strlen(msg)) != 0)
            fprintf(stderr, "session: connection %d: could not queue a message\n", slot->index);
        if (s->opts.send_interval_ms > 0) {
            slot->next_send_ms = now_ms + s->opts.send_interval_ms;
            break;
        }
    }
}

static void on_open(void *arg, tc_ws_t *ws, int64_t recv_ns)
{
    (void)ws;
    slot_t *slot = arg;
    slot->resolved = true;
    if (slot->session->recording)
        record(slot->session, TC_EV_OPEN, slot->index, recv_ns, 0, NULL, 0, NULL);
    slot->next_send_ms = now_monotonic_ms();
    send_due(slot, slot->next_send_ms);
}

static void on_text(void *arg, tc_ws_t *ws, int64_t recv_ns, const char *payload, size_t len)
{
    (void)ws;
    slot_t *slot = arg;
    tc_session_t *s = slot->session;
    if (!s->recording || (s->opts.max_texts > 0 && s->texts >= s->opts.max_texts))
        return;
    s->texts++;
    record(s, TC_EV_TEXT, slot->index, recv_ns, 0, payload, len, NULL);
}

static void on_binary(void *arg, tc_ws_t *ws, int64_t recv_ns, size_t len)
{
    (void)ws;
    slot_t *slot = arg;
    if (slot->session->recording)
        record(slot->session, TC_EV_BINARY, slot->index, recv_ns, 0, NULL, len, NULL);
}

static void on_peer_close(void *arg, tc_ws_t *ws, int64_t recv_ns, int code, const char *reason,
                          size_t reason_len)
{
    (void)ws;
    slot_t *slot = arg;
    if (slot->session->recording)
        record(slot->session, TC_EV_PEER_CLOSE, slot->index, recv_ns, code, reason ? reason : "",
               reason ? reason_len : 0, NULL);
}

static void on_error(void *arg, tc_ws_t *ws, int64_t recv_ns, int http_status, const char *text)
{
    (void)ws;
    slot_t *slot = arg;
    slot->resolved = true;
    if (slot->session->recording)
        record(slot->session, TC_EV_ERROR, slot->index, recv_ns, http_status, text, strlen(text),
               NULL);
}

static void on_closed(void *arg, tc_ws_t *ws, int64_t recv_ns)
{
    (void)ws;
    slot_t *slot = arg;
    if (slot->session->recording)
        record(slot->session, TC_EV_CLOSED, slot->index, recv_ns, 0, NULL, 0, NULL);
}

static const tc_ws_events_t WS_EVENTS = {
    .on_open = on_open,
    .on_text = on_text,
    .on_binary = on_binary,
    .on_peer_close = on_peer_close,
    .on_error = on_error,
    .on_closed = on_closed,
};

static void start_next(tc_session_t *s)
{
    slot_t *slot = &s->slots[s->started++];
    slot->ws = tc_ws_open(s->net, &slot->url, &WS_EVENTS, slot);
    if (slot->ws == NULL) {
        slot->resolved = true;
        s->failed = true;
    }
}

static void start_due(tc_session_t *s)
{
    while (s->started < s->count &&
           (s->opts.all_at_once || s->started == 0 || s->slots[s->started - 1].resolved))
        start_next(s);
}

/* True when every connection started so far has ended. */
static bool started_ended(const tc_session_t *s)
{
    for (int i = 0; i < s->started; i++)
        if (s->slots[i].ws != NULL && !tc_ws_has_ended(s->slots[i].ws))
            return false;
    return true;
}

static bool all_ended(const tc_session_t *s)
{
    return s->started == s->count && started_ended(s);
}

static void http_done(void *arg, tc_http_t *request, const tc_http_response_t *resp)
{
    (void)request;
    req_t *req = arg;
    tc_session_t *s = req->session;
    req->done = true;
    s->in_flight--;
    int64_t elapsed = now_monotonic_ms() - req->start_ms;
    if (req->keep_result && result_from_response(&req->result, resp, elapsed) != 0)
        s->out->oom = true;
    if (!s->recording)
        return;
    tc_get_result_t *copy = calloc(1, sizeof *copy);
    if (copy == NULL || result_from_response(copy, resp, elapsed) != 0) {
        if (copy != NULL) {
            tc_get_result_free(copy);
            free(copy);
        }
        s->out->oom = true;
        return;
    }
    record(s, TC_EV_HTTP, req->index, tc_net_recv_ns(), copy->status, NULL, 0, copy);
}

/* Starts one GET on the session's net. NULL only when out of memory. */
static req_t *start_get(tc_session_t *s, const char *url, bool keep_result)
{
    req_t *req = calloc(1, sizeof *req);
    if (req == NULL)
        return NULL;
    req->session = s;
    req->index = s->next_get_index++;
    req->start_ms = now_monotonic_ms();
    req->keep_result = keep_result;
    req->next = s->reqs;
    s->reqs = req;
    s->in_flight++;
    tc_url_t parsed;
    char err[256];
    if (tc_url_parse(url, &parsed, err, sizeof err) != 0 || parsed.websocket) {
        tc_http_response_t resp;
        memset(&resp, 0, sizeof resp);
        snprintf(resp.error, sizeof resp.error, "%s",
                 parsed.websocket ? "a GET needs an http:// or https:// URL" : err);
        http_done(req, NULL, &resp);
        return req;
    }
    if (tc_http_get(s->net, &parsed, http_done, req) == NULL) {
        tc_http_response_t resp;
        memset(&resp, 0, sizeof resp);
        snprintf(resp.error, sizeof resp.error, "out of memory starting the GET");
        http_done(req, NULL, &resp);
    }
    return req;
}

static void fire_due_gets(tc_session_t *s, int64_t session_ms)
{
    while (s->next_timed_get < s->opts.get_count &&
           session_ms >= s->opts.gets[s->next_timed_get].at_ms) {
        if (start_get(s, s->opts.gets[s->next_timed_get].url, false) == NULL)
            s->failed = true;
        s->next_timed_get++;
    }
}

static tc_stop_t stop_reason(tc_session_t *s, int64_t now_ms)
{
    if (s->failed)
        return TC_STOP_FAILED;
    if (s->until != NULL && s->until(s->out, s->until_arg))
        return TC_STOP_UNTIL;
    if (s->session_conditions) {
        if (s->opts.max_texts > 0 && s->texts >= s->opts.max_texts)
            return TC_STOP_MAX_TEXTS;
        if (all_ended(s) && s->in_flight == 0)
            return TC_STOP_ENDED;
    }
    if (now_ms >= s->deadline_ms)
        return TC_STOP_DURATION;
    return TC_STOP_NONE;
}

static void session_tick(void *arg)
{
    tc_session_t *s = arg;
    int64_t now = now_monotonic_ms();
    if (s->ending) {
        if ((started_ended(s) && s->in_flight == 0) || now >= s->end_deadline_ms)
            tc_net_stop(s->net);
        return;
    }
    start_due(s);
    fire_due_gets(s, now - s->start_ms);
    for (int i = 0; i < s->started; i++)
        if (s->slots[i].ws != NULL)
            send_due(&s->slots[i], now);
    tc_stop_t why = stop_reason(s, now);
    if (why != TC_STOP_NONE) {
        s->out->stop = why;
        s->out->elapsed_ms = now - s->start_ms;
        tc_net_stop(s->net);
    }
}

tc_session_t *tc_session_start(const tc_session_opts_t *opts, tc_evlist_t *out)
{
    int count = opts->connections > 0 ? opts->connections : 1;
    if (opts->url == NULL && opts->urls == NULL) {
        fprintf(stderr, "session: no URL\n");
        return NULL;
    }
    tc_session_t *s = calloc(1, sizeof *s);
    slot_t *slots = calloc((size_t)count, sizeof *slots);
    if (s == NULL || slots == NULL) {
        free(s);
        free(slots);
        return NULL;
    }
    s->opts = *opts;
    s->out = out;
    s->slots = slots;
    s->count = count;
    s->recording = true;
    for (int i = 0; i < count; i++) {
        const char *url = opts->urls != NULL ? opts->urls[i] : opts->url;
        char err[256];
        if (url == NULL || tc_url_parse(url, &slots[i].url, err, sizeof err) != 0 ||
            !slots[i].url.websocket) {
            fprintf(stderr, "session: connection %d: %s\n", i,
                    url == NULL ? "no URL" : "not a ws:// or wss:// URL");
            free(slots);
            free(s);
            return NULL;
        }
        slots[i].session = s;
        slots[i].index = i;
    }
    s->net = tc_net_new(opts->ca_file);
    if (s->net == NULL) {
        free(slots);
        free(s);
        return NULL;
    }
    s->start_ms = now_monotonic_ms();
    start_due(s);
    return s;
}

/* Runs the loop until a stop condition; see tc_session_run_until. */
static tc_stop_t run_loop(tc_session_t *s, int64_t timeout_ms, tc_until_fn until, void *arg,
                          bool session_conditions)
{
    s->deadline_ms = now_monotonic_ms() + timeout_ms;
    s->until = until;
    s->until_arg = arg;
    s->session_conditions = session_conditions;
    s->out->stop = TC_STOP_NONE;
    if (tc_net_run(s->net, TICK_MS, session_tick, s) != 0)
        s->failed = true;
    if (s->failed)
        s->out->stop = TC_STOP_FAILED;
    s->until = NULL;
    s->until_arg = NULL;
    return s->out->stop;
}

tc_stop_t tc_session_run_until(tc_session_t *self, int64_t timeout_ms, tc_until_fn until, void *arg)
{
    return run_loop(self, timeout_ms, until, arg, true);
}

static bool req_done(const tc_evlist_t *events, void *arg)
{
    (void)events;
    return ((const req_t *)arg)->done;
}

int tc_session_get(tc_session_t *self, const char *url, int64_t timeout_ms, tc_get_result_t *out)
{
    memset(out, 0, sizeof *out);
    req_t *req = start_get(self, url, true);
    if (req == NULL) {
        snprintf(out->error, sizeof out->error, "out of memory");
        out->body = copy_bytes("", 0);
        return -1;
    }
    if (!req->done)
        run_loop(self, timeout_ms, req_done, req, false);
    if (!req->done) {
        snprintf(out->error, sizeof out->error, "no response within %lld ms",
                 (long long)timeout_ms);
        out->body = copy_bytes("", 0);
        return -1;
    }
    if (result_copy(out, &req->result) != 0)
        snprintf(out->error, sizeof out->error, "out of memory copying the response");
    return out->status > 0 ? 0 : -1;
}

int tc_session_send(tc_session_t *self, int conn, const char *text)
{
    if (conn < 0 || conn >= self->started || self->slots[conn].ws == NULL)
        return -1;
    return tc_ws_send_text(self->slots[conn].ws, text, strlen(text));
}

bool tc_session_is_open(const tc_session_t *self, int conn)
{
    return conn >= 0 && conn < self->started && self->slots[conn].ws != NULL &&
           tc_ws_is_open(self->slots[conn].ws);
}

int64_t tc_session_now_ms(const tc_session_t *self)
{
    return now_monotonic_ms() - self->start_ms;
}

void tc_session_end(tc_session_t **self_p)
{
    tc_session_t *s = self_p ? *self_p : NULL;
    if (s == NULL)
        return;
    s->recording = false;
    s->ending = true;
    bool open = false;
    for (int i = 0; i < s->started; i++) {
        if (s->slots[i].ws != NULL && !tc_ws_has_ended(s->slots[i].ws)) {
            tc_ws_close(s->slots[i].ws, LWS_CLOSE_STATUS_NORMAL);
            open = true;
        }
    }
    if (open || s->in_flight > 0) {
        s->end_deadline_ms = now_monotonic_ms() + CLOSE_GRACE_MS;
        tc_net_run(s->net, TICK_MS, session_tick, s);
    }
    tc_net_destroy(&s->net);
    while (s->reqs != NULL) {
        req_t *next = s->reqs->next;
        result_clear(&s->reqs->result);
        free(s->reqs);
        s->reqs = next;
    }
    free(s->slots);
    free(s);
    *self_p = NULL;
}

int tc_session_run(const tc_session_opts_t *opts, tc_evlist_t *out)
{
    if (opts->duration_ms <= 0) {
        fprintf(stderr, "session: duration_ms must be > 0\n");
        out->stop = TC_STOP_FAILED;
        return -1;
    }
    tc_session_t *s = tc_session_start(opts, out);
    if (s == NULL) {
        out->stop = TC_STOP_FAILED;
        return -1;
    }
    tc_stop_t why = tc_session_run_until(s, opts->duration_ms, NULL, NULL);
    tc_session_end(&s);
    out->stop = why;
    return why == TC_STOP_FAILED ? -1 : 0;
}
