/* Golden screens (tig's way): the console drawn into a curses screen of a fixed size from a
 * snapshot built by hand, read back cell by cell and compared with the text it must show.
 * TP_GOLDEN_DUMP=DIR writes what was drawn, to review a change. */
#include <criterion/criterion.h>
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "model_build.h"
#include "tags_fixture.h"
#include "screen.h"

static void ignore_submit(console *c, const engine_command *cmd)
{
    (void)c;
    (void)cmd;
}

static model_block *image(const char *app, const char *image, const char *current,
                          const char *candidate, image_state st, const char *detail)
{
    model_block *b = model_block_new();
    model_image *m = model_block_image(b);
    m->app = model_block_str(b, app);
    m->alias = model_block_str(b, app);
    m->image = model_block_str(b, image);
    m->strategy = model_block_str(b, "semver");
    m->constraint = model_block_str(b, "~1.0");
    m->policy = model_block_str(b, "manual");
    m->current = model_block_str(b, current);
    m->candidate = model_block_str(b, candidate);
    m->candidate_digest = model_block_str(b, candidate ? "sha256:35500ecbfe35" : NULL);
    m->state = st;
    m->detail = model_block_str(b, detail);
    m->target = model_block_str(b, "charts/x/.argocd-source-x.yaml");
    m->diff = model_block_str(b, candidate ? "-  tag: v1.0.0\n+  tag: v1.0.1\n" : NULL);
    const char *const names[] = {"v1.0.0", "v1.0.1", "v1.1.0", "latest"};
    fixture_tags(b, names, 4, "~1.0");
    return b;
}

static model_snapshot *sample(void)
{
    model_block *b[] = {
        image("bookstore", "127.0.0.1:5000/amplication/bookstore-application", "v1.0.0", "v1.0.1",
              STATE_UPDATE_AVAILABLE, NULL),
        image("catalog", "127.0.0.1:5000/team/catalog", "1.4.0", "1.4.0", STATE_UP_TO_DATE, NULL),
        image("legacy", "127.0.0.1:5000/team/legacy-api", "1.0.0", NULL, STATE_ERROR,
              "registry 127.0.0.1:5000: repository team/legacy-api not found (404)"),
        image("payments", "127.0.0.1:5000/team/payments", "2.1.0", "2.2.0", STATE_PINNED, NULL),
    };
    static const char *const log[] = {"15:00:00 bookstore/bookstore: update available",
                                      "15:00:01 cycle done: 4 images, 1 update waiting"};
    model_header h = {.generation = 3,
                      .phase = ENGINE_IDLE,
                      .sources = "git file:///srv/config.git@main:apps",
                      .log = log,
                      .n_log = 2};
    model_snapshot *s = model_snapshot_new(&h, b, 4);
    for (int i = 0; i < 4; i++)
        model_block_unref(b[i]);
    return s;
}

static FILE *term_out, *term_in;
static SCREEN *scr;
static console c;

static void open_screen(int lines, int cols, bool read_only, bool ascii)
{
    setlocale(LC_ALL, "C.UTF-8");
    term_out = fopen("/dev/null", "w");
    term_in = fopen("/dev/null", "r");
    scr = newterm("screen", term_out, term_in);
    cr_assert_not_null(scr, "no terminfo for 'screen'");
    resizeterm(lines, cols);
    console_init(&c, read_only, ascii);
    c.submit = ignore_submit;
    screen_apply_theme(&c);
    console_set_snapshot(&c, sample());
}

static void close_screen(void)
{
    console_free(&c);
    endwin();
    delscreen(scr);
    fclose(term_out);
    fclose(term_in);
}

/* The screen as text, trailing blanks trimmed, one line each. */
static char *screen_text_dump(void)
{
    strbuf sb = {0};
    for (int y = 0; y < LINES; y++) {
        strbuf line = {0};
        for (int x = 0; x < COLS; x++) {
            cchar_t cell;
            wchar_t wch[CCHARW_MAX + 1];
            attr_t attrs;
            short pair;
            mvin_wch(y, x, &cell);
            if (getcchar(&cell, wch, &attrs, &pair, NULL) == ERR || !wch[0])
                continue; /* the right half of a wide character */
            char mb[16];
            mbstate_t st;
            memset(&st, 0, sizeof st);
            size_t n = wcrtomb(mb, wch[0], &st);
            if (n != (size_t)-1)
                strbuf_append(&line, mb, n);
        }
        char *text = strbuf_take(&line);
        size_t len = strlen(text);
        while (len && text[len - 1] == ' ')
            text[--len] = '\0';
        strbuf_printf(&sb, "%s\n", text);
        free(text);
    }
    return strbuf_take(&sb);
}

