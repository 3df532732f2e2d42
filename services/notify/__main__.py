"""`python -m services.notify`: the notify service on `NOTIFY_HTTP_HOST`:`NOTIFY_HTTP_PORT`."""

from jobbro.http_limits import serve
from services.notify.app import create_app
from services.notify.settings import NotifySettings


def main() -> None:
    settings = NotifySettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
