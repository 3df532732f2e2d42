"""`python -m services.subsidy`: the subsidy service on `SUBSIDY_HTTP_HOST`:`SUBSIDY_HTTP_PORT`."""

from jobbro.http_limits import serve
from services.subsidy.app import create_app
from services.subsidy.settings import SubsidySettings


def main() -> None:
    settings = SubsidySettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
