"""`python -m services.notify`: the notify service on `NOTIFY_HTTP_HOST`:`NOTIFY_HTTP_PORT`."""

import uvicorn

from services.notify.app import create_app
from services.notify.settings import NotifySettings


def main() -> None:
    settings = NotifySettings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
