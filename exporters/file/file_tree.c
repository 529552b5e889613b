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

/* Writes len bytes to a new file at path. */
static int write_file(const char *path, const uint8_t *data, size_t len, pg_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return pg_error_set(err, PG_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    int rc = PG_OK;
    if (write_all(fd, data, len) != 0)
        rc = pg_error_set(err, PG_ERR_IO, "writing %s: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == PG_OK)
        rc = pg_error_set(err, PG_ERR_IO, "closing %s: %s", path, strerror(errno));
    return rc;
}

/* Links one candidate name: the sidecar (when side_tmp is set) first, so
 * that X.pb.gz never exists without X.labels.json. 1 when the name is
 * taken (by either file), 0 on success, -1 with err set. */
static int link_pair(const char *tmp, const char *side_tmp, const char *base, char *name,
                     size_t cap, pg_error *err)
{
    if (side_tmp) {
        snprintf(name, cap, "%s.labels.json", base);
        if (link(side_tmp, name) != 0) {
            if (errno == EEXIST)
                return 1;
            pg_error_set(err, PG_ERR_IO, "cannot create %s: %s", name, strerror(errno));
            return -1;
        }
    }
    char *side_name = side_tmp ? strdup(name) : NULL;
    if (side_tmp && !side_name) {
        unlink(name);
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return -1;
    }
    snprintf(name, cap, "%s.pb.gz", base);
    int rc = 0;
    if (link(tmp, name) != 0) {
        rc = errno == EEXIST ? 1 : -1;
        if (rc < 0)
            pg_error_set(err, PG_ERR_IO, "cannot create %s: %s", name, strerror(errno));
        if (side_name)
            unlink(side_name); /* ours: it was created just above */
    }
    free(side_name);
    return rc;
}

/* Links tmp (and side_tmp) into dir under the first free <stamp>-<seq> name. */
static int link_into_place(const char *tmp, const char *side_tmp, const char *dir,
                           const char *stamp, uint64_t *seq, pg_error *err)
{
    size_t cap = strlen(dir) + strlen(stamp) + 48;
    char *base = malloc(cap), *name = malloc(cap);
    int rc = base && name ? PG_ERR_IO : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < TREE_MAX_ATTEMPTS && rc == PG_ERR_IO; i++) {
        snprintf(base, cap, "%s/%s-%06" PRIu64, dir, stamp, (*seq)++);
        int taken = link_pair(tmp, side_tmp, base, name, cap, err);
        if (taken == 0)
            rc = PG_OK;
        else if (taken < 0)
            rc = err ? err->code : PG_ERR_IO;
        if (taken < 0)
            break;
    }
    if (rc != PG_OK && err && !err->msg[0])
        pg_error_set(err, PG_ERR_IO, "no free file name in %s", dir);
    free(base);
    free(name);
    return rc;
}

int pg_file_tree_write(const char *root, const pg_file_record *r, uint64_t *seq, pg_error *err)
{
    pg_error_clear(err);
    size_t cap = strlen(root) + strlen(r->dir ? r->dir : "") + 64;
    char *dir = malloc(cap), *tmp = malloc(cap), *side = malloc(cap);
    if (!dir || !tmp || !side) {
        free(dir);
        free(tmp);
        free(side);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    snprintf(dir, cap, "%s/%s", root, r->dir ? r->dir : "");
    /* the thread id keeps two writers of one process off each other's file */
    snprintf(tmp, cap, "%s/.write-%ld-%ld.tmp", dir, (long)getpid(), (long)gettid());
    snprintf(side, cap, "%s/.write-%ld-%ld.labels.tmp", dir, (long)getpid(), (long)gettid());
    int rc = pg_file_tree_mkdirs(dir, err);
    if (rc == PG_OK)
        rc = write_file(tmp, r->data, r->len, err);
    if (rc == PG_OK && r->sidecar)
        rc = write_file(side, (const uint8_t *)r->sidecar, r->sidecar_len, err);
    if (rc == PG_OK) {
        char stamp[32];
        utc_stamp(r->time_unix_nano, stamp, sizeof(stamp));
        rc = link_into_place(tmp, r->sidecar ? side : NULL, dir, stamp, seq, err);
    }
    unlink(tmp);
    if (r->sidecar)
        unlink(side);
    free(dir);
    free(tmp);
    free(side);
    return rc;
}
