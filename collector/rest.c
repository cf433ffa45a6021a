/*
 * rest.c — the snapshot fetcher (see rest.h).
 *
 * One FIFO of jobs (depth or exchangeInfo requests). The head is started when nothing is in
 * flight and weight_wait_ms lets it go; otherwise the pump timer fires again when it may. Each
 * job embeds its net_conn_t, so libwebsockets' callbacks land on the job itself. A job is
 * reported exactly once, through conclude(); after that it is detached from the rest_t (owner
 * NULL) and its memory waits only for its socket: it frees itself at WSI_DESTROY. So neither a
 * timeout nor rest_destroy waits for the network, and a late callback of an abandoned connection
 * touches nothing but its own job.
 *
 * Weight: the request is charged when it is started; X-MBX-USED-WEIGHT-1M is taken as soon as
 * the headers arrive, with the arrival time (an answer that crosses a minute boundary then
 * counts against the new minute: the count errs high, never low, so the worst case is a wait
 * too long, not a 429); 429 and 418 block the budget for their Retry-After.
 *
 * Rejected:
 *  - several requests in flight: with one, the exchange's count after answer n is known before
 *    request n+1 goes, so ours and the exchange's never differ by more than one request; a
 *    snapshot takes milliseconds and the budget is spread over a minute, so nothing is lost.
 *  - keep-alive and pipelining: each request has its own connection, so a timeout or a reset
 *    ends exactly one request; a TLS handshake per snapshot is cheap at snapshot rates.
 *  - retrying here: the bookbuilder knows whether the book still needs the snapshot.
 *  - reading the answer of a timed-out request: its connection is closed at once; the caller
 *    has already been told it failed.
 */
#include "rest.h"

#include "log.h"
#include "now.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON_MAX 512      /* a status-0 reason */
#define HEADER_VALUE_MAX 64 /* the headers read: numbers */
#define LOG_BODY_MAX 200    /* bytes of an error body quoted in a log line */
#define READ_CHUNK_BYTES 16384

/* Request weights: [S-REST] exchangeInfo 20 on spot; futures exchangeInfo 1 [PY-SDK]. */
#define EXCHANGE_INFO_WEIGHT_SPOT 20
#define EXCHANGE_INFO_WEIGHT_FUTURES 1
#define SPOT_DEPTH_LIMIT_MAX 5000

typedef enum { JOB_DEPTH, JOB_EXCHANGE_INFO } job_kind_t;

/* How a job ended, for the counters. */
typedef enum {
    OUTCOME_ANSWER,  /* an HTTP status */
    OUTCOME_FAILED,  /* status 0: connect, TLS, reset, body size */
    OUTCOME_TIMEOUT, /* status 0 */
    OUTCOME_REFUSED, /* status 0, never sent */
    OUTCOME_STOPPED, /* status 0, rest_destroy */
} outcome_t;

typedef struct job_t job_t;
struct job_t {
    net_conn_t conn; /* first: the net hands callbacks back as a net_conn_t */
    job_t *next;
    rest_t *owner; /* NULL once reported */
    job_kind_t kind;
    char symbol[ENVELOPE_SYMBOL_MAX + 1];
    unsigned limit;
    uint64_t request_id;
    unsigned weight;
    rest_info_fn info_done;
    void *info_arg;
    /* On the network. */
    bool on_net;     /* connecting succeeded: the memory goes at WSI_DESTROY */
    bool connecting; /* inside net_connect: its caller decides about the memory */
    bool closing;    /* libwebsockets is closing the socket anyway */
    bool wsi_gone;   /* WSI_DESTROY came */
    bool have_headers;
    int http_status;
    int64_t used_weight;
    int64_t retry_after_s; /* 429/418: the header, 0 when absent or unreadable */
    char *body;
    size_t body_len, body_cap;
};

