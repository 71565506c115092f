/* journal_crash STATE_DIR START COUNT: append COUNT records numbered from START, printing
 * "acked N" once each is durable. The crash test kills it with SIGKILL at random moments and
 * then checks that every acknowledged record is still there. */
#include <stdio.h>
#include <stdlib.h>

#include "state/journal.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: journal_crash STATE_DIR START COUNT\n");
        return 2;
    }
    long start = atol(argv[2]), count = atol(argv[3]);
    journal *j;
    tp_err err;
    if (journal_open(argv[1], JOURNAL_READ_WRITE, &j, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < journal_warnings(j)->count; i++)
        fprintf(stderr, "warning: %s\n", journal_warnings(j)->items[i]);
    char to[32], detail[600];
    for (long n = start; n < start + count; n++) {
        snprintf(to, sizeof to, "v%ld", n);
        /* A long detail makes a write take long enough to be interrupted part-way sometimes. */
        snprintf(detail, sizeof detail, "%0500ld", n);
        journal_record rec = {.action = "approve",
                              .app = "bookstore",
                              .alias = "web",
                              .from = "v0",
                              .to = to,
                              .result = "ok",
                              .detail = detail};
        if (journal_append(j, &rec, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            journal_close(j);
            return 1;
        }
        printf("acked %ld\n", n);
        fflush(stdout);
    }
    journal_close(j);
    return 0;
}
