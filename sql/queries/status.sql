-- queue_depth --
-- Jobs per task and status. procrastinate keeps finished jobs until retention
-- prunes them, so succeeded and failed count the retention window.
SELECT task_name, status::text AS status, count(*) AS jobs
FROM procrastinate_jobs
GROUP BY task_name, status
ORDER BY task_name, status;

-- due_feeds --
-- Feeds the scheduler should defer now, most overdue first; `total` counts them
-- all (the window runs before the LIMIT). Served by the partial index feeds_due_idx.
-- $1 how many to list
SELECT f.id, d.name AS dealer_name, f.name, f.status, d.tier,
       now() - f.next_run_at AS overdue, count(*) OVER () AS total
FROM feeds f
JOIN dealers d ON d.id = f.dealer_id
WHERE f.status <> 'PAUSED' AND f.next_run_at <= now()
ORDER BY f.next_run_at
LIMIT $1;

-- failing_feeds --
-- Feeds marked FAILING, with failures counted, or whose latest run failed; with
-- the error of their latest failed run. Two index probes per feed (feed_runs_feed_idx).
SELECT f.id, d.name AS dealer_name, f.name, f.status, f.failure_count,
       f.last_success_at, now() - f.last_success_at AS success_ago,
       e.error, e.started_at AS failed_at, now() - e.started_at AS failed_ago
FROM feeds f
JOIN dealers d ON d.id = f.dealer_id
LEFT JOIN LATERAL (
    SELECT status FROM feed_runs WHERE feed_id = f.id ORDER BY started_at DESC LIMIT 1
) latest ON true
LEFT JOIN LATERAL (
    SELECT error, started_at FROM feed_runs
    WHERE feed_id = f.id AND status = 'FAILED' ORDER BY started_at DESC LIMIT 1
) e ON true
WHERE f.status = 'FAILING' OR f.failure_count > 0 OR latest.status = 'FAILED'
ORDER BY f.failure_count DESC, d.name, f.name;

-- last_runs --
-- Every feed with its latest run (NULL columns: never run), one index probe per feed.
SELECT f.id, d.name AS dealer_name, f.name, f.status AS feed_status,
       r.id AS run_id, r.status, r.started_at, r.finished_at,
       now() - coalesce(r.finished_at, r.started_at) AS ago, r.rows_total, r.created,
       r.updated, r.quarantined,
       coalesce((r.timings ->> 'total')::float8,
                extract(epoch FROM r.finished_at - r.started_at)::float8 * 1000) AS ms
FROM feeds f
JOIN dealers d ON d.id = f.dealer_id
LEFT JOIN LATERAL (
    SELECT * FROM feed_runs WHERE feed_id = f.id ORDER BY started_at DESC LIMIT 1
) r ON true
ORDER BY d.name, f.name;

-- workers --
-- Every registered procrastinate worker, stalled when its heartbeat is older
-- than $1 seconds (procrastinate's own test), with the jobs it is doing.
-- $1 seconds without a heartbeat
SELECT w.id, w.last_heartbeat, now() - w.last_heartbeat AS silent_for,
       w.last_heartbeat < now() - make_interval(secs => $1) AS stalled,
       count(j.id) AS doing
FROM procrastinate_workers w
LEFT JOIN procrastinate_jobs j ON j.worker_id = w.id AND j.status = 'doing'
GROUP BY w.id
ORDER BY w.id;

-- stalled_jobs --
-- Jobs in `doing` whose worker is stalled or gone (procrastinate's definition in
-- select_stalled_jobs_by_heartbeat): nothing will finish them until they are retried.
-- $1 seconds without a heartbeat
SELECT j.id, j.task_name, j.args, j.attempts, j.worker_id,
       now() - w.last_heartbeat AS silent_for
FROM procrastinate_jobs j
LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
WHERE j.status = 'doing'
  AND (j.worker_id IS NULL OR w.last_heartbeat < now() - make_interval(secs => $1))
ORDER BY j.id;
