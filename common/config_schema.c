/*
 * config_schema.c — every configuration key bookcast knows, with its default and its meaning.
 *
 * This table is the single source: config.c validates against it, `bookcast-config --docs`
 * prints docs/config.md's key table from it, and a test checks the two agree. A key is added
 * here in the same change as the code that reads it.
 *
 * Default endpoints are all on 127.0.0.1: nothing listens beyond the machine unless configured.
 */
#include "config.h"

#define ONE_PIB 1125899906842624LL

/* Binance's kline intervals (web-socket-streams.md, "Kline/Candlestick Streams"); 1s is spot only. */
#define SPOT_KLINE_INTERVALS "1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M"
#define FUTURES_KLINE_INTERVALS "1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M"

/* Diff-depth update speeds: spot @depth (1000 ms) or @depth@100ms; futures @depth (250 ms),
   @depth@500ms, @depth@100ms, and the undocumented real-time @depth@0ms. */
#define SPOT_DEPTH_SPEEDS "100|1000"
#define FUTURES_DEPTH_SPEEDS "0|100|250|500"
#define SPOT_PARTIAL_SPEEDS "100|1000"
#define FUTURES_PARTIAL_SPEEDS "100|250|500"

#define MARKET_KEYS(m, ws, rest, symbols, depth_speeds, partial_speeds, trade, agg, klines)       \
    {"markets." m ".enabled", CONFIG_BOOL, "true", 0, 0, NULL,                                   \
     "Run a collector for this market and keep its books."},                                    \
        {"markets." m ".ws_url", CONFIG_URL, "\"" ws "\"", 0, 0, NULL,                           \
         "WebSocket base URL; stream paths are appended to it."},                               \
        {"markets." m ".rest_url", CONFIG_URL, "\"" rest "\"", 0, 0, NULL,                       \
         "REST base URL for depth snapshots and exchangeInfo."},                                \
        {"markets." m ".ca_file", CONFIG_STRING, "\"\"", 0, 0, NULL,                             \
         "PEM file of trusted CAs; empty uses the system CAs. Certificates are always "         \
         "verified."},                                                                          \
        {"markets." m ".symbols", CONFIG_SYMBOLS, symbols, 0, 0, NULL,                           \
         "Symbols to follow, case-insensitive: a list, or \"ALL\" for every trading symbol."},  \
        {"markets." m ".channels.depth", CONFIG_BOOL, "true", 0, 0, NULL,                        \
         "Subscribe to the diff-depth stream and keep an exact order book."},                   \
        {"markets." m ".channels.depth_speed_ms", CONFIG_INT, "100", 0, 0, depth_speeds,         \
         "Diff-depth update speed in milliseconds."},                                           \
        {"markets." m ".channels.trade", CONFIG_BOOL, trade, 0, 0, NULL,                         \
         "Subscribe to the raw trade stream (@trade)."},                                        \
        {"markets." m ".channels.agg_trade", CONFIG_BOOL, agg, 0, 0, NULL,                       \
         "Subscribe to the aggregate trade stream (@aggTrade)."},                               \
        {"markets." m ".channels.book_ticker", CONFIG_BOOL, "true", 0, 0, NULL,                  \
         "Subscribe to the best bid/offer stream (@bookTicker)."},                              \
        {"markets." m ".channels.depth_n", CONFIG_INT, "0", 0, 0, "0|5|10|20",                   \
         "Partial-depth stream levels (@depth5/10/20); 0 = off."},                              \
        {"markets." m ".channels.depth_n_speed_ms", CONFIG_INT, "100", 0, 0, partial_speeds,     \
         "Partial-depth update speed in milliseconds."},                                        \
    {                                                                                           \
        "markets." m ".channels.kline_intervals", CONFIG_STRING_LIST, "[\"1m\"]", 0, 0, klines, \
            "Kline intervals to subscribe to; empty = none."                                    \
    }

/* Per-market keys the collector reads besides the channels: the REST weight limit and the share
   of it this collector may use. USD-M and COIN-M share one IP limit since 2026-06-30
   (binance-protocol.md §3), so their default shares add up to 80 % of it. */
#define MARKET_REST_KEYS(m, limit, share)                                                        \
    {"markets." m ".channels.mark_price", CONFIG_BOOL, "false", 0, 0, NULL,                      \
     "Futures only: subscribe to the mark price stream (@markPrice@1s)."},                     \
        {"markets." m ".rest_weight_limit", CONFIG_INT, limit, 1, 1000000, NULL,                 \
         "The exchange's REST request weight limit per minute for this market's IP budget."},   \
    {                                                                                           \
        "markets." m ".rest_weight_share_pct", CONFIG_INT, share, 1, 100, NULL,                  \
            "Percent of that limit the collector may spend on snapshots and exchangeInfo."      \
    }

