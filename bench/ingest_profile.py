"""bench/ingest_profile.py - what one ingest phase cost: CPU per process, WAL, bytes stored, statements.

Used by bench/run_ingest.py around each timed phase of bench_ingest:

    before = Sample.take(db, server_pid, postmaster_pid)
    ... run the phase (bench_ingest as a child of this process) ...
    after = Sample.take(db, server_pid, postmaster_pid)
    cost = PhaseCost(before, after)

CPU is read from /proc: lineaged serve's own utime+stime (all its threads); Postgres is the postmaster
with every process whose parent it is (backends, WAL writer, checkpointer, ...) plus what its exited
children used (cutime+cstime); the load generator is what this process's waited-for children used
(resource.getrusage(RUSAGE_CHILDREN)), so only bench_ingest runs may happen between two samples. WAL is
the pg_current_wal_lsn() difference, bytes stored the pg_database_size() difference (dead rows count:
they are stored), events the difference of count(*) in event_hashes (the log's idempotency index), so
each bench_ingest start's untimed fixture probe is counted too.

Invariants:
 1. A Sample never changes the database; statements() only reads pg_stat_statements.
 2. Every figure is a difference of two samples of one run; nothing is compared across runs.
Python 3 standard library only.
"""
import os
import resource
import subprocess
import time