struct rest_t {
    net_t *net;
    market_t market;
    char *rest_url;
    net_url_t base; /* rest_url parsed, for host:port in reasons */
    rest_done_fn done;
    void *arg;
    int64_t timeout_ms;
    size_t body_max_bytes;
    weight_budget_t budget;
    job_t *head, *tail;
    size_t queued;
    job_t *in_flight;
    net_timer_t pump_timer;
    bool pump_pending;
    int64_t next_attempt_ms;
    net_timer_t timeout_timer;
    bool stopping;
    uint64_t sent, answered_2xx, answered_4xx, answered_5xx, answered_other;
    uint64_t failed, timeouts, refused, stopped, blocked_waits;
};

static void pump(rest_t *self);

static int64_t wall_ms(void)
{
    return now_realtime_ns() / 1000000;
}

static const char *endpoint_prefix(market_t market)
{
    switch (market) {
    case MARKET_SPOT:
        return "/api/v3";
    case MARKET_USDM:
        return "/fapi/v1";
    default:
        return "/dapi/v1";
    }
}

unsigned rest_depth_weight(market_t market, unsigned limit)
{
    /* binance-protocol.md §4: spot weights since 2023-10-19 [S-CL]; futures [PY-SDK]. */
    if (market == MARKET_SPOT) {
        if (limit < 1 || limit > SPOT_DEPTH_LIMIT_MAX)
            return 0;
        return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    }
    if (market != MARKET_USDM && market != MARKET_COINM)
        return 0;
    switch (limit) {
    case 5:
    case 10:
    case 20:
    case 50:
        return 2;
    case 100:
        return 5;
    case 500:
        return 10;
    case 1000:
        return 20;
    default:
        return 0;
    }
}

unsigned rest_exchange_info_weight(market_t market)
{
    return market == MARKET_SPOT ? EXCHANGE_INFO_WEIGHT_SPOT : EXCHANGE_INFO_WEIGHT_FUTURES;
}

/* "16 MiB", "1 KiB", "1000 bytes". */
static void format_size(size_t bytes, char *out, size_t len)
{
    if (bytes && bytes % (1024 * 1024) == 0)
        snprintf(out, len, "%zu MiB", bytes / (1024 * 1024));
    else if (bytes && bytes % 1024 == 0)
        snprintf(out, len, "%zu KiB", bytes / 1024);
    else
        snprintf(out, len, "%zu bytes", bytes);
}

/* What a log line calls the request: "depth BTCUSDT limit 1000 (request 7)". */
static void describe(const job_t *job, char *out, size_t len)
{
    if (job->kind == JOB_DEPTH)
        snprintf(out, len, "depth %s limit %u (request %" PRIu64 ")", job->symbol, job->limit,
                 job->request_id);
    else
        snprintf(out, len, "exchangeInfo");
}

