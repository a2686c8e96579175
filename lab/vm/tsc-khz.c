/* tsc-khz: prints the host's TSC frequency in kHz (one line), measured
 * against CLOCK_MONOTONIC_RAW.
 *
 * Why: QEMU's microvm machine has no HPET or PIT to calibrate the TSC
 * against, and under TCG the guest's TSC is the host's (QEMU's rdtsc
 * helper reads the host counter). Without tsc_early_khz= the guest kernel
 * hangs at "Marking TSC unstable"; with the host's frequency it boots.
 * prepare.sh builds and runs this once per host boot.
 *
 * Method: three measurements of about 100 ms each. Each end point is the
 * clock reading bracketed by two rdtsc reads, keeping the tightest of 50
 * tries (a preemption between the reads would widen the bracket). The three
 * results must agree within 0.05 %, else exit 1 (too noisy to trust).
 * Exit 2: not an x86-64 host.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#if defined(__x86_64__)
static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ __volatile__("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static int now_ns(uint64_t *ns) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC_RAW, &ts) != 0) {
    perror("tsc-khz: clock_gettime(CLOCK_MONOTONIC_RAW)");
    return -1;
  }
  *ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  return 0;
}

/* One (tsc, ns) pair: the clock read between the two TSC reads that are
 * closest together out of 50 tries. */
static int sample(uint64_t *tsc, uint64_t *ns) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 50; i++) {
    uint64_t a = rdtsc(), t;
    if (now_ns(&t) != 0) return -1;
    uint64_t b = rdtsc();
    if (b > a && b - a < best) {
      best = b - a;
      *tsc = a + (b - a) / 2;
      *ns = t;
    }
  }
  return best == UINT64_MAX ? -1 : 0;
}

static int measure(double *khz) {
  uint64_t t0, n0, t1, n1;
  struct timespec pause = {0, 100 * 1000 * 1000};
  if (sample(&t0, &n0) != 0) return -1;
  /* A fixed interval to measure over, not synchronisation. */
  if (nanosleep(&pause, NULL) != 0) {
    perror("tsc-khz: nanosleep");
    return -1;
  }
  if (sample(&t1, &n1) != 0) return -1;
  if (n1 <= n0 || t1 <= t0) return -1;
  *khz = (double)(t1 - t0) * 1e6 / (double)(n1 - n0);
  return 0;
}

int main(void) {
  double r[3], lo, hi;
  for (int i = 0; i < 3; i++) {
    if (measure(&r[i]) != 0) {
      fprintf(stderr, "tsc-khz: measurement %d failed\n", i + 1);
      return 1;
    }
  }
  lo = hi = r[0];
  for (int i = 1; i < 3; i++) {
    if (r[i] < lo) lo = r[i];
    if (r[i] > hi) hi = r[i];
  }
  if ((hi - lo) / lo > 0.0005) {
    fprintf(stderr, "tsc-khz: measurements disagree: %.0f %.0f %.0f kHz\n", r[0], r[1], r[2]);
    return 1;
  }
  /* The median of three. */
  double m = r[0] + r[1] + r[2] - lo - hi;
  printf("%.0f\n", m);
  return 0;
}
#else
int main(void) {
  fprintf(stderr, "tsc-khz: not an x86-64 host\n");
  return 2;
}
#endif
