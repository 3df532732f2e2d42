"""A name service for tests: names resolve to what the test says, and can be pointed elsewhere mid-test."""

import ipaddress
import socket

from services.notify.targets import IPAddress

PUBLIC = ipaddress.ip_address("93.184.215.14")
"""A public address that names resolve to unless the test says otherwise (nothing is ever sent there)."""


class FakeDns:
    """Resolves every name to `PUBLIC`, except those set in `names` (an empty list: the name does not exist)."""

    def __init__(self, **names: str) -> None:
        self.names: dict[str, list[IPAddress]] = {}
        for name, address in names.items():
            self.point(name.replace("_", "."), address)

    def point(self, name: str, *addresses: str) -> None:
        """From now on, `name` resolves to `addresses` (DNS rebinding, when it did not before)."""
        self.names[name] = [ipaddress.ip_address(address) for address in addresses]

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        addresses = self.names.get(host, [PUBLIC])
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return addresses
