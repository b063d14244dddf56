// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The host-wide pinned sets' common steps (lib/hostset.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostset.h"
#include "../maps/pins.h"

int nacct_hostset_lock(void)
{
	int fd, err;

	if (mkdir(NACCT_PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	fd = open(NACCT_PIN_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void nacct_hostset_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

int nacct_hostset_links(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, NACCT_PIN_LINK_PREFIX, strlen(NACCT_PIN_LINK_PREFIX)))
			n++;
	closedir(d);
	return n;
}

int nacct_hostset_attachments(void)
{
	struct dirent *de;
	DIR *d = opendir(NACCT_PIN_ROOT);
	int n = 0;

	if (!d)
		return 0;
	/* '.', and ':' for the sets and directories being built */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && de->d_name[0] != ':')
			n++;
	closedir(d);
	return n;
}
