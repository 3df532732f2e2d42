"""`python -m services.activation`: the service on uvicorn, at ACTIVATION_HTTP_HOST:ACTIVATION_HTTP_PORT."""

from jobbro.http_limits import serve
from services.activation.app import create_app
from services.activation.settings import ActivationSettings


def main() -> None:
    settings = ActivationSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
