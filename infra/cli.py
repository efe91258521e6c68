"""The `presswire` command: run the local stack, submit articles, manage keys."""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import mimetypes
import os
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, NoReturn

DEFAULT_STATE_DIR = Path(".presswire")
DEFAULT_API_URL = "http://127.0.0.1:8080/api"


class CliError(Exception):
    """Ends the command with one line on stderr and a non-zero exit."""


class _Parser(argparse.ArgumentParser):
    """Usage errors too are one line (and exit 2, as argparse's do)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _problem_text(raw: bytes, fallback: str) -> str:
    """What an error response says: an RFC 9457 problem's every field at fault, or its detail."""
    try:
        problem = json.loads(raw)
    except ValueError:
        return _one_line(raw.decode(errors="replace")) or fallback
    if not isinstance(problem, dict):
        return fallback
    errors = problem.get("errors")
    if isinstance(errors, list) and errors and all(isinstance(error, dict) for error in errors):
        return "; ".join(f"{error.get('field')}: {error.get('message')}" for error in errors)
    return str(problem.get("detail") or problem.get("title") or fallback)


# -- serve -------------------------------------------------------------------------------


STOP_GRACE_SECONDS = 15


def serve(args: argparse.Namespace) -> int:
    from infra.local.stack import BOOTSTRAP_KEY_FILE, LocalStack, load_site_overrides

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s %(message)s")
    try:
        overrides = load_site_overrides(args.site)
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read site settings: {error}") from error
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    try:
        stack = LocalStack(
            state_dir=args.state_dir,
            host=args.host,
            port=args.port,
            site_overrides=overrides,
            cors_origins=tuple(args.cors_origin or ()),
            schedule_every=args.schedule_every,
        )
        stack.start()
    except (OSError, OverflowError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise CliError(f"cannot start the local stack on {args.host}:{args.port}: {reason}") from error
    key_path = args.state_dir / BOOTSTRAP_KEY_FILE
    lines = [
        "presswire is running (moto in-memory AWS; state in " + str(args.state_dir) + ")",
        f"  site: {stack.url}/",
        f"  api:  {stack.url}/api",
    ]
    if stack.cors_origins:
        lines.append(f"  cors: {', '.join(stack.cors_origins)}")
    if stack.bootstrap_key:
        lines.append(f"  editor key (shown once; also in {key_path}): {stack.bootstrap_key}")
    else:
        lines.append(f"  editor key: see {key_path}")
    lines.append("Ctrl-C stops it.")
    print("\n".join(lines), flush=True)
    # A timed wait: a signal that Linux delivers to one of the stack's other threads only sets a
    # flag, which the main thread acts on when it next runs, never while blocked in a plain wait.
    while not stopping.wait(timeout=0.5):
        pass
    print("stopping...", flush=True)
    # A publish or schedule run in flight may hold a worker for a while on a loaded machine; the
    # journal already has every accepted write, so stopping waits for them only so long.
    stopper = threading.Thread(target=stack.stop, name="stop", daemon=True)
    stopper.start()
    stopper.join(timeout=STOP_GRACE_SECONDS)
    # Everything worth keeping is in the fsync'd journal: skip the interpreter's final garbage
    # collection of moto's in-memory AWS, which takes tens of seconds once the site is large.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


# -- submit ------------------------------------------------------------------------------


def _request(
    method: str,
    url: str,
    key: str,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the URL scheme is checked by the caller
        url,
        data=body,
        method=method,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": content_type,
            "Accept": "application/json",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310  # nosec B310 # http(s) only, checked by the caller
            raw = response.read()
    except urllib.error.HTTPError as error:
        detail = _problem_text(error.read(), str(error.reason))
        raise CliError(f"{method} {url} failed with {error.code}: {detail}") from error
    except urllib.error.URLError as error:
        raise CliError(f"cannot reach {url} ({error.reason}); is `presswire serve` running?") from error
    except (OSError, http.client.HTTPException) as error:  # reset, timed out, a broken answer
        raise CliError(f"{method} {url} failed: {error or type(error).__name__}") from error
    try:
        answer = json.loads(raw or b"{}")
    except ValueError as error:
        raise CliError(f"{method} {url} answered with something other than JSON") from error
    if not isinstance(answer, dict):
        raise CliError(f"{method} {url} answered with JSON that is not an object")
    return answer


def _api_key(args: argparse.Namespace) -> str:
    key = args.key or os.environ.get("PRESSWIRE_API_KEY")
    if not key:
        bootstrap = args.state_dir / "bootstrap-key"
        if bootstrap.exists():
            key = bootstrap.read_text(encoding="utf-8").strip()
    if not key:
        raise CliError("no API key: pass --key or set PRESSWIRE_API_KEY")
    return key


def _upload_image(api: str, key: str, path: Path, *, alt: str, caption: str) -> str:
    """POST /media for a presigned PUT, then PUT the bytes there; returns the image's site URL."""
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from error
    request = {
        "filename": path.name,
        "content_type": content_type,
        "length": len(data),
        "alt": alt,
        "caption": caption,
    }
    ticket = _request("POST", f"{api}/media", key, json.dumps(request).encode(), "application/json")
    if not all(isinstance(ticket.get(name), str) for name in ("upload_url", "url")):
        raise CliError(f"POST {api}/media answered without an upload URL for {path.name}")
    upload = urllib.request.Request(  # noqa: S310 - a URL the API just signed
        ticket["upload_url"],
        data=data,
        method=ticket.get("upload_method", "PUT"),
        headers=ticket.get("upload_headers") or {},
    )
    try:
        with urllib.request.urlopen(upload, timeout=120):  # noqa: S310  # nosec B310 # a URL the API just signed
            pass
    except urllib.error.HTTPError as error:
        raise CliError(f"uploading {path.name} failed with {error.code}: {error.read()[:200]!r}") from error
    except urllib.error.URLError as error:
        raise CliError(f"cannot reach the upload URL for {path.name} ({error.reason})") from error
    except (OSError, http.client.HTTPException) as error:
        raise CliError(f"uploading {path.name} failed: {error or type(error).__name__}") from error
    return str(ticket["url"])


def _is_local_reference(src: str) -> bool:
    return not urllib.parse.urlsplit(src).scheme and not src.startswith(("/", "//"))


def submit(args: argparse.Namespace) -> int:
    from functions.text import extract_images, rewrite_image_sources

    api = (args.api or os.environ.get("PRESSWIRE_API_URL") or DEFAULT_API_URL).rstrip("/")
    if urllib.parse.urlsplit(api).scheme not in {"http", "https"}:
        raise CliError(f"the API URL must be http(s): {api}")
    key = _api_key(args)
    path: Path = args.file
    try:
        article = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CliError(f"{path} is not valid UTF-8 JSON: {error}") from error
    if not isinstance(article, dict) or not isinstance(article.get("body"), str):
        raise CliError(f"{path} must be a JSON object with a string 'body'")

    if article.get("body_format", "html") == "html":
        uploaded: dict[str, str] = {}
        for image in extract_images(article["body"]):
            if not _is_local_reference(image.src) or image.src in uploaded:
                continue
            image_path = (path.parent / urllib.parse.unquote(image.src)).resolve()
            if not image_path.is_file():
                raise CliError(f"the body references {image.src}, but {image_path} does not exist")
            uploaded[image.src] = _upload_image(api, key, image_path, alt=image.alt, caption=image.caption)
        article["body"] = rewrite_image_sources(article["body"], uploaded)

    body = json.dumps(article, ensure_ascii=False).encode("utf-8")
    # One key per invocation: should this request be sent again (a retry after a lost answer),
    # the API answers with the article it created instead of creating a second one.
    created = _request(
        "POST",
        f"{api}/articles",
        key,
        body,
        "application/json; charset=utf-8",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    if "id" not in created or "url" not in created:
        raise CliError(f"POST {api}/articles answered 2xx without the article's id and url")
    print(f"id:  {created['id']}\nurl: {created['url']}")
    return 0


# -- keys --------------------------------------------------------------------------------


def keys_create(args: argparse.Namespace) -> int:
    from infra.local.keys import create_key

    print(create_key(args.state_dir, role=args.role, name=args.name))
    return 0


def keys_list(args: argparse.Namespace) -> int:
    from infra.local.keys import list_keys

    for record in list_keys(args.state_dir):
        state = "revoked" if record.revoked else "active"
        print(f"{record.key_id}\t{record.role}\t{state}\t{record.created_at:%Y-%m-%d %H:%M}\t{record.name}")
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    from functions.models.errors import KeyNotFound
    from infra.local.keys import revoke_key

    try:
        record = revoke_key(args.state_dir, args.key_id)
    except KeyNotFound as error:
        raise CliError(error.detail) from error
    print(f"revoked {record.key_id} ({record.role}, {record.name})")
    return 0


# -- reconcile ---------------------------------------------------------------------------


def reconcile(args: argparse.Namespace) -> int:
    from infra.local.reconcile import NoRunningStack, reconcile_running_stack

    try:
        report = reconcile_running_stack(args.state_dir)
    except NoRunningStack as error:
        raise CliError(str(error)) from error
    print(report.summary())
    return 0


# -- rebuild -----------------------------------------------------------------------------


def rebuild(args: argparse.Namespace) -> int:
    # functions.* only after the command has the running stack's (quiet) environment: see
    # infra/local/rebuild.py.
    from infra.local.rebuild import Progress, rebuild_running_stack
    from infra.local.reconcile import NoRunningStack

    out: Path | None = args.out
    if out is not None and out.exists() and not out.is_dir():
        raise CliError(f"--out {out} exists and is not a directory")
    try:
        summary = rebuild_running_stack(
            args.state_dir, out=out, workers=args.workers, restart=args.restart, progress=Progress()
        )
    except NoRunningStack as error:
        raise CliError(str(error)) from error
    except OSError as error:
        raise CliError(f"cannot write {error.filename or out}: {error.strerror or error}") from error
    except KeyboardInterrupt:
        print(
            "\npresswire: rebuild interrupted; run it again to continue (--restart to start over)",
            file=sys.stderr,
        )
        raise
    except Exception as error:
        from functions.logic.rebuild import RebuildError

        if isinstance(error, RebuildError):
            raise CliError(str(error)) from error
        raise
    print(summary.line())
    return 0


def _workers(value: str) -> int:
    """An argparse type: 1 to 64 worker processes."""
    try:
        number = int(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from error
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"{number} is not between 1 and 64")
    return number


# -- parsing -----------------------------------------------------------------------------


def _cors_origin(value: str) -> str:
    """An argparse type: the origin as Settings will take it, so a typo is a usage error at once."""
    from functions.config import cors_origin

    try:
        return cors_origin(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="presswire", description="Serverless publishing for newsrooms.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the whole stack locally on moto")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8080)
    serve_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    serve_parser.add_argument(
        "--site", type=Path, help="JSON site settings, e.g. examples/seed/seed-site.json"
    )
    serve_parser.add_argument(
        "--cors-origin",
        action="append",
        type=_cors_origin,
        metavar="ORIGIN",
        help="a browser origin allowed to call the API, e.g. http://localhost:5173 (repeatable; "
        "as template.yaml's CorsAllowedOrigins; default: none, no CORS)",
    )
    serve_parser.add_argument(
        "--schedule-every",
        type=float,
        metavar="SECONDS",
        help="run the scheduler this often (default: template.yaml's rate, one minute)",
    )
    serve_parser.set_defaults(run=serve)

    submit_parser = commands.add_parser("submit", help="upload an article JSON file and its images")
    submit_parser.add_argument("file", type=Path)
    submit_parser.add_argument("--api", help=f"API base URL (PRESSWIRE_API_URL; default {DEFAULT_API_URL})")
    submit_parser.add_argument("--key", help="API key (PRESSWIRE_API_KEY; default: the local bootstrap key)")
    submit_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help=argparse.SUPPRESS)
    submit_parser.set_defaults(run=submit)

    keys_parser = commands.add_parser("keys", help="manage API keys of the local stack")
    keys_commands = keys_parser.add_subparsers(dest="keys_command", required=True)
    create_parser = keys_commands.add_parser("create", help="create a key and print it once")
    create_parser.add_argument("--role", required=True, choices=["reporter", "editor", "partner", "admin"])
    create_parser.add_argument("--name", required=True)
    create_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    create_parser.set_defaults(run=keys_create)
    list_parser = keys_commands.add_parser("list", help="list keys (never their secrets)")
    list_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    list_parser.set_defaults(run=keys_list)
    revoke_parser = keys_commands.add_parser("revoke", help="revoke a key; it stops working at once")
    revoke_parser.add_argument("key_id")
    revoke_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    revoke_parser.set_defaults(run=keys_revoke)

    reconcile_parser = commands.add_parser(
        "reconcile", help="rewrite the running local site's missing or stale pages, feeds and sitemaps"
    )
    reconcile_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    reconcile_parser.set_defaults(run=reconcile)

    rebuild_parser = commands.add_parser(
        "rebuild",
        help="re-render every page, feed and sitemap of the running local site (after a template "
        "change); resumable",
    )
    rebuild_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    rebuild_parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write the outputs to DIR (object keys as paths), not the site bucket",
    )
    rebuild_parser.add_argument(
        "--workers",
        type=_workers,
        default=os.cpu_count() or 1,
        metavar="N",
        help="worker processes rendering shards (default: the number of CPUs)",
    )
    rebuild_parser.add_argument(
        "--restart", action="store_true", help="start over instead of continuing an interrupted rebuild"
    )
    rebuild_parser.set_defaults(run=rebuild)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CliError as error:
        print(f"presswire: error: {_one_line(str(error), 2000)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("presswire: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last resort: still one line, naming what failed
        print(f"presswire: error: {type(error).__name__}: {_one_line(str(error))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
