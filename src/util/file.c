/* file.c - bounded whole-file reads, atomic writes, mkdir -p. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nnrun/util.h"

/* Test hooks (not for users): NAME=MS in the environment sleeps MS
 * milliseconds at a point where a race or a kill is to be made likely:
 * NNRUN_TEST_CLAIM_DELAY_MS between choosing a directory name and
 * claiming it; NNRUN_TEST_LOCK_DELAY_MS between a claim's mkdir and its
 * flock; NNRUN_TEST_WRITE_DELAY_MS after an atomic write's data is
 * on disk under its temporary name, before the rename. */
static void test_delay(const char *var)
{
    const char *v = getenv(var);
    long ms = v ? strtol(v, NULL, 10) : 0;
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* What a file that is not a regular one is, for messages. */
static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

int nn_write_file_atomic(const char *path, const void *data, size_t n, char *err,
                         size_t n_err)
{
    /* the rename below replaces whatever has the name: never a device (as
     * root, `-o /dev/null` would replace the system's /dev/null), a FIFO, a
     * socket, or a symbolic link to one (`/dev/stdout`).  A link to a
     * regular file is replaced itself, not the file it names. */
    struct stat old;
    if (!lstat(path, &old) && !S_ISREG(old.st_mode) &&
        (!S_ISLNK(old.st_mode) || (!stat(path, &old) && !S_ISREG(old.st_mode)))) {
        snprintf(err, n_err, "%s: is %s; nnrun writes only regular files (it replaces them "
                 "whole)", path, file_kind(old.st_mode));
        return -1;
    }
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        snprintf(err, n_err, "%s: path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, n_err, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        return -1;
    }
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            const int e = w < 0 ? errno : ENOSPC;
            close(fd);
            unlink(tmp);
            snprintf(err, n_err, "%s: not written (%s); the previous %s, if any, is unchanged",
                     path, strerror(e), path);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    int bad = fsync(fd), e = errno;
    if (close(fd) && !bad) bad = 1, e = errno;
    if (bad) {
        unlink(tmp);
        snprintf(err, n_err, "%s: not written (cannot flush to disk: %s); the previous %s, if "
                 "any, is unchanged", path, strerror(e), path);
        return -1;
    }
    test_delay("NNRUN_TEST_WRITE_DELAY_MS");
    if (rename(tmp, path)) {
        const int e = errno;
        unlink(tmp);
        snprintf(err, n_err, "%s: cannot rename %s into place: %s", path, tmp, strerror(e));
        return -1;
    }
    return 0;
}

int nn_open_regular(const char *path, uint64_t max, uint64_t *size, char *err, size_t n_err)
{
    /* O_NONBLOCK: opening a FIFO with no writer (or a tty) returns at once
     * instead of waiting; the file is refused below anyway */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, n_err, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        snprintf(err, n_err, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, n_err, "is %s, not a regular file", file_kind(st.st_mode));
        close(fd);
        return -1;
    }
    if (st.st_size < 0 || (max && (uint64_t)st.st_size > max)) {
        snprintf(err, n_err, "is %lld bytes, more than the %llu this file may have",
                 (long long)st.st_size, (unsigned long long)max);
        close(fd);
        return -1;
    }
    /* back to blocking reads: a regular file never blocks, but a read of
     * one with O_NONBLOCK may fail with EAGAIN on some file systems */
    const int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *size = (uint64_t)st.st_size;
    return fd;
}

int nn_read_full(int fd, void *buf, size_t n, char *err, size_t n_err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, n_err, "read error: %s", strerror(errno));
            return -1;
        }
        if (r == 0) {
            snprintf(err, n_err, "changed while being read: %zu bytes instead of %zu", got, n);
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

uint8_t *nn_read_file_max(const char *path, size_t max, size_t *len, char *err, size_t n_err)
{
    uint64_t size;
    int fd = nn_open_regular(path, max ? max : NN_READ_FILE_MAX, &size, err, n_err);
    if (fd < 0) return NULL;
    /* the size seen at open, no more: a file that grows meanwhile is caught below */
    uint8_t *buf = size < SIZE_MAX ? malloc((size_t)size + 1) : NULL;
    if (!buf) {
        snprintf(err, n_err, "out of memory for %llu bytes", (unsigned long long)size);
        close(fd);
        return NULL;
    }
    struct stat st;
    int bad = nn_read_full(fd, buf, (size_t)size, err, n_err);
    if (!bad && (fstat(fd, &st) || (uint64_t)st.st_size != size)) {
        snprintf(err, n_err, "changed while being read: %llu bytes at open, %lld now",
                 (unsigned long long)size, (long long)st.st_size);
        bad = 1;
    }
    close(fd);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

uint8_t *nn_read_file(const char *path, size_t *len, char *err, size_t n_err)
{
    return nn_read_file_max(path, NN_READ_FILE_MAX, len, err, n_err);
}

int nn_mkdirs(const char *path, char *err, size_t n_err)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p) {
        snprintf(err, n_err, "%s: path too long", path);
        return -1;
    }
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) && errno != EEXIST) {
            snprintf(err, n_err, "%s: cannot create directory: %s", p, strerror(errno));
            return -1;
        }
        *s = c;
        if (!c) break;
    }
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, n_err, "%s: exists and is not a directory", path);
        return -1;
    }
    return 0;
}

