/*
 * signals.c — see signals.h. The handlers touch only sig_atomic_t flags (and _exit on a second
 * stop request), the only things that are safe in a signal handler.
 */
#include "signals.h"

#include <czmq.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
    if (stop_requested)
        _exit(128 + sig);
    stop_signal = sig;
    stop_requested = 1;
}

static void on_reload(int sig)
{
    (void)sig;
    reload_requested = 1;
}

int signals_install(void)
{
    /* Before czmq initialises, so it never installs its own SIGINT/SIGTERM handler. */
    zsys_handler_set(NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop; /* no SA_RESTART: blocking calls return EINTR and loops notice */
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = on_reload;
    if (sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -1;
    return 0;
}

bool signals_stop_requested(void)
{
    return stop_requested != 0;
}

int signals_stop_signal(void)
{
    return stop_signal;
}

bool signals_take_reload(void)
{
    if (!reload_requested)
        return false;
    reload_requested = 0;
    return true;
}

void signals_request_stop(void)
{
    stop_requested = 1;
}
