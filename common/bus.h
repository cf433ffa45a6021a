/*
 * bus.h — the ZeroMQ sockets and topic names every bookcast program shares.
 *
 * Endpoints come from the bus.* keys of the configuration. Topics are
 * "<channel>.<market>.<SYMBOL>" (book.spot.BTCUSDT); a message on a topic is two ZeroMQ frames,
 * the topic and the JSON body, so a subscriber can compare the topic frame exactly (ZeroMQ
 * filters by prefix, and BTCUSDT is a prefix of BTCUSDT_251226).
 */
#ifndef BOOKCAST_BUS_H
#define BOOKCAST_BUS_H

#include <czmq.h>
#include <stddef.h>

#define BUS_TOPIC_MAX 96

/* A socket of `type` (ZMQ_PUB, ZMQ_PULL, …) bound, or connected, to `endpoint`. Returns NULL
   with the reason in err (e.g. "bind tcp://127.0.0.1:7100: Address already in use"). The caller
   owns the socket (zsock_destroy). */
zsock_t *bus_bind(int type, const char *endpoint, char *err, size_t err_len);
zsock_t *bus_connect(int type, const char *endpoint, char *err, size_t err_len);

/* A sending socket (PUSH) that queues only towards peers that are really connected
   (ZMQ_IMMEDIATE): with no peer, a send fails with EAGAIN at once, so the program's own queue,
   with its bound and loss accounting, holds the messages rather than a ZeroMQ pipe. */
typedef struct {
    int send_hwm;  /* messages ZeroMQ may queue per connected peer */
    int linger_ms; /* how long closing the socket may wait to deliver what it holds */
} bus_sender_t;
zsock_t *bus_connect_sender(int type, const char *endpoint, const bus_sender_t *sender, char *err,
                            size_t err_len);

/* Writes "<channel>.<market>.<symbol>" into buf. channel: [a-z0-9_]+; market: spot, usdm or
   coinm (or a program instance for status topics: [a-z0-9_-]+); symbol: [A-Z0-9_]+ for data
   topics. Returns the length, or -1 when a part is invalid or buf too small. */
int bus_topic(char *buf, size_t buf_len, const char *channel, const char *market,
              const char *symbol);

/* Sends [topic][body] without blocking. Returns 0, or -1 when the message could not be queued
   (errno: EAGAIN at the high-water mark, or another ZeroMQ error). */
int bus_send(zsock_t *sock, const char *topic, const void *body, size_t body_len);

#endif
