/*
 * replay_main.c: runs a libFuzzer target over every file of a corpus
 * directory without libFuzzer, so the corpus is replayed by the ordinary
 * compiler (and its sanitizers) in the default test run.
 * Usage: <replay> DIR... ; exit 0 when every input ran, 1 on a usage or read
 * error or an empty corpus. A failing input aborts inside the target.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX_INPUT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, uint8_t *buf)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    n = fread(buf, 1, REPLAY_MAX_INPUT, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

static long replay_dir(const char *dir, uint8_t *buf)
{
    char path[4096];
    struct dirent *e;
    long count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (replay_file(path, buf) < 0) {
            closedir(d);
            return -1;
        }
        count++;
    }
    closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    uint8_t *buf = malloc(REPLAY_MAX_INPUT);
    long total = 0;
    if (!buf || argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
        free(buf);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        long n = replay_dir(argv[i], buf);
        if (n < 0) {
            free(buf);
            return 1;
        }
        total += n;
    }
    free(buf);
    printf("replay: %ld inputs ran\n", total);
    return total > 0 ? 0 : 1;
}
