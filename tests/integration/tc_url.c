/*
 * tc_url.c — see tc_url.h. A hand-written parser because the grammar is four schemes and
 * host[:port]/path; lws_parse_uri() edits its input in place and accepts more than we want.
 */
#include "tc_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *prefix;
    bool tls;
    bool websocket;
    int default_port;
} scheme_t;

static const scheme_t SCHEMES[] = {
    {"ws://", false, true, 80},
    {"wss://", true, true, 443},
    {"http://", false, false, 80},
    {"https://", true, false, 443},
};

static const scheme_t *find_scheme(const char *text)
{
    for (size_t i = 0; i < sizeof SCHEMES / sizeof SCHEMES[0]; i++)
        if (strncmp(text, SCHEMES[i].prefix, strlen(SCHEMES[i].prefix)) == 0)
            return &SCHEMES[i];
    return NULL;
}

static bool host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

/* Parses the decimal port in [s, end). */
static int parse_port(const char *s, const char *end, int *port)
{
    if (s == end || end - s > 5)
        return -1;
    int value = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
    }
    if (value < 1 || value > 65535)
        return -1;
    *port = value;
    return 0;
}

int tc_url_parse(const char *text, tc_url_t *url, char *err, size_t err_len)
{
    memset(url, 0, sizeof *url);
    const scheme_t *scheme = find_scheme(text);
    if (scheme == NULL) {
        snprintf(err, err_len, "URL %s: scheme must be ws://, wss://, http:// or https://", text);
        return -1;
    }
    const char *host = text + strlen(scheme->prefix);
    const char *host_end = host;
    while (host_char_ok(*host_end))
        host_end++;
    if (host_end == host || (size_t)(host_end - host) >= sizeof url->host) {
        snprintf(err, err_len, "URL %s: missing or overlong host", text);
        return -1;
    }
    int port = scheme->default_port;
    const char *rest = host_end;
    if (*rest == ':') {
        const char *port_end = rest + 1;
        while (*port_end >= '0' && *port_end <= '9')
            port_end++;
        if (parse_port(rest + 1, port_end, &port) != 0) {
            snprintf(err, err_len, "URL %s: port must be 1..65535", text);
            return -1;
        }
        rest = port_end;
    }
    if (*rest != '\0' && *rest != '/' && *rest != '?') {
        snprintf(err, err_len, "URL %s: unexpected '%c' after the host", text, *rest);
        return -1;
    }
    char path[TC_URL_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s%s", *rest == '/' ? "" : "/", rest);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(err, err_len, "URL %s: path longer than %d bytes", text, TC_URL_PATH_MAX - 1);
        return -1;
    }
    char hostname[TC_URL_HOST_MAX];
    memcpy(hostname, host, (size_t)(host_end - host));
    hostname[host_end - host] = '\0';
    return tc_url_make(url, scheme->tls, scheme->websocket, hostname, port, path, err, err_len);
}

int tc_url_make(tc_url_t *url, bool tls, bool websocket, const char *host, int port,
                const char *path, char *err, size_t err_len)
{
    memset(url, 0, sizeof *url);
    if (strlen(host) >= sizeof url->host || strlen(path) >= sizeof url->path) {
        snprintf(err, err_len, "host or path too long");
        return -1;
    }
    if (path[0] != '/') {
        snprintf(err, err_len, "path %s must start with '/'", path);
        return -1;
    }
    url->tls = tls;
    url->websocket = websocket;
    url->port = port;
    strcpy(url->host, host);
    strcpy(url->path, path);
    return 0;
}

void tc_url_format(const tc_url_t *url, char *buf, size_t buf_len)
{
    const char *scheme = url->websocket ? (url->tls ? "wss" : "ws") : (url->tls ? "https" : "http");
    snprintf(buf, buf_len, "%s://%s:%d%s", scheme, url->host, url->port, url->path);
}
