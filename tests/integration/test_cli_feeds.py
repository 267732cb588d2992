"""`pipeline dealers` and `pipeline feeds`, run in-process against a real database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import asyncpg
import pytest

from pipeline import cli, errors, registry, settings
from pipeline.stages import ingest
from tests.chain_factories import OPTIONS
from tests.factories import make_feed, sku, write_csv


async def pipeline(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `pipeline ARGV...` on the test's loop: exit status, stdout, stderr."""
    code = await cli.run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def add_feed(capsys: pytest.CaptureFixture[str], source: Path | str, *extra: str) -> int:
    code, out, err = await pipeline(capsys, "feeds", "add", str(source), *extra)
    assert (code, err) == (0, ""), err
    return int(out.split()[1])


async def feed_row(conn: asyncpg.Connection, feed_id: int) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT f.*, f.next_run_at <= now() AS due FROM feeds f WHERE id = $1", feed_id
    )
    return row


# -- interval syntax --


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h", 3600), ("1d", 86400), ("120", 120), ("1h30m", 5400),
     (" 2M ", 120), ("1.5h", 5400)],
)  # fmt: skip
def test_interval_syntax_reads_units_and_plain_seconds(text: str, seconds: int) -> None:
    assert registry.parse_interval(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "m", "5x", "-5m", "5m-", "five"])
def test_interval_syntax_refuses_anything_else(text: str) -> None:
    with pytest.raises(errors.ConfigError, match="bad interval"):
        registry.parse_interval(text)


# -- dealers --


