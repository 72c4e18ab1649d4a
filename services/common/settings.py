"""Settings shared by every service, read from LIFECARE_* environment variables."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AmqpDsn,
    BeforeValidator,
    Field,
    PostgresDsn,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common import registry
from services.common.payload_codec import read_key

DEVELOPMENT_JWT_SECRET = "lifecare-development-secret-do-not-use-in-production"
# the web UI's credential at the identity service until it signs people in through OIDC
DEVELOPMENT_IDENTITY_CLIENT_SECRET = "lifecare-development-identity-client-do-not-use"
# the platform's tokens live at most this long (issue 13: an ended membership stops working
# within one token lifetime)
MAX_ACCESS_TOKEN_TTL = timedelta(minutes=15)
# base64 of b"lifecare-development-payload-key": encrypts workflow payloads in development only
DEVELOPMENT_PAYLOAD_KEY = "bGlmZWNhcmUtZGV2ZWxvcG1lbnQtcGF5bG9hZC1rZXk="

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """Read a duration such as `3d`, `7d`, `12h`, `30m` or `10s` (also a number of seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return timedelta(seconds=value)
        except OverflowError as exc:
            raise ValueError(f"the duration {value!r} is too long") from exc
    match = _DURATION.match(str(value))
    if isinstance(value, bool) or not match:
        raise ValueError(f"not a duration: {value!r} (use a number and s, m, h or d, e.g. 3d)")
    try:
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"])
    except OverflowError as exc:
        raise ValueError(f"the duration {value!r} is too long") from exc


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

_SERVICE_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", re.ASCII)


def parse_service_url(value: object) -> str:
    """Read another service's base URL, `http(s)://host[:port][/path]`, without a final `/`."""
    text = str(value).strip().rstrip("/")
    if not _SERVICE_URL.match(text):
        raise ValueError(f"not a service URL: {value!r} (e.g. http://127.0.0.1:8002)")
    return text


ServiceUrl = Annotated[str, BeforeValidator(parse_service_url)]


class Settings(BaseSettings):
    """Configuration of one process of the platform."""

    model_config = SettingsConfigDict(env_prefix="LIFECARE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: PostgresDsn = PostgresDsn("postgresql://postgres@127.0.0.1:5432/lifecare")
    amqp_url: AmqpDsn = AmqpDsn("amqp://guest:guest@127.0.0.1:5672/")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # how the platform proves itself to Temporal, so that only its own processes can start
    # or change a workflow: mTLS (a client certificate and its private key, PEM files; the CA
    # of the server's certificate, if not a public one) or an API key (sent over TLS). In
    # production a process that connects to Temporal refuses to start with neither, unless
    # temporal_insecure says that plain text is meant (development and tests need neither;
    # a process that never reaches Temporal, the web UI, needs none)
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: SecretStr | None = None
    temporal_insecure: bool = False
    task_queue: str = "lifecare"
    # development tokens (`lifecare token`): HS256 with this secret, refused in production
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_algorithm: str = "HS256"
    token_ttl: Duration = timedelta(hours=12)

    # the platform's own tokens (ES256), issued by the identity service and verified by
    # every service against its JWKS; a service in production refuses to start without
    # jwks_url (development and test default to the identity service's, from identity_url)
    jwks_url: ServiceUrl | None = None
    token_issuer: str = Field(default="lifecare", min_length=1)
    token_audience: str = Field(default="lifecare-services", min_length=1)
    access_token_ttl: Duration = MAX_ACCESS_TOKEN_TTL
    # the identity service's signing key (an EC P-256 private key, PEM) and the keys of
    # earlier rotations (PEM, public or private) that still verify until they are removed;
    # without one, development and test sign with a key derived from a fixed seed
    signing_key: SecretStr | None = None
    signing_old_keys: list[SecretStr] = []
    # the web UI's bearer credential at the identity service (/tokens, /people/...)
    identity_client_secret: SecretStr = SecretStr(DEVELOPMENT_IDENTITY_CLIENT_SECRET)
    # the web UI signs people in through this OpenID Connect provider (any: a municipality's
    # broker, or `make up`'s development provider): its issuer (the discovery document is
    # <issuer>/.well-known/openid-configuration), the web UI's client there and its secret,
    # the scopes asked for, and the URL the provider sends the person back to (the web UI's
    # /logga-in/klar; outside production, the address the browser used if left out). The
    # web UI in production refuses to start without issuer, secret and redirect URL.
    oidc_issuer: ServiceUrl | None = None
    oidc_client_id: str = Field(default="lifecare-web", min_length=1)
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = Field(default="openid profile", pattern=r"(^|\s)openid(\s|$)")
    oidc_redirect_url: ServiceUrl | None = None
    # Temporal payloads are encrypted with this key (base64 of 32 bytes); the old keys only
    # decrypt what they encrypted before a rotation
    payload_key: SecretStr = SecretStr(DEVELOPMENT_PAYLOAD_KEY)
    payload_old_keys: list[SecretStr] = []
    # where the Temporal UI runs: the codec server answers its browser (CORS)
    codec_ui_origins: list[str] = ["http://127.0.0.1:8233", "http://localhost:8233"]

    reminder_after: Duration = timedelta(days=3)
    reminder_every: Duration = timedelta(days=7)
    ivo_after: Duration = timedelta(days=90)
    # an order's dates within reason (422 naming the bound): a decision today or at most
    # this many years back, never in the future; a start or end date at most this many
    # years ahead
    order_decision_years_back: int = Field(default=2, ge=0, le=100)
    order_years_ahead: int = Field(default=1, ge=0, le=100)
    # a provider unit sees a customer while it has an unconfirmed, confirmed or ongoing order
    # for them, and for this long after the execution's end date; not after a withdrawal
    customer_visible_after_end: Duration = timedelta(days=90)
    # the inbox is not an archive: messages older than this are deleted with their files
    message_retention: Duration = timedelta(days=180)
    # a registration right after a confirmation waits this long for the absence service to
    # learn the stay from order.confirmed (event lag) before it answers 404
    absence_stay_wait: Duration = timedelta(seconds=5)

    # absence for these reasons spares the care fee too (any absence spares the food fee)
    care_absence_reasons: list[str] = ["hospital"]
    # a billing run bills this many customers per batch (one activity each), and this many
    # batches at a time
    billing_batch_size: int = Field(default=5000, ge=1)
    billing_parallel: int = Field(default=2, ge=1)
    # a billing run corrects the months at most this many months before the month it bills
    # (36: three years, the limitation period of a claim against a consumer, preskriptionslag
    # 1981:130 2 §); an older month whose fees changed is not corrected but listed on the
    # run and told to the fee administrators; 0 corrects no earlier month at all
    billing_correction_months: int = Field(default=36, ge=0, le=600)
    # Run workflows in the SDK's sandbox, which re-imports a workflow's module for every new
    # run and checks each payload's context inside it: about 40 % of the worker's CPU per
    # order (bench/README.md). Its guard against non-deterministic code belongs where that
    # code is tried, so the tests switch it on and the running stack leaves it off.
    workflow_sandbox: bool = False
    # how many workflow runs the worker keeps in memory between their tasks (its sticky
    # cache); a run not kept is replayed from its history at its next task. Each kept run
    # costs resident memory (bench/README.md, bench/worker, has the figures)
    worker_cached_workflows: int = Field(default=1000, ge=0)

    # the other services, as the orders service asks them for their part of a customer's
    # audit log (GET /audit) and the web UI calls them; one that has not answered within
    # peer_timeout is reported (by default each at its registry port on this machine)
    orders_url: ServiceUrl = registry.local_url("orders")
    absence_url: ServiceUrl = registry.local_url("absence")
    billing_url: ServiceUrl = registry.local_url("billing")
    messaging_url: ServiceUrl = registry.local_url("messaging")
    identity_url: ServiceUrl = registry.local_url("identity")
    peer_timeout: Duration = timedelta(seconds=5)

    # the web UI: a signed-in session ends after this long without a request, and its
    # calls go over one client with a pool of this many connections to each service
    web_session_idle: Duration = timedelta(hours=1)
    web_max_connections: int = Field(default=20, ge=1)  # to each service
    # where the web UI keeps its sessions: in its schema of the database, shared by all its
    # replicas; or in the process's memory, for the unit tests that run it without a
    # database (one process only: a second replica would not know its sessions)
    web_sessions: Literal["database", "memory"] = "database"

    # consumer queues are named `<queue_prefix><service>.<purpose>`; tests use their own prefix
    queue_prefix: str = ""
    # drop a consumer queue nobody has used for this long (tests); None keeps queues forever
    queue_expires: Duration | None = None

    # the largest request body a route reads (413 over it, judged before reading): JSON
    # bodies, and multipart uploads (a 10 MB file with room for the multipart framing; the
    # upload route refuses a file over 10 MB itself)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024 + 256 * 1024, ge=1024)
    # the web UI's multipart posts (a message with its files, sent on by the web UI one by
    # one): room for the ten files of at most 10 MB a message may carry, and the framing
    web_max_upload_bytes: int = Field(default=100 * 1024 * 1024 + 512 * 1024, ge=1024)

    # the codec server's limit: a batch of payloads as Temporal's gRPC messages carry them
    codec_max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

    # on SIGTERM: an API finishes the requests it took within this long, the worker lets
    # its running activities finish within this long (its workflows go on elsewhere)
    shutdown_grace: Duration = timedelta(seconds=20)
    # the worker answers GET /health here (a cluster's probes); 0 leaves it closed
    worker_health_port: int = Field(default=8010, ge=0, le=65535)

    # log lines as JSON (one object per line) or as text; by default JSON in production
    log_format: Literal["json", "text"] | None = None
    # traces over OTLP/HTTP to this collector (`<endpoint>/v1/traces`, e.g.
    # http://otel-collector:4318); unset, nothing is exported and nothing dials out
    otlp_endpoint: ServiceUrl | None = None
    # the worker serves the Temporal SDK's metrics and its own for Prometheus here (GET
    # /metrics); 0 leaves it closed
    worker_metrics_port: int = Field(default=8011, ge=0, le=65535)

    db_pool_min: int = 1
    db_pool_max: int = 10
    relay_batch: int = 200

    @model_validator(mode="after")
    def _refuse_development_secret_in_production(self) -> Settings:
        if self.env == "production" and (
            self.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
        ):
            raise ValueError(
                "LIFECARE_JWT_SECRET is the development secret; set a real one in production"
            )
        return self

    @field_validator("oidc_issuer", "oidc_client_secret", "oidc_redirect_url", mode="before")
    @classmethod
    def _empty_oidc_setting_is_unset(cls, value: object) -> object:
        """An empty LIFECARE_OIDC_* (docker-compose passes unset ones on as "") is none."""
        return None if value == "" else value

    @field_validator("access_token_ttl")
    @classmethod
    def _access_tokens_are_short(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= MAX_ACCESS_TOKEN_TTL:
            raise ValueError("an access token lives more than 0 s and at most 15 minutes")
        return value

    @field_validator("payload_key", "payload_old_keys")
    @classmethod
    def _payload_keys_are_keys(cls, value: SecretStr | list[SecretStr]) -> object:
        for key in value if isinstance(value, list) else [value]:
            read_key(key.get_secret_value())
        return value

    @model_validator(mode="after")
    def _refuse_development_payload_key_in_production(self) -> Settings:
        if self.env == "production" and (
            self.payload_key.get_secret_value() == DEVELOPMENT_PAYLOAD_KEY
        ):
            raise ValueError(
                "LIFECARE_PAYLOAD_KEY is the development key; set a real one in production "
                "(openssl rand -base64 32)"
            )
        return self

    @model_validator(mode="after")
    def _temporal_credentials_are_whole(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError(
                "LIFECARE_TEMPORAL_TLS_CERT and LIFECARE_TEMPORAL_TLS_KEY go together: "
                "set both (the client certificate and its private key) or neither"
            )
        if self.temporal_api_key is not None and not self.temporal_api_key.get_secret_value():
            raise ValueError("LIFECARE_TEMPORAL_API_KEY is empty")
        for name in ("temporal_tls_cert", "temporal_tls_key", "temporal_tls_ca"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"LIFECARE_{name.upper()} names no file: {path}")
        return self

    @property
    def json_logs(self) -> bool:
        """Whether the processes log JSON lines."""
        return self.log_format == "json" or (self.log_format is None and self.env == "production")

    @property
    def jwks_location(self) -> str:
        """Where the platform's public keys are: LIFECARE_JWKS_URL, or outside production
        the identity service's own JWKS."""
        return self.jwks_url or f"{self.identity_url}/.well-known/jwks.json"

    @property
    def database_dsn(self) -> str:
        """The PostgreSQL DSN as asyncpg takes it."""
        return str(self.database_url)


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
