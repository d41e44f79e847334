/* SPDX-License-Identifier: BSD-3-Clause */
/* The unbound-control endpoint: Unbound's remote-control protocol on its unix socket
 * ("UBCT1 <command>\n" in one write, a plain-text reply, then the server closes;
 * shared/notes/flush.md §1.2), without the unbound-control binary. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cachesweep/log.h>

#include "endpoint.h"

/* --- unbound-control on a unix socket --- */

void cs_endpoint_unbound(const struct run *r, const struct step *s, struct cs_purge_action *a,
			 struct cs_retry *retry)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = r->cfg->socket;
	char reply[OUTPUT_MAX];
	size_t used = 0;
	int fd = -1;

	a->outcome = CS_ACTION_FAILED;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		(void)cs_snprintf(a->error, sizeof(a->error), "socket path longer than %zu bytes",
				  sizeof(sun.sun_path) - 1);
		return;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;
		(void)cs_snprintf(a->error, sizeof(a->error), "connect %s: %s", path, strerror(e));
		if (fd >= 0) {
			close(fd);
		}
		retry->again = true;
		return;
	}
	/* Unbound reads the 6-byte magic in one read: send the whole line in one write */
	char line[CS_ACTION_TARGET_MAX + 16];
	(void)cs_snprintf(line, sizeof(line), "UBCT1 %s\n", s->command);
	size_t len = strlen(line);
	ssize_t w = send(fd, line, len, MSG_NOSIGNAL);
	if (w < 0 || (size_t)w != len) {
		int e = errno;
		(void)cs_snprintf(a->error, sizeof(a->error), "send to %s: %s", path,
				  w < 0 ? strerror(e) : "short write");
		close(fd);
		retry->again = true;
		return;
	}
	const uint64_t deadline = cs_purge_now_ms() + r->o->timeout_ms;
	reply[0] = '\0';
	for (;;) {
		uint64_t now = cs_purge_now_ms();
		if (now >= deadline) {
			(void)cs_snprintf(a->error, sizeof(a->error),
					  "%s: no complete reply within %u ms", path,
					  (unsigned)r->o->timeout_ms);
			close(fd);
			retry->again = true;
			return;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr <= 0) {
			continue; /* the deadline check above ends it */
		}
		ssize_t n = recv(fd, reply + used, sizeof(reply) - used - 1, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break; /* the server closes after the reply */
		}
		used += (size_t)n;
		reply[used] = '\0';
		if (used + 1 >= sizeof(reply)) {
			break;
		}
	}
	close(fd);
	char first[CS_DETAIL_MAX - 16];
	size_t k = 0;
	while (k + 1 < sizeof(first) && reply[k] != '\0' && reply[k] != '\n') {
		unsigned char c = (unsigned char)reply[k];
		first[k] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		k++;
	}
	first[k] = '\0';
	if (strncmp(first, "ok", 2) == 0) {
		cs_log(CS_LOG_INFO, CS_LOG_PURGE, "resolver %s: unbound: %s", r->rr->id, first);
		a->outcome = CS_ACTION_OK;
		return;
	}
	/* "error ..." is Unbound refusing the command: another try gives the same answer */
	(void)cs_snprintf(a->error, sizeof(a->error), "unbound: %s",
			  first[0] ? first : "empty reply");
}
