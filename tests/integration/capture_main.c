/*
 * bookcast-capture-frames — real Binance captures as frame files, for replay tests.
 *
 *   bookcast-capture-frames hftbacktest --market M --symbol S [--instance N] IN OUT
 *   bookcast-capture-frames cryptofeed --market M [--instance N] WS_FILE HTTP_FILE OUT
 *   bookcast-capture-frames check FILE
 *
 * IN, FILE: "-" reads stdin; OUT: "-" writes stdout. hftbacktest files are gzip: pipe them
 * (`gzip -dc spot_btcusdt_20240808.gz | bookcast-capture-frames hftbacktest … - out`), and a
 * capture that continues another one is converted together with it (`gzip -dc day1.gz day2.gz`)
 * so that both days are one connection. `check` prints the frames per kind and fails on any
 * frame a bookbuilder would refuse. The work is in capture.c; this file only reads arguments.
 *
 * Exit status: 0 done, 1 the input or the output failed (the reason names file and line, or
 * the record's offset), 2 a usage error.
 */
#include "capture.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "bookcast-capture-frames"
#define EXIT_USAGE 2
#define MAX_POSITIONAL 3

static void usage(FILE *to)
{
    fprintf(to,
            "usage: " PROGRAM " hftbacktest --market spot|usdm|coinm --symbol SYMBOL "
            "[--instance N] IN OUT\n"
            "       " PROGRAM " cryptofeed --market spot|usdm|coinm [--instance N] "
            "WS_FILE HTTP_FILE OUT\n"
            "       " PROGRAM " check FILE\n"
            "Converts Binance captures (decompressed hftbacktest text; cryptofeed WebSocket and\n"
            "REST files) into a frame file (docs/frames.md, \"Frame files\"), or checks one.\n"
            "\"-\" as IN or FILE reads stdin, as OUT writes stdout. --instance sets the frames'\n"
            "instance_id (default 1), so a conversion is the same bytes every time.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, PROGRAM ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(" PROGRAM " --help for usage)\n");
    return EXIT_USAGE;
}

/* A decimal or 0x-hexadecimal 64-bit number, nonzero. */
static int parse_instance(const char *s, uint64_t *out)
{
    if (s[0] == '\0' || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0' || v == 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static void print_counts(const capture_counts_t *c)
{
    printf("frames %" PRIu64 "\n", c->frames);
    printf("bytes %" PRIu64 "\n", c->bytes);
    for (int k = ENVELOPE_WS_TEXT; k <= ENVELOPE_OVERFLOW; k++)
        printf("%s %" PRIu64 "\n", envelope_kind_name((envelope_kind_t)k), c->by_kind[k]);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2)
        return usage_error("%s", "no command (hftbacktest, cryptofeed or check)");
    const char *command = argv[1];
    bool hft = strcmp(command, "hftbacktest") == 0;
    bool cf = strcmp(command, "cryptofeed") == 0;
    bool check = strcmp(command, "check") == 0;
    if (!hft && !cf && !check)
        return usage_error("unknown command \"%s\" (hftbacktest, cryptofeed or check)", command);

    const char *market = NULL, *symbol = NULL, *instance = NULL;
    const char *pos[MAX_POSITIONAL];
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **value = NULL;
        if (strcmp(a, "--market") == 0 && !check)
            value = &market;
        else if (strcmp(a, "--symbol") == 0 && hft)
            value = &symbol;
        else if (strcmp(a, "--instance") == 0 && !check)
            value = &instance;
        else if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0')
            return usage_error("unknown option %s for this command", a);
        if (value != NULL) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", a);
            *value = argv[++i];
            continue;
        }
        if (npos == MAX_POSITIONAL)
            return usage_error("unexpected argument \"%s\"", a);
        pos[npos++] = a;
    }

    char err[1024];
    if (check) {
        if (npos != 1)
            return usage_error("%s", "check takes one FILE");
        capture_counts_t counts;
        if (capture_check(pos[0], &counts, err, sizeof err) != 0) {
            fprintf(stderr, PROGRAM ": %s\n", err);
            return 1;
        }
        print_counts(&counts);
        return 0;
    }

    capture_options_t opt = {.instance_id = 1, .symbol = symbol};
    if (market == NULL)
        return usage_error("%s", "--market spot|usdm|coinm is required");
    if (market_parse(market, &opt.market) != 0)
        return usage_error("unknown market \"%s\" (spot, usdm or coinm)", market);
    if (instance != NULL && parse_instance(instance, &opt.instance_id) != 0)
        return usage_error("--instance \"%s\" is not a nonzero 64-bit number", instance);
    int rc;
    if (hft) {
        if (symbol == NULL)
            return usage_error("%s", "--symbol is required (the spot snapshot body has none)");
        if (strlen(symbol) == 0 || strlen(symbol) > ENVELOPE_SYMBOL_MAX ||
            strspn(symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(symbol))
            return usage_error("--symbol \"%s\" is not [A-Z0-9_]{1,32}, as sent to Binance",
                               symbol);
        if (npos != 2)
            return usage_error("%s", "hftbacktest takes IN and OUT");
        rc = capture_hftbacktest(&opt, pos[0], pos[1], NULL, err, sizeof err);
    } else {
        if (npos != 3)
            return usage_error("%s", "cryptofeed takes WS_FILE, HTTP_FILE and OUT");
        rc = capture_cryptofeed(&opt, pos[0], pos[1], pos[2], NULL, err, sizeof err);
    }
    if (rc != 0) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        return 1;
    }
    return 0;
}