/* The first LOG_BODY_MAX bytes of a body, printable ASCII only, for a log line. */
static void body_excerpt(const char *body, size_t len, char *out, size_t out_len)
{
    size_t n = len < out_len - 1 ? len : out_len - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)body[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

/* ---- reporting ----------------------------------------------------------------------------- */

static void count_outcome(rest_t *self, outcome_t outcome, int status)
{
    switch (outcome) {
    case OUTCOME_ANSWER:
        if (status >= 200 && status < 300)
            self->answered_2xx++;
        else if (status >= 400 && status < 500)
            self->answered_4xx++;
        else if (status >= 500 && status < 600)
            self->answered_5xx++;
        else
            self->answered_other++;
        break;
    case OUTCOME_FAILED:
        self->failed++;
        break;
    case OUTCOME_TIMEOUT:
        self->timeouts++;
        break;
    case OUTCOME_REFUSED:
        self->refused++;
        break;
    case OUTCOME_STOPPED:
        self->stopped++;
        break;
    }
}

/* One line for a request that did not give a snapshot, so an operator sees which and why. */
static void log_outcome(rest_t *self, const job_t *job, outcome_t outcome, int status,
                        const char *text, size_t len)
{
    if (outcome == OUTCOME_STOPPED || (outcome == OUTCOME_ANSWER && status >= 200 && status < 300))
        return;
    char what[96], excerpt[LOG_BODY_MAX + 1];
    describe(job, what, sizeof what);
    body_excerpt(text, len, excerpt, sizeof excerpt);
    const char *market = market_name(self->market);
    if (outcome == OUTCOME_REFUSED) {
        log_warn("rest %s: %s refused without sending it: %s", market, what, excerpt);
        return;
    }
    if (outcome != OUTCOME_ANSWER) {
        log_warn("rest %s: %s failed (status 0): %s", market, what, excerpt);
        return;
    }
    int64_t now_ms = wall_ms();
    int64_t wait_s = (self->budget.blocked_until_ms - now_ms + 999) / 1000;
    if (status == 418)
        log_error("rest %s: %s answered HTTP 418, the IP is banned: no request for %" PRId64
                  " s (Retry-After %" PRId64 "): %s",
                  market, what, wait_s, job->retry_after_s, excerpt);
    else if (status == 429)
        log_warn("rest %s: %s answered HTTP 429, over the exchange's weight limit: requests "
                 "wait %" PRId64 " s (Retry-After %" PRId64
                 "); other programs on this IP may be spending weight: %s",
                 market, what, wait_s, job->retry_after_s, excerpt);
    else
        log_warn("rest %s: %s answered HTTP %d: %s", market, what, status, excerpt);
}

/* Counts, logs and reports one job: the one place a callback runs. */
static void conclude(rest_t *self, job_t *job, outcome_t outcome, int status, const char *text,
                     size_t len)
{
    count_outcome(self, outcome, status);
    log_outcome(self, job, outcome, status, text, len);
    if (job->kind == JOB_EXCHANGE_INFO) {
        job->info_done(job->info_arg, status, text, len);
        return;
    }
    rest_result_t result = {
        .symbol = job->symbol,
        .request_id = job->request_id,
        .http_status = status,
        .body = text,
        .body_len = len,
        .used_weight = job->used_weight,
        .recv_ts_ns = net_now_ns(),
    };
    self->done(self->arg, &result);
}

/* ---- the queue ----------------------------------------------------------------------------- */

static void job_free(job_t *job)
{
    free(job->body);
    free(job);
}

/* The job has been reported: free it now, or, while its socket lives, once it is gone. */
static void job_release(job_t *job)
{
    job->owner = NULL;
    if (job->connecting)
        return; /* start() frees it when net_connect returns */
    if (!job->on_net || job->wsi_gone) {
        job_free(job);
        return;
    }
    if (job->conn.wsi && !job->closing)
        lws_set_timeout(job->conn.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void on_pump_timer(net_timer_t *timer)
{
    rest_t *self = lws_container_of(timer, rest_t, pump_timer);
    self->pump_pending = false;
    self->next_attempt_ms = 0;
    pump(self);
}

/* Lets the queue move on from the next loop pass (never from inside a caller's call). */
static void kick(rest_t *self)
{
    if (self->stopping || self->pump_pending || self->in_flight || !self->head)
        return;
    self->pump_pending = true;
    net_timer_schedule(self->net, &self->pump_timer, on_pump_timer, 0);
}

static void enqueue(rest_t *self, job_t *job)
{
    if (self->tail)
        self->tail->next = job;
    else
        self->head = job;
    self->tail = job;
    self->queued++;
    kick(self);
}

static job_t *dequeue(rest_t *self)
{
    job_t *job = self->head;
    if (!job)
        return NULL;
    self->head = job->next;
    if (!self->head)
        self->tail = NULL;
    job->next = NULL;
    self->queued--;
    return job;
}

/* Ends the job in flight: reports it, lets go of it and lets the queue move on. */
static void finish(job_t *job, outcome_t outcome, int status, const char *text, size_t len)
{
    rest_t *self = job->owner;
    if (!self)
        return;
    if (self->in_flight == job) {
        self->in_flight = NULL;
        net_timer_cancel(&self->timeout_timer);
    }
    conclude(self, job, outcome, status, text, len);
    job_release(job);
    kick(self);
}

static void fail(job_t *job, outcome_t outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(job_t *job, outcome_t outcome, const char *fmt, ...)
{
    if (!job->owner)
        return;
    char reason[REASON_MAX];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);
    for (char *p = reason; *p; p++) /* one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    finish(job, outcome, 0, reason, strlen(reason));
}

/* ---- one request on the network ------------------------------------------------------------ */

static bool read_header(struct lws *wsi, const char *custom_name, enum lws_token_indexes token,
                        char *out, size_t len)
{
    if (custom_name) {
        int name_len = (int)strlen(custom_name);
        return lws_hdr_custom_length(wsi, custom_name, name_len) >= 0 &&
               lws_hdr_custom_copy(wsi, out, (int)len, custom_name, name_len) >= 0;
    }
    return lws_hdr_copy(wsi, out, (int)len, token) > 0;
}

/* A header holding a decimal count (surrounding blanks allowed), or -1. */
static int64_t parse_count(const char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text < '0' || *text > '9')
        return -1;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    return *end || v > INT64_MAX ? -1 : (int64_t)v;
}

static void on_headers(job_t *job, struct lws *wsi)
{
    rest_t *self = job->owner;
    int64_t now_ms = wall_ms();
    char value[HEADER_VALUE_MAX];
    job->have_headers = true;
    job->http_status = (int)lws_http_client_http_response(wsi);
    /* lws keeps header names in lower case. */
    if (read_header(wsi, "x-mbx-used-weight-1m:", 0, value, sizeof value)) {
        job->used_weight = parse_count(value);
        if (job->used_weight >= 0)
            weight_observe(&self->budget,
                           job->used_weight > UINT_MAX ? UINT_MAX : (unsigned)job->used_weight,
                           now_ms);
    }
    if (job->http_status == 429 || job->http_status == 418) {
        /* Binance sends seconds; anything else (absent, an HTTP date) takes weight.c's
           defaults. */
        int64_t s = read_header(wsi, NULL, WSI_TOKEN_HTTP_RETRY_AFTER, value, sizeof value)
                        ? parse_count(value)
                        : -1;
        job->retry_after_s = s > 0 ? s : 0;
        weight_on_refusal(&self->budget, job->http_status == 418, job->retry_after_s, now_ms);
    }
    if (read_header(wsi, NULL, WSI_TOKEN_HTTP_CONTENT_LENGTH, value, sizeof value)) {
        int64_t length = parse_count(value);
        if (length > (int64_t)self->body_max_bytes) {
            char size[32];
            format_size(self->body_max_bytes, size, sizeof size);
            fail(job, OUTCOME_FAILED, "body over %s", size);
        }
    }
}

static void on_body(job_t *job, const void *in, size_t len)
{
    rest_t *self = job->owner;
    if (job->body_len + len > self->body_max_bytes) {
        char size[32];
        format_size(self->body_max_bytes, size, sizeof size);
        fail(job, OUTCOME_FAILED, "body over %s", size);
        return;
    }
    if (job->body_len + len + 1 > job->body_cap) {
        size_t cap = job->body_cap ? job->body_cap : READ_CHUNK_BYTES;
        while (cap < job->body_len + len + 1)
            cap *= 2;
        char *grown = realloc(job->body, cap);
        if (!grown) {
            fail(job, OUTCOME_FAILED, "out of memory reading a %zu-byte body", job->body_len + len);
            return;
        }
        job->body = grown;
        job->body_cap = cap;
    }
    memcpy(job->body + job->body_len, in, len);
    job->body_len += len;
    job->body[job->body_len] = '\0';
}

static void on_closed(job_t *job)
{
    rest_t *self = job->owner;
    if (!self)
        return;
    if (job->have_headers)
        fail(job, OUTCOME_FAILED, "%s:%d closed the connection after %zu body bytes of HTTP %d",
             self->base.host, self->base.port, job->body_len, job->http_status);
    else
        fail(job, OUTCOME_FAILED, "%s:%d closed the connection before answering", self->base.host,
             self->base.port);
}

/* What libwebsockets' connection-error text leaves out, as " (…)" or "": which certificate
   check failed (its own text only says "connect SSL err 1"). The SSL object is still there
   during the callback. A refused connect gets lws's "Unable to connect" alone: the socket is
   closed by then and errno is not connect()'s any more. */
static void connection_error_detail(struct lws *wsi, char *out, size_t len)
{
    out[0] = '\0';
    SSL *ssl = wsi ? lws_get_ssl(wsi) : NULL;
    long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (verify != X509_V_OK)
        snprintf(out, len, " (certificate not trusted: %s)", X509_verify_cert_error_string(verify));
}

static int job_on_lws(net_conn_t *conn, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                      size_t len)
{
    job_t *job = (job_t *)conn;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        job->closing = true;
        if (job->owner) {
            char detail[160];
            connection_error_detail(wsi, detail, sizeof detail);
            fail(job, OUTCOME_FAILED, "connect to %s:%d: %.*s%s", job->owner->base.host,
                 job->owner->base.port, in ? (int)strnlen(in, len ? len : 200) : 6,
                 in ? (const char *)in : "failed", detail);
        }
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        if (job->owner)
            on_headers(job, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        /* lws de-chunks and hands the bytes to RECEIVE_CLIENT_HTTP_READ. */
        char buffer[LWS_PRE + READ_CHUNK_BYTES];
        char *px = buffer + LWS_PRE;
        int lenx = READ_CHUNK_BYTES;
        return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (job->owner)
            on_body(job, in, len); /* an abandoned job drains until its socket is killed */
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        job->closing = true;
        if (job->owner)
            finish(job, OUTCOME_ANSWER, job->http_status, job->body ? job->body : "",
                   job->body_len);
        return -1; /* one request per connection: close it */
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        job->closing = true;
        on_closed(job);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        job->closing = true;
        job->wsi_gone = true;
        if (job->owner)
            on_closed(job); /* reports, then frees through job_release */
        else if (!job->connecting)
            job_free(job);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, NULL, in, len);
    }
}

static void on_timeout(net_timer_t *timer)
{
    rest_t *self = lws_container_of(timer, rest_t, timeout_timer);
    if (self->in_flight)
        fail(self->in_flight, OUTCOME_TIMEOUT, "timeout after %" PRId64 " ms", self->timeout_ms);
}

/* Sends the job: charges its weight and connects. */
static void start(rest_t *self, job_t *job, int64_t now_ms)
{
    char path[256];
    if (job->kind == JOB_DEPTH)
        snprintf(path, sizeof path, "%s/depth?symbol=%s&limit=%u", endpoint_prefix(self->market),
                 job->symbol, job->limit);
    else
        snprintf(path, sizeof path, "%s/exchangeInfo", endpoint_prefix(self->market));
    net_url_t url;
    if (net_url_parse(self->rest_url, path, &url) != 0) {
        /* Only a path too long for net_url_t: the base parsed in rest_new. */
        job->owner = self;
        fail(job, OUTCOME_REFUSED, "the URL %s%s is too long", self->rest_url, path);
        return;
    }
    weight_charge(&self->budget, job->weight, now_ms);
    self->sent++;
    self->in_flight = job;
    job->owner = self;
    job->conn.on_lws = job_on_lws;
    net_timer_schedule(self->net, &self->timeout_timer, on_timeout, self->timeout_ms);
    job->connecting = true;
    int rc = net_connect(self->net, &job->conn, &url, "GET");
    job->connecting = false;
    if (rc == 0 && !job->wsi_gone) {
        job->on_net = true;
        if (!job->owner && job->conn.wsi && !job->closing) /* reported during the call */
            lws_set_timeout(job->conn.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    /* No callback will come any more: the memory is ours. */
    if (job->owner)
        fail(job, OUTCOME_FAILED, "connect to %s:%d: libwebsockets could not start the connection",
             url.host, url.port);
    else
        job_free(job);
}

/* The queue waits wait_ms for the budget or a Retry-After. */
static void wait_for_budget(rest_t *self, int64_t wait_ms, int64_t now_ms)
{
    bool blocked = now_ms < self->budget.blocked_until_ms;
    if (blocked)
        self->blocked_waits++;
    log_info("rest %s: %zu request%s wait %" PRId64 " ms for %s (weight %u of %u used this "
             "minute)",
             market_name(self->market), self->queued, self->queued == 1 ? "" : "s", wait_ms,
             blocked ? (self->budget.banned ? "the end of a 418 ban" : "a 429's Retry-After")
                     : "the next minute's weight",
             weight_used(&self->budget, now_ms), weight_budget(&self->budget));
    self->next_attempt_ms = now_ms + wait_ms;
    self->pump_pending = true;
    net_timer_schedule(self->net, &self->pump_timer, on_pump_timer, wait_ms);
}

/* Starts the queue's head if nothing is in flight and the budget lets it go. */
static void pump(rest_t *self)
{
    while (!self->stopping && !self->in_flight && !self->pump_pending && self->head) {
        job_t *job = self->head;
        int64_t now_ms = wall_ms();
        int64_t wait_ms = weight_wait_ms(&self->budget, job->weight, now_ms);
        if (wait_ms > 0) {
            wait_for_budget(self, wait_ms, now_ms);
            return;
        }
        dequeue(self);
        if (wait_ms < 0) {
            char reason[REASON_MAX];
            int n = snprintf(reason, sizeof reason,
                             "weight %u is above the whole budget of %u per minute (%u%% of %u)",
                             job->weight, weight_budget(&self->budget),
                             self->budget.policy.share_pct, self->budget.policy.limit_per_min);
            conclude(self, job, OUTCOME_REFUSED, 0, reason, (size_t)n);
            job_free(job);
            continue;
        }
        start(self, job, now_ms);
    }
}

/* ---- the interface ------------------------------------------------------------------------- */

rest_t *rest_new(net_t *net, market_t market, const char *rest_url, const weight_policy_t *policy,
                 rest_done_fn done, void *arg)
{
    if (!net || !done || !policy) {
        log_error("rest: rest_new needs a net, a policy and a done callback");
        return NULL;
    }
    if (market != MARKET_SPOT && market != MARKET_USDM && market != MARKET_COINM) {
        log_error("rest: unknown market %d", (int)market);
        return NULL;
    }
    net_url_t base;
    if (!rest_url ||
        (strncmp(rest_url, "https://", 8) != 0 && strncmp(rest_url, "http://", 7) != 0) ||
        net_url_parse(rest_url, NULL, &base) != 0) {
        log_error("rest %s: the REST URL \"%s\" is not an http:// or https:// URL with a host "
                  "(check markets.%s.rest_url)",
                  market_name(market), rest_url ? rest_url : "", market_name(market));
        return NULL;
    }
    if (policy->limit_per_min < 1 || policy->share_pct < 1 || policy->share_pct > 100) {
        log_error("rest %s: weight limit %u per minute with a share of %u%% is not usable "
                  "(limit >= 1, share 1..100)",
                  market_name(market), policy->limit_per_min, policy->share_pct);
        return NULL;
    }
    rest_t *self = calloc(1, sizeof *self);
    char *url_copy = strdup(rest_url);
    if (!self || !url_copy) {
        log_error("rest %s: out of memory", market_name(market));
        free(self);
        free(url_copy);
        return NULL;
    }
    self->net = net;
    self->market = market;
    self->rest_url = url_copy;
    self->base = base;
    self->done = done;
    self->arg = arg;
    self->timeout_ms = REST_TIMEOUT_MS_DEFAULT;
    self->body_max_bytes = REST_BODY_MAX_BYTES;
    weight_init(&self->budget, policy);
    return self;
}

void rest_destroy(rest_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rest_t *self = *self_p;
    self->stopping = true;
    net_timer_cancel(&self->pump_timer);
    net_timer_cancel(&self->timeout_timer);
    size_t unanswered = self->queued + (self->in_flight ? 1 : 0);
    if (unanswered)
        log_info("rest %s: stopping with %zu request%s unanswered", market_name(self->market),
                 unanswered, unanswered == 1 ? "" : "s");
    static const char stopping[] = "collector stopping";
    if (self->in_flight)
        finish(self->in_flight, OUTCOME_STOPPED, 0, stopping, sizeof stopping - 1);
    for (job_t *job; (job = dequeue(self));) {
        conclude(self, job, OUTCOME_STOPPED, 0, stopping, sizeof stopping - 1);
        job_free(job);
    }
    free(self->rest_url);
    free(self);
    *self_p = NULL;
}

void rest_set_timeout_ms(rest_t *self, int64_t timeout_ms)
{
    self->timeout_ms = timeout_ms < 1 ? 1 : timeout_ms;
}

void rest_set_body_max_bytes(rest_t *self, size_t body_max_bytes)
{
    self->body_max_bytes = body_max_bytes < 1 || body_max_bytes > REST_BODY_MAX_BYTES
                               ? REST_BODY_MAX_BYTES
                               : body_max_bytes;
}

static bool symbol_valid(const char *symbol)
{
    size_t n = symbol ? strlen(symbol) : 0;
    if (n < 1 || n > ENVELOPE_SYMBOL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = symbol[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static job_t *job_new(job_kind_t kind)
{
    job_t *job = calloc(1, sizeof *job);
    if (job) {
        job->kind = kind;
        job->used_weight = -1;
    }
    return job;
}

int rest_request_depth(rest_t *self, const char *symbol, unsigned limit, uint64_t request_id)
{
    if (!self || self->stopping)
        return -1;
    if (!symbol_valid(symbol)) {
        log_warn("rest %s: depth request %" PRIu64 " for \"%.40s\" not sent: a symbol is 1..32 of "
                 "A-Z, 0-9 and _",
                 market_name(self->market), request_id, symbol ? symbol : "");
        self->refused++;
        return -1;
    }
    job_t *job = job_new(JOB_DEPTH);
    if (!job) {
        log_error("rest %s: out of memory queueing depth %s (request %" PRIu64 ")",
                  market_name(self->market), symbol, request_id);
        return -1;
    }
    snprintf(job->symbol, sizeof job->symbol, "%s", symbol);
    job->limit = limit;
    job->request_id = request_id;
    job->weight = rest_depth_weight(self->market, limit);
    if (job->weight == 0) {
        char reason[REASON_MAX];
        int n = self->market == MARKET_SPOT
                    ? snprintf(reason, sizeof reason, "limit %u is not a spot depth limit (1..%d)",
                               limit, SPOT_DEPTH_LIMIT_MAX)
                    : snprintf(reason, sizeof reason,
                               "limit %u is not a %s depth limit (5, 10, 20, 50, 100, 500, 1000)",
                               limit, market_name(self->market));
        conclude(self, job, OUTCOME_REFUSED, 0, reason, (size_t)n);
        job_free(job);
        return 0;
    }
    enqueue(self, job);
    return 0;
}

int rest_request_exchange_info(rest_t *self, rest_info_fn done, void *arg)
{
    if (!self || self->stopping || !done)
        return -1;
    job_t *job = job_new(JOB_EXCHANGE_INFO);
    if (!job) {
        log_error("rest %s: out of memory queueing exchangeInfo", market_name(self->market));
        return -1;
    }
    job->weight = rest_exchange_info_weight(self->market);
    job->info_done = done;
    job->info_arg = arg;
    enqueue(self, job);
    return 0;
}

void rest_stats(rest_t *self, rest_stats_t *stats)
{
    int64_t now_ms = wall_ms();
    bool blocked = now_ms < self->budget.blocked_until_ms;
    *stats = (rest_stats_t){
        .queued = self->queued,
        .in_flight = self->in_flight ? 1 : 0,
        .sent = self->sent,
        .answered_2xx = self->answered_2xx,
        .answered_4xx = self->answered_4xx,
        .answered_5xx = self->answered_5xx,
        .answered_other = self->answered_other,
        .failed = self->failed,
        .timeouts = self->timeouts,
        .refused = self->refused,
        .stopped = self->stopped,
        .weight_used = weight_used(&self->budget, now_ms),
        .weight_budget = weight_budget(&self->budget),
        .throttled_waits = self->budget.throttled,
        .blocked_waits = self->blocked_waits,
        .rate_limited = self->budget.rate_limited,
        .bans = self->budget.bans,
        .blocked_until_ms = blocked ? self->budget.blocked_until_ms : 0,
        .banned = blocked && self->budget.banned,
        .next_attempt_ms = self->pump_pending ? self->next_attempt_ms : 0,
    };
}
