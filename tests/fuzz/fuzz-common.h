/* fuzz-common.h: what the fuzz targets share.
 *
 * Each fuzz-*.c defines LLVMFuzzerTestOneInput(). Built with clang's
 * -fsanitize=fuzzer (tools/fuzz), libFuzzer calls it with inputs it
 * makes; built for the test suite, fuzz-main.c calls it once for each
 * file of the target's corpus (tests/fuzz/corpus/<target>/), so every
 * input that ever crashed a target stays a regression test.
 *
 * A target fails by aborting: a GLib critical or warning is made fatal,
 * and fuzz_check() aborts with a message.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

#define fuzz_check(cond, ...) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        fprintf (stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf (stderr, __VA_ARGS__); \
        fputc ('\n', stderr); \
        abort (); \
      } \
  } G_STMT_END

/* Values read only so that a bad read shows: the sanitizers see it. */
extern volatile double fuzz_sink;

/* Writes data into an anonymous in-memory file; returns its path
 * ("/proc/self/fd/N"), and the descriptor in *fd for fuzz_close_file. */
char *fuzz_write_file (const uint8_t *data, size_t size, int *fd);
void  fuzz_close_file (int fd, char *path);

/* Criticals and warnings abort; debug output off. Once a process. */
void  fuzz_setup (void);
