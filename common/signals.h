/*
 * signals.h — clean shutdown and reload for every bookcast program.
 *
 * SIGINT and SIGTERM ask the program to stop: the handler only records the request, and the
 * program's loop notices it (blocking ZeroMQ calls return with EINTR), finishes what it holds
 * (flushes queues, writes the last rows) and exits 0. A second SIGINT/SIGTERM while stopping
 * exits at once with status 130/143, for an operator whose program is stuck. SIGHUP asks for a
 * configuration reload. SIGPIPE is ignored: a vanished peer is an error return, not a death.
 * czmq's own handler is turned off so there is one owner of these signals.
 */
#ifndef BOOKCAST_SIGNALS_H
#define BOOKCAST_SIGNALS_H

#include <stdbool.h>

/* Installs the handlers. Returns 0, or -1 when sigaction fails (errno set). */
int signals_install(void);

/* True once SIGINT or SIGTERM has arrived. */
bool signals_stop_requested(void);

/* The signal that asked to stop (SIGINT or SIGTERM), or 0. */
int signals_stop_signal(void);

/* True when a SIGHUP arrived since the last call; clears the request. */
bool signals_take_reload(void);

/* Records a stop request as if a signal had come (for tests and for fatal conditions). */
void signals_request_stop(void);

#endif
