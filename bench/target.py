"""The private host of the jump-server benchmark; runs inside the benchmark's network namespace.

Three TCP services on one address, each answering every connection in a thread of its own:
  SOURCE_PORT  sends SOURCE_BYTES bytes (zeros: SSH does not compress here) and closes;
  HELLO_PORT   sends "ok\n" and closes (the connection-rate payload);
  IDLE_PORT    sends nothing and holds the connection until the client closes it.
Usage: python3 target.py ADDRESS SOURCE_BYTES
"""
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


def idle(conn, _):
    with conn:
        while conn.recv(4096):
            pass


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
    threading.stack_size(256 * 1024)
    for port, handler in ((SOURCE_PORT, source), (HELLO_PORT, hello)):
        threading.Thread(target=serve, args=(address, port, handler, total), daemon=True).start()
    print("ready", flush=True)
    serve(address, IDLE_PORT, idle, None)


if __name__ == "__main__":
    main()
