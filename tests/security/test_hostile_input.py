"""Hostile input never gives a 500 and never comes back as live markup.

Every POST route of the app is sent the forms found on the app's own pages (or, for the few
that need a state the world here does not have, the fields of the WTForms class the view
uses), filled with hostile values: markup, SQL, bidirectional controls, NUL, 5,000
characters, astral emoji and a ZWJ sequence, huge and negative numbers, extreme dates and
path traversal; a file field gets a small CSV holding them. The roles allowed by the route
matrix take turns, so every role sends some and the count stays bounded. Afterwards every
page is read again as every role, to show the stored values safely. GET routes that read
their query string get the same values there, and routes with text in their path get
non-ASCII text, overlong UTF-8 and encoded traversal there.

Whatever the answer (a validation message, a refusal, a redirect), it is below 500, and the
markup never comes back unescaped in a page. In testing mode an error in a view is raised
rather than turned into a 500 page: it is reported with the request that caused it.
"""

from __future__ import annotations

import inspect
import io
import itertools
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
    TimeField,
)

from lms.models import Role
from lms.web import IdConverter
from tests.conftest import login_as
from tests.security.test_route_matrix import (
    ADMIN,
    ANON,
    COACH,
    COORD,
    EXPECTED,
    LOGIN,
    SLUGS,
    TRAINEE,
    TRAINER,
    URL_ARGS,
    _actors,
    _attempt_of,
    _certificates,
    _coaching,
    _course,
)

# --- The hostile values -----------------------------------------------------------------------

# Markup as text and breaking out of an attribute; what must never come back as it was sent.
MARKUP_VALUE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
SQL = "' OR 1=1 -- ../../etc/passwd"  # SQL, and path traversal
BIDI = "Ana\u202eexe.pdf\u202c"  # a right-to-left override
NUL = "nul\x00byte"
LONG = "A" * 5000
EMOJI = "\U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467"  # astral emoji and a ZWJ family
HUGE = str(10**30)
TEXTS = [MARKUP_VALUE, SQL, BIDI, NUL, LONG, EMOJI]
NUMBERS = [HUGE, "-" + HUGE, "-1"]
DATES = ["0001-01-01", "9999-12-31", "99999-01-01"]
TIMES = ["25:61", "99999:00"]
CHOICES = [HUGE, "-1", MARKUP_VALUE, "\u202e" + NUL + LONG]
QUERY_VALUES = [HUGE, "-1", *DATES, MARKUP_VALUE, NUL, "\u202e" + EMOJI + LONG]
ALONE_VALUES = [HUGE, "-1", "0001-01-01", "9999-12-31", NUL]
RAW_QUERY_VALUE = "%C0%AE%C0%AE%FF%FE%ED%A0%80"  # overlong, invalid and surrogate UTF-8, as sent
# Text in a path, already URL-encoded: non-ASCII, overlong and invalid UTF-8, traversal, NUL.
PATH_VALUES = ["%C3%A4%C3%B6", "%C0%AE%C0%AE%C0%AF", "..%2F..%2Fetc%2Fpasswd", "%00", quote(MARKUP_VALUE)]
PATH_VALUES += ["A" * 3000, "%F0%9F%98%80", "%ED%A0%80", "%FF%FE"]

# The order in which roles take turns: anonymous first, for the forms of logging in.
ROLE_ORDER = [ANON, ADMIN, COORD, TRAINER, COACH, TRAINEE]

# --- Reading the forms of a page --------------------------------------------------------------

# Text with a format of its own (an address, a password, a code): kept valid while free text
# is hostile, and hostile with the choices, so that neither hides the other.
FORMATTED = ("email", "link", "password", "code", "token")


@dataclass
class Field:
    name: str
    kind: str  # text, format, number, date, time, choice, hidden, file
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, Field] = field(default_factory=dict)


def _text_kind(name: str) -> str:
    return "format" if any(word in name for word in FORMATTED) else "text"


