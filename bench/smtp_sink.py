"""An SMTP server that accepts every message and throws it away, as cheaply as it can.

    python bench/smtp_sink.py --port 2525

The benchmark's fallback when Postfix's smtp-sink is not installed. Prints "ready <port>" when
listening, and on SIGTERM the number of messages accepted. Only for benchmarks: it speaks just
enough SMTP for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps no message
text: an asyncio Protocol that only looks for line ends and the end-of-data marker, since every
microsecond it spends is taken from the processes being measured on the same cores.
"""

import argparse
import asyncio
import signal
import sys

END = b"\r\n.\r\n"
count = 0


class SinkProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        global count
        buffer = self.buffer + data if self.buffer else data
        replies = []
        while buffer:
            if self.in_data:
                end = buffer.find(END)
                if end < 0:
                    # Keep only what could be the start of the end marker.
                    buffer = buffer[-4:]
                    break
                buffer = buffer[end + len(END) :]
                self.in_data = False
                count += 1
                replies.append(b"250 2.0.0 accepted\r\n")
                continue
            end = buffer.find(b"\r\n")
            if end < 0:
                break
            verb = buffer[:4].upper()
            buffer = buffer[end + 2 :]
            if verb == b"EHLO":
                replies.append(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"DATA":
                replies.append(b"354 go ahead\r\n")
                self.in_data = True
                # The end marker's leading CRLF is the one that ended the DATA line.
                buffer = b"\r\n" + buffer
            elif verb == b"QUIT":
                replies.append(b"221 bye\r\n")
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
            else:
                replies.append(b"250 ok\r\n")
        self.buffer = buffer
        if replies:
            self.transport.write(b"".join(replies))


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(SinkProtocol, "127.0.0.1", port)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    print(f"accepted {count}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    sys.exit(asyncio.run(main(parser.parse_args().port)))
