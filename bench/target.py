"""The private host of the jump-server benchmark; runs inside the benchmark's network namespace.

Three TCP services on one address:
  SOURCE_PORT  sends SOURCE_BYTES bytes (zeros: SSH does not compress here) and closes;
  HELLO_PORT   sends "ok\n" and closes (the connection-rate payload);
  IDLE_PORT    sends nothing and holds the connection until the client closes it.
SOURCE_PORT and HELLO_PORT answer every connection in a thread of its own; IDLE_PORT holds all its
connections in one thread with a selector (tens of thousands of them cost a file descriptor each).
Usage: python3 target.py ADDRESS SOURCE_BYTES
"""
import resource
import selectors
import socket
import sys
import threading

SOURCE_PORT, HELLO_PORT, IDLE_PORT = 5001, 5002, 5003


def source(conn, total):
    buf = bytes(1 << 20)
    left = total
    with conn:
        while left > 0:
            n = min(left, len(buf))
            conn.sendall(buf if n == len(buf) else buf[:n])
            left -= n


def hello(conn, _):
    with conn:
        conn.sendall(b"ok\n")


def serve_idle(address, port):
    """Holds every connection to `port` in this one thread until its client closes it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(4096)
    s.setblocking(False)
    sel = selectors.DefaultSelector()  # epoll
    sel.register(s, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select():
            if key.fileobj is s:
                while True:
                    try:
                        conn, _ = s.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, conn)
            else:
                conn = key.data
                try:
                    data = conn.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(conn)
                    conn.close()


def serve(address, port, handler, arg):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(4096)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handler, args=(conn, arg), daemon=True).start()


def main():
    address, total = sys.argv[1], int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, 1 << 17)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))  # root may raise the hard limit
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    threading.stack_size(256 * 1024)
    for port, handler in ((SOURCE_PORT, source), (HELLO_PORT, hello)):
        threading.Thread(target=serve, args=(address, port, handler, total), daemon=True).start()
    print("ready", flush=True)
    serve_idle(address, IDLE_PORT)


if __name__ == "__main__":
    main()
