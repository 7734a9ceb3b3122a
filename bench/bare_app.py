"""The floor for bench/module_page.py: a bare Flask route returning a fixed HTML page."""

import os
from pathlib import Path

from flask import Flask

app = Flask(__name__)
PAGE = Path(os.environ["BENCH_PAGE_FILE"]).read_text(encoding="utf-8")


@app.get("/page")
def page() -> str:
    return PAGE
