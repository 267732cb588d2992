-- defer_job --
-- procrastinate's own SQL defer function, called on the caller's connection so
-- the job commits (or rolls back) with the caller's transaction. The insert
-- trigger notifies listening workers at commit.
-- $1 queue, $2 task name, $3 priority, $4 lock, $5 queueing lock, $6 args, $7 scheduled_at
SELECT (procrastinate_defer_jobs_v1(
    ARRAY[ROW($1, $2, $3, $4, $5, $6::jsonb, $7)::procrastinate_job_to_defer_v1]
))[1];
