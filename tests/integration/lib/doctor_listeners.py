#!/usr/bin/env python3
"""Real listeners for doctor's test, each the way a program would make it:
  8001  socketserver.TCPServer, its default backlog (request_queue_size = 5)
  8002  socket.listen(3): the listener the test fills
  8003  socket.listen(4096): clamped by the namespace's somaxconn
  8005  [::1], IPV6_V6ONLY, listen(7)
None of them ever calls accept(). Prints "ready" and sleeps until killed.
"""
import socket
import socketserver
import sys
import time

socketserver.TCPServer.allow_reuse_address = True
default_server = socketserver.TCPServer(("10.77.0.1", 8001), socketserver.BaseRequestHandler)

full = socket.socket()
full.bind(("10.77.0.1", 8002))
full.listen(3)

clamped = socket.socket()
clamped.bind(("0.0.0.0", 8003))
clamped.listen(4096)

v6 = socket.socket(socket.AF_INET6)
v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
v6.bind(("::1", 8005))
v6.listen(7)

print("ready", flush=True)
sys.stdout.close()
while True:
    time.sleep(3600)
