"""`python -m services.subsidy`: the subsidy service on `SUBSIDY_HTTP_HOST`:`SUBSIDY_HTTP_PORT`."""

import uvicorn

from services.subsidy.app import create_app
from services.subsidy.settings import SubsidySettings


def main() -> None:
    settings = SubsidySettings()  # type: ignore[call-arg]  # required fields come from the environment
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
