// kill -9 in the middle of a write, deterministically: an LD_PRELOAD library for the fault tests
// (tst_cli_killed_write, tst_autosave). It stands in for write(), fwrite() and the rename calls
// of the program it is loaded into and, for a file whose path contains $ADJOINT_KILL_MATCH, kills
// the process with SIGKILL, as `kill -9` would, at the point $ADJOINT_KILL_AT names:
//   write   in the first write to such a file: half of the bytes reach it, then SIGKILL
//   rename  just before such a file is renamed into place: the temporary whole, the target untouched
// A file is put in place by rename(), or by linkat() (Qt's QSaveFile links an unnamed O_TMPFILE
// into place when the target does not exist yet): "rename" covers both. $ADJOINT_KILL_AFTER_FILES=N
// arms it only after N such calls onto matching paths have succeeded (a first save goes through,
// the next one is killed). Only tests load it; nothing is linked to it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int filesPlaced = 0;

static const char* match(void) {
    const char* m = getenv("ADJOINT_KILL_MATCH");
    return m && *m ? m : NULL;
}

static int armedFor(const char* point) {
    const char* at = getenv("ADJOINT_KILL_AT");
    if (!at || strcmp(at, point) != 0 || !match()) return 0;
    const char* after = getenv("ADJOINT_KILL_AFTER_FILES");
    return filesPlaced >= (after ? atoi(after) : 0);
}

static int pathMatches(const char* path) { return path && match() && strstr(path, match()) != NULL; }

static int fdMatches(int fd) {
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = '\0';
    return pathMatches(path);
}

static void killNow(void) {
    kill(getpid(), SIGKILL);
    for (;;) pause();
}

ssize_t write(int fd, const void* buf, size_t n) {
    static ssize_t (*real)(int, const void*, size_t);
    if (!real) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
    if (n > 1 && armedFor("write") && fdMatches(fd)) {
        real(fd, buf, n / 2);
        killNow();
    }
    return real(fd, buf, n);
}

size_t fwrite(const void* data, size_t size, size_t count, FILE* f) {
    static size_t (*real)(const void*, size_t, size_t, FILE*);
    if (!real) real = (size_t(*)(const void*, size_t, size_t, FILE*))dlsym(RTLD_NEXT, "fwrite");
    if (size * count > 1 && armedFor("write") && fdMatches(fileno(f))) {
        real(data, 1, size * count / 2, f);
        fflush(f);
        killNow();
    }
    return real(data, size, count, f);
}

static int afterRename(int result, const char* to) {
    if (result == 0 && pathMatches(to)) ++filesPlaced;
    return result;
}

int rename(const char* from, const char* to) {
    static int (*real)(const char*, const char*);
    if (!real) real = (int (*)(const char*, const char*))dlsym(RTLD_NEXT, "rename");
    if (armedFor("rename") && pathMatches(to)) killNow();
    return afterRename(real(from, to), to);
}

int renameat(int fromDir, const char* from, int toDir, const char* to) {
    static int (*real)(int, const char*, int, const char*);
    if (!real) real = (int (*)(int, const char*, int, const char*))dlsym(RTLD_NEXT, "renameat");
    if (armedFor("rename") && pathMatches(to)) killNow();
    return afterRename(real(fromDir, from, toDir, to), to);
}

int renameat2(int fromDir, const char* from, int toDir, const char* to, unsigned int flags) {
    static int (*real)(int, const char*, int, const char*, unsigned int);
    if (!real) real = (int (*)(int, const char*, int, const char*, unsigned int))dlsym(RTLD_NEXT, "renameat2");
    if (armedFor("rename") && pathMatches(to)) killNow();
    return afterRename(real(fromDir, from, toDir, to, flags), to);
}

int linkat(int fromDir, const char* from, int toDir, const char* to, int flags) {
    static int (*real)(int, const char*, int, const char*, int);
    if (!real) real = (int (*)(int, const char*, int, const char*, int))dlsym(RTLD_NEXT, "linkat");
    if (armedFor("rename") && pathMatches(to)) killNow();
    return afterRename(real(fromDir, from, toDir, to, flags), to);
}
