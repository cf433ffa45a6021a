/*
 * tc_net.c — the libwebsockets context and service loop of bookcast-testclient; see tc_net.h.
 */
#include "tc_net.h"

#include "log.h"
#include "now.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TC_RX_BUFFER_BYTES (64 * 1024) /* per-read chunk; messages are reassembled above it */
#define TC_TIMEOUT_S 15                /* lws's own handshake and response timeouts */

struct tc_net {
    struct lws_context *context;
    lws_sorted_usec_list_t tick_sul;
    tc_tick_fn tick;
    void *tick_arg;
    int tick_ms;
    bool stop;
    bool closing;
    bool tls_ready; /* a CA file was given */
    tc_conn_t *conns;
};

/* lws_sul gives the callback only the sul; the net is found from it. */
static tc_net_t *net_of_sul(lws_sorted_usec_list_t *sul)
{
    return (tc_net_t *)((char *)sul - offsetof(tc_net_t, tick_sul));
}

static int tc_net_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    tc_conn_t *conn = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (conn == NULL)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (reason == LWS_CALLBACK_WSI_DESTROY) {
        conn->on_lws(conn, wsi, reason, in, len);
        conn->wsi = NULL;
        lws_set_opaque_user_data(wsi, NULL);
        return 0;
    }
    return conn->on_lws(conn, wsi, reason, in, len);
}

static const struct lws_protocols TC_PROTOCOLS[] = {
    {"bookcast-testclient", tc_net_callback, 0, TC_RX_BUFFER_BYTES, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* The last error line lws logged, for connection errors whose own reason is vague (a failed
   certificate check is reported as "connect SSL err 1: ..." while the log line names it). One
   service thread, so a plain static is enough. */
static char last_lws_error[200];

/* lws's own log lines go through ours, errors and warnings only. */
static void lws_log_emit(int level, const char *line)
{
    if (level & LLL_ERR) {
        log_error("lws: %s", line);
        size_t n = 0;
        for (; line[n] != '\0' && n + 1 < sizeof last_lws_error; n++)
            last_lws_error[n] = (line[n] == '\n' || line[n] == '\r') ? ' ' : line[n];
        while (n > 0 && last_lws_error[n - 1] == ' ')
            n--;
        last_lws_error[n] = '\0';
    } else {
        log_warn("lws: %s", line);
    }
}

const char *tc_net_take_lws_error(void)
{
    static char taken[sizeof last_lws_error];
    memcpy(taken, last_lws_error, sizeof taken);
    last_lws_error[0] = '\0';
    return taken;
}

tc_net_t *tc_net_new(const char *ca_file)
{
    tc_net_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        log_error("out of memory creating the lws context");
        return NULL;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = TC_PROTOCOLS;
    info.gid = -1;
    info.uid = -1;
    info.timeout_secs = TC_TIMEOUT_S;
    if (ca_file != NULL) {
        /* Trust exactly the given CA: a test must fail when the sim's chain is wrong, not pass
           because the system store happens to vouch for something. */
        info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
        info.client_ssl_ca_filepath = ca_file;
        self->tls_ready = true;
    }
    self->context = lws_create_context(&info);
    if (self->context == NULL) {
        log_error("lws_create_context failed (CA file %s)", ca_file ? ca_file : "none");
        free(self);
        return NULL;
    }
    return self;
}

void tc_net_destroy(tc_net_t **self_p)
{
    tc_net_t *self = self_p ? *self_p : NULL;
    if (self == NULL)
        return;
    self->closing = true;
    lws_sul_cancel(&self->tick_sul);
    lws_context_destroy(self->context);
    while (self->conns != NULL) {
        tc_conn_t *conn = self->conns;
        self->conns = conn->next;
        conn->free_fn(conn);
    }
    free(self);
    *self_p = NULL;
}

int tc_net_connect(tc_net_t *self, tc_conn_t *conn, const tc_url_t *url, const char *http_method)
{
    conn->net = self;
    conn->wsi = NULL;
    conn->next = self->conns;
    self->conns = conn;
    if (url->tls && !self->tls_ready) {
        log_error("%s:%d: a TLS URL needs --ca", url->host, url->port);
        return -1;
    }

    struct lws_client_connect_info info;
    memset(&info, 0, sizeof info);
    info.context = self->context;
    info.address = url->host;
    info.port = url->port;
    info.path = url->path;
    info.host = url->host; /* Host header and TLS name: the certificate names 127.0.0.1 too */
    info.origin = NULL;
    info.ssl_connection = url->tls ? LCCSCF_USE_SSL : 0;
    info.method = http_method;
    info.local_protocol_name = TC_PROTOCOLS[0].name;
    info.alpn = "http/1.1"; /* h2 would hide custom headers and cannot carry a ws upgrade */
    info.opaque_user_data = conn;
    info.pwsi = &conn->wsi;
    if (http_method != NULL)
        info.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;

    if (lws_client_connect_via_info(&info) == NULL) {
        conn->wsi = NULL;
        return -1;
    }
    return 0;
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    tc_net_t *self = net_of_sul(sul);
    self->tick(self->tick_arg);
    if (!self->stop)
        lws_sul_schedule(self->context, 0, &self->tick_sul, tick_cb,
                         (lws_usec_t)self->tick_ms * LWS_US_PER_MS);
}

int tc_net_run(tc_net_t *self, int tick_ms, tc_tick_fn tick, void *arg)
{
    self->tick = tick;
    self->tick_arg = arg;
    self->tick_ms = tick_ms;
    self->stop = false;
    lws_sul_schedule(self->context, 0, &self->tick_sul, tick_cb, 1);
    while (!self->stop) {
        if (lws_service(self->context, 0) < 0) {
            log_error("lws_service failed");
            lws_sul_cancel(&self->tick_sul);
            return -1;
        }
    }
    lws_sul_cancel(&self->tick_sul);
    return 0;
}

void tc_net_stop(tc_net_t *self)
{
    self->stop = true;
    lws_cancel_service(self->context);
}

bool tc_net_closing(const tc_net_t *self)
{
    return self->closing;
}

int64_t tc_net_recv_ns(void)
{
    return now_realtime_ns();
}
