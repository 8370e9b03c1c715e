"""Reports as one self-contained HTML page (inline CSS, no script, no external link), so that they open
readably in MLflow's artifact viewer, which shows an HTML artifact on its own in a sandbox: Great
Expectations' Data Docs load bootstrap and their styles from CDNs and relative paths, and render
unstyled there (and offline)."""

from __future__ import annotations

import html

STYLE = """body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em;color:#1f2328;max-width:72em}
h1,h2{border-bottom:1px solid #d0d7de;padding-bottom:.3em}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #d0d7de;padding:.35em .7em;text-align:left;vertical-align:top}th{background:#f6f8fa}
tr:nth-child(even) td{background:#fbfcfd}code{background:#f6f8fa;padding:.1em .3em;border-radius:4px}"""


def page(markdown_text: str, title: str) -> str:
    """`markdown_text` (tables included) as a standalone HTML page titled `title`."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"])
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")
