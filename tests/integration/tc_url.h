/*
 * tc_url.h — the URLs bookcast-testclient accepts: ws://, wss://, http://, https://, with an
 * IPv4 address or a host name, an optional port and a path with an optional query. That is all
 * a test of the sim needs; there is no user-info, fragment or IPv6 literal.
 */
#ifndef BOOKCAST_TC_URL_H
#define BOOKCAST_TC_URL_H

#include <stdbool.h>
#include <stddef.h>

#define TC_URL_HOST_MAX 256
#define TC_URL_PATH_MAX 8192

typedef struct {
    bool tls;                   /* wss:// or https:// */
    bool websocket;             /* ws:// or wss:// */
    char host[TC_URL_HOST_MAX]; /* "127.0.0.1" */
    int port;                   /* from the URL, or 80/443 */
    char path[TC_URL_PATH_MAX]; /* "/stream?streams=btcusdt@depth", at least "/" */
} tc_url_t;

/* Parses `text` into *url. Returns 0, or -1 with a reason in err. */
int tc_url_parse(const char *text, tc_url_t *url, char *err, size_t err_len);

/* Builds a URL from parts (path starts with '/'). Returns 0, or -1 with a reason in err when a
   part is too long. */
int tc_url_make(tc_url_t *url, bool tls, bool websocket, const char *host, int port,
                const char *path, char *err, size_t err_len);

/* "wss://127.0.0.1:7443/stream?..." into buf; for messages. */
void tc_url_format(const tc_url_t *url, char *buf, size_t buf_len);

#endif
