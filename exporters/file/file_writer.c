#include "exporters/file/file_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "exporters/file/file_tree.h"
#include "telemetry/log.h"

#define WRITER_ZSTD_LEVEL 3

struct pg_file_writer {
    pg_file_writer_opts o;
    char *path, *scope;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pg_file_record *head, *tail;
    size_t items, bytes;
    int stopping;
    uint64_t deadline_ms;
    pthread_t thread;
    int thread_started;

    /* writer thread only */
    FILE *fp;
    uint64_t file_size;
    int dirty;
    uint64_t last_flush_ms;
    ZSTD_CCtx *zc;
    pg_buf frame, packed;
    uint64_t tree_seq;
};

pg_file_record *pg_file_record_new(uint8_t *data, size_t len, uint32_t profiles)
{
    pg_file_record *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->data = data;
    r->len = len;
    r->profiles = profiles;
    return r;
}

pg_file_record *pg_file_record_forward(pg_payload *p, uint32_t profiles)
{
    pg_file_record *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->ref = pg_payload_ref(p);
    r->data = p->bytes;
    r->len = p->len;
    r->profiles = profiles;
    return r;
}

void pg_file_record_free(pg_file_record *r)
{
    while (r) {
        pg_file_record *sib = r->sibling;
        if (r->ref)
            pg_payload_unref(r->ref);
        else
            free(r->data);
        free(r->dir);
        free(r->sidecar);
        free(r);
        r = sib;
    }
}

size_t pg_file_record_bytes(const pg_file_record *r)
{
    size_t n = 0;
    for (; r; r = r->sibling)
        n += r->len + r->sidecar_len;
    return n;
}

static void add(pg_metric *m, int64_t v)
{
    if (m)
        pg_metric_add(m, v);
}

pg_file_writer *pg_file_writer_new(const pg_file_writer_opts *opts, pg_error *err)
{
    pg_file_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    w->o = *opts;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    /* timed waits measure the flush interval on the monotonic clock */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pg_buf_init(&w->frame);
    pg_buf_init(&w->packed);
    w->path = strdup(opts->path ? opts->path : "");
    w->scope = strdup(opts->log_scope ? opts->log_scope : "exporter/file");
    if (!w->path || !w->scope) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        pg_file_writer_free(w);
        return NULL;
    }
    w->o.path = w->path;
    w->o.log_scope = w->scope;
    return w;
}

/* mkdir -p of everything before the last '/'. */
/* Creates the directories above path (a file). */
static int make_parents(const char *path, pg_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return PG_OK;
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    int rc = pg_file_tree_mkdirs(dir, err);
    free(dir);
    return rc;
}

static int open_file(pg_file_writer *w, pg_error *err)
{
    w->fp = fopen(w->path, "ab");
    if (!w->fp)
        return pg_error_set(err, PG_ERR_IO, "cannot open %s: %s", w->path, strerror(errno));
    setvbuf(w->fp, NULL, _IOFBF, 256 * 1024);
    struct stat st;
    w->file_size = fstat(fileno(w->fp), &st) == 0 ? (uint64_t)st.st_size : 0;
    return PG_OK;
}

static void flush_file(pg_file_writer *w)
{
    if (w->fp && w->dirty && fflush(w->fp) != 0)
        pg_log(PG_LOG_ERROR, w->scope, "flushing %s: %s", w->path, strerror(errno));
    w->dirty = 0;
    w->last_flush_ms = pg_now_ms();
}

static void rotate(pg_file_writer *w)
{
    flush_file(w);
    fclose(w->fp);
    w->fp = NULL;
    size_t n = strlen(w->path) + 16;
    char *from = malloc(n), *to = malloc(n);
    if (from && to) {
        if (w->o.max_backups <= 0) {
            unlink(w->path);
        } else {
            for (int i = w->o.max_backups; i >= 1; i--) {
                if (i == 1)
                    snprintf(from, n, "%s", w->path);
                else
                    snprintf(from, n, "%s.%d", w->path, i - 1);
                snprintf(to, n, "%s.%d", w->path, i);
                if (rename(from, to) != 0 && errno != ENOENT)
                    pg_log(PG_LOG_ERROR, w->scope, "rotating %s -> %s: %s", from, to,
                           strerror(errno));
            }
        }
    }
    free(from);
    free(to);
    pg_error err;
    if (open_file(w, &err) != PG_OK)
        pg_log(PG_LOG_ERROR, w->scope, "%s", err.msg);
}

