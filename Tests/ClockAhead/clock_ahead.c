// The wall clock moved ahead by $VIGIL_CLOCK_AHEAD_DAYS days for one process
// tree (LD_PRELOAD), the monotonic clock left alone: `make test-future` runs the
// suite with it, so a test that depends on the date fails.
//
// Why not libfaketime (Debian's 0.9.10): while one thread sits in a call it
// wraps (ppoll, epoll_wait, nanosleep, ...) it turns faking off for the whole
// process, so other threads read the real time meanwhile and a deadline made
// from the faked time is waited on against the real one: about one XCTest
// class in four hung. Here every read is shifted the same way on every thread,
// and the waits that take a realtime deadline have it shifted back.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long long offset_seconds(void) {
    static long long cached = -1;
    if (cached < 0) {
        const char *days = getenv("VIGIL_CLOCK_AHEAD_DAYS");
        cached = days ? atoll(days) * 86400LL : 0;
    }
    return cached;
}

static int is_wall_clock(clockid_t id) {
    return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

static struct timespec shifted_back(const struct timespec *t) {
    struct timespec s = *t;
    s.tv_sec -= offset_seconds();
    return s;
}

int clock_gettime(clockid_t id, struct timespec *tp) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = dlsym(RTLD_NEXT, "clock_gettime");
    int r = real(id, tp);
    if (r == 0 && is_wall_clock(id)) tp->tv_sec += offset_seconds();
    return r;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    static int (*real)(struct timeval *restrict, void *restrict);
    if (!real) real = dlsym(RTLD_NEXT, "gettimeofday");
    int r = real(tv, tz);
    if (r == 0) tv->tv_sec += offset_seconds();
    return r;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}

int timespec_get(struct timespec *ts, int base) {
    return base == TIME_UTC && clock_gettime(CLOCK_REALTIME, ts) == 0 ? base : 0;
}

int clock_nanosleep(clockid_t id, int flags, const struct timespec *t, struct timespec *remain) {
    static int (*real)(clockid_t, int, const struct timespec *, struct timespec *);
    if (!real) real = dlsym(RTLD_NEXT, "clock_nanosleep");
    if ((flags & TIMER_ABSTIME) && is_wall_clock(id)) {
        struct timespec s = shifted_back(t);
        return real(id, flags, &s, remain);
    }
    return real(id, flags, t, remain);
}

// glibc keeps a condition variable's clock in bit 1 of __wrefs (0: realtime).
int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m, const struct timespec *restrict t) {
    static int (*real)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
    if (!real) real = dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
    if (((c->__data.__wrefs >> 1) & 1) == 0) {
        struct timespec s = shifted_back(t);
        return real(c, m, &s);
    }
    return real(c, m, t);
}

int pthread_cond_clockwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m, clockid_t id, const struct timespec *restrict t) {
    static int (*real)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
    if (!real) real = dlsym(RTLD_NEXT, "pthread_cond_clockwait");
    if (is_wall_clock(id)) {
        struct timespec s = shifted_back(t);
        return real(c, m, id, &s);
    }
    return real(c, m, id, t);
}

int sem_timedwait(sem_t *restrict sem, const struct timespec *restrict t) {
    static int (*real)(sem_t *, const struct timespec *);
    if (!real) real = dlsym(RTLD_NEXT, "sem_timedwait");
    struct timespec s = shifted_back(t);
    return real(sem, &s);
}
