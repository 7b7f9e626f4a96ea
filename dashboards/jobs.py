"""The dashboards' RQ jobs. Like every job, a hint: without a worker the web renders for itself."""
from __future__ import annotations

from dashboards.web import board_views
from hotline.jobs.context import job_context


def render_board_job(language: str) -> None:
    """Render the board's live part in `language` ("bg", "en") for every open board (see
    dashboards.web.board_views: FRAGMENT_CACHE_SECONDS, STALE_SECONDS)."""
    with job_context():
        board_views.render_for_boards(language)