/* Frames r into w->frame (and compresses it into w->packed with zstd);
 * returns the bytes to write. */
static int frame_record(pg_file_writer *w, const pg_file_record *r, const uint8_t **out,
                        size_t *out_len)
{
    w->frame.len = 0;
    if (w->o.framing == PG_FILE_FRAMING_LENGTH_PREFIX) {
        if (r->len > UINT32_MAX)
            return PG_ERR_LIMIT;
        uint8_t hdr[4] = {(uint8_t)(r->len >> 24), (uint8_t)(r->len >> 16), (uint8_t)(r->len >> 8),
                          (uint8_t)r->len};
        if (pg_buf_append(&w->frame, hdr, 4) != 0 || pg_buf_append(&w->frame, r->data, r->len) != 0)
            return PG_ERR_NOMEM;
    } else if (pg_buf_append(&w->frame, r->data, r->len) != 0 ||
               pg_buf_append(&w->frame, "\n", 1) != 0) {
        return PG_ERR_NOMEM;
    }
    *out = w->frame.data;
    *out_len = w->frame.len;
    if (!w->o.zstd)
        return PG_OK;
    if (!w->zc && !(w->zc = ZSTD_createCCtx()))
        return PG_ERR_NOMEM;
    ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, WRITER_ZSTD_LEVEL);
    ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
    size_t bound = ZSTD_compressBound(w->frame.len);
    w->packed.len = 0;
    if (pg_buf_reserve(&w->packed, bound) != 0)
        return PG_ERR_NOMEM;
    size_t n = ZSTD_compress2(w->zc, w->packed.data, bound, w->frame.data, w->frame.len);
    if (ZSTD_isError(n))
        return PG_ERR_IO;
    *out = w->packed.data;
    *out_len = n;
    return PG_OK;
}

static void write_tree(pg_file_writer *w, const pg_file_record *r)
{
    for (; r; r = r->sibling) {
        pg_error err;
        if (pg_file_tree_write(w->path, r, &w->tree_seq, &err) != PG_OK) {
            add(w->o.failed_profiles, r->profiles);
            pg_log(PG_LOG_ERROR, w->scope, "dropped %u profiles: %s", r->profiles, err.msg);
            continue;
        }
        add(w->o.sent_profiles, r->profiles);
        add(w->o.sent_bytes, (int64_t)(r->len + r->sidecar_len));
    }
}

static void write_record(pg_file_writer *w, const pg_file_record *r)
{
    if (w->o.framing == PG_FILE_FRAMING_TREE) {
        write_tree(w, r);
        return;
    }
    const uint8_t *bytes;
    size_t len;
    int rc = frame_record(w, r, &bytes, &len);
    if (rc != PG_OK) {
        add(w->o.failed_profiles, r->profiles);
        pg_log(PG_LOG_ERROR, w->scope, "dropped %u profiles: cannot frame record: %s", r->profiles,
               pg_strerror(rc));
        return;
    }
    if (w->fp && w->file_size > 0 && w->file_size + len > w->o.max_file_bytes)
        rotate(w);
    if (!w->fp) {
        pg_error err;
        if (open_file(w, &err) != PG_OK) {
            add(w->o.failed_profiles, r->profiles);
            pg_log(PG_LOG_ERROR, w->scope, "dropped %u profiles: %s", r->profiles, err.msg);
            return;
        }
    }
    if (fwrite(bytes, 1, len, w->fp) != len) {
        add(w->o.failed_profiles, r->profiles);
        pg_log(PG_LOG_ERROR, w->scope, "dropped %u profiles: writing %s: %s", r->profiles, w->path,
               strerror(errno));
        clearerr(w->fp);
        return;
    }
    w->file_size += len;
    w->dirty = 1;
    add(w->o.sent_profiles, r->profiles);
    add(w->o.sent_bytes, (int64_t)len);
}

