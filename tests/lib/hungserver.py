#!/usr/bin/python3
"""A server that accepts connections and never answers, for tests only: hungserver.py PORT LOG

Stands in for a git (or any) server that hangs after the TCP handshake — something a real
server cannot be made to do on purpose. Each accepted connection is logged as "accepted" and
then held open, reading and discarding whatever the client sends, until the client goes away.
"""
import socket
import sys
import threading


def hold(conn, log):
    with conn:
        with open(log, "a") as f:
            f.write("accepted\n")
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass
        with open(log, "a") as f:
            f.write("closed\n")


def main():
    port, log = int(sys.argv[1]), sys.argv[2]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    open(log, "a").close()
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=hold, args=(conn, log), daemon=True).start()


if __name__ == "__main__":
    main()
