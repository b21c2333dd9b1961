/* A process for tests to start and watch: burns CPU and/or holds memory under a name of the
 * test's choosing, or thrashes the page cache (writes a file of MB, then reads it at random
 * through a mapping; in a small memory cgroup this stalls on memory and raises PSI). Prints
 * "ready" once it is in its final state. It can also fork short CPU-burning children one
 * after another (--fork-burn MS: each burns MS ms of CPU and exits), grow its memory steadily
 * (--leak MB_PER_S up to --leak-max MB), rename itself after a delay (--rename S NAME), and
 * start burning CPU only after a quiet while (--cpu-after S), or exec itself again under the
 * same name with the command line "PATH --after-exec" (--exec-after S).
 *   freezr_test_hog [--cpu] [--mem MB] [--thrash FILE MB] [--name NAME] [--ignore-term]
 *                   [--fork-burn MS] [--leak MB_PER_S] [--leak-max MB] [--rename S NAME]
 *                   [--cpu-after S] [--exec-after S] [--fork-on-usr1] [--write FILE MB_PER_S]
 *                   [--pulse ON OFF] [--share-mem]
 * With --fork-on-usr1, each SIGUSR1 forks an idle child (under the same name) that dies with
 * its parent: what a test needs to see a child born while FreezR holds the parent.
 * --write FILE MB_PER_S writes FILE over and over at that rate (4 MiB, synced, so each pass
 * is I/O the kernel counts again); --pulse ON OFF burns CPU ON seconds, then rests OFF
 * seconds, and again; --share-mem makes the --mem mapping shared and forks a child (same name,
 * dies with the parent) that touches every page of it: both hold it all resident, each
 * charged half of it in its proportional set. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A file already of the size is read as it is: a test writes it beforehand, outside the small
 * cgroup, where its dirty pages could otherwise make the kernel's own OOM killer end the
 * thrasher before any pressure builds. */
static int thrash(const char* path, long mb) {
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size < (off_t)mb << 20) {
    FILE* f = fopen(path, "wb");
    if (f == NULL) return 4;
    static char block[1 << 20];
    for (size_t i = 0; i < sizeof block; ++i) block[i] = (char)(i * 2654435761u >> 13);
    for (long i = 0; i < mb; ++i) fwrite(block, 1, sizeof block, f);
    fclose(f);
  }
  FILE* r = fopen(path, "rb");
  if (r == NULL) return 4;
  const size_t n = (size_t)mb << 20;
  volatile const char* m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fileno(r), 0);
  if (m == MAP_FAILED) return 4;
  printf("ready\n");
  fflush(stdout);
  unsigned long x = 88172645463325252ul, sum = 0;
  for (;;) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sum += (unsigned long)m[(x % (n / 4096)) * 4096];
  }
}

/* Kept in a global so the compiler cannot drop the allocation. */
volatile char* g_memory;

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Rewrites the first 4 MiB of path at mb_per_s, syncing after each MiB. */
static int write_loop(const char* path, double mb_per_s) {
  FILE* f = fopen(path, "wb");
  if (f == NULL) return 4;
  static char block[1 << 20];
  memset(block, 'w', sizeof block);
  printf("ready\n");
  fflush(stdout);
  for (long i = 0;; ++i) {
    if (fseek(f, (i % 4) << 20, SEEK_SET) != 0 || fwrite(block, 1, sizeof block, f) != sizeof block)
      return 4;
    fflush(f);
    fdatasync(fileno(f));
    sleep_seconds(1.0 / mb_per_s);
  }
}

/* Burns CPU for on seconds, rests off seconds, for ever (wall-clock times). */
static int pulse(double on, double off) {
  volatile unsigned long x = 0;
  for (;;) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
      ++x;
      clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < on);
    sleep_seconds(off);
  }
}

/* Forks children one at a time; each burns ms of CPU and exits; the parent reaps it. */
static int fork_burn(long ms) {
  for (;;) {
    const pid_t child = fork();
    if (child < 0) return 5;
    if (child == 0) {
      volatile unsigned long x = 0;
      while (cpu_seconds() < (double)ms / 1000.0) ++x;
      _exit(0);
    }
    waitpid(child, NULL, 0);
  }
}

/* Grows the resident set by mb_per_s every second, in tenths, up to max_mb; then holds. */
static int leak(double mb_per_s, long max_mb) {
  const size_t chunk = (size_t)(mb_per_s * 1024 * 1024 / 10);
  size_t total = 0;
  while (chunk > 0 && total + chunk <= (size_t)max_mb * 1024 * 1024) {
    char* p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 3;
    for (size_t i = 0; i < chunk; i += 4096) p[i] = 1;
    total += chunk;
    sleep_seconds(0.1);
  }
  for (;;) pause();
}

static void fork_idle_child(int sig) {
  (void)sig;
  if (fork() == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    for (;;) pause();
  }
}

