/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cs-liar MODE...: serve one resolver per MODE (tests/fakes/liar.h) on 127.0.0.1 ephemeral
 * ports, print "MODE PORT" per line once all are up, and serve until standard input closes
 * or a signal ends the process. For shell tests of the real cachesweep binary.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "liar.h"

#define MAX_MODES 64

int main(int argc, char **argv)
{
	enum liar_mode modes[MAX_MODES];
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		if (n == MAX_MODES || liar_mode_parse(argv[i], &modes[n]) != 0) {
			fprintf(stderr, "cs-liar: unknown mode or too many: %s\n", argv[i]);
			return 2;
		}
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "usage: cs-liar MODE...\n");
		return 2;
	}
	struct liar *l = liar_start(modes, n);
	if (l == NULL) {
		fprintf(stderr, "cs-liar: cannot open sockets on 127.0.0.1\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s %u\n", liar_mode_name(modes[i]), (unsigned)liar_port(l, i));
	}
	if (fflush(stdout) != 0) {
		liar_stop(l);
		return 1;
	}
	char buf[64];
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0) {
		/* serve until EOF */
	}
	liar_stop(l);
	return 0;
}
