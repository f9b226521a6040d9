"""Settings shared by every mode. Everything configurable comes from the one `env` object.

Modes: the demo (`make run`, defaults: SQLite + kombu's filesystem broker), `test` (PostgreSQL and
Redis on 127.0.0.1 by default) and `production` (behind a TLS proxy; `check --deploy` clean).
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("ZONGZHI_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-insecure-zongzhi-demo-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "treebeard",
    "axes",
    "centers",
    "cases",
    "grids",
    "petitions",
    "mediation",
    "reception",
    "dashboards",
    "countyadmin",
    "apiauth",
    "demo",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "centers.middleware.PasswordChangeRequiredMiddleware",
    # Last, as django-axes asks: it inspects the result of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zongzhi.urls"
WSGI_APPLICATION = "zongzhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "centers.context_processors.navigation",
                "cases.context_processors.inbox",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Embedded default: SQLite in WAL mode with IMMEDIATE transactions, so the web server, the Celery
# worker and beat can write side by side without "database is locked".
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'zongzhi.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Redis / Celery -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Embedded broker: kombu's filesystem transport, shared by the web server, worker and beat.
    # kombu does not create the message folders (and puts its control folder in the current
    # directory unless told), so every folder is named and made here.
    _BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("out", "processed", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="zongzhi")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task that may be delivered twice must be idempotent; acks_late is set per task, not globally.
CELERY_TASK_ACKS_LATE = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The sweep's period (seconds). 60 in production (a crontab every minute); a few seconds in the
# demo and the live-Celery tests so that timers visibly fire.
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", default=60)
# Cases per sweep transaction: each batch commits on its own, so a worker killed mid-sweep loses at
# most one batch's work, which the next sweep does again.
SWEEP_BATCH_SIZE = env.int("SWEEP_BATCH_SIZE", default=500)
# The dashboards' rollup refresh (seconds) and the safety index's recomputation (seconds).
ROLLUP_REFRESH_SECONDS = env.int("ROLLUP_REFRESH_SECONDS", default=30)
SAFETY_INDEX_INTERVAL_SECONDS = env.int("SAFETY_INDEX_INTERVAL_SECONDS", default=900)


def _every(seconds: int):
    from datetime import timedelta

    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds // 60
        return crontab(minute="*" if minutes == 1 else f"*/{minutes}")
    return timedelta(seconds=seconds)


# The one beat schedule. Apps add their periodic tasks here, never elsewhere.
CELERY_BEAT_SCHEDULE = {
    "cases-sweep": {"task": "cases.tasks.sweep", "schedule": _every(SWEEP_INTERVAL_SECONDS)},
    # 联调联处: units summoned by the hall that have not acknowledged by their due time.
    "reception-summons-sweep": {"task": "reception.tasks.sweep_summons", "schedule": _every(SWEEP_INTERVAL_SECONDS)},
    # Appointments (预约回访, 领导接访): SMS reminders whose remind_at has come, once each.
    "reception-appointment-reminders": {
        "task": "reception.tasks.send_appointment_reminders",
        "schedule": _every(SWEEP_INTERVAL_SECONDS),
    },
    # Open matters whose handlers or owners have all left: administrators are told each morning.
    "countyadmin-orphans": {"task": "countyadmin.tasks.orphans_check", "schedule": crontab(hour=7, minute=30)},
    # 县一月一排查、乡镇半月一排查: daily just after midnight; idempotent per (region, rhythm, period).
    "grids-periodic-sweeps": {"task": "grids.tasks.create_periodic_sweeps", "schedule": crontab(hour=0, minute=15)},
    # Grids with no visit in 7 days (to the town) and sweep reports due (to the grid teams).
    "grids-daily-warnings": {"task": "grids.tasks.daily_warnings", "schedule": crontab(hour=8, minute=0)},
    # The big screen's rollups, incrementally (the screen shows their age; target: at most 60 s old).
    "dashboards-refresh-rollups": {
        "task": "dashboards.tasks.refresh_rollups",
        "schedule": _every(ROLLUP_REFRESH_SECONDS),
    },
    # Nightly full rebuild of the rollups (what no updated_at announced: deletions, edited visits).
    "dashboards-rebuild-rollups": {"task": "dashboards.tasks.rebuild_rollups", "schedule": crontab(hour=2, minute=40)},
    # 平安指数 of every town and village for the current and previous month, quarter and year.
    "dashboards-safety-index": {
        "task": "dashboards.tasks.compute_safety_index",
        "schedule": _every(SAFETY_INDEX_INTERVAL_SECONDS),
    },
    # Stored answers of idempotent API requests, past IDEMPOTENCY_TTL_HOURS.
    "apiauth-purge-idempotency": {"task": "apiauth.tasks.purge_idempotency", "schedule": crontab(minute=17)},
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "centers.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous object permissions
GUARDIAN_RAISE_403 = False
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = None  # locked until an administrator unlocks
# Lock by account, not by address: the hall's computers share one address behind the county's
# network, and locking the address would lock every window at once.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# Shared hall computers: sessions end when the browser closes and after 8 idle hours.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploads ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Personal data --------------------------------------------------------------------------
# Fernet keys (newest first; MultiFernet decrypts with any, encrypts with the first) for ID and
# phone numbers at rest, and a separate key for the keyed hash used for exact lookup.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=["nq0y3K6r2cPpIpTZ2kG6oE1lV6m0lS7h9X7yqF5wQxE="]
)
FIELD_HASH_KEY = env.str("FIELD_HASH_KEY", default="zongzhi-demo-lookup-hash-key")

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Tokens for the town centers' systems; the session for the browsable API and the docs page.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apiauth.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["apiauth.throttling.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "apiauth.schema.ApiSchema",
    "DEFAULT_FILTER_BACKENDS": ["apiauth.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apiauth.pagination.KeysetPagination",
    "EXCEPTION_HANDLER": "apiauth.errors.exception_handler",
    "PAGE_SIZE": 50,
}
# Requests per token (or per signed-in user) and window; a token may carry its own limit.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/min")
# How long the answer to a POST with an Idempotency-Key is kept for replay.
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=48)
SPECTACULAR_SETTINGS = {
    "TITLE": "综治中心平台 API",
    "DESCRIPTION": (
        "县综治中心平台对乡镇（街道）、村（社区）综治中心系统开放的 REST 接口（/api/v1/）。\n\n"
        "**认证**：请求头 `Authorization: Token <令牌>`。令牌由系统管理员在后台为接口账户创建（只显示一次）、"
        "随时可吊销；令牌能看到、能操作的范围与该账户所在中心的辖区完全相同，辖区外的记录一律返回 404。\n\n"
        "**增量同步**：列表接口按写入顺序游标分页。保存响应里的 `cursor`，下次以 `?cursor=` 请求，"
        "即可取得此后新增或变更的记录，并发写入时不漏不重。首次同步可用 `updated_since` 过滤。\n\n"
        "**幂等登记**：登记时带 `external_id`（客户端 UUID）或 `Idempotency-Key` 头，重试不会重复登记。\n\n"
        "**防止覆盖**：详情响应的 `ETag` 即版本号；修改时带 `If-Match` 头（不符返回 412）或 `version` 字段"
        "（不符返回 409）。\n\n"
        "**错误格式**：`{\"code\": …, \"detail\": 中文说明, \"errors\": {字段路径: [错误信息]}}`。\n\n"
        "**限流**：每个令牌每分钟的请求数有上限，超出返回 429 与 `Retry-After` 头。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response components apart: read-only fields stay out of request bodies.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "CaseKindEnum": "cases.models.CaseKind",
        "PersonKindEnum": "cases.models.PersonKind",
        "RegisteredCaseKindEnum": "cases.apis.API_KINDS",
        "AnswerOutcomeEnum": "petitions.models.AnswerOutcome",
        "MediationOutcomeEnum": "mediation.models.Outcome",
        "AgreementStatusEnum": "mediation.models.AgreementStatus",
        "StatusEnum": "cases.models.Status",
    },
    # The hall has no internet: Swagger UI is served from the vendored sidecar package.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Notifications --------------------------------------------------------------------------
# Pluggable senders for SMS and email; the console sender logs instead of sending.
NOTIFICATION_SMS_SENDER = env.str("NOTIFICATION_SMS_SENDER", default="cases.senders.ConsoleSender")
NOTIFICATION_EMAIL_SENDER = env.str("NOTIFICATION_EMAIL_SENDER", default="cases.senders.ConsoleSender")

# Administrative code of the installation's county, used in tracking numbers (县代码-年-序号).
ZONGZHI_DEMO_PASSWORD = env.str("ZONGZHI_DEMO_PASSWORD", default="zongzhi2026")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
