/* aios-top - a live, top-like view of an AIOS cluster
 *
 * Subscribes to the controller's event stream (a snapshot, then pushed
 * changes) and redraws only when something changed: the loop polls the
 * subscription and the terminal, never the controller on a timer.  Requests
 * (cancel, hold, release, why) go over a second connection (top/ctl.c);
 * the keys are in top/keys.c.
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "parse.h"
#include "top/top.h"

static const char *usage_text =
    "Usage: aios-top [OPTIONS]\n"
    "A live view of the cluster: nodes, jobs, allocation and throughput, kept\n"
    "current by the controller's event stream.  Press ? inside for the keys.\n"
    "\n"
    "      --filter=TEXT      show only the jobs that match (as the / key)\n"
    "      --sort=COLUMN      sort the jobs by id, user, name, state, time,\n"
    "                         nodes or reason\n"
    "      --once             print the cluster once as plain text and exit\n"
    "      --snapshot=FILE    read a snapshot (the reply to \"subscribe\") from\n"
    "                         FILE instead of the controller (--once, --bench-redraw)\n"
    "      --bench-redraw=N   time N full redraws into a virtual screen and\n"
    "                         print the mean (COLUMNS x LINES, default 200x50)\n"
    "      --help             show this help\n"
    "  -V, --version          show the version\n";

enum { OPT_HELP = 256, OPT_ONCE, OPT_FILTER, OPT_SORT, OPT_SNAPSHOT, OPT_BENCH };

static const struct option opts[] = {
    { "filter", required_argument, NULL, OPT_FILTER },
    { "sort", required_argument, NULL, OPT_SORT },
    { "once", no_argument, NULL, OPT_ONCE },
    { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
    { "bench-redraw", required_argument, NULL, OPT_BENCH },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

enum { SNAPSHOT_TIMEOUT_MS = 30000 };

struct args {
    bool once;
    const char *snapshot;
    long bench;
};

static volatile sig_atomic_t got_signal;
/* The mask outside ppoll() blocks the signals above and SIGWINCH, so that
 * one arriving between the loop's check and the wait cannot be missed: the
 * wait would otherwise be for the next event, which may never come. */
static sigset_t wait_mask;

static void on_signal (int sig)
{
    got_signal = sig;
}