async def test_dealers_add_creates_then_sets_tier_and_list_counts_feeds_and_skus(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (await pipeline(capsys, "dealers", "add", "Acme Ammo", "--tier", "2"))[0] == 0
    code, out, _ = await pipeline(capsys, "dealers", "add", "Acme Ammo", "--tier", "3")
    assert (code, out.split(":")[1].strip()) == (0, "tier 3")
    await pipeline(capsys, "dealers", "add", "Acme Ammo")  # no --tier: the tier is kept
    await pipeline(capsys, "dealers", "add", "Bravo")
    feed_id = await add_feed(capsys, write_csv(tmp_path / "f.csv", [sku(n) for n in range(7)]),
                             "--dealer", "Acme Ammo")  # fmt: skip
    await add_feed(capsys, tmp_path / "g.csv", "--dealer", "Acme Ammo", "--name", "second")
    await ingest.run(conn, feed_id=feed_id, options=OPTIONS)

    code, out, _ = await pipeline(capsys, "dealers", "list")

    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["id", "dealer", "tier", "feeds", "active", "SKUs"]
    assert lines[1][1:] == ["Acme", "Ammo", "3", "2", "7"]
    assert lines[2][1:] == ["Bravo", "0", "0", "0"]


# -- feeds add --


async def test_feeds_add_creates_the_dealer_and_a_feed_due_now_with_every_setting(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = await pipeline(
        capsys, "feeds", "add", str(tmp_path / "f.txt"), "--dealer", "New Dealer",
        "--name", "pipe", "--format", "pipe", "--profile", "shareasale", "--columns", "a, b,c",
        "--auth", "alice:pa:ss", "--header", "X-Api-Key: k1", "--header", "Accept:text/csv",
        "--no-trust-identifiers", "--interval", "90s",
    )  # fmt: skip

    assert (code, err) == (0, "")
    feed_id = int(out.split()[1])
    assert out.strip() == f"feed {feed_id} New Dealer/pipe: every 1m 30s, ACTIVE, next run due"
    feed = await feed_row(conn, feed_id)
    assert feed["due"] and feed["status"] == "ACTIVE" and feed["failure_count"] == 0
    assert feed["poll_interval"] == dt.timedelta(seconds=90)
    assert (feed["source"], feed["format"], feed["profile"], feed["columns"]) == (
        str(tmp_path / "f.txt"), "pipe", "shareasale", ["a", "b", "c"],
    )  # fmt: skip
    assert (feed["auth_username"], feed["auth_password"]) == ("alice", "pa:ss")
    assert feed["headers"] == {"X-Api-Key": "k1", "Accept": "text/csv"}
    assert feed["trust_identifiers"] is False
    assert await conn.fetchval("SELECT tier FROM dealers WHERE name = 'New Dealer'") == 0


async def test_feeds_add_defaults_to_the_configured_interval(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    env.setenv("PIPELINE_FEED_POLL_INTERVAL", "600")

    feed_id = await add_feed(capsys, "https://example.test/f.csv", "--dealer", "Acme")

    assert (await feed_row(conn, feed_id))["poll_interval"] == dt.timedelta(minutes=10)


async def test_interval_under_the_minimum_is_refused_naming_the_variable_that_lowers_it(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    args = ("feeds", "add", "/tmp/f.csv", "--dealer", "Acme", "--interval", "30s")

    code, out, err = await pipeline(capsys, *args)

    assert (code, out) == (1, "")
    assert err == (
        "error: poll interval 30s is shorter than the minimum 1m; "
        "PIPELINE_FEED_MIN_POLL_INTERVAL (seconds) lowers it\n"
    )
    assert await conn.fetchval("SELECT count(*) FROM feeds") == 0

    env.setenv("PIPELINE_FEED_MIN_POLL_INTERVAL", "10")
    settings.get.cache_clear()
    code, _, _ = await pipeline(capsys, *args)

    assert code == 0
    assert await conn.fetchval("SELECT poll_interval FROM feeds") == dt.timedelta(seconds=30)


async def test_interval_over_the_maximum_or_malformed_is_refused(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("feeds", "add", "/tmp/f.csv", "--dealer", "Acme", "--interval")

    code, _, err = await pipeline(capsys, *base, "2d")
    assert code == 1
    assert err == (
        "error: poll interval 2d is longer than the maximum 1d (PIPELINE_FEED_MAX_POLL_INTERVAL)\n"
    )
    code, _, err = await pipeline(capsys, *base, "5 minutes")
    assert code == 1
    assert err.startswith("error: bad interval '5 minutes'")
    assert await conn.fetchval("SELECT count(*) FROM feeds") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--header", "X-Api-Key k1"), "error: --header 'X-Api-Key k1' is not 'Name: value'\n"),
        (("--header", ": v"), "error: --header ': v' is not 'Name: value'\n"),
        (("--auth", "alice"), "error: --auth takes USER:PASSWORD\n"),
        (("--name", "a/b"), "error: feed name 'a/b' must be non-empty, without '/'\n"),
    ],
)
async def test_bad_feed_options_are_one_line_errors(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
    message: str,
) -> None:  # fmt: skip
    code, out, err = await pipeline(capsys, "feeds", "add", "/tmp/f.csv", "--dealer", "A", *args)

    assert (code, out, err) == (1, "", message)
    assert await conn.fetchval("SELECT count(*) FROM dealers") == 0


async def test_adding_a_feed_again_replaces_settings_and_keeps_its_schedule(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_id = await add_feed(capsys, "https://a.test/f.csv", "--dealer", "Acme", "--interval", "1h")
    await conn.execute(
        "UPDATE feeds SET next_run_at = now() + interval '50 minutes', status = 'PAUSED',"
        " failure_count = 2 WHERE id = $1",
        feed_id,
    )

    again = await add_feed(capsys, "https://b.test/f.csv", "--dealer", "Acme", "--interval", "5m")

    feed = await feed_row(conn, feed_id)
    assert again == feed_id and feed["source"] == "https://b.test/f.csv"
    assert (feed["status"], feed["failure_count"]) == ("PAUSED", 2)
    assert feed["poll_interval"] == dt.timedelta(minutes=5)
    # The shorter interval brings the next run forward: at most 5 minutes away.
    assert await conn.fetchval(
        "SELECT next_run_at BETWEEN now() + interval '4 minutes' AND now() + interval '5 minutes'"
        " FROM feeds WHERE id = $1",
        feed_id,
    )


async def test_upsert_without_an_interval_keeps_the_feeds_interval(
    conn: asyncpg.Connection,
) -> None:
    feed_id = await make_feed(conn, "https://a.test/f.csv", poll_interval=dt.timedelta(hours=2))
    before = await feed_row(conn, feed_id)

    assert await make_feed(conn, "https://b.test/f.csv") == feed_id  # as `pipeline ingest` does

    after = await feed_row(conn, feed_id)
    assert after["poll_interval"] == dt.timedelta(hours=2)
    assert after["next_run_at"] == before["next_run_at"]
    new_id = await make_feed(conn, "https://c.test/f.csv", name="other")
    assert (await feed_row(conn, new_id))["poll_interval"] == dt.timedelta(minutes=5)


# -- addressing, show, list --


async def test_a_feed_is_addressed_by_id_or_dealer_slash_name(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_id = await add_feed(capsys, "https://a.test/f.csv", "--dealer", "A/B Ammo")

    by_id = await pipeline(capsys, "feeds", "show", str(feed_id))
    by_name = await pipeline(capsys, "feeds", "show", "A/B Ammo/main")

    assert by_id[0] == by_name[0] == 0
    assert (
        by_id[1].splitlines()[0] == by_name[1].splitlines()[0] == f"feed {feed_id}: A/B Ammo/main"
    )
    for ref, message in [
        ("999", "error: no feed '999' (`pipeline feeds list` lists them)\n"),
        ("A/B Ammo/nope", "error: no feed 'A/B Ammo/nope' (`pipeline feeds list` lists them)\n"),
        ("main", "error: 'main' is not a feed: give its id or DEALER/FEED\n"),
    ]:
        assert await pipeline(capsys, "feeds", "pause", ref) == (1, "", message)


async def test_show_masks_the_password_and_secret_headers_and_lists_recent_runs(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "f.csv", [sku(n) for n in range(1, 4)])
    feed_id = await add_feed(
        capsys, path, "--dealer", "Acme", "--auth", "alice:s3cret", "--interval", "10m",
        "--header", "X-Api-Key: k3y-value", "--header", "Accept: text/csv",
    )  # fmt: skip
    await ingest.run(conn, feed_id=feed_id, options=OPTIONS)
    path.write_text("")
    with pytest.raises(errors.EmptyFeed):
        await ingest.run(conn, feed_id=feed_id, options=OPTIONS)

    code, out, _ = await pipeline(capsys, "feeds", "show", "Acme/main")

    assert code == 0
    assert "s3cret" not in out and "k3y-value" not in out
    assert "  auth               alice:****\n" in out
    assert "  headers            Accept: text/csv; X-Api-Key: ****\n" in out
    assert f"  source             {path}\n" in out
    assert "  format             detected from content\n" in out
    assert "  poll interval      10m\n" in out
    assert "  status             ACTIVE, 1 consecutive failures\n" in out
    failed, succeeded = await conn.fetch(
        "SELECT id, error FROM feed_runs WHERE feed_id = $1 ORDER BY id DESC", feed_id
    )
    header, newest, oldest, *errors_ = out.split("last 2 runs\n")[1].splitlines()
    assert header.split()[:4] == ["run", "started", "status", "rows"]
    # run, "0s ago", status, rows, created, updated, ...
    assert newest.split()[0::3][:2] == [str(failed["id"]), "FAILED"]
    assert oldest.split()[0::3][:2] == [str(succeeded["id"]), "SUCCEEDED"]
    assert oldest.split()[4:7] == ["3", "3", "0"]
    assert errors_ == [f"  run {failed['id']}: {failed['error']}"]


async def test_feeds_list_shows_schedule_and_last_run_and_filters(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = await add_feed(capsys, write_csv(tmp_path / "f.csv", [sku(1)]), "--dealer", "Acme",
                           "--format", "csv")  # fmt: skip
    second = await add_feed(capsys, "https://b.test/x", "--dealer", "Bravo", "--interval", "1h")
    await ingest.run(conn, feed_id=first, options=OPTIONS)
    await conn.execute(
        "UPDATE feeds SET next_run_at = now() + interval '250.4 seconds' WHERE id = $1", first
    )
    await pipeline(capsys, "feeds", "pause", str(second))

    code, out, _ = await pipeline(capsys, "feeds", "list")

    assert code == 0
    header, acme, bravo = out.splitlines()
    assert header.split() == [
        "id", "dealer", "feed", "format", "interval", "status", "failures", "next", "run",
        "last", "run",
    ]  # fmt: skip
    assert acme.split()[:-2] == [str(first), "Acme", "main", "csv", "5m", "ACTIVE", "0", "in",
                                 "4m", "10s", "SUCCEEDED"]  # fmt: skip
    assert acme.split()[-1] == "ago"
    assert bravo.split() == [str(second), "Bravo", "main", "auto", "1h", "PAUSED", "0", "paused",
                             "never"]  # fmt: skip
    _, out, _ = await pipeline(capsys, "feeds", "list", "--status", "paused")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [str(second)]
    _, out, _ = await pipeline(capsys, "feeds", "list", "--dealer", "Acme")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [str(first)]
    code, out, err = await pipeline(capsys, "feeds", "list", "--dealer", "Nobody")
    assert (code, out) == (1, "")
    assert err == "error: no dealer named 'Nobody' (`pipeline dealers list` lists them)\n"


# -- pause, resume, run-now --


async def due_feed_ids(capsys: pytest.CaptureFixture[str]) -> list[int]:
    code, out, _ = await pipeline(capsys, "status", "--json")
    assert code == 0
    return [feed["id"] for feed in json.loads(out)["due"]]


async def test_pause_takes_a_feed_off_the_due_list_and_resume_puts_it_back_cleared(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_id = await add_feed(capsys, "https://a.test/f.csv", "--dealer", "Acme")
    other = await add_feed(capsys, "https://a.test/g.csv", "--dealer", "Acme", "--name", "g")
    assert await due_feed_ids(capsys) == [feed_id, other]

    code, out, _ = await pipeline(capsys, "feeds", "pause", "Acme/main")

    assert (code, out) == (0, f"feed {feed_id} Acme/main: ACTIVE -> PAUSED\n")
    assert (await feed_row(conn, feed_id))["status"] == "PAUSED"
    assert await due_feed_ids(capsys) == [other]

    await conn.execute(
        "UPDATE feeds SET failure_count = 4, next_run_at = now() + interval '1 hour' WHERE id = $1",
        feed_id,
    )
    code, out, _ = await pipeline(capsys, "feeds", "resume", str(feed_id))

    assert code == 0
    assert out == f"feed {feed_id} Acme/main: PAUSED -> ACTIVE, failures cleared, next run due\n"
    feed = await feed_row(conn, feed_id)
    assert (feed["status"], feed["failure_count"], feed["due"]) == ("ACTIVE", 0, True)
    assert await due_feed_ids(capsys) == [other, feed_id]


async def test_resume_ends_a_failing_feeds_backoff(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_id = await add_feed(capsys, "https://a.test/f.csv", "--dealer", "Acme")
    await conn.execute(
        "UPDATE feeds SET status = 'FAILING', failure_count = 5,"
        " next_run_at = now() + interval '1 hour' WHERE id = $1",
        feed_id,
    )

    code, out, _ = await pipeline(capsys, "feeds", "resume", "Acme/main")

    assert (code, out.split(": ")[1]) == (0, "FAILING -> ACTIVE, failures cleared, next run due\n")
    feed = await feed_row(conn, feed_id)
    assert (feed["status"], feed["failure_count"], feed["due"]) == ("ACTIVE", 0, True)


async def test_run_now_defers_one_ingest_job_at_the_dealer_tier_even_when_paused(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    await pipeline(capsys, "dealers", "add", "Acme", "--tier", "4")
    feed_id = await add_feed(capsys, "https://a.test/f.csv", "--dealer", "Acme")
    await pipeline(capsys, "feeds", "pause", str(feed_id))

    code, out, _ = await pipeline(capsys, "feeds", "run-now", "Acme/main")

    jobs = await conn.fetch("SELECT * FROM procrastinate_jobs")
    assert len(jobs) == 1
    job = jobs[0]
    assert (code, out) == (
        0,
        f"feed {feed_id} Acme/main: ingest job {job['id']} queued, priority 4\n",
    )
    assert (job["task_name"], job["queue_name"], job["status"]) == ("ingest", "ingest", "todo")
    assert (job["priority"], job["args"]) == (4, {"feed_id": feed_id})

    code, out, _ = await pipeline(capsys, "feeds", "run-now", str(feed_id))

    assert (code, out) == (0, f"feed {feed_id} Acme/main: already queued\n")
    assert await conn.fetchval("SELECT count(*) FROM procrastinate_jobs") == 1
    assert (await feed_row(conn, feed_id))["status"] == "PAUSED"
