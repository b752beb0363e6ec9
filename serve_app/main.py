"""Serve the search API on settings.host:settings.port until Ctrl-C.

python -m serve_app.main [--config serve_app/configs/cpu.yaml]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ray import serve

from common.embedded import init_ray
from common.settings import Settings, get_settings
from serve_app.app import build_search_app
from serve_app.config import DEFAULT_SERVE_CONFIG, SearchAppConfig

APP_NAME = "helio-search"


def serve_api(settings: Settings, config: SearchAppConfig) -> None:
    """Start Serve's HTTP proxy, deploy the search app and block; Ctrl-C shuts Serve down."""
    init_ray(settings)
    # A slow or stalled client cannot hold a replica: past this, Serve's proxy answers 408 and cancels it.
    timeout_s = config.router.limits.request_timeout_s
    serve.start(http_options={"host": settings.host, "port": settings.port, "request_timeout_s": timeout_s})
    try:
        serve.run(build_search_app(config, settings), name=APP_NAME, route_prefix="/", blocking=True)
    except KeyboardInterrupt:
        pass
    finally:
        serve.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serve_app.main", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_SERVE_CONFIG,
        help="Serve config file or bare SearchAppConfig YAML",
    )
    args = parser.parse_args(argv)
    serve_api(get_settings(), SearchAppConfig.from_yaml(args.config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
