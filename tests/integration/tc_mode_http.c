/*
 * tc_mode_http.c — `bookcast-testclient http`: one GET, the response written as lines a test can
 * grep:
 *
 *     status <code>
 *     header <name>: <value>     x-mbx-used-weight-1m, x-mbx-used-weight, retry-after,
 *                                content-type, each only when present, names in lower case
 *     body <body on one line>
 *
 * or "error <reason>" when no response arrived. Exit status 0 when a response arrived, whatever
 * its status, 1 otherwise, 2 on a usage error.
 */
#include "tc_args.h"
#include "tc_http.h"
#include "tc_modes.h"
#include "tc_net.h"
#include "tc_out.h"

#include "log.h"
#include "signals.h"

#include <getopt.h>
#include <string.h>

#define HTTP_TICK_MS 20

typedef struct {
    tc_net_t *net;
    tc_out_t out;
    bool done;
    bool got_response;
} http_run_t;

static void on_done(void *arg, tc_http_t *request, const tc_http_response_t *resp)
{
    (void)request;
    http_run_t *run = arg;
    run->done = true;
    if (resp->status == 0) {
        tc_out_line(&run->out, "error %s", resp->error);
        log_error("no HTTP response: %s", resp->error);
        return;
    }
    run->got_response = true;
    tc_out_line(&run->out, "status %d", resp->status);
    for (int h = 0; h < TC_HDR_COUNT; h++)
        if (resp->header_present[h])
            tc_out_line(&run->out, "header %s: %s", tc_http_header_name((tc_http_header_t)h),
                        resp->header[h]);
    tc_out_payload(&run->out, "body", resp->body, resp->body_len);
}

static void http_tick(void *arg)
{
    http_run_t *run = arg;
    if (run->done)
        tc_net_stop(run->net);
    else if (signals_stop_requested()) {
        log_warn("interrupted before the response arrived");
        tc_net_stop(run->net);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bookcast-testclient http --url http[s]://HOST:PORT/PATH?QUERY [--ca FILE]\n"
               "         [--no-tls] [--out FILE]\n"
               "One GET; writes \"status <code>\", \"header <name>: <value>\" for\n"
               "x-mbx-used-weight-1m, x-mbx-used-weight, retry-after, content-type (when present)\n"
               "and \"body <body>\" on one line, or \"error <reason>\".\n"
               "Exit status: 0 a response arrived (any status), 1 none did, 2 usage.\n");
}

int tc_mode_http(int argc, char **argv)
{
    static const struct option OPTIONS[] = {
        {"url", required_argument, NULL, 'u'}, {"ca", required_argument, NULL, 'c'},
        {"no-tls", no_argument, NULL, 'n'},    {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    const char *url_text = NULL, *ca_file = NULL, *out_path = NULL;
    bool no_tls = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", OPTIONS, NULL)) != -1) {
        switch (opt) {
        case 'u':
            url_text = optarg;
            break;
        case 'c':
            ca_file = optarg;
            break;
        case 'n':
            no_tls = true;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return TC_EXIT_OK;
        default:
            usage(stderr);
            return TC_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tc_arg_error("http: unexpected argument \"%s\"", argv[optind]);
        return TC_EXIT_USAGE;
    }
    if (url_text == NULL) {
        tc_arg_error("http: --url is required");
        usage(stderr);
        return TC_EXIT_USAGE;
    }
    tc_url_t url;
    char err[256];
    if (tc_url_parse(url_text, &url, err, sizeof err) != 0) {
        tc_arg_error("http: %s", err);
        return TC_EXIT_USAGE;
    }
    if (url.websocket) {
        tc_arg_error("http: --url must be http:// or https://");
        return TC_EXIT_USAGE;
    }
    if (tc_arg_check_tls(&url, ca_file, no_tls) != 0)
        return TC_EXIT_USAGE;

    http_run_t run;
    memset(&run, 0, sizeof run);
    if (tc_out_open(&run.out, out_path) != 0)
        return TC_EXIT_FAILED;
    run.net = tc_net_new(url.tls ? ca_file : NULL);
    if (run.net != NULL) {
        if (tc_http_get(run.net, &url, on_done, &run) != NULL)
            tc_net_run(run.net, HTTP_TICK_MS, http_tick, &run);
        tc_net_destroy(&run.net);
    }
    int status = run.got_response ? TC_EXIT_OK : TC_EXIT_FAILED;
    if (run.out.newlines_escaped > 0)
        log_warn("%llu newline(s) in the body were written as \\n",
                 (unsigned long long)run.out.newlines_escaped);
    if (tc_out_close(&run.out) != 0)
        status = TC_EXIT_FAILED;
    return status;
}
