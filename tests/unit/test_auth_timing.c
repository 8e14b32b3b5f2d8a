/* Key checks compare in constant time: a statistical timing test in the
 * manner of dudect (Reparaz, Balasch, Verbauwhede 2017). Two classes of
 * inputs are timed in random interleaving, each copied into the same buffer,
 * many calls per sample, and Welch's t-test asks whether the two timing
 * distributions differ. A
 * comparison that stops at the first differing byte is told apart at once
 * (|t| in the tens or hundreds: the positive control below proves the test
 * sees such a leak on this machine, now); a constant-time one gives |t| of a
 * few units at most. Nothing asserts a duration: only whether two classes
 * can be told apart (|t| < S_T_LEAK), so a slow or busy machine only adds
 * noise to both classes alike, and each verdict is the median of S_RUNS runs.
 *
 * What is timed is what the door does with a presented key once its id has
 * found the row (the id is public): parse, SHA-256, and the comparison of
 * the digests (at_auth_hash_equal). Classes: one presented key against the
 * stored hash of itself and of keys differing from it in the first or in
 * the last character of the secret; and digests differing in their first
 * or in their last byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "at_auth.h"
#include "at_common.h"

#define S_SAMPLES 10000     /* per run, both classes together */
#define S_RUNS 7            /* runs per comparison; their median |t| is judged */
#define S_CALLS 32          /* calls timed as one sample */
#define S_T_LEAK 10.0       /* dudect's "definitely not constant time" */
#define S_CROP 0.5          /* only the faster half: the rest of the machine only adds time */

typedef bool (s_check_fn) (const void *input, const void *arg);

static int64_t
s_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
s_cmp (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return x < y ? -1 : x > y;
}

/* The crop percentile of class c's samples. */
static int64_t
s_crop (const int64_t *t, const int *cls, size_t n, int c)
{
  int64_t *mine = malloc (n * sizeof *mine);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (cls[i] == c)
      mine[k++] = t[i];
  qsort (mine, k, sizeof *mine, s_cmp);
  int64_t crop = k ? mine[(size_t) ((double) k * S_CROP)] : 0;
  free (mine);
  return crop;
}

/* Welch's t of the two classes, each without its samples above its own
 * crop percentile (what the rest of the machine added). */
static double
s_welch (const int64_t *t, const int *cls, size_t n)
{
  int64_t crop[2] = {s_crop (t, cls, n, 0), s_crop (t, cls, n, 1)};
  double sum[2] = {0, 0}, sq[2] = {0, 0}, k[2] = {0, 0};
  for (size_t i = 0; i < n; i++)
    if (t[i] <= crop[cls[i]]) {
      sum[cls[i]] += (double) t[i];
      sq[cls[i]] += (double) t[i] * (double) t[i];
      k[cls[i]]++;
    }
  if (k[0] < 2 || k[1] < 2)
    return 0;
  double mean[2], var[2];
  for (int c = 0; c < 2; c++) {
    mean[c] = sum[c] / k[c];
    var[c] = (sq[c] - k[c] * mean[c] * mean[c]) / (k[c] - 1);
  }
  double se = sqrt (var[0] / k[0] + var[1] / k[1]);
  return se > 0 ? (mean[0] - mean[1]) / se : 0;
}

static int64_t
s_time (s_check_fn *fn, const void *input, const void *arg, volatile bool *sink)
{
  int64_t start = s_ns ();
  for (int c = 0; c < S_CALLS; c++)
    *sink ^= fn (input, arg);
  return s_ns () - start;
}

/* Times fn on class 0 (input[0], arg[0]: a stored hash) or class 1 (input[1],
 * arg[1]), in random order, both copied first into the same buffers (so that
 * no class sits at a luckier address: a hash straddling a cache line is
 * slower to read, whatever it holds); returns Welch's t of the two classes. */
static double
s_t (s_check_fn *fn, const void *const input[2], size_t len, const void *const arg[2])
{
  int64_t *t = malloc (S_SAMPLES * sizeof *t);
  int *cls = malloc (S_SAMPLES * sizeof *cls);
  uint8_t *scratch = malloc (len), stored[AT_AUTH_HASH_LEN];
  volatile bool sink = false;
  for (size_t i = 0; i < S_SAMPLES; i++)
    cls[i] = rand () & 1;
  for (size_t i = 0; i < S_SAMPLES; i++) {
    memcpy (scratch, input[cls[i]], len);
    memcpy (stored, arg[cls[i]], sizeof stored);
    t[i] = s_time (fn, scratch, stored, &sink);
  }
  double value = s_welch (t, cls, S_SAMPLES);
  free (scratch);
  free (cls);
  free (t);
  return value;
}

/* The median |t| of S_RUNS runs: a leak shows in every run, a burst of
 * noise from the rest of the machine in one. */