static void wait_for_work(pg_file_writer *w)
{
    if (!w->dirty) {
        pthread_cond_wait(&w->cv, &w->mu);
        return;
    }
    uint64_t due = w->last_flush_ms + w->o.flush_interval_ms;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = pg_now_ms(), wait = due > now ? due - now : 0;
    ts.tv_sec += (time_t)(wait / 1000);
    ts.tv_nsec += (long)(wait % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *writer_main(void *arg)
{
    pg_file_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (w->stopping && (!w->head || pg_now_ms() >= w->deadline_ms))
            break;
        if (!w->head) {
            wait_for_work(w);
        } else {
            pg_file_record *r = w->head;
            w->head = r->next;
            if (!w->head)
                w->tail = NULL;
            size_t bytes = pg_file_record_bytes(r);
            w->items--;
            w->bytes -= bytes;
            add(w->o.queue_bytes, -(int64_t)bytes);
            pthread_mutex_unlock(&w->mu);
            write_record(w, r);
            pg_file_record_free(r);
            pthread_mutex_lock(&w->mu);
        }
        if (w->fp && w->dirty && pg_now_ms() >= w->last_flush_ms + w->o.flush_interval_ms) {
            pthread_mutex_unlock(&w->mu);
            flush_file(w);
            pthread_mutex_lock(&w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    flush_file(w);
    return NULL;
}

int pg_file_writer_start(pg_file_writer *w, pg_error *err)
{
    if (w->thread_started)
        return PG_OK;
    int rc;
    if (w->o.framing == PG_FILE_FRAMING_TREE)
        rc = pg_file_tree_mkdirs(w->path, err);
    else if ((rc = make_parents(w->path, err)) == PG_OK)
        rc = open_file(w, err);
    if (rc != PG_OK)
        return rc;
    w->last_flush_ms = pg_now_ms();
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        fclose(w->fp);
        w->fp = NULL;
        return pg_error_set(err, PG_ERR_IO, "cannot start writer thread");
    }
    w->thread_started = 1;
    return PG_OK;
}

int pg_file_writer_push(pg_file_writer *w, pg_file_record *r)
{
    size_t bytes = pg_file_record_bytes(r);
    pthread_mutex_lock(&w->mu);
    int rc = PG_OK;
    if (w->stopping)
        rc = PG_ERR_INVALID;
    else if (w->items &&
             (w->items >= w->o.queue_max_items || w->bytes + bytes > w->o.queue_max_bytes))
        rc = PG_ERR_BUSY;
    if (rc == PG_OK) {
        r->next = NULL;
        if (w->tail)
            w->tail->next = r;
        else
            w->head = r;
        w->tail = r;
        w->items++;
        w->bytes += bytes;
        add(w->o.queue_bytes, (int64_t)bytes);
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void pg_file_writer_shutdown(pg_file_writer *w, uint64_t deadline_ms)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    w->deadline_ms = deadline_ms;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->thread_started) {
        pthread_join(w->thread, NULL);
        w->thread_started = 0;
    }
    uint64_t lost = 0;
    size_t records = 0;
    pthread_mutex_lock(&w->mu);
    while (w->head) {
        pg_file_record *r = w->head;
        w->head = r->next;
        for (const pg_file_record *s = r; s; s = s->sibling)
            lost += s->profiles;
        records++;
        add(w->o.queue_bytes, -(int64_t)pg_file_record_bytes(r));
        pg_file_record_free(r);
    }
    w->tail = NULL;
    w->items = w->bytes = 0;
    pthread_mutex_unlock(&w->mu);
    if (records) {
        add(w->o.failed_profiles, (int64_t)lost);
        pg_log(PG_LOG_ERROR, w->scope,
               "shutdown deadline reached: %zu records (%llu profiles) not written to %s", records,
               (unsigned long long)lost, w->path);
    }
    if (w->fp) {
        flush_file(w);
        fclose(w->fp);
        w->fp = NULL;
    }
}

void pg_file_writer_free(pg_file_writer *w)
{
    if (!w)
        return;
    pg_file_writer_shutdown(w, 0);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    ZSTD_freeCCtx(w->zc);
    pg_buf_free(&w->frame);
    pg_buf_free(&w->packed);
    free(w->path);
    free(w->scope);
    free(w);
}
