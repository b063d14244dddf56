// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* make check: the unit tests without root or BPF (tests/check/check.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "check.h"
#include "../../lib/names.h"
#include "../../lib/tunnels.h"

static int g_pass, g_fail;

void t_ok(const char *fmt, ...)
{
	va_list ap;

	printf("ok ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	g_pass++;
}

void t_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("not ok %s\n# ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	g_fail++;
}

void t_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int t_eq_u64(const char *name, __u64 expected, __u64 actual)
{
	if (expected == actual) {
		t_ok("%s (%llu)", name, (unsigned long long)actual);
		return 1;
	}
	t_fail(name, "expected %llu, actual %llu", (unsigned long long)expected,
	       (unsigned long long)actual);
	return 0;
}

int t_eq_str(const char *name, const char *expected, const char *actual)
{
	if (expected && actual && !strcmp(expected, actual)) {
		t_ok("%s", name);
		return 1;
	}
	t_fail(name, "expected: %s\n# actual:   %s", expected ? expected : "(null)",
	       actual ? actual : "(null)");
	return 0;
}

int t_true(const char *name, int cond)
{
	if (cond)
		t_ok("%s", name);
	else
		t_fail(name, "false");
	return cond;
}

__u64 t_mid_ms(__u64 mono)
{
	__u64 w = nacct_mono_to_wall(mono);

	return mono + 500000 - w % 1000000;
}

void t_vxlan_tun(struct nacct_tun *t, __u64 handle)
{
	int j;

	memset(t, 0, sizeof(*t));
	t->handle = handle;
	t->key.type = NACCT_TUN_VXLAN;
	t->key.id = 4242;
	t->key.family = NACCT_AF_INET;
	for (j = 0; j < 2; j++) {
		__u8 *a = j ? t->key.outer_hi : t->key.outer_lo;

		a[10] = a[11] = 0xff;
		a[12] = 198, a[13] = 18, a[14] = 9, a[15] = (__u8)(1 + j);
	}
}

char *t_run(const char *cmd, const char *input)
{
	char in[] = "/tmp/nacct-check.XXXXXX", full[4096];
	char *out = NULL;
	size_t len = 0, cap = 0;
	FILE *p;
	int fd = mkstemp(in);

	if (fd < 0)
		return NULL;
	if (input && write(fd, input, strlen(input)) != (ssize_t)strlen(input)) {
		close(fd);
		unlink(in);
		return NULL;
	}
	close(fd);
	snprintf(full, sizeof(full), "%s < %s", cmd, in);
	p = popen(full, "r");
	if (p) {
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
			if (len + n + 1 > cap) {
				cap = (len + n + 1) * 2;
				out = realloc(out, cap);
			}
			memcpy(out + len, buf, n);
			len += n;
			out[len] = '\0';
		}
		if (pclose(p) != 0 && !out)
			out = NULL;
		if (!out)
			out = calloc(1, 1);
	}
	unlink(in);
	return out;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} groups[] = {
		{ "merge", check_merge },     { "export", check_export },
		{ "kill", check_export_kill }, { "ipfix", check_ipfix },
		{ "fmt", check_fmt },         { "cid", check_cid },
	};
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (argc > 1 && !strstr(argv[1], groups[i].name))
			continue;
		printf("# %s\n", groups[i].name);
		groups[i].fn();
	}
	printf("%d passed, %d failed\n", g_pass, g_fail);
	return g_fail ? 1 : 0;
}
