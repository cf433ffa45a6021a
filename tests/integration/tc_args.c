/*
 * tc_args.c — command-line helpers shared by the subcommands; see tc_args.h.
 */
#include "tc_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tc_arg_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("bookcast-testclient: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

int tc_arg_i64(const char *option, const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
        tc_arg_error("%s: \"%s\" is not an integer in %lld..%lld", option, text, (long long)min,
                     (long long)max);
        return -1;
    }
    *out = value;
    return 0;
}

int tc_arg_check_tls(const tc_url_t *url, const char *ca_file, bool no_tls)
{
    if (no_tls && url->tls) {
        tc_arg_error("--no-tls given with a TLS URL (wss:// or https://)");
        return -1;
    }
    if (!url->tls)
        return 0;
    if (ca_file == NULL) {
        tc_arg_error("--ca FILE is required for wss:// and https:// URLs (there is no insecure "
                     "mode)");
        return -1;
    }
    if (access(ca_file, R_OK) != 0) {
        tc_arg_error("--ca %s: %s", ca_file, strerror(errno));
        return -1;
    }
    return 0;
}