from private_pg import StepError  # scripts/ is on sys.path (bench/run_ingest.py)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def psql_rows(psql, conninfo, sql):
    """Rows of one query as lists of strings (unaligned, tab-separated); StepError on failure."""
    done = subprocess.run([psql, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                           "-c", sql], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise StepError(f"psql failed: {done.stderr.strip()}")
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def proc_ticks(pid, children=False):
    """utime+stime of pid (and cutime+cstime when children), in seconds; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is the state (field 3 of stat): utime is field 14, so index 11.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def postgres_seconds(postmaster):
    """CPU seconds of the postmaster, its live children and its exited children."""
    total = proc_ticks(postmaster, children=True)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == postmaster:
            total += proc_ticks(int(name))
    return total


def postmaster_pid(data_dir):
    with open(os.path.join(data_dir, "postmaster.pid")) as f:
        return int(f.readline())


class Sample:
    """Counters at one moment."""

    def __init__(self, wall, events, wal_lsn, db_bytes, server_cpu, postgres_cpu, loadgen_cpu):
        self.wall, self.events, self.wal_lsn, self.db_bytes = wall, events, wal_lsn, db_bytes
        self.server_cpu, self.postgres_cpu, self.loadgen_cpu = server_cpu, postgres_cpu, loadgen_cpu

    @classmethod
    def take(cls, psql, conninfo, server_pid, postmaster):
        row = psql_rows(psql, conninfo, "SELECT (SELECT count(*) FROM event_hashes),"
                        " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,"
                        " pg_database_size(current_database()), (SELECT wal_fpi FROM pg_stat_wal)")[0]
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        sample = cls(time.monotonic(), int(row[0]), int(row[1]), int(row[2]), proc_ticks(server_pid),
                     postgres_seconds(postmaster), usage.ru_utime + usage.ru_stime)
        sample.wal_fpi = int(row[3])
        return sample


class PhaseCost:
    """Differences of two samples, per event (the log's growth, unless events is given)."""

    def __init__(self, before, after, events=None):
        self.events = events or max(1, after.events - before.events)
        self.wall = after.wall - before.wall
        self.wal = (after.wal_lsn - before.wal_lsn) / self.events
        self.stored = (after.db_bytes - before.db_bytes) / self.events
        self.fpi = (after.wal_fpi - before.wal_fpi) / self.events
        self.cpu = {"lineaged": after.server_cpu - before.server_cpu,
                    "postgres": after.postgres_cpu - before.postgres_cpu,
                    "loadgen": after.loadgen_cpu - before.loadgen_cpu}


def cost_header():
    return (f"{'stored':>9} {'phase':<7} {'events':>7} {'WAL B/ev':>9} {'FPI/ev':>6} {'stored B/ev':>11} {'body B/ev':>9}"
            f"  CPU ms/event: {'lineaged':>8} {'postgres':>8} {'loadgen':>8}  {'busy cores':>10}")


def cost_row(level, phase, cost, body_bytes):
    ms = {k: 1000.0 * v / cost.events for k, v in cost.cpu.items()}
    busy = sum(cost.cpu.values()) / cost.wall if cost.wall > 0 else 0.0
    return (f"{level:>9} {phase:<7} {cost.events:>7} {cost.wal:>9.0f} {cost.fpi:>6.2f} {cost.stored:>11.0f} {body_bytes:>9.0f}"
            f"  {'':>14}{ms['lineaged']:>8.2f} {ms['postgres']:>8.2f} {ms['loadgen']:>8.2f}  {busy:>10.2f}")


def enable_statements(psql, admin_conninfo):
    """Makes the next start load pg_stat_statements (ALTER SYSTEM: this cluster only)."""
    psql_rows(psql, admin_conninfo, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")


def track_nested_statements(psql, admin_conninfo):
    """After the restart that loaded pg_stat_statements: statements inside the settle functions too (their
    time is then also in the function's row)."""
    psql_rows(psql, admin_conninfo, "ALTER SYSTEM SET pg_stat_statements.track = 'all'")
    psql_rows(psql, admin_conninfo, "SELECT pg_reload_conf()")


def reset_statements(psql, conninfo):
    psql_rows(psql, conninfo, "SELECT pg_stat_statements_reset()")


def statements(psql, conninfo, events, top):
    """The top statements of this database since the last reset, by total execution time, as lines."""
    rows = psql_rows(psql, conninfo, f"""
        SELECT calls, round(total_exec_time::numeric, 1), round((100 * total_exec_time
                 / nullif(sum(total_exec_time) FILTER (WHERE toplevel) OVER (), 0))::numeric, 1),
               rows, shared_blks_hit + shared_blks_read, wal_bytes, toplevel,
               left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT {int(top)}""")
    total = psql_rows(psql, conninfo, """SELECT round(sum(total_exec_time)::numeric, 1) FROM pg_stat_statements
        WHERE toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())""")[0][0]
    lines = [f"  all top-level statements: {total} ms, {float(total or 0) / events:.3f} ms per event"
             " (n: nested, inside a function; its time is in the function's too)",
             f"  {'calls':>7} {'ms':>9} {'%':>5} {'ms/ev':>6} {'rows':>8} {'blks/ev':>7} {'WAL B/ev':>8}  query"]
    for calls, ms, pct, nrows, blocks, wal, toplevel, query in rows:
        lines.append(f"  {calls:>7} {ms:>9} {pct:>5} {float(ms) / events:>6.3f} {nrows:>8} {int(blocks) / events:>7.1f}"
                     f" {int(wal) / events:>8.0f} {' ' if toplevel == 't' else 'n'} {query}")
    return lines


def table_counters(psql, conninfo):
    """{table: (seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd, n_tup_hot_upd)} of this database."""
    rows = psql_rows(psql, conninfo, "SELECT pg_stat_force_next_flush()")
    rows = psql_rows(psql, conninfo, """SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), n_tup_ins,
        n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables""")
    return {r[0]: tuple(int(x) for x in r[1:]) for r in rows}


def table_lines(before, after, events, top):
    """The tables with the most rows read by sequential scans between two table_counters(), as lines."""
    diffs = []
    for name, now in after.items():
        was = before.get(name, (0,) * len(now))
        diffs.append((name,) + tuple(a - b for a, b in zip(now, was)))
    diffs.sort(key=lambda d: (-d[2], -d[3]))
    lines = [f"  {'table':<24} {'seq scans':>9} {'seq rows/ev':>11} {'idx scans/ev':>12} {'ins/ev':>7}"
             f" {'upd/ev':>7} {'HOT %':>6}"]
    for name, seq, seq_rows, idx, ins, upd, hot in diffs[:top]:
        lines.append(f"  {name:<24} {seq:>9} {seq_rows / events:>11.1f} {idx / events:>12.1f} {ins / events:>7.2f}"
                     f" {upd / events:>7.2f} {100 * hot / upd if upd else 0:>6.0f}")
    return lines


def table_sizes(psql, conninfo, events, top):
    """The largest tables of this database (a partitioned one with all its partitions; with indexes and
    TOAST) per stored event, as lines."""
    rows = psql_rows(psql, conninfo, f"""
        SELECT c.relname, sum(pg_total_relation_size(l.oid)), sum(pg_indexes_size(l.oid)),
               sum(coalesce(pg_total_relation_size(nullif(l.reltoastrelid, 0)), 0))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_class l ON l.oid = c.oid AND c.relkind = 'r'
           OR l.oid IN (SELECT relid FROM pg_partition_tree(c.oid) WHERE isleaf AND c.relkind = 'p')
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        GROUP BY c.relname ORDER BY 2 DESC LIMIT {int(top)}""")
    lines = [f"  {'table':<24} {'B/event':>8} {'indexes':>8} {'TOAST':>8}"]
    for name, total, indexes, toast in rows:
        lines.append(f"  {name:<24} {int(total) / events:>8.0f} {int(indexes) / events:>8.0f} {int(toast) / events:>8.0f}")
    return lines
