/* console_loop: terminal, signals, engine, and the loop that sleeps in poll(). */
#include "console_loop.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"
#include "core/engine.h"
#include "screen.h"

/* A signal handler can reach only static storage: the write end of the self-pipe, and whether
 * curses holds the terminal (for the atexit restore). Both belong to the one running console. */
static int console_signal_fd = -1;
static bool console_terminal_taken;

static void console_on_signal(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char)sig;
    if (console_signal_fd >= 0 && write(console_signal_fd, &byte, 1) < 0) {
        /* a full pipe already holds a wake-up */
    }
    errno = saved;
}

static void console_restore_terminal(void)
{
    if (console_terminal_taken && !isendwin())
        endwin();
    console_terminal_taken = false;
}

/* A crash must not leave the operator's terminal in raw mode without echo. endwin() is not
 * async-signal-safe, but the process is dying anyway and a usable shell is worth the risk. */
static void console_on_fatal(int sig)
{
    if (console_terminal_taken)
        endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int console_fatal_signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define CONSOLE_NFATAL (sizeof console_fatal_signals / sizeof *console_fatal_signals)

static const int console_signals[] = {SIGWINCH, SIGTERM, SIGINT, SIGHUP};
#define CONSOLE_NSIGNALS (sizeof console_signals / sizeof *console_signals)

static void console_engine_submit(console *c, const engine_command *cmd)
{
    if (c->engine) {
        engine_submit(c->engine, cmd);
        c->pending++;
    }
}

/* The newest snapshot and any finished commands. */
static void console_take_engine(console *c)
{
    engine_drain_wake(c->engine);
    model_snapshot *s = engine_snapshot(c->engine);
    if (s && (!c->snap || s->generation != c->snap->generation))
        console_set_snapshot(c, s);
    else
        model_snapshot_unref(s);
    engine_result results[8];
    size_t n;
    while (c->pending && (n = engine_take_results(c->engine, results, 8)) > 0) {
        c->pending = n < c->pending ? c->pending - (unsigned)n : 0;
        for (size_t i = 0; i < n; i++) {
            engine_result *r = &results[i];
            if (r->kind != CMD_REFRESH || !r->ok)
                console_status(c, !r->ok, "%s%s", r->ok ? "" : "failed: ",
                               r->message ? r->message : engine_cmd_name(r->kind));
            engine_result_clear(r);
        }
    }
}

static void console_resize(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
}

/* Read the keys waiting (a bounded number, so that a flood cannot starve the engine's
 * snapshots). KEY_RESIZE comes from curses itself after resizeterm: the size is already
 * known, only a redraw is needed. */
static void console_read_keys(console *c)
{
    wint_t ch;
    int kind;
    for (int n = 0; n < 256 && !c->quit && (kind = get_wch(&ch)) != ERR; n++) {
        if (kind == KEY_CODE_YES && ch == KEY_RESIZE) {
            c->dirty = true;
            continue;
        }
        console_key(c, kind == KEY_CODE_YES ? key_code((int)ch) : key_char((int)ch));
    }
}

static void console_loop(console *c, int signal_read_fd)
{
    struct pollfd fds[3] = {
        {.fd = STDIN_FILENO, .events = POLLIN},
        {.fd = engine_wake_fd(c->engine), .events = POLLIN},
        {.fd = signal_read_fd, .events = POLLIN},
    };
    while (!c->quit) {
        if (c->dirty)
            console_draw(c);
        /* Ages and "next in" move on: look again every 2 s (htop's cadence); curses sends only
         * the cells that changed. Otherwise idle means asleep in poll(). */
        int rc = poll(fds, 3, 2000);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (rc == 0) {
            c->dirty = true;
            continue;
        }
        if (fds[2].revents & POLLIN) {
            unsigned char sigs[16];
            ssize_t n = read(signal_read_fd, sigs, sizeof sigs);
            for (ssize_t i = 0; i < n; i++) {
                if (sigs[i] == SIGWINCH) {
                    console_resize();
                    c->dirty = true;
                } else {
                    c->quit = true;
                }
            }
        }
        if (fds[1].revents & POLLIN)
            console_take_engine(c);
        if (fds[0].revents & POLLIN)
            console_read_keys(c);
        if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
            c->quit = true; /* the terminal went away (ssh dropped) */
    }
}

static const char *console_theme_spec(const console_options *o)
{
    if (o->theme && *o->theme)
        return o->theme;
    const char *env = getenv("TAGPILOT_THEME");
    if (env && *env)
        return env;
    if (o->config && o->config->theme)
        return o->config->theme;
    return "default";
}

int console_run(const console_options *opts, tp_err *err)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return tp_err_set(err, "the console needs a terminal; use 'tagpilot run' without one");
    setlocale(LC_ALL, "");
    bool utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;

    console c;
    console_init(&c, opts->read_only, opts->ascii || !utf8);
    c.submit = console_engine_submit;
    theme_dirs(&c.theme_dirs);
    tp_err theme_err = {{0}};
    bool theme_failed =
        theme_load(console_theme_spec(opts), &c.theme_dirs, &c.theme, &theme_err) < 0;

    engine_options eo = {.config = opts->config, .read_only = opts->read_only};
    /* A server for this config: watch and act through it (it reconnects when the server
     * comes back); else an engine of our own. */
    c.engine = cli_attach(opts->config, &eo, true, err);
    if (!c.engine && !err->msg[0])
        c.engine = engine_start(&eo, err);
    if (!c.engine) {
        console_free(&c);
        return -1;
    }

    int sp[2];
    if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0) {
        engine_stop(c.engine);
        console_free(&c);
        return tp_err_set(err, "console: pipe: %s", strerror(errno));
    }
    console_signal_fd = sp[1];
    struct sigaction sa, old[CONSOLE_NSIGNALS];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = console_on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < CONSOLE_NSIGNALS; i++)
        sigaction(console_signals[i], &sa, &old[i]);
    struct sigaction fatal, old_fatal[CONSOLE_NFATAL];
    memset(&fatal, 0, sizeof fatal);
    fatal.sa_handler = console_on_fatal;
    sigemptyset(&fatal.sa_mask);
    for (size_t i = 0; i < CONSOLE_NFATAL; i++)
        sigaction(console_fatal_signals[i], &fatal, &old_fatal[i]);

    int rc = 0;
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr) {
        rc = tp_err_set(err, "cannot drive this terminal (TERM=%s)",
                        getenv("TERM") ? getenv("TERM") : "unset");
    } else {
        console_terminal_taken = true;
        static bool restore_registered;
        if (!restore_registered && atexit(console_restore_terminal) == 0)
            restore_registered = true;
        cbreak();
        noecho();
        nonl();
        intrflush(stdscr, FALSE);
        keypad(stdscr, TRUE);
        nodelay(stdscr, TRUE);
        set_escdelay(25);
        const char *no_color = getenv("NO_COLOR");
        c.color = !(no_color && *no_color) && has_colors();
        if (c.color) {
            start_color();
            use_default_colors();
        }
        screen_apply_theme(&c);
        if (theme_failed)
            console_status(&c, true, "%s — using the default theme", theme_err.msg);
        else if (opts->read_only)
            console_status(&c, false, "read-only: watching; nothing can be written from here");
        model_snapshot *s = engine_snapshot(c.engine);
        if (s)
            console_set_snapshot(&c, s);
        console_loop(&c, sp[0]);
        console_restore_terminal();
        delscreen(scr);
    }
    for (size_t i = 0; i < CONSOLE_NSIGNALS; i++)
        sigaction(console_signals[i], &old[i], NULL);
    for (size_t i = 0; i < CONSOLE_NFATAL; i++)
        sigaction(console_fatal_signals[i], &old_fatal[i], NULL);
    console_signal_fd = -1;
    close(sp[0]);
    close(sp[1]);
    engine_stop(c.engine);
    c.engine = NULL;
    console_free(&c);
    if (theme_failed && rc == 0)
        fprintf(stderr, "tagpilot: %s (the default theme was used)\n", theme_err.msg);
    return rc;
}