static double now_mono (void)
{
    struct timespec ts;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the terminal ------------------------------------------------------------- */

static void restore_terminal (void)
{
    if (stdscr && !isendwin ())
        endwin ();
}

static void catch_signals (void)
{
    struct sigaction sa = { .sa_handler = on_signal };
    int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    size_t i;

    sigset_t block;

    sigemptyset (&sa.sa_mask);
    sigemptyset (&block);
    for (i = 0; i < sizeof (sigs) / sizeof (sigs[0]); i++) {
        sigaction (sigs[i], &sa, NULL);
        sigaddset (&block, sigs[i]);
    }
    sigaddset (&block, SIGWINCH); /* ncurses' handler, run only in ppoll() */
    sigprocmask (SIG_BLOCK, &block, &wait_mask);
    signal (SIGPIPE, SIG_IGN);
}

static void start_curses (struct top *t)
{
    const char *cs = nl_langinfo (CODESET);

    t->utf8 = cs && !strcmp (cs, "UTF-8");
    if (!isatty (STDIN_FILENO) || !isatty (STDOUT_FILENO))
        cli_die ("not a terminal (use --once for plain text)");
    atexit (restore_terminal);
    if (!initscr ())
        cli_die ("cannot initialise the terminal");
    cbreak ();
    noecho ();
    nonl ();
    keypad (stdscr, TRUE);
    nodelay (stdscr, TRUE);
    set_escdelay (25);
    curs_set (0);
    draw_init (t);
}

/* Exit 1 with msg, the terminal restored first so that msg stays visible. */
static void top_die (const char *msg)
{
    restore_terminal ();
    cli_die ("%s", msg);
}

static void redraw (struct top *t)
{
    double t0 = now_mono ();

    view_update (t->view, t->model, false);
    draw_screen (t);
    t->redraw_ms = (now_mono () - t0) * 1000.0;
    t->frames++;
    t->dirty = false;
}

/* --- the subscription ------------------------------------------------------------ */

static void disconnect (struct top *t, const char *why, double retry_in)
{
    sub_destroy (t->sub);
    t->sub = NULL;
    aios_client_close (t->cmd);
    t->cmd = NULL;
    t->connected = false;
    snprintf (t->down_reason, sizeof (t->down_reason), "%s", why);
    top_status (t, true, "disconnected (retrying every second): %s", why);
    t->retry_at = now_mono () + retry_in;
}

static void try_connect (struct top *t)
{
    aios_error_t err;

    if ((t->sub = sub_connect (&err)))
        return;
    if (strcmp (err.text, t->down_reason) != 0 || !t->status[0])
        disconnect (t, err.text, 1.0);
    t->retry_at = now_mono () + 1.0;
}

static void on_snapshot (struct top *t, json_t *snap)
{
    aios_error_t err;

    if (model_snapshot (t->model, snap, &err) < 0) {
        disconnect (t, err.text, 1.0);
        return;
    }
    if (t->ever_connected)
        top_status (t, false, "reconnected to aiosctld at %s (after: %s)",
                    sub_peer (t->sub), t->down_reason);
    t->connected = t->ever_connected = true;
    t->down_reason[0] = '\0';
    t->dirty = true;
}

/* The state of the detail view's job, to ask "why" again when it moves. */
static int detail_state (const struct top *t)
{
    const struct top_job *j;

    if (t->mode != MODE_DETAIL || !(j = model_job (t->model, t->detail_id)))
        return -2;
    return j->state;
}

static void on_event (struct top *t, json_t *o)
{
    int before = detail_state (t);
    aios_error_t err;

    if (model_event (t->model, o, &err) < 0)
        top_status (t, true, "%s", err.text);
    if (before != -2 && detail_state (t) != before)
        ctl_fetch_why (t);
    t->dirty = true;
}

static void on_frame (struct top *t, json_t *o)
{
    char why[300];

    if (json_object_get (o, "seq")) {
        on_snapshot (t, o);
        return;
    }
    if (!strcmp (cli_jstr (o, "event", ""), "dropped")) {
        snprintf (why, sizeof (why), "dropped by the controller (%s)",
                  cli_jstr (o, "reason", "no reason given"));
        disconnect (t, why, 1.0);
        return;
    }
    on_event (t, o);
}

static void on_sub (struct top *t)
{
    aios_error_t err, rerr;
    bool closed = sub_read (t->sub, &rerr) < 0;
    json_t *o;
    int rc = 0;

    while (t->sub && (rc = sub_next (t->sub, &o, &err)) > 0) {
        on_frame (t, o);
        json_decref (o);
    }
    if (t->sub && rc < 0)
        disconnect (t, err.text, 1.0);
    else if (t->sub && closed)
        disconnect (t, rerr.text, 1.0);
}

/* --- the loop ------------------------------------------------------------------- */

/* How long to wait: for ever while subscribed, else until the next retry. */
static const struct timespec *wait_timeout (const struct top *t, struct timespec *ts)
{
    double s;

    if (t->sub)
        return NULL;
    s = t->retry_at - now_mono ();
    if (s < 0)
        s = 0;
    ts->tv_sec = (time_t)s;
    ts->tv_nsec = (long)((s - (double)ts->tv_sec) * 1e9);
    return ts;
}

static void run_loop (struct top *t)
{
    while (!t->quit && !got_signal) {
        struct pollfd pfd[2] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = t->sub ? sub_fd (t->sub) : -1, .events = POLLIN },
        };
        struct timespec ts;

        if (t->dirty)
            redraw (t);
        if (ppoll (pfd, 2, wait_timeout (t, &ts), &wait_mask) < 0 && errno != EINTR)
            top_die ("poll failed");
        if (t->sub && pfd[1].revents)
            on_sub (t);
        if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
            break;
        keys_read (t);
        if (!t->sub && now_mono () >= t->retry_at)
            try_connect (t);
    }
}

/* --- one-shot modes: --once, --bench-redraw ------------------------------------- */

static json_t *load_snapshot (const struct args *a)
{
    json_error_t jerr;
    aios_error_t err;
    struct sub *s;
    json_t *snap;

    if (a->snapshot) {
        if (!(snap = json_load_file (a->snapshot, 0, &jerr)))
            cli_die ("%s:%d: %s", a->snapshot, jerr.line, jerr.text);
        return snap;
    }
    if (!(s = sub_connect (&err)) || !(snap = sub_wait_snapshot (s, SNAPSHOT_TIMEOUT_MS, &err)))
        cli_die ("%s", err.text);
    sub_destroy (s);
    return snap;
}

static void apply_snapshot (struct top *t, const struct args *a)
{
    json_t *snap = load_snapshot (a);
    aios_error_t err;

    if (model_snapshot (t->model, snap, &err) < 0)
        cli_die ("%s", err.text);
    json_decref (snap);
    t->connected = true;
}

static int env_int (const char *name, int dflt)
{
    const char *s = getenv (name);
    long v;
    aios_error_t err;

    return s && parse_long (s, 10, 10000, &v, &err) == 0 ? (int)v : dflt;
}

