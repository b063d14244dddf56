// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcpxfer: an exact TCP transfer for the tests.
 *   tcpxfer server ADDR PORT        listen, print "ready", accept one
 *                                   connection, read to EOF, close,
 *                                   print "received N"
 *   tcpxfer client ADDR PORT BYTES  connect, send BYTES, shut down the
 *                                   write side, read to EOF, close,
 *                                   print "sent N"
 * The server closes after the client's FIN: the client is the active
 * closer on both ends' state machines (FIN_WAIT1 -> ... -> CLOSE).
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int resolve(const char *addr, const char *port, struct addrinfo **res, int passive)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | (passive ? AI_PASSIVE : 0);
	return getaddrinfo(addr, port, &hints, res);
}

int main(int argc, char **argv)
{
	static char buf[65536];
	struct addrinfo *ai;
	long long total = 0;
	ssize_t n;
	int fd, c, one = 1;

	if (argc < 4 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")) ||
	    (!strcmp(argv[1], "client") && argc < 5)) {
		fprintf(stderr, "usage: tcpxfer server ADDR PORT | client ADDR PORT BYTES\n");
		return 2;
	}
	if (resolve(argv[2], argv[3], &ai, argv[1][0] == 's')) {
		fprintf(stderr, "tcpxfer: bad address %s port %s\n", argv[2], argv[3]);
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (argv[1][0] == 's') {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
			perror("bind/listen");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		c = accept(fd, NULL, NULL);
		if (c < 0) {
			perror("accept");
			return 1;
		}
		while ((n = read(c, buf, sizeof(buf))) > 0)
			total += n;
		close(c);
		close(fd);
		printf("received %lld\n", total);
		return 0;
	}
	{
		long long want = atoll(argv[4]);

		if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			perror("connect");
			return 1;
		}
		memset(buf, 'x', sizeof(buf));
		while (total < want) {
			size_t chunk = want - total < (long long)sizeof(buf) ? want - total : sizeof(buf);

			n = write(fd, buf, chunk);
			if (n <= 0) {
				perror("write");
				return 1;
			}
			total += n;
		}
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		printf("sent %lld\n", total);
	}
	return 0;
}
