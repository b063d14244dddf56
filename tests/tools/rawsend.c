// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rawsend: put hand-made Ethernet frames on an interface, for tests of
 * malformed and unusual packets on a real veth.
 *   rawsend IFACE COUNT HEX [HEX...]
 * Each HEX is one whole frame (Ethernet header included) in hex; every
 * frame is sent COUNT times.  Prints the number of frames sent.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int unhex(const char *s, unsigned char *out, int max)
{
	int n = 0;

	while (s[0] && s[1] && n < max) {
		unsigned int b;

		if (sscanf(s, "%2x", &b) != 1)
			return -1;
		out[n++] = b;
		s += 2;
	}
	return s[0] ? -1 : n;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll;
	unsigned char frame[9000];
	long count, sent = 0, i;
	int fd, a;

	if (argc < 4) {
		fprintf(stderr, "usage: rawsend IFACE COUNT HEX [HEX...]\n");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = if_nametoindex(argv[1]);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "rawsend: no interface %s\n", argv[1]);
		return 2;
	}
	count = atol(argv[2]);
	for (a = 3; a < argc; a++) {
		int len = unhex(argv[a], frame, sizeof(frame));

		if (len < 1) {
			fprintf(stderr, "rawsend: bad hex frame %d\n", a - 2);
			return 2;
		}
		for (i = 0; i < count; i++)
			if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == len)
				sent++;
	}
	printf("%ld\n", sent);
	return sent == count * (argc - 3) ? 0 : 1;
}
