/* A process for tests to start and watch: burns CPU and/or holds memory under a name of the
 * test's choosing. Prints "ready" once it is in its final state.
 *   freezr_test_hog [--cpu] [--mem MB] [--name NAME] [--ignore-term] */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Kept in a global so the compiler cannot drop the allocation. */
volatile char* g_memory;

int main(int argc, char** argv) {
  int cpu = 0;
  long mem_mb = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--cpu") == 0) {
      cpu = 1;
    } else if (strcmp(argv[i], "--mem") == 0 && i + 1 < argc) {
      mem_mb = atol(argv[++i]);
    } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      prctl(PR_SET_NAME, argv[++i], 0, 0, 0);
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
    void* p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    if (p == MAP_FAILED) return 3;
    g_memory = p;
    for (size_t i = 0; i < n; i += 4096) g_memory[i] = 1;
  }
  printf("ready\n");
  fflush(stdout);
  volatile unsigned long x = 0;
  for (;;) {
    if (cpu) {
      ++x;
    } else {
      pause();
    }
  }
}
