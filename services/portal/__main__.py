"""`python -m services.portal`: the portal on `PORTAL_HTTP_HOST`:`PORTAL_HTTP_PORT`."""

import uvicorn

from services.portal.app import create_app
from services.portal.settings import PortalSettings


def main() -> None:
    settings = PortalSettings()
    # no access log: the representative's link and the login's code travel in query strings (the app logs paths)
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    main()
