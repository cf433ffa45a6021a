/*
 * net.c — the libwebsockets context of a collector (see net.h).
 */
#include "net.h"

#include "log.h"
#include "now.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_BUFFER_BYTES (64 * 1024) /* per read; messages are reassembled above it */
#define LWS_TIMEOUT_S 20            /* connect, TLS and HTTP response timeouts */

struct net_t {
    struct lws_context *context;
    bool stop;
};

static int net_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    net_conn_t *conn = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!conn)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (reason == LWS_CALLBACK_WSI_DESTROY) {
        lws_set_opaque_user_data(wsi, NULL);
        conn->wsi = NULL;
        return conn->on_lws(conn, wsi, reason, in, len);
    }
    return conn->on_lws(conn, wsi, reason, in, len);
}

static const struct lws_protocols protocols[] = {
    {"bookcast-collector", net_callback, 0, RX_BUFFER_BYTES, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_to_ours(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        log_error("libwebsockets: %.*s", (int)n, line);
    else
        log_warn("libwebsockets: %.*s", (int)n, line);
}

int net_url_parse(const char *url, const char *path, net_url_t *out)
{
    memset(out, 0, sizeof *out);
    static const struct {
        const char *scheme;
        bool tls;
        int port;
    } schemes[] = {{"wss://", true, 443}, {"ws://", false, 80}, {"https://", true, 443},
                   {"http://", false, 80}};
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0] && !rest; i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncmp(url, schemes[i].scheme, n) == 0) {
            rest = url + n;
            out->tls = schemes[i].tls;
            out->port = schemes[i].port;
        }
    }
    if (!rest)
        return -1;
    size_t host_len = strcspn(rest, ":/?");
    if (host_len == 0 || host_len >= sizeof out->host)
        return -1;
    memcpy(out->host, rest, host_len);
    rest += host_len;
    if (*rest == ':') {
        char *end;
        long port = strtol(rest + 1, &end, 10);
        if (end == rest + 1 || port < 1 || port > 65535)
            return -1;
        out->port = (int)port;
        rest = end;
    }
    if (*rest && *rest != '/' && *rest != '?')
        return -1;
    /* base path (without a trailing '/') + the appended path + the base's query, if any */
    size_t base_len = strcspn(rest, "?");
    const char *query = rest + base_len;
    while (base_len && rest[base_len - 1] == '/')
        base_len--;
    const char *tail = path && *path ? path : (base_len ? "" : "/");
    int w = snprintf(out->path, sizeof out->path, "%.*s%s%s", (int)base_len, rest, tail, query);
    return w < 0 || (size_t)w >= sizeof out->path ? -1 : 0;
}

net_t *net_new(const char *ca_file)
{
    net_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_ours);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = -1;
    info.uid = -1;
    info.timeout_secs = LWS_TIMEOUT_S;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (ca_file && *ca_file) {
        /* Only the configured CA: a connection to the simulator must fail if its chain is
           wrong, not pass because the system store vouches for something else. */
        info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
        info.client_ssl_ca_filepath = ca_file;
    }
    self->context = lws_create_context(&info);
    if (!self->context) {
        log_error("collector: cannot create the libwebsockets context (CA file %s)",
                  ca_file && *ca_file ? ca_file : "system");
        free(self);
        return NULL;
    }
    return self;
}

void net_destroy(net_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    lws_context_destroy((*self_p)->context);
    free(*self_p);
    *self_p = NULL;
}

int net_connect(net_t *self, net_conn_t *conn, const net_url_t *url, const char *http_method)
{
    conn->net = self;
    conn->wsi = NULL;
    struct lws_client_connect_info info;
    memset(&info, 0, sizeof info);
    info.context = self->context;
    info.address = url->host;
    info.port = url->port;
    info.path = url->path;
    info.host = url->host;
    info.origin = url->host;
    info.ssl_connection = url->tls ? LCCSCF_USE_SSL : 0;
    info.method = http_method;
    info.local_protocol_name = protocols[0].name;
    info.alpn = "http/1.1";
    info.opaque_user_data = conn;
    info.pwsi = &conn->wsi;
    if (http_method)
        info.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    if (!lws_client_connect_via_info(&info)) {
        conn->wsi = NULL;
        return -1;
    }
    return 0;
}

static void timer_fired(lws_sorted_usec_list_t *sul)
{
    net_timer_t *timer = lws_container_of(sul, net_timer_t, sul);
    timer->fn(timer);
}

void net_timer_schedule(net_t *self, net_timer_t *timer, net_timer_fn fn, int64_t delay_ms)
{
    timer->fn = fn;
    timer->net = self;
    lws_sul_schedule(self->context, 0, &timer->sul, timer_fired,
                     (lws_usec_t)(delay_ms > 0 ? delay_ms : 0) * LWS_US_PER_MS + 1);
}

void net_timer_cancel(net_timer_t *timer)
{
    if (timer->net)
        lws_sul_cancel(&timer->sul);
}

int net_run(net_t *self)
{
    self->stop = false;
    while (!self->stop)
        if (lws_service(self->context, 0) < 0) {
            log_error("collector: the libwebsockets service loop failed");
            return -1;
        }
    return 0;
}

void net_stop(net_t *self)
{
    self->stop = true;
    lws_cancel_service(self->context);
}

int64_t net_now_ns(void)
{
    return now_realtime_ns();
}
