#!/usr/bin/env python3
"""N real clients (Python sockets) that connect to HOST:PORT and stay
connected, never sending: they sit in the server's accept queue. Prints
"connected N" and sleeps until killed."""
import socket
import sys
import time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held = []
for _ in range(n):
    s = socket.create_connection((host, port), timeout=5)
    held.append(s)
print(f"connected {len(held)}", flush=True)
sys.stdout.close()
while True:
    time.sleep(3600)
