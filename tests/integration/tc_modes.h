/*
 * tc_modes.h — the subcommands of bookcast-testclient. Each parses its own options (argv[0] is
 * the subcommand's name), runs, and returns the process exit status.
 */
#ifndef BOOKCAST_TC_MODES_H
#define BOOKCAST_TC_MODES_H

int tc_mode_ws(int argc, char **argv);   /* tc_mode_ws.c */
int tc_mode_http(int argc, char **argv); /* tc_mode_http.c */
int tc_mode_sync(int argc, char **argv); /* tc_mode_sync.c */

#endif
