// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kill -9 at arbitrary instructions: the scripted exporter run of
 * check_export.c in a child process, on memory shared with the parent,
 * killed at random instants and started again until the script is done.
 * Messages go to the parent through a socket with sendmmsg() on the
 * journal's mmsghdr, so "sent" is recorded by the kernel inside the send,
 * as in production.  The kill is SIGUSR1 with a handler that calls
 * _exit() (memory is left as a SIGKILL would leave it), blocked only
 * where production has a syscall the kill cannot split: the store's take
 * and the data path's packets.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "check.h"
#include "xworld.h"

static sigset_t g_usr1;
static int g_depth;
static int g_at[32]; /* kills by script step */

static void on_kill(int sig)
{
	_exit(0);
}

static void atomic_begin(void)
{
	if (!g_depth++)
		sigprocmask(SIG_BLOCK, &g_usr1, NULL);
}

static void atomic_end(void)
{
	if (!--g_depth)
		sigprocmask(SIG_UNBLOCK, &g_usr1, NULL);
}

static void child(struct xworld *w, int fd, int ready)
{
	w->ms.atomic_begin = atomic_begin;
	w->ms.atomic_end = atomic_end;
	w->sink_fd = fd;
	signal(SIGUSR1, on_kill);
	/* the parent's clock starts here: kills land in the recovery and the script */
	if (write(ready, "r", 1) != 1)
		_exit(1);
	xw_start(w);
	while (w->step < xw_nsteps()) {
		if (xw_is_traffic(w->step)) {
			/* the data path: not the exporter's to interrupt */
			atomic_begin();
			xw_step(w, w->step);
			w->step++;
			atomic_end();
			continue;
		}
		/* a round killed half way is done again by the next life */
		xw_step(w, w->step);
		w->step++;
	}
	w->done = 1;
	_exit(0);
}

static void drain(struct xworld *w, int fd, int timeout_ms)
{
	char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, timeout_ms) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		xw_deliver(&w->log, (const struct tmsg *)buf);
		timeout_ms = 0;
	}
}

/* one world, killed until its script is done; the kills */
static int one_world(struct xworld *w, unsigned int *seed, char *why, size_t len)
{
	int sv[2], rp[2], kills = 0, lives;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) || pipe(rp)) {
		snprintf(why, len, "socketpair: %s", strerror(errno));
		return -1;
	}
	for (lives = 0; !w->done && lives < 2000; lives++) {
		long us = rand_r(seed) % 120;
		struct timespec t0, t;
		char c;
		pid_t pid = fork();

		if (pid == 0) {
			close(sv[0]);
			child(w, sv[1], rp[1]);
		}
		/* let it run for us microseconds once it is up, reading what it sends */
		if (read(rp[0], &c, 1) != 1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			/* sleep (the child needs the CPU), reading what it sends */
			struct pollfd pf = { .fd = sv[0], .events = POLLIN };
			struct timespec left;
			long el;

			clock_gettime(CLOCK_MONOTONIC, &t);
			el = (t.tv_sec - t0.tv_sec) * 1000000 + (t.tv_nsec - t0.tv_nsec) / 1000;
			if (el >= us || waitpid(pid, NULL, WNOHANG) != 0)
				break;
			left.tv_sec = 0;
			left.tv_nsec = (us - el) * 1000;
			if (ppoll(&pf, 1, &left, NULL) > 0)
				drain(w, sv[0], 0);
		}
		if (kill(pid, SIGUSR1) == 0) {
			kills++;
			g_at[w->step < 32 ? w->step : 31]++;
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		drain(w, sv[0], 0);
	}
	drain(w, sv[0], 10);
	close(sv[0]);
	close(sv[1]);
	close(rp[0]);
	close(rp[1]);
	if (!w->done) {
		snprintf(why, len, "the script did not finish in %d lives", lives);
		return -1;
	}
	return xw_verify(w, why, len) ? kills : -1;
}

void check_export_kill(void)
{
	size_t size = sizeof(struct xworld) + xw_mem_size();
	struct xw_opts opts[] = { { 0 }, { .scan_rate = 10 }, { .n_slots = 3 } };
	unsigned int seed = 12345;
	char why[512];
	int world, kills = 0, bad = 0, k;
	void *shm;

	sigemptyset(&g_usr1);
	sigaddset(&g_usr1, SIGUSR1);
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		t_fail("kill -9 at random instants", "mmap: %s", strerror(errno));
		return;
	}
	for (world = 0; world < 200; world++) {
		struct xworld *w = shm;

		memset(shm, 0, size);
		xw_init(w, &opts[world % 3], (char *)shm + sizeof(struct xworld));
		k = one_world(w, &seed, why, sizeof(why));
		if (k < 0 && bad++ < 5)
			t_note("world %d: %s", world, why);
		kills += k > 0 ? k : 0;
		free(w->log.r);
	}
	munmap(shm, size);
	{
		char h[256] = "";
		int i;

		for (i = 0; i < xw_nsteps(); i++)
			snprintf(h + strlen(h), sizeof(h) - strlen(h), " %d", g_at[i]);
		t_note("kills by step of the script:%s", h);
	}
	if (bad)
		t_fail("export: kill -9 at random instants of 200 runs, restarts on the same memory",
		       "%d runs wrong (%d kills)", bad, kills);
	else
		t_ok("export: kill -9 at %d random instants of 200 runs (restarts on the same "
		     "memory, sendmmsg into the journal): exact, no repeat, seq without gaps",
		     kills);
}
