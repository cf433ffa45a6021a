/*
 * tc_args.h — what the bookcast-testclient subcommands share on their command lines: exit
 * statuses, number parsing with a clear message, and the TLS switches (--ca, --no-tls).
 */
#ifndef BOOKCAST_TC_ARGS_H
#define BOOKCAST_TC_ARGS_H

#include "tc_url.h"

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses (the sync subcommand adds its own, see tc_mode_sync.c). */
#define TC_EXIT_OK 0
#define TC_EXIT_FAILED 1 /* never connected / no response / connection errors */
#define TC_EXIT_USAGE 2

/* Parses `text` as a decimal integer in [min, max] for `option`. Returns 0, or -1 after printing
   "bookcast-testclient: --option: ..." to stderr. */
int tc_arg_i64(const char *option, const char *text, int64_t min, int64_t max, int64_t *out);

/* Checks the TLS switches against a URL: wss/https need --ca (a readable file), --no-tls needs
   ws/http. Returns 0, or -1 after printing why. */
int tc_arg_check_tls(const tc_url_t *url, const char *ca_file, bool no_tls);

/* Prints "bookcast-testclient: <message>" to stderr (usage errors, before logging matters). */
void tc_arg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
