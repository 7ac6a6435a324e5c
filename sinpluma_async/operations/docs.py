"""The /docs page: Swagger UI 5 from the swagger-ui-py package, served by the service itself.

Nothing is loaded from elsewhere, so the page works without internet access and under a strict
Content-Security-Policy: scripts only from the service (the page starts Swagger UI from a file,
not an inline script); Swagger UI's own inline styles and data: icons are the only allowances.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# Only the package's static files are used: its page starts Swagger UI with an inline script.
ASSETS = Path(str(files("swagger_ui") / "static"))
ASSET_NAMES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sin Pluma API</title>
<link rel="icon" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body></html>"""
START_SCRIPT_NAME = "start.js"
START_SCRIPT = 'window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});\n'
