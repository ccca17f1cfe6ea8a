"""Whether a TCP port is free to listen on, for the launchers that start local servers (the
embedded database and Redis, the development stack, the mail catcher)."""

import socket


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now. It binds as a server would, with
    SO_REUSEADDR, so a port left in TIME_WAIT by a server that has stopped counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