/* ---- run directories: claimed, replaced, locked ------------------------------- */

/* dir's parent ("." for a bare name) into out */
static void parent_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, n, ".");
    else if (slash == path) snprintf(out, n, "/");
    else snprintf(out, n, "%.*s", (int)(slash - path), path);
}

/* Whether renameat2 failed with e because this file system (or kernel)
 * has no RENAME_NOREPLACE / RENAME_EXCHANGE: then plain renames are used. */
static int no_rename2(int e)
{
    return e == EINVAL || e == ENOSYS || e == ENOTSUP;
}

/* .NAME.WHAT.PID beside path: the name of a claim or staging directory */
static int staging_name(const char *path, long pid, const char *what, char *out, size_t n);
static void remove_stale_staging(const char *path);

int nn_claim_dir(const char *base, char *out, size_t n_out, int *lock_fd, char *err,
                 size_t n_err)
{
    char parent[PATH_MAX], hidden[PATH_MAX];
    *lock_fd = -1;
    if (strlen(base) >= sizeof parent ||
        staging_name(base, (long)getpid(), "claim", hidden, sizeof hidden)) {
        snprintf(err, n_err, "%s: path too long", base);
        return -1;
    }
    parent_of(base, parent, sizeof parent);
    if (nn_mkdirs(parent, err, n_err)) return -1;
    /* the directory is made and locked under a hidden name, then renamed to
     * its own without replacing anything: it is never seen unlocked */
    remove_stale_staging(base);
    nn_remove_tree(hidden);
    int fd = -1, exchange = 1;
    if (mkdir(hidden, 0755)) {
        snprintf(err, n_err, "%s: cannot create directory: %s", hidden, strerror(errno));
        return -1;
    }
    test_delay("NNRUN_TEST_LOCK_DELAY_MS");
    if ((fd = nn_dir_lock(hidden)) < 0) {
        snprintf(err, n_err, "%s: cannot lock: %s", hidden, strerror(errno));
        rmdir(hidden);
        return -1;
    }
    int i;
    for (i = 1; i < 10000; i++) {
        int k = i == 1 ? snprintf(out, n_out, "%s", base) : snprintf(out, n_out, "%s-%d", base, i);
        if (k < 0 || (size_t)k >= n_out) {
            snprintf(err, n_err, "%s: path too long", base);
            break;
        }
        test_delay("NNRUN_TEST_CLAIM_DELAY_MS");
        if (exchange) {
            if (!renameat2(AT_FDCWD, hidden, AT_FDCWD, out, RENAME_NOREPLACE)) {
                *lock_fd = fd;   /* ours: nobody else's rename or mkdir made it */
                return i > 1;
            }
            if (errno == EEXIST) continue;
            if (!no_rename2(errno)) {
                snprintf(err, n_err, "%s: cannot create directory: %s", out, strerror(errno));
                break;
            }
            /* no RENAME_NOREPLACE here: mkdir, then lock; a lock that fails
             * means another process took the directory first */
            close(fd);
            fd = -1;
            rmdir(hidden);
            exchange = 0;
        }
        if (mkdir(out, 0755)) {
            if (errno == EEXIST) continue;
            snprintf(err, n_err, "%s: cannot create directory: %s", out, strerror(errno));
            return -1;
        }
        test_delay("NNRUN_TEST_LOCK_DELAY_MS");
        if ((*lock_fd = nn_dir_lock(out)) >= 0) return i > 1;
    }
    if (exchange) {
        close(fd);
        rmdir(hidden);
    }
    if (i == 10000)
        snprintf(err, n_err, "%s: no free directory name (tried %s-2 to %s-9999)", base, base,
                 base);
    return -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int nn_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int staging_name(const char *path, long pid, const char *what, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    const int k = slash ? snprintf(out, n, "%.*s/.%s.%s.%ld", (int)(slash - path), path,
                                   slash + 1, what, pid)
                        : snprintf(out, n, ".%s.%s.%ld", path, what, pid);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

/* Removes .NAME.new.PID, .NAME.old.PID and .NAME.claim.PID beside path
 * whose process is gone. */
static void remove_stale_staging(const char *path)
{
    char parent[PATH_MAX], name[NAME_MAX + 1];
    parent_of(path, parent, sizeof parent);
    const char *slash = strrchr(path, '/');
    snprintf(name, sizeof name, "%s", slash ? slash + 1 : path);
    const size_t l = strlen(name);
    DIR *d = opendir(parent);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *s = e->d_name;
        if (s[0] != '.' || strncmp(s + 1, name, l) || s[1 + l] != '.') continue;
        s += 2 + l;
        const size_t w = !strncmp(s, "new.", 4) || !strncmp(s, "old.", 4) ? 4
                         : !strncmp(s, "claim.", 6) ? 6 : 0;
        if (!w) continue;
        char *end;
        const long pid = strtol(s + w, &end, 10);
        if (end == s + w || *end || pid <= 0) continue;
        if (pid != (long)getpid() && !(kill((pid_t)pid, 0) && errno == ESRCH)) continue;
        char full[PATH_MAX];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", parent, e->d_name) < sizeof full)
            nn_remove_tree(full);
    }
    closedir(d);
}

int nn_claim_staging(const char *path, char *out, size_t n_out, char *err, size_t n_err)
{
    if (staging_name(path, (long)getpid(), "new", out, n_out)) {
        snprintf(err, n_err, "%s: path too long", path);
        return -1;
    }
    remove_stale_staging(path);
    if (mkdir(out, 0755)) {
        snprintf(err, n_err, "%s: cannot create directory: %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

int nn_dir_replace(const char *fresh, const char *old, char *err, size_t n_err)
{
    if (!renameat2(AT_FDCWD, fresh, AT_FDCWD, old, RENAME_EXCHANGE)) {
        nn_remove_tree(fresh);   /* now the old record */
        return 0;
    }
    if (!no_rename2(errno)) {
        snprintf(err, n_err, "%s: cannot put %s in its place: %s", old, fresh, strerror(errno));
        return -1;
    }
    /* no atomic exchange on this file system: old aside, fresh in */
    char aside[PATH_MAX];
    if (staging_name(old, (long)getpid(), "old", aside, sizeof aside) ||
        (nn_remove_tree(aside), rename(old, aside))) {
        snprintf(err, n_err, "%s: cannot move it aside: %s", old, strerror(errno));
        return -1;
    }
    if (rename(fresh, old)) {
        snprintf(err, n_err, "%s: cannot put %s in its place: %s", old, fresh, strerror(errno));
        rename(aside, old);
        return -1;
    }
    nn_remove_tree(aside);
    return 0;
}

int nn_dir_lock(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        const int e = errno;
        close(fd);
        errno = e == EWOULDBLOCK ? EBUSY : e;
        return -1;
    }
    return fd;
}

int nn_is_tmp_name(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t || t == name || !t[5]) return 0;
    for (t += 5; *t >= '0' && *t <= '9'; t++) {}
    return !*t;
}

int nn_remove_stale_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!nn_is_tmp_name(e->d_name)) continue;
        char full[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) < sizeof full &&
            !lstat(full, &st) && S_ISREG(st.st_mode) && !unlink(full))
            n++;
    }
    closedir(d);
    return n;
}