static double
s_abs_t (s_check_fn *fn, const void *const input[2], size_t len, const void *const arg[2])
{
  double t[S_RUNS];
  for (int r = 0; r < S_RUNS; r++) {
    t[r] = fabs (s_t (fn, input, len, arg));
    for (int j = r; j > 0 && t[j] < t[j - 1]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  }
  return t[S_RUNS / 2];
}

static bool
s_hash_equal (const void *input, const void *stored)
{
  return at_auth_hash_equal (input, stored);
}

/* The positive control: what a plain early-exit loop leaks. */
static bool
s_naive_equal (const void *input, const void *stored)
{
  const volatile uint8_t *a = input, *b = stored;
  for (size_t i = 0; i < AT_AUTH_HASH_LEN * 8; i++)
    if (a[i % AT_AUTH_HASH_LEN] != b[i % AT_AUTH_HASH_LEN])
      return false;
  return true;
}

/* The door's work on a presented key whose row was found. */
static bool
s_key_check (const void *input, const void *stored)
{
  at_auth_key_parts_t parts;
  uint8_t hash[AT_AUTH_HASH_LEN];
  const char *text = input;
  if (at_auth_key_parse (text, strlen (text), &parts) != AT_OK)
    return false;
  at_auth_key_hash (&parts, hash);
  return at_auth_hash_equal (hash, stored);
}

static void
test_digests (void **state)
{
  (void) state;
  uint8_t stored[AT_AUTH_HASH_LEN], first[AT_AUTH_HASH_LEN], last[AT_AUTH_HASH_LEN];
  for (size_t i = 0; i < AT_AUTH_HASH_LEN; i++)
    stored[i] = (uint8_t) (i * 37 + 11);
  memcpy (first, stored, sizeof first);
  memcpy (last, stored, sizeof last);
  first[0] ^= 1;
  last[AT_AUTH_HASH_LEN - 1] ^= 1;
  const void *const classes[2] = {first, last}, *const against[2] = {stored, stored};
  double naive = s_abs_t (s_naive_equal, classes, AT_AUTH_HASH_LEN, against);
  double constant = s_abs_t (s_hash_equal, classes, AT_AUTH_HASH_LEN, against);
  print_message ("digests wrong in the first vs the last byte: |t| naive loop %.1f,"
                 " at_auth_hash_equal %.1f\n", naive, constant);
  assert_true (naive >= S_T_LEAK);      /* the test can see a leak here */
  assert_true (constant < S_T_LEAK);
}

/* The stored hash of key text with one character of its secret changed. */
static void
s_stored_hash (const char *text, size_t at, uint8_t out[AT_AUTH_HASH_LEN])
{
  char changed[AT_AUTH_KEY_LEN + 1];
  at_auth_key_parts_t parts;
  at_strlcpy (changed, text, sizeof changed);
  changed[at] = changed[at] == 'A' ? 'B' : 'A';
  assert_int_equal (at_auth_key_parse (changed, strlen (changed), &parts), AT_OK);
  at_auth_key_hash (&parts, out);
}

/* One presented key, checked against stored hashes of three keys: itself,
 * and keys whose secret differs from it in the first or in the last
 * character. What the presented text costs to parse and hash is the same
 * in every class (it is the caller's own input, and tells nothing); only
 * how near the stored secret is could leak, and must not. */
static void
test_keys (void **state)
{
  (void) state;
  at_auth_key_t key;
  assert_int_equal (at_auth_key_generate (&key), AT_OK);
  /* the secret's last character carries padding bits: change the one before it */
  size_t secret_at = strlen ("atd_") + AT_AUTH_KEY_ID_LEN + 1, end = strlen (key.text) - 2;
  uint8_t first[AT_AUTH_HASH_LEN], last[AT_AUTH_HASH_LEN];
  s_stored_hash (key.text, secret_at, first);
  s_stored_hash (key.text, end, last);
  assert_true (s_key_check (key.text, key.hash));
  assert_false (s_key_check (key.text, first) || s_key_check (key.text, last));
  const void *const presented[2] = {key.text, key.text};
  const void *const wrong[2] = {first, last}, *const right_wrong[2] = {key.hash, first};
  double t_wrong = s_abs_t (s_key_check, presented, sizeof key.text, wrong);
  double t_right = s_abs_t (s_key_check, presented, sizeof key.text, right_wrong);
  print_message ("stored secrets differing in the first vs the last character: |t| %.1f;"
                 " the right one vs a wrong one: |t| %.1f\n", t_wrong, t_right);
  assert_true (t_wrong < S_T_LEAK);
  assert_true (t_right < S_T_LEAK);
}

int
main (void)
{
  srand ((unsigned) s_ns ());
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_digests),
    cmocka_unit_test (test_keys),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
