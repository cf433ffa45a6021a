/*
 * bus.c — see bus.h. Thin on purpose: czmq does the sockets; this file fixes the conventions
 * (two-frame messages, topic grammar, error text that names the endpoint) in one place.
 */
#include "bus.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static zsock_t *open_socket(int type, const char *endpoint, int bind, const bus_sender_t *sender,
                            char *err, size_t err_len)
{
    zsock_t *sock = zsock_new(type);
    if (!sock) {
        snprintf(err, err_len, "cannot create a ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    if (sender) {
        /* Options that shape the connection must be set before it exists. */
        zsock_set_immediate(sock, 1);
        zsock_set_sndhwm(sock, sender->send_hwm);
        zsock_set_linger(sock, sender->linger_ms);
    }
    int rc = bind ? zsock_bind(sock, "%s", endpoint) : zsock_connect(sock, "%s", endpoint);
    if (rc == -1) {
        snprintf(err, err_len, "%s %s: %s", bind ? "bind" : "connect", endpoint,
                 zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
        return NULL;
    }
    return sock;
}

zsock_t *bus_bind(int type, const char *endpoint, char *err, size_t err_len)
{
    return open_socket(type, endpoint, 1, NULL, err, err_len);
}

zsock_t *bus_connect(int type, const char *endpoint, char *err, size_t err_len)
{
    return open_socket(type, endpoint, 0, NULL, err, err_len);
}

zsock_t *bus_connect_sender(int type, const char *endpoint, const bus_sender_t *sender, char *err,
                            size_t err_len)
{
    return open_socket(type, endpoint, 0, sender, err, err_len);
}

static int valid_part(const char *s, int upper)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isdigit(c) || c == '_')
            continue;
        if (upper ? isupper(c) : (islower(c) || c == '-'))
            continue;
        return 0;
    }
    return 1;
}

int bus_topic(char *buf, size_t buf_len, const char *channel, const char *market,
              const char *symbol)
{
    if (!valid_part(channel, 0) || strchr(channel, '-') || !valid_part(market, 0))
        return -1;
    /* Status topics carry a lower-case instance where data topics carry a SYMBOL. */
    if (!valid_part(symbol, 1) && !valid_part(symbol, 0))
        return -1;
    int n = snprintf(buf, buf_len, "%s.%s.%s", channel, market, symbol);
    if (n < 0 || (size_t)n >= buf_len)
        return -1;
    return n;
}

int bus_send(zsock_t *sock, const char *topic, const void *body, size_t body_len)
{
    void *handle = zsock_resolve(sock);
    if (zmq_send(handle, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
        return -1;
    /* ZeroMQ queues a multipart message atomically: once the first part is accepted, the last
       part is too. */
    if (zmq_send(handle, body, body_len, ZMQ_DONTWAIT) == -1)
        return -1;
    return 0;
}
