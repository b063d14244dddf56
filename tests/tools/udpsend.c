// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * udpsend: the tests' UDP generator with an exact count.
 *   udpsend DST PORT COUNT [SIZE [SPORT [FLOWS]]]
 * Sends COUNT datagrams of SIZE payload bytes to DST:PORT (IPv4 or IPv6),
 * from SPORT (0: any); with FLOWS > 1, cycles through FLOWS consecutive
 * source ports starting at SPORT.  Prints the number sent; exits 1 if any
 * send failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	long count, size = 64, sport = 0, flows = 1, i, sent = 0;
	int fam, *fds, f;
	char *buf;

	if (argc < 4) {
		fprintf(stderr, "usage: udpsend DST PORT COUNT [SIZE [SPORT [FLOWS]]]\n");
		return 2;
	}
	memset(&dst, 0, sizeof(dst));
	if (inet_pton(AF_INET, argv[1], &((struct sockaddr_in *)&dst)->sin_addr) == 1) {
		fam = AF_INET;
		((struct sockaddr_in *)&dst)->sin_family = AF_INET;
		((struct sockaddr_in *)&dst)->sin_port = htons(atoi(argv[2]));
		dlen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[1], &((struct sockaddr_in6 *)&dst)->sin6_addr) == 1) {
		fam = AF_INET6;
		((struct sockaddr_in6 *)&dst)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&dst)->sin6_port = htons(atoi(argv[2]));
		dlen = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "udpsend: bad address %s\n", argv[1]);
		return 2;
	}
	count = atol(argv[3]);
	if (argc > 4)
		size = atol(argv[4]);
	if (argc > 5)
		sport = atol(argv[5]);
	if (argc > 6)
		flows = atol(argv[6]);
	if (flows < 1 || size < 0 || size > 65000)
		return 2;
	buf = calloc(1, size + 1);
	fds = calloc(flows, sizeof(int));
	for (f = 0; f < flows; f++) {
		fds[f] = socket(fam, SOCK_DGRAM, 0);
		if (fds[f] < 0) {
			perror("socket");
			return 1;
		}
		if (sport) {
			struct sockaddr_storage src;

			memset(&src, 0, sizeof(src));
			if (fam == AF_INET) {
				((struct sockaddr_in *)&src)->sin_family = AF_INET;
				((struct sockaddr_in *)&src)->sin_port = htons(sport + f);
			} else {
				((struct sockaddr_in6 *)&src)->sin6_family = AF_INET6;
				((struct sockaddr_in6 *)&src)->sin6_port = htons(sport + f);
			}
			if (bind(fds[f], (struct sockaddr *)&src, dlen)) {
				perror("bind");
				return 1;
			}
		}
	}
	for (i = 0; i < count; i++) {
		int fd = fds[i % flows];

		for (;;) {
			if (sendto(fd, buf, size, 0, (struct sockaddr *)&dst, dlen) == size) {
				sent++;
				break;
			}
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("sendto");
				printf("%ld\n", sent);
				return 1;
			}
			usleep(100);
		}
	}
	printf("%ld\n", sent);
	return 0;
}
