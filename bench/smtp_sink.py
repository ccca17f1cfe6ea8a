"""An SMTP server that accepts every message and throws it away, as fast as it can.

    python bench/smtp_sink.py --port 2525

Prints "ready <port>" when listening, and on SIGTERM the number of messages accepted. Only
for benchmarks: it understands just enough SMTP for smtplib (EHLO/HELO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT).
"""

import argparse
import asyncio
import signal
import sys

count = 0


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global count
    writer.write(b"220 sink ESMTP\r\n")
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await reader.readuntil(b"\r\n.\r\n")
                count += 1
                writer.write(b"250 2.0.0 accepted\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, limit=2**22)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    print(f"accepted {count}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    sys.exit(asyncio.run(main(parser.parse_args().port)))