/* t as a JSON string: quotes, backslashes and control characters escaped,
 * and each byte that is not part of valid UTF-8 written as U+FFFD, so the
 * output is valid JSON whatever t holds. */
void nn_json_string(FILE *f, const char *t)
{
    const unsigned char *u = (const unsigned char *)t;
    fputc('"', f);
    while (*u) {
        const unsigned c = *u;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
            u++;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            u++;
            continue;
        }
        if (c < 0x80) {
            fputc((int)c, f);
            u++;
            continue;
        }
        /* a UTF-8 sequence: its length, and the range of its second byte
         * (no overlong forms, no surrogates, nothing above U+10FFFF) */
        int len = 0;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) len = 2;
        else if (c >= 0xe0 && c <= 0xef) len = 3, lo = c == 0xe0 ? 0xa0 : 0x80,
                                         hi = c == 0xed ? 0x9f : 0xbf;
        else if (c >= 0xf0 && c <= 0xf4) len = 4, lo = c == 0xf0 ? 0x90 : 0x80,
                                         hi = c == 0xf4 ? 0x8f : 0xbf;
        int ok = len > 0 && u[1] >= lo && u[1] <= hi;
        for (int k = 2; ok && k < len; k++) ok = u[k] >= 0x80 && u[k] <= 0xbf;
        if (!ok) {
            fputs("\\ufffd", f);
            u++;
            continue;
        }
        fwrite(u, 1, (size_t)len, f);
        u += len;
    }
    fputc('"', f);
}

void nn_json_number(FILE *f, const char *fmt, double v)
{
    if (isfinite(v)) fprintf(f, fmt, v);
    else fputs("null", f);
}
