"""`presswire serve`: the whole system on one machine, on moto, from template.yaml."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions.config import ENVIRONMENT_VARIABLES as SETTINGS
from infra.cfn import Intrinsic, resolved_environment, stream_filter_patterns
from infra.local.aws import LocalAws, free_port
from infra.local.gateway import CorsPolicy, Gateway
from infra.local.queue_poller import QueuePoller
from infra.local.schedule import ScheduleRunner, schedule_seconds
from infra.local.state import STACK_FILE
from infra.local.stream_poller import StreamPoller

log = logging.getLogger("presswire.local")

BOOTSTRAP_KEY_FILE = "bootstrap-key"
# Settings whose template.yaml value is for AWS and wrong on one machine: the local stack's
# partners and WebSub hubs listen on 127.0.0.1 over plain http, which AWS's notifier must refuse.
LOCAL_SETTINGS = {"ALLOW_PRIVATE_WEBHOOKS": "true"}
# template.yaml parameter -> key accepted in a --site JSON file (as in examples/seed/seed-site.json)
SITE_PARAMETERS = {
    "site_name": "SiteName",
    "site_description": "SiteDescription",
    "site_banner": "SiteBanner",
    "site_sections": "SiteSections",
    "site_language": "SiteLanguage",
    "site_timezone": "SiteTimezone",
    "feed_id_authority": "FeedIdAuthority",
    "websub_hubs": "WebSubHubs",
    "rights_holder": "RightsHolder",
    "usage_terms": "UsageTerms",
}


def load_site_overrides(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    values = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(values) - set(SITE_PARAMETERS)
    if unknown:
        raise ValueError(f"{path}: unknown site settings {sorted(unknown)}; known: {sorted(SITE_PARAMETERS)}")
    return {SITE_PARAMETERS[name]: str(value) for name, value in values.items()}


def cors_policy(template: dict[str, Any], origins: tuple[str, ...]) -> CorsPolicy | None:
    """template.yaml's HttpApi CorsConfiguration for these origins (Settings.cors_origins: the
    CorsAllowedOrigins parameter that the template splits into AllowOrigins), or None without
    origins, as the template's HasCorsOrigins condition leaves CORS out on AWS."""
    if not origins:
        return None
    configuration = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    if isinstance(configuration, Intrinsic) and configuration.tag == "If":
        configuration = configuration.value[1]
    return CorsPolicy(
        allow_origins=origins,
        allow_methods=tuple(configuration["AllowMethods"]),
        allow_headers=tuple(configuration["AllowHeaders"]),
        expose_headers=tuple(configuration["ExposeHeaders"]),
        max_age=int(configuration["MaxAge"]),
    )


@dataclass
class LocalStack:
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    site_overrides: dict[str, str] = field(default_factory=dict)
    # Browser origins allowed to call the API: template.yaml's CorsAllowedOrigins parameter.
    cors_origins: tuple[str, ...] = ()
    log_format: str = "text"
    aws: LocalAws | None = None
    gateway: Gateway | None = None
    poller: StreamPoller | None = None
    bootstrap_key: str | None = None
    schedule_every: float | None = None  # seconds; template.yaml's rate() when None
    scheduler: ScheduleRunner | None = None
    notifier: QueuePoller | None = None

    @property
    def url(self) -> str:
        assert self.gateway is not None
        return f"http://{self.host}:{self.gateway.port}"

    def _function_environment(self, site_url: str) -> dict[str, str]:
        assert self.aws is not None
        parameters = {**self.site_overrides, "SiteUrl": site_url}
        if self.cors_origins:
            parameters["CorsAllowedOrigins"] = ",".join(self.cors_origins)
        environment = resolved_environment(self.aws.template, self.aws.names, parameters)
        environment.update(self.aws.environment())
        environment.update(LOCAL_SETTINGS)
        environment.update(
            {
                "LOG_FORMAT": self.log_format,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_DEV": "false",
            }
        )
        return environment

    def start(self) -> LocalStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.aws = LocalAws(state_dir=self.state_dir, host=self.host).start()
        # The port is fixed before the handlers load: the site URL is part of their settings.
        port = self.port or free_port(self.host)
        environment = self._function_environment(f"http://{self.host}:{port}")
        os.environ.update(environment)
        handlers = _fresh_handlers()
        from functions.config import get_settings
        from functions.dal.factory import get_storage

        storage = get_storage()
        settings = get_settings()
        self._ensure_bootstrap_key(storage)
        self.gateway = Gateway(
            host=self.host,
            port=port,
            api_handler=handlers["api"].lambda_handler,
            s3=self.aws.client("s3"),
            site_bucket=settings.site_bucket,
            media_bucket=settings.content_bucket,
            cors=cors_policy(self.aws.template, settings.cors_origins),
        )
        self.poller = StreamPoller(
            self.aws.client("dynamodbstreams"),
            self.aws.stream_arn("ArticlesTable"),
            handlers["publisher"].lambda_handler,
            "PublisherFunction",
            dead_letter_path=self.state_dir / "publisher-dlq.jsonl",
            filters=stream_filter_patterns(self.aws.template, "PublisherFunction"),
            wake=self.aws.table_written,
        ).start()
        self.notifier = QueuePoller(
            self.aws.client("sqs"),
            settings.notify_queue_url,
            handlers["notifier"].lambda_handler,
            "NotifierFunction",
        ).start()
        self.poller.wait_idle(timeout=120)
        self._publish_empty_site()
        every = self.schedule_every or schedule_seconds(self.aws.template, "SchedulerFunction")
        self.scheduler = ScheduleRunner(
            handlers["scheduler"].lambda_handler, "SchedulerFunction", every
        ).start()
        self.gateway.start()
        (self.state_dir / STACK_FILE).write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "url": self.url,
                    "aws_endpoint": self.aws.endpoint_url,
                    "table": settings.table_name,
                    # `presswire reconcile` renders with exactly the functions' settings.
                    "environment": {name: environment[name] for name in SETTINGS if name in environment},
                }
            ),
            encoding="utf-8",
        )
        return self

    def _publish_empty_site(self) -> None:
        """The home page, feeds and 404 page exist before the first article, as they would on AWS."""
        from functions.config import get_settings
        from functions.dal.factory import get_storage
        from functions.logic.publish_articles import rebuild_front
        from functions.models.site import Site

        rebuild_front(get_storage(), Site.from_settings(get_settings()))

    def _ensure_bootstrap_key(self, storage: Any) -> None:
        from functions.clock import utc_now
        from functions.logic.auth import issue_key

        path = self.state_dir / BOOTSTRAP_KEY_FILE
        if path.exists():
            return
        secret, _ = issue_key(storage, role="editor", name="bootstrap", now=utc_now())
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
        self.bootstrap_key = secret

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.poller is not None:
            self.poller.stop()
        if self.notifier is not None:
            self.notifier.stop()
        if self.aws is not None:
            self.aws.stop()
        (self.state_dir / STACK_FILE).unlink(missing_ok=True)


def _fresh_handlers() -> dict[str, Any]:
    """Import the handlers after the environment is set, as a Lambda cold start would."""
    import importlib

    from functions.config import get_settings
    from functions.dal.factory import get_storage

    get_settings.cache_clear()
    get_storage.cache_clear()
    return {
        name: importlib.import_module(f"functions.handlers.{name}")
        for name in ("api", "publisher", "scheduler", "notifier")
    }
