"""`python -m services.activation`: the service on uvicorn, at ACTIVATION_HTTP_HOST:ACTIVATION_HTTP_PORT."""

import uvicorn

from services.activation.app import create_app
from services.activation.settings import ActivationSettings


def main() -> None:
    settings = ActivationSettings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
