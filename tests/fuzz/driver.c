/* Replays every file of a corpus directory through LLVMFuzzerTestOneInput,
 * so fuzz targets are regression tests in builds without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
s_run_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return 0;
  uint8_t *buf = malloc (1 << 20);
  size_t n = buf ? fread (buf, 1, 1 << 20, f) : 0;
  fclose (f);
  /* an exact-size copy, so the sanitizers see a read past the input */
  uint8_t *exact = buf ? malloc (n ? n : 1) : NULL;
  if (exact) {
    memcpy (exact, buf, n);
    LLVMFuzzerTestOneInput (exact, n);
  }
  free (exact);
  free (buf);
  return 1;
}

int
main (int argc, char **argv)
{
  int runs = 0;
  for (int i = 1; i < argc; i++) {
    DIR *dir = opendir (argv[i]);
    if (dir == NULL) {
      runs += s_run_file (argv[i]);
      continue;
    }
    struct dirent *e;
    char path[4096];
    while ((e = readdir (dir)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "%s/%s", argv[i], e->d_name);
      runs += s_run_file (path);
    }
    closedir (dir);
  }
  /* and a few inputs every target must survive */
  static const uint8_t edge[] = {0x00, 0xff, 0x0a, 0x12, 0x80, 0x80, 0x80, 0x80, 0x10};
  for (size_t len = 0; len <= sizeof edge; len++)
    LLVMFuzzerTestOneInput (edge, len);
  printf ("%d corpus inputs replayed\n", runs);
  return 0;
}