static const config_key_t schema[] = {
    /* log: every program */
    {"log.level", CONFIG_STRING, "\"info\"", 0, 0, "debug|info|warn|error",
     "Lowest level written."},
    {"log.file", CONFIG_STRING, "\"\"", 0, 0, NULL,
     "Also write every line to this file (rotated by size); empty = stderr only."},
    {"log.warn_file", CONFIG_STRING, "\"\"", 0, 0, NULL,
     "Also write warn and error lines to this file (rotated by size); empty = none."},
    {"log.max_bytes", CONFIG_INT, "104857600", 4096, ONE_PIB, NULL,
     "Rotate a log file before it grows past this many bytes."},
    {"log.max_files", CONFIG_INT, "5", 0, 1000, NULL,
     "Rotated files kept beside each log file (file.1 ... file.N)."},
    {"log.rate_limit_burst", CONFIG_INT, "100", 0, 1000000, NULL,
     "Lines one call site may write per window before the rest are counted; 0 = unlimited."},
    {"log.rate_limit_window_ms", CONFIG_INT, "10000", 100, 3600000, NULL,
     "Rate-limit window in milliseconds."},

    /* bus: every ZeroMQ endpoint */
    {"bus.data", CONFIG_ENDPOINT, "\"tcp://127.0.0.1:7100\"", 0, 0, NULL,
     "Data bus: the bookbuilder binds PUB here; subscribers connect."},
    {"bus.frames", CONFIG_ENDPOINT, "\"tcp://127.0.0.1:7101\"", 0, 0, NULL,
     "Frames pipe: the bookbuilder binds PULL here; collectors connect PUSH."},
    {"bus.control", CONFIG_ENDPOINT, "\"tcp://127.0.0.1:7102\"", 0, 0, NULL,
     "Control: the bookbuilder binds XPUB here (snapshot requests); collectors connect SUB."},
    {"bus.snapshot", CONFIG_ENDPOINT, "\"tcp://127.0.0.1:7103\"", 0, 0, NULL,
     "Snapshot service for late joiners: the bookbuilder binds ROUTER here."},
    {"bus.status", CONFIG_ENDPOINT, "\"tcp://127.0.0.1:7110\"", 0, 0, NULL,
     "Status heartbeats: the monitor binds SUB here; every program connects PUB."},
    {"bus.status_interval_ms", CONFIG_INT, "1000", 100, 60000, NULL,
     "Interval between two status heartbeats of a program."},

    /* markets */
    MARKET_KEYS("spot", "wss://stream.binance.com:9443", "https://api.binance.com",
                "[\"BTCUSDT\",\"ETHUSDT\"]", SPOT_DEPTH_SPEEDS, SPOT_PARTIAL_SPEEDS, "true",
                "false", SPOT_KLINE_INTERVALS),
    MARKET_REST_KEYS("spot", "6000", "80"),
    MARKET_KEYS("usdm", "wss://fstream.binance.com", "https://fapi.binance.com",
                "[\"BTCUSDT\",\"ETHUSDT\"]", FUTURES_DEPTH_SPEEDS, FUTURES_PARTIAL_SPEEDS, "false",
                "true", FUTURES_KLINE_INTERVALS),
    MARKET_REST_KEYS("usdm", "2400", "40"),
    MARKET_KEYS("coinm", "wss://dstream.binance.com", "https://dapi.binance.com",
                "[\"BTCUSD_PERP\",\"ETHUSD_PERP\"]", FUTURES_DEPTH_SPEEDS, FUTURES_PARTIAL_SPEEDS,
                "false", "true", FUTURES_KLINE_INTERVALS),
    MARKET_REST_KEYS("coinm", "2400", "40"),

    /* processes */
    {"collector.instance", CONFIG_STRING, "\"\"", 0, 0, NULL,
     "Instance name in status topics; empty = the collector's market."},
    {"collector.max_streams_per_connection", CONFIG_INT, "200", 1, 1024, NULL,
     "Streams packed into one WebSocket connection (Binance allows 1024)."},
    {"collector.stale_after_s", CONFIG_INT, "30", 1, 3600, NULL,
     "A connection that delivers no message for this long is stale and replaced."},
    {"collector.rotate_after_s", CONFIG_INT, "82800", 5, 86400, NULL,
     "Age at which a connection is replaced, make-before-break (Binance cuts at 24 h)."},
    {"collector.reconnect_base_ms", CONFIG_INT, "500", 1, 600000, NULL,
     "First reconnect delay; it doubles with each failure in a row."},
    {"collector.reconnect_max_ms", CONFIG_INT, "30000", 1, 3600000, NULL,
     "Longest reconnect delay."},
    {"collector.reconnect_jitter_pct", CONFIG_INT, "20", 0, 100, NULL,
     "Random spread of each reconnect delay, in percent of it."},
    {"collector.reconnect_max_attempts", CONFIG_INT, "0", 0, 1000000, NULL,
     "Failed connection attempts in a row before a connection is given up; 0 = forever."},
    {"collector.connect_attempts_per_5min", CONFIG_INT, "200", 1, 4096, NULL,
     "WebSocket connection attempts per 5 minutes, all connections together (Binance: 300 "
     "per IP)."},
    {"collector.queue_max_bytes", CONFIG_INT, "67108864", 65536, ONE_PIB, NULL,
     "Frames held for an absent or slow bookbuilder before data is dropped (and reported)."},
    {"collector.snapshot_timeout_ms", CONFIG_INT, "10000", 100, 600000, NULL,
     "A depth snapshot request with no complete answer by then fails with status 0."},
    {"collector.shutdown_flush_ms", CONFIG_INT, "1500", 0, 60000, NULL,
     "On SIGTERM: how long to keep sending queued frames to the bookbuilder before exiting."},
    {"bookbuilder.instance", CONFIG_STRING, "\"main\"", 0, 0, NULL,
     "Instance name in status topics."},
    {"bookbuilder.max_levels", CONFIG_INT, "1000", 1, 5000, NULL,
     "Price levels kept per side of a book (worst trimmed first); also the snapshot depth "
     "asked for (futures: the next limit Binance accepts, at most 1000)."},
    {"bookbuilder.min_levels", CONFIG_INT, "0", 0, 5000, NULL,
     "Resync a book when fewer than this many levels of a side are still known complete (the "
     "snapshot cut the side and the price walked toward the cut); 0 = never."},
    {"bookbuilder.buffer_max_events", CONFIG_INT, "10000", 16, 1000000, NULL,
     "Diff events a book buffers while it waits for a snapshot; beyond, the oldest half goes."},
    {"bookbuilder.reorder_window_ms", CONFIG_INT, "1000", 0, 60000, NULL,
     "How long an event that arrives ahead of the chain waits for the missing one before it "
     "counts as a gap; 0 = a gap at once."},
    {"bookbuilder.reorder_max_events", CONFIG_INT, "64", 1, 4096, NULL,
     "Events a book holds at most while waiting for a missing one."},
    {"bookbuilder.depth_levels", CONFIG_INT, "20", 0, 0, "0|5|10|20|50|100",
     "Levels per side of the depth<N> topic; 0 = no depth topic."},
    {"bookbuilder.depth_interval_ms", CONFIG_INT, "100", 10, 60000, NULL,
     "Interval of the depth<N> topic (published only when the book changed)."},
    {"bookbuilder.live_klines", CONFIG_BOOL, "false", 0, 0, NULL,
     "Also publish candles that are not closed yet."},
    {"bookbuilder.raw_tap", CONFIG_BOOL, "false", 0, 0, NULL,
     "Republish every frame from the collectors on raw.<market> (for the recorder)."},
    {"bookbuilder.bbo_check", CONFIG_BOOL, "true", 0, 0, NULL,
     "Compare the top of each book with bookTicker at the same update id; a mismatch resyncs."},
    {"bookbuilder.snapshot_timeout_ms", CONFIG_INT, "30000", 1000, 600000, NULL,
     "A snapshot request with no answer by then has failed and is retried."},
    {"bookbuilder.snapshot_retry_base_ms", CONFIG_INT, "250", 1, 600000, NULL,
     "First delay before asking again for a book's snapshot; it doubles per failure in a row."},
    {"bookbuilder.snapshot_retry_max_ms", CONFIG_INT, "30000", 1, 3600000, NULL,
     "Longest delay between two snapshot requests of a book."},
    {"bookbuilder.snapshot_inflight_max", CONFIG_INT, "4", 1, 1000, NULL,
     "Snapshot requests outstanding at once, per market."},
    {"bookbuilder.max_books", CONFIG_INT, "10000", 1, 1000000, NULL,
     "Books kept at most; data of further symbols is dropped and counted."},
    {"bookbuilder.data_hwm", CONFIG_INT, "100000", 10000, 100000000, NULL,
     "Messages queued per data-bus subscriber; one that falls further behind loses messages "
     "(seq gaps) and nobody else is slowed. Bursts (a depth tick of every book) need room."},
    {"recorder.instance", CONFIG_STRING, "\"main\"", 0, 0, NULL,
     "Instance name in status topics."},
    {"recorder.db_path", CONFIG_STRING, "\"data/bookcast.db\"", 0, 0, NULL,
     "SQLite database the recorder writes history into."},
    {"monitor.instance", CONFIG_STRING, "\"main\"", 0, 0, NULL,
     "Instance name in status topics."},
    {"monitor.http_listen", CONFIG_HOSTPORT, "\"127.0.0.1:7180\"", 0, 0, NULL,
     "Address of the monitor's HTTP server (/health, /metrics, status page)."},
};

const config_key_t *config_schema(size_t *count)
{
    *count = sizeof schema / sizeof schema[0];
    return schema;
}
