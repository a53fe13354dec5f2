"""The panel's web application: one page, its event streams, and four actions.

`create_app` takes what the panel reads and steers: the run history (the results
database and the runs folder, or the runs folder alone: `rig.panel.history.RunHistory`),
the launcher, the lab view (labgrid's places, where the lab has a coordinator) and the
token. Nothing here is needed by a run: a panel that crashes or is
closed leaves every run as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

from rig.operator.answers import post_answer
from rig.panel.history import RUN_ID, RunHistory
from rig.panel.lab import LabView, NoLab
from rig.panel.launcher import Launcher, LaunchError
from rig.panel.security import allowed_hosts, check_origin, check_token
from rig.panel.stream import follow
from rig.results.store import read_store

STATIC = Path(__file__).resolve().parent / "static"
PLOT_NAME = r"^[A-Za-z0-9_.-]{1,120}\.(jpg|png)$"
FILE_URL = re.compile(r"file://[^\s)\"'<>]*")
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@dataclass
class Panel:
    history: RunHistory
    launcher: Launcher
    token: str
    bind: str = "127.0.0.1"
    lab: LabView = field(default_factory=NoLab)


class StartRequest(BaseModel):
    station: str = Field(max_length=100)
    spec: str = Field(max_length=100)
    select: str = Field(default="", max_length=200)
    markers: str = Field(default="", max_length=200)
    tester: str = Field(max_length=80)


class AnswerRequest(BaseModel):
    answer: str = Field(pattern=r"^(done|declined)$")
    by: str = Field(min_length=1, max_length=80)


def _run_start(run_dir: Path) -> dict[str, Any] | None:
    try:
        with (run_dir / "results.jsonl").open("rb") as f:
            first = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    return first if isinstance(first, dict) and first.get("type") == "run_start" else None


def create_app(panel: Panel) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        panel.lab.close()  # the coordinator's session
        panel.history.close()  # the database's connections

    app = FastAPI(
        title="bms-rig panel", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(panel.bind))

    def act(request: Request) -> None:
        check_origin(request)
        check_token(request, panel.token)

    def run_dir(run_id: str) -> Path:
        folder = panel.history.run_dir(run_id) if RUN_ID.match(run_id) else None
        if folder is None:
            raise HTTPException(404, "no such run")
        return folder

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith("/runs/"):  # the report is its own document
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        return {
            "stations": panel.launcher.stations(),
            "specs": panel.launcher.specs(),
            "lab": panel.lab.places() is not None,
        }

    @app.get("/api/runs")
    def runs() -> dict[str, Any]:
        panel.launcher.reap()
        listed = []
        for run in panel.history.runs():
            shown = run.public()
            folder = panel.history.run_dir(run.run_id)
            shown["alive"] = folder is not None and panel.launcher.alive(
                run.run_id, _run_start(folder)
            )
            listed.append(shown)
        return {"runs": listed, "history": panel.history.status()}

    @app.get("/api/runs/{run_id}/events")
    async def events(run_id: str, request: Request) -> EventSourceResponse:
        folder = run_dir(run_id)
        start = 0
        last = request.headers.get("last-event-id", "")
        if last.isdigit():
            start = int(last)
        run_start = _run_start(folder)
        alive = lambda: panel.launcher.alive(run_id, run_start)  # noqa: E731
        return EventSourceResponse(follow(folder, start, alive), ping=10)

    @app.get("/api/runs/{run_id}/plots/{name}")
    def plot(run_id: str, name: str) -> FileResponse:
        if not re.match(PLOT_NAME, name):
            raise HTTPException(404, "no such plot")
        path = run_dir(run_id) / "plots" / name
        if not path.is_file():
            raise HTTPException(404, "not drawn yet")
        return FileResponse(path)

    @app.get("/runs/{run_id}/{name}", response_model=None)
    def report(run_id: str, name: str) -> Response:
        if name not in ("report.html", "report.pdf"):
            raise HTTPException(404, "no such report")
        path = run_dir(run_id) / name
        if not path.is_file():
            raise HTTPException(404, "no report for this run")
        if name == "report.pdf":
            return FileResponse(path)
        # the HTML names its fonts by file:// URL for the PDF printer: no paths to a browser
        html = FILE_URL.sub("", path.read_text(errors="replace"))
        return Response(html, media_type="text/html; charset=utf-8")

    @app.get("/runs/{run_id}/plots/{name}")
    def report_plot(run_id: str, name: str) -> FileResponse:
        return plot(run_id, name)

    @app.get("/api/lab")
    def lab() -> dict[str, Any]:
        return {"places": panel.lab.places(), "error": panel.lab.problem()}

    @app.post("/api/token", dependencies=[Depends(act)])
    def token_ok() -> dict[str, Any]:
        return {"ok": True}

    @app.post("/api/runs", dependencies=[Depends(act)])
    async def start(body: StartRequest) -> JSONResponse:
        try:
            run_id = await panel.launcher.start(
                body.station, body.spec, body.select, body.markers, body.tester
            )
        except LaunchError as exc:
            from rig.panel.public import scrub

            raise HTTPException(400, scrub(str(exc))) from None
        return JSONResponse({"run_id": run_id}, status_code=201)

    @app.post("/api/runs/{run_id}/stop", dependencies=[Depends(act)])
    def stop(run_id: str) -> dict[str, Any]:
        folder = run_dir(run_id)
        if not panel.launcher.stop(run_id, _run_start(folder)):
            raise HTTPException(409, "the run is not running")
        return {"stopping": run_id, "signal": "SIGINT"}

    @app.post("/api/runs/{run_id}/prompts/{prompt}/answer", dependencies=[Depends(act)])
    def answer(run_id: str, prompt: str, body: AnswerRequest) -> dict[str, Any]:
        folder = run_dir(run_id)
        records = read_store(folder).records
        asked = {r.get("prompt") for r in records if r.get("type") == "prompt"}
        done = {r.get("prompt") for r in records if r.get("type") == "prompt_result"}
        if prompt not in asked:
            raise HTTPException(404, "no such prompt in this run")
        if prompt in done:
            raise HTTPException(409, "this prompt is closed")
        try:
            taken = post_answer(folder, prompt, body.answer, body.by, "panel")
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        if not taken:
            raise HTTPException(409, "answered already (at the terminal or another panel)")
        return {"taken": True}

    return app