int main(int argc, char** argv) {
  int cpu = 0;
  long mem_mb = 0;
  const char* thrash_file = NULL;
  long thrash_mb = 0;
  long burn_ms = 0;
  double leak_rate = 0;
  long leak_max = 1024;
  double rename_after = -1;
  double cpu_after = -1;
  const char* rename_to = NULL;
  double exec_after = -1;
  const char* write_file = NULL;
  double write_rate = 0;
  double pulse_on = 0, pulse_off = 0;
  int share_mem = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--cpu") == 0) {
      cpu = 1;
    } else if (strcmp(argv[i], "--mem") == 0 && i + 1 < argc) {
      mem_mb = atol(argv[++i]);
    } else if (strcmp(argv[i], "--thrash") == 0 && i + 2 < argc) {
      thrash_file = argv[++i];
      thrash_mb = atol(argv[++i]);
    } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      prctl(PR_SET_NAME, argv[++i], 0, 0, 0);
    } else if (strcmp(argv[i], "--fork-burn") == 0 && i + 1 < argc) {
      burn_ms = atol(argv[++i]);
    } else if (strcmp(argv[i], "--leak") == 0 && i + 1 < argc) {
      leak_rate = atof(argv[++i]);
    } else if (strcmp(argv[i], "--leak-max") == 0 && i + 1 < argc) {
      leak_max = atol(argv[++i]);
    } else if (strcmp(argv[i], "--cpu-after") == 0 && i + 1 < argc) {
      cpu_after = atof(argv[++i]);
      cpu = 1;
    } else if (strcmp(argv[i], "--rename") == 0 && i + 2 < argc) {
      rename_after = atof(argv[++i]);
      rename_to = argv[++i];
    } else if (strcmp(argv[i], "--exec-after") == 0 && i + 1 < argc) {
      exec_after = atof(argv[++i]);
    } else if (strcmp(argv[i], "--after-exec") == 0) {
      /* the program exec'd by --exec-after: only its command line differs */
    } else if (strcmp(argv[i], "--pad") == 0 && i + 1 < argc) {
      ++i; /* only there to make the command line what a test needs */
    } else if (strcmp(argv[i], "--fork-on-usr1") == 0) {
      signal(SIGUSR1, fork_idle_child);
      signal(SIGCHLD, SIG_IGN); /* no zombies */
    } else if (strcmp(argv[i], "--write") == 0 && i + 2 < argc) {
      write_file = argv[++i];
      write_rate = atof(argv[++i]);
    } else if (strcmp(argv[i], "--pulse") == 0 && i + 2 < argc) {
      pulse_on = atof(argv[++i]);
      pulse_off = atof(argv[++i]);
    } else if (strcmp(argv[i], "--share-mem") == 0) {
      share_mem = 1;
    } else if (strcmp(argv[i], "--ignore-term") == 0) {
      signal(SIGTERM, SIG_IGN);
    } else {
      fprintf(stderr, "hog: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (mem_mb > 0) {
    size_t n = (size_t)mem_mb * 1024 * 1024;
    /* MAP_POPULATE faults the pages in at once, far faster than touching them one by one. */
    void* p = mmap(NULL, n, PROT_READ | PROT_WRITE,
                   (share_mem ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) return 3;
    g_memory = p;
    for (size_t i = 0; i < n; i += 4096) g_memory[i] = 1;
    if (share_mem) {
      int ready[2];
      if (pipe(ready) != 0) return 3;
      if (fork() == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        unsigned long sum = 0;
        for (size_t i = 0; i < n; i += 4096) sum += (unsigned long)g_memory[i];
        if (write(ready[1], &sum, 1) != 1) _exit(1);
        for (;;) pause();
      }
      char c;
      if (read(ready[0], &c, 1) != 1) return 3;
    }
  }
  if (write_file != NULL) return write_loop(write_file, write_rate);
  if (thrash_file != NULL) return thrash(thrash_file, thrash_mb);
  printf("ready\n");
  fflush(stdout);
  if (rename_to != NULL) {
    sleep_seconds(rename_after);
    prctl(PR_SET_NAME, rename_to, 0, 0, 0);
    printf("renamed\n");
    fflush(stdout);
  }
  if (exec_after >= 0) {
    /* The same binary again (so the same name), with another command line. */
    sleep_seconds(exec_after);
    char* args[] = {argv[0], "--after-exec", NULL};
    execv(argv[0], args);
    return 4;
  }
  if (cpu_after > 0) sleep_seconds(cpu_after);
  if (pulse_on > 0) return pulse(pulse_on, pulse_off);
  if (burn_ms > 0) return fork_burn(burn_ms);
  if (leak_rate > 0) return leak(leak_rate, leak_max);
  volatile unsigned long x = 0;
  for (;;) {
    if (cpu) {
      ++x;
    } else {
      pause();
    }
  }
}