class _FormParser(HTMLParser):
    """The forms of a page: their action, method and fields with the values shown."""

    INPUT_KINDS = {"number": "number", "date": "date", "time": "time", "hidden": "hidden", "file": "file"}
    INPUT_KINDS |= dict.fromkeys(["email", "url", "password"], "format")

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            action = urlsplit(found.get("action") or self.page).path
            self._form = Form(action, found.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select.options.append(found.get("value", ""))
            if "selected" in found and not self._select.value:
                self._select.value = found.get("value", "")
        elif self._form is not None and found.get("name"):
            self._field(self._form, tag, found["name"], found)

    def _field(self, form: Form, tag: str, name: str, found: dict[str, str]) -> None:
        kind = found.get("type", "text").lower()
        if tag == "select":
            self._select = form.fields.setdefault(name, Field(name, "choice"))
        elif tag == "textarea":
            self._textarea = form.fields[name] = Field(name, "text")
        elif tag != "input" or kind in {"submit", "button", "reset", "image"}:
            return
        elif kind in {"checkbox", "radio"}:
            choice = form.fields.setdefault(name, Field(name, "choice"))
            choice.options.append(found.get("value", "on"))
            if "checked" in found:
                choice.value = found.get("value", "on")
        else:
            form.fields[name] = Field(name, self.INPUT_KINDS.get(kind, _text_kind(name)), found.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(url: str, html: str) -> list[Form]:
    parser = _FormParser(url)
    parser.feed(html)
    return parser.forms


# Forms that no page of the world shows (they need a state it does not have: people to
# certify, a staged roster, a second factor, a join request): their fields come from the
# WTForms class the view uses, plus the names the view reads from ``request.form``.
def _fallback_forms() -> dict[str, tuple[Any, str, dict[str, str]]]:
    from lms.auth.forms import SetPasswordForm
    from lms.auth.mfa_forms import AppCodeForm, ChallengeForm, ConfirmSetupForm, DisableForm
    from lms.certificates.forms import IssueForm
    from lms.courses.forms import ConfirmImportForm, PersonPickForm
    from lms.curriculum.forms import AllowAttemptsForm
    from lms.forms import BaseForm

    issue = (IssueForm, "", {"scope": "all"})
    return {
        "auth.activate_submit": (SetPasswordForm, "", {}),
        "auth.second_factor_submit": (ChallengeForm, "", {}),
        "mfa.setup_submit": (ConfirmSetupForm, "", {}),
        "mfa.renew_codes_submit": (AppCodeForm, "renew", {}),
        "mfa.disable_submit": (DisableForm, "disable", {}),
        "mfa.reset_submit": (BaseForm, "", {}),
        "certificates.course_issue": issue,
        "certificates.track_issue": issue,
        "certificates.coaching_issue": issue,
        "rosters.confirm": (ConfirmImportForm, "", {}),
        "enrolments.people_add": (PersonPickForm, "", {}),
        "enrolments.people_decide": (BaseForm, "", {"decision": "approve"}),
        "enrolments.join": (BaseForm, "", {}),
        "account.dismiss_notice": (BaseForm, "", {}),
        # Shown only once a learner has used every attempt.
        "learn.allow_attempts": (AllowAttemptsForm, "", {}),
    }


def _class_kind(item: Any) -> str:
    kinds = [
        (FileField, "file"), (DateField, "date"), (TimeField, "time"), (HiddenField, "hidden"),
        ((IntegerField, DecimalField, FloatField), "number"), (PasswordField, "format"),
    ]  # fmt: skip
    found = next((kind for classes, kind in kinds if isinstance(item, classes)), None)
    if found is None and isinstance(item, StringField):
        return _text_kind(item.name)
    return found or "choice"


def _class_form(app: Any, url: str, form_class: Any, prefix: str, extra: dict[str, str]) -> Form:
    with app.test_request_context():
        instance = form_class(prefix=prefix, meta={"csrf": False})
        fields = {item.name: Field(item.name, _class_kind(item), str(item.default or "")) for item in instance}
    fields |= {name: Field(name, "choice", value, [value]) for name, value in extra.items()}
    return Form(url, "post", fields)


# --- Filling them -----------------------------------------------------------------------------

BASELINE = {"text": "Plain text", "number": "5", "date": "2030-03-03", "time": "10:00", "hidden": ""}
CSRF = object()  # stands for the client's token, under the form's own (prefixed) name
_SERIAL = itertools.count(1)


def _baseline(item: Field) -> Any:
    """A valid value for the field: what the page shows, else a plain one of its kind."""
    if item.kind == "file":
        return _csv("Ana Anić")
    if item.kind == "choice":  # what the page chose, else none (when allowed), else the first
        return item.value or ("" if "" in item.options else next(iter(item.options), ""))
    if item.value:
        return item.value
    if item.kind == "time" and "end" in item.name:
        return "11:30"
    if item.kind == "format":  # addresses must be new: people are created with them
        return f"plain.{next(_SERIAL)}@example.org" if "email" in item.name else "https://example.org/plain"
    return BASELINE[item.kind]


def _csv(value: str) -> tuple[io.BytesIO, str]:
    """A small roster holding ``value`` in its cells (and in its name, for traversal)."""
    cells = value.replace('"', '""')
    body = f'full_name,email,country\n"{cells}",hostile@example.org,"{cells}"\n'.encode()
    return io.BytesIO(body), f"{value}.csv" if "../" in value else "roster.csv"


def _submissions(form: Form) -> list[dict[str, Any]]:
    """The form filled with hostile values: free text (and files) with each text value, then
    dates, numbers and times with theirs, then choices, hidden fields and formatted text with
    theirs; every other field keeps a valid value, so the hostile one reaches as deep as it can."""
    fields = [item for item in form.fields.values() if not item.name.endswith("csrf_token")]
    tokens = [item.name for item in form.fields.values() if item.name.endswith("csrf_token")]

    def filled(kinds: set[str], value: str) -> dict[str, Any]:
        data: dict[str, Any] = dict.fromkeys(tokens, CSRF)
        for item in fields:
            if item.kind not in kinds:
                data[item.name] = _baseline(item)
            else:
                data[item.name] = _csv(value) if item.kind == "file" else value
        return data

    present = {item.kind for item in fields}
    batches = [({"text", "file"}, TEXTS), ({"date"}, DATES), ({"number"}, NUMBERS), ({"time"}, TIMES)]
    batches.append(({"choice", "hidden", "format"}, CHOICES))
    found = [filled(kinds, value) for kinds, values in batches if kinds & present for value in values]
    return found or [dict.fromkeys(tokens, CSRF)]


# --- The world and its addresses --------------------------------------------------------------


def _world(app: Any, make_user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The route matrix's world: the five actors, a course, a pairing, a certificate..."""
    actors = _actors(make_user)
    objects: dict[str, Any] = {"attempt": _attempt_of(app, make_user(roles=[Role.TRAINEE]))}
    objects |= _course(app, actors[TRAINER], make_user(roles=[Role.TRAINEE]))
    objects |= _coaching(app, actors[COACH], make_user(roles=[Role.TRAINEE]))
    objects |= _certificates(app, actors[TRAINEE], actors[COORD], objects["course"])
    objects["person"] = make_user(roles=[Role.TRAINEE], password=False).id
    return actors, objects


def _args(endpoint: str, rule: Any, objects: dict[str, Any]) -> dict[str, Any]:
    """The URL arguments of ``rule`` for the world's objects, as the route matrix sets them."""
    args: dict[str, Any] = {name: URL_ARGS[name].format(**objects) for name in rule.arguments if name != "slug"}
    if endpoint.startswith("coaching.session") and "session_id" in rule.arguments:
        args["session_id"] = str(objects["coaching_session"])
    if "slug" in rule.arguments:
        args["slug"] = SLUGS.get(endpoint, "first-module")
    return args


def _url(app: Any, endpoint: str, rule: Any, objects: dict[str, Any]) -> str:
    return app.url_map.bind("localhost").build(endpoint, _args(endpoint, rule, objects))


def _routes(app: Any, method: str) -> list[tuple[str, Any]]:
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
    return [(rule.endpoint, rule) for rule in rules if rule.endpoint != "static" and method in rule.methods]


def _allowed(endpoint: str, method: str) -> list[str]:
    """The roles whose request reaches the view (neither refused nor sent to log in), in turn order."""
    outcomes = EXPECTED[(endpoint, method)]
    # A 404 for some roles only is a refusal (the pair's own coaching record).
    refused = {403, LOGIN} | ({404} if any(value not in (403, 404, LOGIN) for value in outcomes.values()) else set())
    return [role for role in ROLE_ORDER if outcomes[role] not in refused]


# Pages that are files, not forms: not read for their fields.
NOT_PAGES = ("download", "export", "_ics", "template", "feed", "health", "job_status")


class Actors:
    """A client per role, signed in again before each use: logging out, a new password or a
    reset second factor end a session."""

    def __init__(self, app: Any, make_user: Any) -> None:
        self.people, self.objects = _world(app, make_user)
        self.clients = {role: app.test_client() for role in ROLE_ORDER}

    def client(self, role: str) -> Any:
        if role != ANON:
            login_as(self.clients[role], self.people[role])
        return self.clients[role]


class Pages:
    """The POST forms on the pages a role sees, by action. Pages are read as needed, those
    whose address shares most with the form's first (a session's form is on its pages)."""

    def __init__(self, app: Any, actors: Actors, role: str) -> None:
        self.actors, self.role = actors, role
        self.unread = [
            _url(app, endpoint, rule, actors.objects)
            for endpoint, rule in _routes(app, "GET")
            if EXPECTED[(endpoint, "GET")][role] == 200 and not any(word in endpoint for word in NOT_PAGES)
        ]
        self.forms: dict[str, list[Form]] = {}

    def forms_for(self, action: str) -> list[Form]:
        self.unread.sort(key=lambda page: len(os.path.commonpath([page, action]).split("/")))
        while action not in self.forms and self.unread:
            page = self.unread.pop()
            response = self.actors.client(self.role).get(page)
            if response.mimetype != "text/html":
                continue
            for form in page_forms(page, response.get_data(as_text=True)):
                same = self.forms.setdefault(form.action, []) if form.method == "post" else []
                if form.method == "post" and all(other.fields.keys() != form.fields.keys() for other in same):
                    same.append(form)
        return self.forms.get(action, [])


# --- Sending ----------------------------------------------------------------------------------


def _send(client: Any, method: str, url: str, what: str, **kwargs: Any) -> list[str]:
    """Make one request (following redirects, to show the messages it left) and say what
    went wrong: an error raised by the app, a 5xx, or markup echoed as markup."""
    try:
        response = client.open(url, method=method, follow_redirects=True, **kwargs)
    except Exception as error:  # the app is in testing mode: the error of a 500 comes here
        return [f"{what}: {type(error).__name__}: {error}"[:500]]
    found = []
    for answer in [*response.history, response]:
        if answer.status_code >= 500:
            found.append(f"{what}: {answer.status_code} at {answer.request.path}")
        elif answer.mimetype == "text/html":
            body = answer.get_data(as_text=True)
            found += [f"{what}: {mark!r} unescaped in {answer.request.path}" for mark in MARKUP if mark in body]
    return found


def _describe(data: dict[str, Any]) -> str:
    shown = {key: value if isinstance(value, str) else "<file>" for key, value in data.items() if "csrf" not in key}
    return ", ".join(f"{key}={value[:30]!r}" for key, value in shown.items())


def _turns(roles: list[str], items: list[Any], turn: Iterator[int]) -> list[tuple[str, Any]]:
    """Each item once, for one of the roles in turn (the turns go on from form to form)."""
    return [(roles[next(turn) % len(roles)], item) for item in items]


def test_every_post_form_of_every_role_survives_hostile_values(app: Any, make_user: Any) -> None:
    actors = Actors(app, make_user)
    pages = {role: Pages(app, actors, role) for role in ROLE_ORDER}
    fallback = _fallback_forms()
    turn = itertools.count()
    problems: list[str] = []
    sent: set[str] = set()
    for endpoint, rule in _routes(app, "POST"):
        url = _url(app, endpoint, rule, actors.objects)
        roles = _allowed(endpoint, "POST")
        if endpoint in fallback:
            forms = [_class_form(app, url, *fallback[endpoint])]
        else:
            forms = next((found for role in roles if (found := pages[role].forms_for(url))), [])
            assert forms, f"no page shows the form of {endpoint}: add it to the fallback forms"
        for form in forms:
            for role, filled in _turns(roles, _submissions(form), turn):
                client = actors.client(role)
                data = {key: client.csrf_token() if value is CSRF else value for key, value in filled.items()}
                problems += _send(client, "POST", url, f"POST {url} as {role} with {_describe(data)}", data=data)
                sent.add(role)
    assert sent == set(ROLE_ORDER)
    # What was stored is shown safely on every page, to every role.
    for role in ROLE_ORDER:
        for endpoint, rule in _routes(app, "GET"):
            if EXPECTED[(endpoint, "GET")][role] == 200 and not any(word in endpoint for word in NOT_PAGES):
                url = _url(app, endpoint, rule, actors.objects)
                problems += _send(actors.client(role), "GET", url, f"GET {url} as {role} after the hostile forms")
    assert not problems, "\n".join(problems)


def _query_names(app: Any, endpoint: str) -> set[str]:
    """The query parameters a view reads: ``args.get("name")`` and the fields of forms made
    from ``request.args``, in the view and the functions of its module it calls."""
    view = inspect.unwrap(app.view_functions[endpoint])
    module = sys.modules[view.__module__]
    names: set[str] = set()
    seen: set[Any] = set()
    todo = [view]
    while todo:
        function = todo.pop()
        if function in seen:
            continue
        seen.add(function)
        source = inspect.getsource(function)
        names.update(re.findall(r'args\.get\(\s*"(\w+)"', source))
        for form_name in re.findall(r"(\w+Form)\(request\.args\)", source):
            with app.test_request_context():
                names.update(item.name for item in getattr(module, form_name)(meta={"csrf": False}))
        for called in re.findall(r"\b(\w+)\(", source):
            target = getattr(module, called, None)
            if inspect.isfunction(target) and target.__module__ == module.__name__:
                todo.append(target)
    return names


def test_every_query_string_survives_hostile_values(app: Any, make_user: Any) -> None:
    """Each GET route that reads its query string, as the first role that reaches it: every
    parameter it reads at once with each hostile value (and with bytes that are not UTF-8),
    then each alone with the numbers, dates and NUL (alone, so that no other parameter's
    refusal stops the request first)."""
    actors = Actors(app, make_user)
    problems: list[str] = []
    for endpoint, rule in _routes(app, "GET"):
        names = sorted(_query_names(app, endpoint))
        if not names:
            continue
        role = _allowed(endpoint, "GET")[0]
        url = _url(app, endpoint, rule, actors.objects)
        queries = [urlencode(dict.fromkeys(names, value)) for value in QUERY_VALUES]
        queries += [urlencode({name: value}) for name in names for value in ALONE_VALUES]
        queries.append("&".join(f"{name}={RAW_QUERY_VALUE}" for name in names))
        for query in queries:
            full = f"{url}?{query}"
            problems += _send(actors.client(role), "GET", full, f"GET {full[:150]} as {role}")
    assert not problems, "\n".join(problems)


def _with_text(rule: Any, args: dict[str, Any], names: list[str], value: str) -> str:
    """The rule's path with the ``names`` arguments set to ``value`` (already URL-encoded)."""

    def argument(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        return value if name in names else str(args[name])

    return re.sub(r"<([^>]+)>", argument, rule.rule)


def test_every_text_in_a_path_survives_hostile_values(app: Any, make_user: Any) -> None:
    """Routes with text in their path (tokens, codes, slugs, formats) get non-ASCII text,
    overlong and invalid UTF-8, encoded traversal, NUL, markup and 3,000 characters there."""
    actors = Actors(app, make_user)
    problems: list[str] = []
    for method in ("GET", "POST"):
        for endpoint, rule in _routes(app, method):
            texts = [name for name, converter in rule._converters.items() if not isinstance(converter, IdConverter)]
            if not texts:
                continue
            role = _allowed(endpoint, method)[0]
            args = _args(endpoint, rule, actors.objects)
            for value in PATH_VALUES:
                path = _with_text(rule, args, texts, value)
                client = actors.client(role)
                data = {"csrf_token": client.csrf_token()} if method == "POST" else None
                problems += _send(client, method, path, f"{method} {path[:150]} as {role}", data=data)
    assert not problems, "\n".join(problems)


def test_the_checks_catch_an_error_and_markup_sent_back_as_markup(app: Any) -> None:
    """The checks above can fail: a view that fails, and one that echoes its input unescaped."""
    from flask import request
    from markupsafe import escape

    from lms.access import PUBLIC, policy

    @app.post("/echo/<kind>")
    @policy(PUBLIC)
    def echo(kind: str) -> str:
        text = request.form["text"]
        if kind == "fails":
            text.encode("ascii")  # UnicodeEncodeError, as a 500
        return f"<p>{escape(text) if kind == 'escaped' else text}</p>"

    client = app.test_client()
    send = {"data": {"text": MARKUP_VALUE + EMOJI, "csrf_token": client.csrf_token()}}
    assert _send(client, "POST", "/echo/escaped", "escaped", **send) == []
    assert [problem.split(" unescaped")[0] for problem in _send(client, "POST", "/echo/raw", "raw", **send)] == [
        f"raw: {MARKUP[0]!r}",
        f"raw: {MARKUP[1]!r}",
    ]
    assert _send(client, "POST", "/echo/fails", "fails", **send)[0].startswith("fails: UnicodeEncodeError")
