#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "processors/memory_limiter/memory_limiter_internal.h"

uint64_t pg_memlim_self_rss(void *ud)
{
    (void)ud;
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    /* "size resident shared text lib data dt", in pages */
    char *end;
    strtoull(buf, &end, 10);
    if (end == buf)
        return 0;
    char *p = end;
    unsigned long long pages = strtoull(p, &end, 10);
    if (end == p)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    return (uint64_t)pages * (uint64_t)(page > 0 ? page : 4096);
}

void pg_memlim_self_trim(void *ud)
{
    (void)ud;
    malloc_trim(0);
}