static void expect_screen(const char *name, const char *want)
{
    console_draw(&c);
    char *got = screen_text_dump();
    const char *dump = getenv("TP_GOLDEN_DUMP");
    if (dump) {
        char *path = xasprintf("%s/%s.txt", dump, name);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(got, f);
            fclose(f);
        }
        free(path);
    }
    cr_expect_str_eq(got, want, "screen '%s' differs; got:\n%s", name, got);
    free(got);
}

static void keys(const char *typed)
{
    for (const char *k = typed; *k; k++)
        console_key(&c, key_char((unsigned char)*k));
}

/* What each screen must show (TP_GOLDEN_DUMP=DIR writes the current ones). */
static const char golden_table_80x24[] =
    " tagpilot  git file:///srv/config.git@main:apps\n"
    " own engine idle · 4 images · sort: app\n"
    "APP       ALIAS/IMAGE      CURRENT CANDIDATE STRATEGY    STATE              AGE\n"
    "bookstore …ore-application v1.0.0  v1.0.1    semver ~1.0 ↑ update-available -\n"
    "catalog   …00/team/catalog 1.4.0   1.4.0     semver ~1.0 ✓ up-to-date       -\n"
    "legacy    …team/legacy-api 1.0.0   -         semver ~1.0 ✗ error            -\n"
    "payments  …0/team/payments 2.1.0   2.2.0     semver ~1.0 ◆ pinned           -\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    " Enter detail / filter s sort a approve p pin u unpin r rollback ? help q quit\n";

static const char golden_detail_80x24[] =
    " tagpilot  git file:///srv/config.git@main:apps\n"
    " own engine idle · 4 images · sort: app\n"
    "bookstore / bookstore   127.0.0.1:5000/amplication/bookstore-application\n"
    "state      ↑ update-available: update available: approve to write it\n"
    "strategy   semver   constraint ~1.0   policy manual\n"
    "current    v1.0.0\n"
    "candidate  v1.0.1   sha256:35500ecbfe35\n"
    "pinned     -   rollback would go to -\n"
    "checked    not yet\n"
    "target     charts/x/.argocd-source-x.yaml\n"
    "\n"
    "Tags (4)\n"
    "  TAG    VERDICT   REASON                   CREATED (UTC)    DIGEST\n"
    "> v1.0.1 candidate candidate                -                -\n"
    "  v1.0.0 eligible  older than the candidate -                -\n"
    "  v1.1.0 skipped   does not satisfy '~1.0'  -                -\n"
    "  latest skipped   not a semantic version   -                -\n"
    "\n"
    "History (0)\n"
    "  nothing recorded yet\n"
    "\n"
    "Diff a write of v1.0.1 would commit\n"
    "\n"
    " Enter detail / filter s sort a approve p pin u unpin r rollback ? help q quit\n";

static const char golden_dialog_80x24[] =
    " tagpilot  git file:///srv/config.git@main:apps\n"
    " own engine idle · 4 images · sort: app\n"
    "APP       ALIAS/IMAGE      CURRENT CANDIDATE STRATEGY    STATE              AGE\n"
    "bookstore …ore-application v1.0.0  v1.0.1    semver ~1.0 ↑ update-available -\n"
    "catalog   …00/team/catalog 1.4.0   1.4.0     semver ~1.0 ✓ up-to-date       -\n"
    "le┌─ Approve bookstore/bookstore ────────────────────────────────────────────┐\n"
    "pa│                                                                          │\n"
    "  │ Write v1.0.1 (now v1.0.0) for 127.0.0.1:5000/amplication/bookstore-appli │\n"
    "  │ cation.                                                                  │\n"
    "  │ The approval binds to digest sha256:35500ecbfe35.                        │\n"
    "  │ Target: charts/x/.argocd-source-x.yaml                                   │\n"
    "  │                                                                          │\n"
    "  │ -  tag: v1.0.0                                                           │\n"
    "  │ +  tag: v1.0.1                                                           │\n"
    "  │                                                                          │\n"
    "  │                                                                          │\n"
    "  │                    [ Approve (y) ]    [ Cancel (n) ]                     │\n"
    "  └──────────────────────────────────────────────────────────────────────────┘\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    " Enter detail / filter s sort a approve p pin u unpin r rollback ? help q quit\n";

