#include "exporters/file/file_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Names already taken are skipped; this bounds the search. */
#define TREE_MAX_ATTEMPTS 1000

int pg_file_tree_mkdirs(const char *path, pg_error *err)
{
    size_t n = strlen(path);
    char *p = malloc(n + 2);
    if (!p)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    memcpy(p, path, n);
    p[n] = '/';
    p[n + 1] = 0;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            pg_error_set(err, PG_ERR_IO, "cannot create directory %s: %s", p, strerror(e));
            free(p);
            return PG_ERR_IO;
        }
        *s = '/';
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return pg_error_set(err, PG_ERR_IO, "%s is not a directory", path);
    return PG_OK;
}

void pg_file_tree_sanitize(char *s, size_t cap, const char *fallback)
{
    if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        snprintf(s, cap, "%s", fallback);
        return;
    }
    for (; *s; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok)
            *s = '_';
    }
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void utc_stamp(uint64_t unix_nano, char *out, size_t cap)
{
    time_t t = unix_nano ? (time_t)(unix_nano / 1000000000u) : time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    strftime(out, cap, "%Y%m%dT%H%M%SZ", &tm);
}

/* Links tmp into dir under the first free <stamp>-<seq>.pb.gz name. */
static int link_into_place(const char *tmp, const char *dir, const char *stamp, uint64_t *seq,
                           pg_error *err)
{
    size_t cap = strlen(dir) + strlen(stamp) + 40;
    char *name = malloc(cap);
    if (!name)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    int rc = PG_ERR_IO;
    for (int i = 0; i < TREE_MAX_ATTEMPTS; i++) {
        snprintf(name, cap, "%s/%s-%06" PRIu64 ".pb.gz", dir, stamp, (*seq)++);
        if (link(tmp, name) == 0) {
            rc = PG_OK;
            break;
        }
        if (errno != EEXIST) {
            pg_error_set(err, PG_ERR_IO, "cannot create %s: %s", name, strerror(errno));
            break;
        }
    }
    if (rc != PG_OK && err && !err->msg[0])
        pg_error_set(err, PG_ERR_IO, "no free file name in %s", dir);
    free(name);
    return rc;
}

int pg_file_tree_write(const char *root, const pg_file_record *r, uint64_t *seq, pg_error *err)
{
    pg_error_clear(err);
    size_t cap = strlen(root) + strlen(r->dir ? r->dir : "") + 64;
    char *dir = malloc(cap), *tmp = malloc(cap);
    if (!dir || !tmp) {
        free(dir);
        free(tmp);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    snprintf(dir, cap, "%s/%s", root, r->dir ? r->dir : "");
    /* the thread id keeps two writers of one process off each other's file */
    snprintf(tmp, cap, "%s/.write-%ld-%ld.tmp", dir, (long)getpid(), (long)gettid());
    int rc = pg_file_tree_mkdirs(dir, err);
    int fd = rc == PG_OK ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (rc == PG_OK && fd < 0)
        rc = pg_error_set(err, PG_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    if (fd >= 0) {
        if (write_all(fd, r->data, r->len) != 0)
            rc = pg_error_set(err, PG_ERR_IO, "writing %s: %s", tmp, strerror(errno));
        if (close(fd) != 0 && rc == PG_OK)
            rc = pg_error_set(err, PG_ERR_IO, "closing %s: %s", tmp, strerror(errno));
        if (rc == PG_OK) {
            char stamp[32];
            utc_stamp(r->time_unix_nano, stamp, sizeof(stamp));
            rc = link_into_place(tmp, dir, stamp, seq, err);
        }
        unlink(tmp);
    }
    free(dir);
    free(tmp);
    return rc;
}
