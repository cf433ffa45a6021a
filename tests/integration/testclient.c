/*
 * testclient.c — bookcast-testclient, the client side of bookcast's integration tests.
 *
 * The sim (bookcast-sim) plays Binance; its tests, and later the collector's, need an
 * independent client that speaks plain libwebsockets and writes what happened as lines a shell
 * test can assert on. Three subcommands:
 *
 *   ws    one WebSocket (or N in a row): sends, receives, close codes, refused handshakes
 *   http  one GET: status, rate-limit headers, body
 *   sync  a local order book kept by Binance's snapshot-and-diff rules and compared, exactly,
 *         against the sim's true book
 *
 * It is deliberately separate from the collector and bookbuilder: a test whose client shares
 * the code under test proves nothing. TLS is always verified against --ca; there is no
 * insecure switch, only --no-tls for plain ws:// and http:// when the sim runs without TLS.
 */
#include "tc_args.h"
#include "tc_modes.h"

#include "log.h"
#include "signals.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: bookcast-testclient ws|http|sync [options]   (ws --help, ...)\n"
               "  ws    open a WebSocket, send messages, write one line per event\n"
               "  http  one GET: status, rate-limit headers, body\n"
               "  sync  keep a local order book by Binance's rules, compare it with the sim's\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TC_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return TC_EXIT_OK;
    }
    if (log_open("bookcast-testclient", NULL) != 0)
        fprintf(stderr, "bookcast-testclient: logging to stderr only\n");
    if (signals_install() != 0) {
        log_error("cannot install signal handlers");
        return TC_EXIT_FAILED;
    }
    int status;
    if (strcmp(argv[1], "ws") == 0)
        status = tc_mode_ws(argc - 1, argv + 1);
    else if (strcmp(argv[1], "http") == 0)
        status = tc_mode_http(argc - 1, argv + 1);
    else if (strcmp(argv[1], "sync") == 0)
        status = tc_mode_sync(argc - 1, argv + 1);
    else {
        tc_arg_error("unknown subcommand \"%s\"", argv[1]);
        usage(stderr);
        status = TC_EXIT_USAGE;
    }
    log_close();
    return status;
}