static const char golden_help_80x24[] =
    " tagpilot  git file:///srv/config.git@main:apps\n"
    " own engine idle · 4 images · sort: app\n"
    "Keys\n"
    "  j/Down      move down\n"
    "  k/Up        move up\n"
    "  PgDn/Space  page down\n"
    "  PgUp        page up\n"
    "  g/Home      first row\n"
    "  G/End       last row\n"
    "  Enter       detail: every tag with its verdict and reason, history, the diff\n"
    "  /           filter by app, image or state (regex; a leading ! inverts)\n"
    "  s           sort by app, state, age or image\n"
    "  a           approve the candidate (writes it)  (asks first)\n"
    "  p           pin a tag (writes it; automation then holds)  (asks first)\n"
    "  u           unpin (automation may move it again)  (asks first)\n"
    "  r           roll back to an earlier tag and pin it  (asks first)\n"
    "  x           skip this candidate (a newer one is offered)  (asks first)\n"
    "  R           check the registries now\n"
    "  l           show or hide the engine log\n"
    "  t           next theme\n"
    "  ?           this help\n"
    "  q/Esc       back, or quit from the table\n"
    "cancelled: nothing was written\n"
    " Enter detail / filter s sort a approve p pin u unpin r rollback ? help q quit\n";

static const char golden_log_80x24[] =
    " tagpilot  git file:///srv/config.git@main:apps\n"
    " own engine idle · 4 images · sort: app\n"
    "APP       ALIAS/IMAGE      CURRENT CANDIDATE STRATEGY    STATE              AGE\n"
    "bookstore …ore-application v1.0.0  v1.0.1    semver ~1.0 ↑ update-available -\n"
    "catalog   …00/team/catalog 1.4.0   1.4.0     semver ~1.0 ✓ up-to-date       -\n"
    "legacy    …team/legacy-api 1.0.0   -         semver ~1.0 ✗ error            -\n"
    "payments  …0/team/payments 2.1.0   2.2.0     semver ~1.0 ◆ pinned           -\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    " Engine log (l hides)\n"
    "15:00:00 bookstore/bookstore: update available\n"
    "15:00:01 cycle done: 4 images, 1 update waiting\n"
    "\n"
    "\n"
    "\n"
    "cancelled: nothing was written\n"
    " Enter detail / filter s sort a approve p pin u unpin r rollback ? help q quit\n";

static const char golden_table_ro_ascii[] =
    " tagpilot  git file:///srv/config.git@main:apps                  [RO] READ-ONLY\n"
    " own engine idle | 4 images | sort: app\n"
    "APP       ALIAS/IMAGE      CURRENT CANDIDATE STRATEGY    STATE              AGE\n"
    "bookstore ~ore-application v1.0.0  v1.0.1    semver ~1.0 ^ update-available -\n"
    "catalog   ~00/team/catalog 1.4.0   1.4.0     semver ~1.0 = up-to-date       -\n"
    "legacy    ~team/legacy-api 1.0.0   -         semver ~1.0 ! error            -\n"
    "payments  ~0/team/payments 2.1.0   2.2.0     semver ~1.0 # pinned           -\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    " Enter detail  / filter  s sort  l log  ? help  q quit\n";

static const char golden_too_small[] = " tagpilot needs at least 60x10 (this is 50x8):\n"
                                       " enlarge the window, or press q to quit\n"
                                       "\n"
                                       "\n"
                                       "\n"
                                       "\n"
                                       "\n"
                                       "\n";