/* n frames; sort >= 0: each re-sorted by that job column first. */
static void bench_frames (struct top *t, long n, int sort)
{
    double worst = 0, sum = 0;
    char what[64];
    long i;

    snprintf (what, sizeof (what), "re-sort by %s + repaint:",
              sort >= 0 ? view_col_name (PANE_JOBS, sort) : "");
    for (i = 0; i < n; i++) {
        double f0 = now_mono (), ms;
        if (sort >= 0)
            t->view->rows[PANE_JOBS].sort = sort;
        view_update (t->view, t->model, sort >= 0);
        clearok (curscr, TRUE);
        draw_screen (t);
        ms = (now_mono () - f0) * 1000.0;
        sum += ms;
        worst = ms > worst ? ms : worst;
    }
    printf ("  %-30s mean %7.3f ms, max %7.3f ms\n", sort >= 0 ? what : "full repaint:",
            sum / (double)n, worst);
}

static void run_bench (struct top *t, const struct args *a)
{
    FILE *out = fopen ("/dev/null", "w"), *in = fopen ("/dev/null", "r");
    int cols = env_int ("COLUMNS", 200), rows = env_int ("LINES", 50), c;
    double t0 = now_mono (), t1;
    json_t *snap = load_snapshot (a);
    aios_error_t err;
    SCREEN *scr;

    t1 = now_mono ();
    if (model_snapshot (t->model, snap, &err) < 0)
        cli_die ("%s", err.text);
    json_decref (snap);
    t->connected = true;
    /* the output goes nowhere: any terminal type with cursor addressing */
    if (!out || !in || (!(scr = newterm ("xterm", out, in))
                        && !(scr = newterm (NULL, out, in))))
        cli_die ("cannot open a virtual screen on /dev/null");
    resize_term (rows, cols);
    draw_init (t);
    view_update (t->view, t->model, true);
    printf ("aios-top: %zu jobs, %zu nodes, %dx%d screen, %ld frames each\n"
            "  snapshot: %.1f ms to receive and parse, %.1f ms to load\n",
            t->model->njobs, t->model->nnodes, cols, rows, a->bench,
            (t1 - t0) * 1000.0, (now_mono () - t1) * 1000.0);
    bench_frames (t, a->bench, -1);
    for (c = 0; c < JC_COUNT; c++)
        bench_frames (t, a->bench, c);
    endwin ();
    delscreen (scr);
    fclose (out);
    fclose (in);
}

/* --- main ------------------------------------------------------------------------ */

static void parse_args (struct top *t, struct args *a, int argc, char **argv)
{
    aios_error_t err;
    int c;

    opterr = 0;
    while ((c = getopt_long (argc, argv, "V", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FILTER:
            if (view_set_filter (t->view, optarg, &err) < 0)
                cli_usage_error ("--filter: %s", err.text);
            break;
        case OPT_SORT:
            if (view_set_sort (t->view, PANE_JOBS, optarg) < 0)
                cli_usage_error ("--sort: unknown column \"%s\"", optarg);
            break;
        case OPT_ONCE: a->once = true; break;
        case OPT_SNAPSHOT: a->snapshot = optarg; break;
        case OPT_BENCH:
            if (parse_long (optarg, 1, 1000000, &a->bench, &err) < 0)
                cli_usage_error ("--bench-redraw: %s", err.text);
            break;
        case OPT_HELP: fputs (usage_text, stdout); exit (CLI_OK);
        case 'V': cli_version ();
        default:
            cli_usage_error ("unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        cli_usage_error ("unexpected argument \"%s\"", argv[optind]);
    if (a->snapshot && !a->once && !a->bench)
        cli_usage_error ("--snapshot goes with --once or --bench-redraw");
}

static void top_free (struct top *t)
{
    sub_destroy (t->sub);
    aios_client_close (t->cmd);
    json_decref (t->why);
    view_destroy (t->view);
    model_destroy (t->model);
}

int main (int argc, char **argv)
{
    struct top t = { .dirty = true };
    struct args a = { 0 };
    const char *sock = getenv ("AIOS_SOCKET");

    cli_init (argv[0]);
    setlocale (LC_ALL, "");
    t.model = model_create ();
    t.view = view_create ();
    parse_args (&t, &a, argc, argv);
    if (!a.snapshot && (!sock || !*sock || !strcmp (sock, "tcp")))
        cli_conf (); /* a broken configuration is reported before curses */
    if (a.bench) {
        run_bench (&t, &a);
        top_free (&t);
        return CLI_OK;
    }
    if (a.once) {
        apply_snapshot (&t, &a);
        draw_plain (&t, stdout);
        top_free (&t);
        if (fflush (stdout) != 0 || ferror (stdout))
            cli_die ("standard output: %s", strerror (errno));
        return CLI_OK;
    }
    catch_signals ();
    start_curses (&t);
    try_connect (&t);
    run_loop (&t);
    restore_terminal ();
    top_free (&t);
    if (got_signal) {
        signal (got_signal, SIG_DFL);
        sigprocmask (SIG_SETMASK, &wait_mask, NULL);
        raise (got_signal);
    }
    return CLI_OK;
}
