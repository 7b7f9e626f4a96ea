"""Running RQ jobs: `hotline worker` and the in-process worker of `hotline run` (worker), one round
of taking jobs that outlives Redis restarts (rq_loop), the periodic jobs on RQ's scheduler
(periodic), the app a job runs in (context), and waiting out PostgreSQL or Redis being away
(outages). A Redis job is a hint: the database is the truth, and the periodic sweeps redo what a
lost job did not."""
