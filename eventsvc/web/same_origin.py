"""Downloads start only from our own pages.

Each export (registrations CSV, attendance sheet, totals CSV, the door's offline list) writes
an audit entry in the signed-in person's name. A link on another site must not be able to
make one by sending their browser here. Browsers say where a request comes from in
Sec-Fetch-Site: `same-origin` (a click on our own page), `none` (typed, a bookmark, the
browser's downloads list), or `same-site` / `cross-site`, which are refused. A client that
sends no such header (an older browser, a script with an API token) is let through; for
browsers, the session cookie's SameSite=Lax already keeps other sites' subrequests out.
"""

from __future__ import annotations

from functools import wraps

from flask import render_template, request
from flask_babel import gettext as _

from .api.errors import api_error

ALLOWED_SITES = frozenset({"same-origin", "none"})


def same_origin_only(view):
    @wraps(view)
    def checked(*args, **kwargs):
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site.strip().lower() not in ALLOWED_SITES:
            message = _(
                "This download opens only from this site's own pages. Please start it there."
            )
            if request.path.startswith("/api/"):
                return api_error(403, "forbidden", message)
            return render_template("error.html", code=403, message=message), 403
        return view(*args, **kwargs)

    return checked