static const char golden_filtered_160x20[] =
    " tagpilot  git file:///srv/config.git@main:apps\n"
    " own engine idle · 4 images, 1 shown · filter /pay · sort: app\n"
    "APP      ALIAS/IMAGE                                                                          "
    "             CURRENT CANDIDATE STRATEGY    STATE              AGE\n"
    "payments 127.0.0.1:5000/team/payments                                                         "
    "             2.1.0   2.2.0     semver ~1.0 ◆ pinned           -\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "1 of 4 match /pay (Esc clears)\n"
    " Enter detail  / filter  s sort  a approve  p pin  u unpin  r rollback  x skip  l log  ? help "
    " q quit\n";

Test(screens, table_detail_dialog_help_log_and_narrow)
{
    open_screen(24, 80, false, false);
    expect_screen("table-80x24", golden_table_80x24);
    keys("\n");
    expect_screen("detail-80x24", golden_detail_80x24);
    keys("qa");
    expect_screen("dialog-80x24", golden_dialog_80x24);
    keys("n?");
    expect_screen("help-80x24", golden_help_80x24);
    keys("ql");
    expect_screen("log-80x24", golden_log_80x24);
    close_screen();
    open_screen(24, 80, true, true);
    expect_screen("table-ro-ascii", golden_table_ro_ascii);
    close_screen();
    open_screen(8, 50, false, false);
    expect_screen("too-small", golden_too_small);
    close_screen();
    open_screen(20, 160, false, false);
    keys("/pay\n");
    expect_screen("filtered-160x20", golden_filtered_160x20);
    close_screen();
}

/* Line y of the screen as drawn now. */
static char *screen_line(int y)
{
    console_draw(&c);
    char *all = screen_text_dump();
    char *line = all;
    for (int i = 0; i < y && line; i++) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    char *out = xstrndup(line ? line : "", line ? strcspn(line, "\n") : 0);
    free(all);
    return out;
}

/* Publish h (a new generation) over one image and expect the header's second line. */
static void expect_header(model_header *h, model_block **b, const char *want)
{
    h->generation++;
    console_set_snapshot(&c, model_snapshot_new(h, b, 1));
    char *line = screen_line(1);
    cr_expect_str_eq(line, want);
    free(line);
}

/* While the first cycle reads the sources the header says what the rows are: the last run's
 * (with their age), or the Applications read so far — never "idle" or a scan count. */
Test(screens, header_while_the_sources_are_read)
{
    open_screen(24, 120, false, false);
    model_block *b[] = {image("bookstore", "127.0.0.1:5000/amplication/bookstore-application",
                              "v1.0.0", "v1.0.1", STATE_UPDATE_AVAILABLE, NULL)};
    model_header h = {.generation = 4,
                      .phase = ENGINE_SCANNING,
                      .sources = "dir ./apps",
                      .last_run_ns = console_now_ns() - 180LL * 1000000000LL,
                      .n_last_run = 1,
                      .files_done = 640,
                      .files_total = 10000};
    expect_header(&h, b,
                  " own engine reading the sources: 640 of 10000 files · 1 image as the last "
                  "run left them, 3m ago · sort: app");
    char *line = screen_line(3);
    cr_expect(strncmp(line, "bookstore ", 10) == 0, "the saved row is drawn: %s", line);
    free(line);

    /* Read: the cycle asks the registries, and the rows not decided again stay marked. */
    h.files_done = h.files_total = 0;
    h.scan_total = 1;
    expect_header(&h, b,
                  " own engine scanning 0 of 1 · 1 image, 1 as the last run left them 3m ago "
                  "· sort: app");
    h.last_run_ns = 0;
    h.n_last_run = 0;
    expect_header(&h, b, " own engine scanning 0 of 1 · 1 image · sort: app");
    /* A source that could not be read: the table may lack its apps, and the header says so. */
    h.source_error = "dir ./apps: No such file or directory";
    expect_header(&h, b,
                  " own engine scanning 0 of 1 · 1 image · source error: l shows the log · "
                  "sort: app");
    h.source_error = NULL;

    h.scan_total = 0;
    h.files_done = 640;
    h.files_total = 10000;
    expect_header(&h, b,
                  " own engine reading the sources: 640 of 10000 files · 1 image so far · "
                  "sort: app");
    model_block_unref(b[0]);
    close_screen();
}
