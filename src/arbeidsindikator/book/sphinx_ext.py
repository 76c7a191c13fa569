"""Sphinx extension of the book: its stylesheet, alt text for glued figures, no external assets.

Registered in ``_config.yml`` (``sphinx.extra_extensions``). It

- adds ``static/arbeidsindikator.css`` (scrolling long tables, table typography);
- gives every image without alt text the description stored in its PNG ``Description`` field
  (written by :meth:`arbeidsindikator.book.chapter.Chapter.glue_figure`);
- removes the theme's and extensions' references to scripts, styles or fonts on other hosts,
  so that a page loads nothing from the network (MathJax comes from sphinx-mathjax-offline).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

STATIC = Path(__file__).with_name("static")


def _external(url: str | None) -> bool:
    """True for a URL on another host (http:, https: or protocol-relative //host/...)."""
    u = str(url or "").strip().lower()
    return u.startswith(("http:", "https:", "//"))


def _add_static(app: Any) -> None:
    app.config.html_static_path.append(str(STATIC))


def _png_description(path: Path) -> str | None:
    try:
        from PIL import Image

        with Image.open(path) as im:
            return (getattr(im, "text", None) or im.info).get("Description")
    except Exception:  # not a PNG we wrote, or unreadable: leave the image alone
        return None


def _alt_text(app: Any, doctree: Any, docname: str) -> None:
    from docutils import nodes

    src = Path(app.srcdir)
    doc_dir = (src / docname).parent
    for img in doctree.findall(nodes.image):
        if img.get("alt"):
            continue
        uri = str(img.get("uri", ""))
        for cand in (Path(uri), src / uri.lstrip("/"), doc_dir / uri):
            if cand.is_file():
                alt = _png_description(cand)
                if alt:
                    img["alt"] = alt
                break


def _unwanted(asset: Any) -> bool:
    """An asset on another host, or sphinx-thebe's (live code needs a server; jupyter-book adds
    its inline script twice, a console error)."""
    name = str(getattr(asset, "filename", asset) or "")
    body = str((getattr(asset, "attributes", None) or {}).get("body", ""))
    return _external(name) or name.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body \
        or bool(re.search(r"""["'](https?:)?//""", body))


def _drop_external_assets(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    for key in ("script_files", "css_files"):
        files = context.get(key)
        if files:
            kept, seen = [], set()
            for f in files:
                ident = (str(getattr(f, "filename", f)), str((getattr(f, "attributes", None) or {}).get("body", "")))
                if not _unwanted(f) and ident not in seen:
                    kept.append(f)
                    seen.add(ident)
            context[key] = kept
    # the theme reports an empty colour mode as a console error; start in light mode
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _add_static)
    app.add_css_file("arbeidsindikator.css")
    app.connect("doctree-resolved", _alt_text)
    app.connect("html-page-context", _drop_external_assets, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
