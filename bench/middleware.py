"""Bench-only: which worker process answered (`X-Worker-Pid`), so the client can spread its
keep-alive connections evenly over the workers (bench/sessions_list.py, open_balanced)."""

import os


class WorkerPidMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.pid = str(os.getpid())

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Worker-Pid"] = self.pid
        return response
