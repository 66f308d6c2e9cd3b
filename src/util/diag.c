/* diag.c - collected spec errors and the did-you-mean. */
#include "nnrun/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nnrun/util.h"

void nn_diag_init(struct nn_diag *d, const char *file)
{
    memset(d, 0, sizeof *d);
    d->file = file;
}

void nn_diag_free(struct nn_diag *d)
{
    if (!d) return;
    for (int i = 0; i < d->n_errors; i++) free(d->msgs[i]);
    free(d->msgs);
    d->msgs = NULL;
    d->n_errors = d->cap = 0;
}

/* s with control characters escaped (\n, \xNN), cut to fit n */
static void escape(char *out, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 5 < n; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '\n') k += (size_t)snprintf(out + k, n - k, "\\n");
        else if (c < 0x20 || c == 0x7f) k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
        else out[k++] = (char)c;
    }
    out[k] = '\0';
}

void nn_diag_error(struct nn_diag *d, struct nn_mark mark, const char *fmt, ...)
{
    char body[1024], line[2400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    const char *file = d->file ? d->file : "<spec>";
    if (mark.override > 0 && mark.override <= d->n_overrides) {
        /* the override's text as given, but one printable line */
        char ov[1200];
        escape(ov, sizeof ov, d->overrides[mark.override - 1]);
        if (mark.line > 0)   /* a place in the file that the override changed */
            snprintf(line, sizeof line, "--set %s: error: %s (at %s:%d:%d)", ov, body, file,
                     mark.line, mark.col);
        else
            snprintf(line, sizeof line, "--set %s: error: %s", ov, body);
    } else if (mark.line > 0)
        snprintf(line, sizeof line, "%s:%d:%d: error: %s", file, mark.line, mark.col, body);
    else
        snprintf(line, sizeof line, "%s: error: %s", file, body);
    if (d->n_errors == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 8;
        d->msgs = nn_xrealloc(d->msgs, (size_t)d->cap * sizeof *d->msgs);
    }
    d->msgs[d->n_errors++] = nn_xstrdup(line);
}

void nn_diag_print(const struct nn_diag *d, FILE *f)
{
    for (int i = 0; i < d->n_errors; i++) fprintf(f, "%s\n", d->msgs[i]);
}

/* Optimal string alignment distance (edits, with adjacent swaps). */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63) return 99;
    int dp[64][64];
    for (int i = 0; i <= la; i++) dp[i][0] = i;
    for (int j = 0; j <= lb; j++) dp[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = dp[i - 1][j] + 1;
            if (dp[i][j - 1] + 1 < v) v = dp[i][j - 1] + 1;
            if (dp[i - 1][j - 1] + cost < v) v = dp[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                dp[i - 2][j - 2] + 1 < v)
                v = dp[i - 2][j - 2] + 1;
            dp[i][j] = v;
        }
    return dp[la][lb];
}

const char *nn_suggest(const char *word, const char *const *choices, int n_choices)
{
    const char *best = NULL;
    int best_d = 3;
    int len = (int)strlen(word);
    for (int i = 0; i < n_choices; i++) {
        int dist = edit_distance(word, choices[i]);
        if (dist < best_d && 2 * dist < len + 1) {
            best_d = dist;
            best = choices[i];
        }
    }
    return best;
}

void nn_join(char *buf, size_t n, const char *const *choices, int n_choices)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n_choices && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", choices[i]);
}
