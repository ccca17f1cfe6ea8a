"""Turn a mailing's subject and Markdown body, plus one recipient's plain values, into a message.

Templates are deliberately small: `{{ field }}` merge fields from MERGE_FIELDS, optionally with
one of the filters in FILTERS (`{{ recipient.first_name|default:"colleague" }}`,
`{{ election.date|date:"l j F" }}`). Template tags (`{% ... %}`) are refused, so a template
can always be checked when it is saved and can never fail or loop at send time. Dates come as
ISO text ("2027-05-06"): a plain `{{ election.date }}` shows "6 May 2027".

Speed: a mailing is thousands of messages from one template, so the expensive work (Markdown,
sanitising with nh3, the HTML wrapper, CSS inlining) is done once per (subject, body), with a
marker where each merge field goes. Each message then only escapes its values and joins
strings. Merge values are inserted as plain text: a value containing Markdown or HTML shows
literally, it never becomes markup. A field inside a link target
(`[pack](https://x.example/{{ group.name }}/)`) is URL-encoded as well, so a value with spaces
or `&` still makes a working link.
`render_message_simple` does the straightforward render-everything-per-message version; tests
check that both give the same result.
"""

from __future__ import annotations

import datetime
import functools
import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import css_inline
import markdown
import nh3
from django.template import Engine, TemplateSyntaxError
from django.template.base import Node, TextNode, VariableNode
from django.template.loader import render_to_string
from django.utils import dateformat
from django.utils.safestring import mark_safe

MERGE_FIELDS = (
    "recipient.first_name",
    "recipient.full_name",
    "group.name",
    "council.name",
    "region.name",
    "election.date",
    "election.seats_up",
    "election.labour_seats_up",
)

# How messages and help texts list the merge fields.
MERGE_FIELD_LIST = ", ".join("{{ " + name + " }}" for name in MERGE_FIELDS)

FILTERS = ("default", "upper", "lower", "title", "capfirst", "date")

# Fields holding a date. Contexts store them as ISO text ("2027-05-06"); a plain
# {{ election.date }} shows "6 May 2027", and |date:"..." formats it as asked.
DATE_FIELDS = frozenset({("election", "date")})
DATE_DISPLAY_FORMAT = "j F Y"

# Values for previews and for checking that a template renders.
SAMPLE_CONTEXT = {
    "recipient": {"first_name": "Alex", "full_name": "Alex Example"},
    "group": {"name": "Example Labour Group"},
    "council": {"name": "Example Borough Council"},
    "region": {"name": "Example Region"},
    "election": {"date": "2027-05-06", "seats_up": 48, "labour_seats_up": 20},
}

WRAPPER_TEMPLATE = "campaigns/email/message.html"
# nl2br: a single line break (a sign-off's "Best wishes,\nALC National Office") stays a line
# break in the HTML part, as it reads in the text part; blank lines still make paragraphs.
MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "nl2br"]
# Sanitised HTML may contain what Markdown produces; no images (tracking pixels), no scripts.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}

# Merge templates are compiled with their own engine: Django's filters, no loaders, no
# autoescaping (escaping happens where the value lands: HTML or plain text).
# Why the recipient gets the message, by the context's "reason" (the audience records the
# Mailing.Recipients value that chose the address), for the footer of both parts.
FOOTER_REASONS = {
    "contact": "You receive this as the contact address of a council Labour group.",
    "leader": "You receive this as the leader of a council Labour group.",
    "secretary": "You receive this as the secretary of a council Labour group.",
    "all_councillors": "You receive this as a councillor in a council Labour group.",
    "event_booked": "You receive this as a councillor booked on one of the association's events.",
    "event_not_booked": "You receive this as a councillor who wants news of training and events.",
}
# Messages recorded before the reason was, and previews with sample values.
FOOTER_REASON_UNKNOWN = "You receive this as a member or contact of a council Labour group."


def footer_reason(context: dict) -> str:
    return FOOTER_REASONS.get(str(context.get("reason") or ""), FOOTER_REASON_UNKNOWN)


_ENGINE = Engine(autoescape=False, debug=False)
_MARKER = "ALCMERGEFIELDMARK"
_MARKER_RE = re.compile(_MARKER + r"(\d+)Z")
_HREF_RE = re.compile(r'href="([^"]*)"')
_MARKDOWN_LINK_TARGET_RE = re.compile(r"\]\(([^)]*)\)")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    # The body alone as HTML, without the email's wrapper and footer: what a letter prints.
    content: str = field(default="", compare=False)


@dataclass(frozen=True)
class _Field:
    path: tuple[str, ...]
    filters: tuple  # ((function, name, argument or None), ...)

    def value(self, context: dict) -> str:
        value: Any = raw_value(context, self.path)
        if self.path in DATE_FIELDS:
            value = _as_date(value)
        for func, name, arg in self.filters:
            if name == "date":
                value = _format_date(value, arg)
                continue
            if isinstance(value, datetime.date):
                value = _date_text(value)
            value = func(value) if arg is None else func(value, arg)
        if isinstance(value, datetime.date):
            value = _date_text(value)
        return str(value)

    @property
    def has_default(self) -> bool:
        return any(name == "default" for _, name, _ in self.filters)


def raw_value(context: dict, path: tuple[str, ...]):
    """A merge field's value in a recipient's context before any filter; "" when absent."""
    value: Any = context
    for part in path:
        value = value.get(part, "") if isinstance(value, dict) else ""
    return "" if value is None else value


def _as_date(value):
    """An ISO date ("2027-05-06", as contexts store dates) as a date; anything else unchanged,
    so contexts stored before dates were ISO ("6 May 2027") still show as they were."""
    if isinstance(value, str) and _ISO_DATE_RE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _date_text(day: datetime.date) -> str:
    return dateformat.format(day, DATE_DISPLAY_FORMAT)


def _format_date(value, fmt) -> str:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if not isinstance(value, datetime.date):
        return "" if value in ("", None) else str(value)
    return dateformat.format(value, fmt or DATE_DISPLAY_FORMAT)


def _parse(source: str) -> list:
    """Compile one template into text and _Field parts; raise ValueError with a clear message
    (every problem found in it)."""
    parts, problems = _parse_checked(source)
    if problems:
        raise ValueError(" ".join(problems))
    return parts


def _parse_checked(source: str) -> tuple[list, list[str]]:
    """Compile one template into text and _Field parts, and every problem found in it, each
    a sentence. A template Django cannot compile at all gives that one problem."""
    if _MARKER in source:
        return [], ["contains text reserved for merge fields."]
    try:
        template = _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        return [], [f"{exc}. Use only merge fields such as {{{{ group.name }}}}."]
    parts: list = []
    problems: list[str] = []
    for node in template.nodelist:
        if isinstance(node, TextNode):
            if any(brace in node.s for brace in ("{{", "}}", "{%", "%}")):
                problems.append(
                    "has an unclosed or stray {{ or }}: write merge fields as {{ group.name }}."
                )
            parts.append(node.s)
        elif isinstance(node, VariableNode):
            try:
                parts.append(_field(node))
            except ValueError as exc:
                problems.append(str(exc))
        else:
            problems.append(_tag_message(node))
    return parts, problems


def _tag_message(node: Node) -> str:
    token = getattr(node, "token", None)
    shown = f"{{% {token.contents} %}}" if token is not None else "a template tag"
    return f"{shown} is not allowed: use only merge fields such as {{{{ group.name }}}}."


def _field(node: VariableNode) -> _Field:
    expression = node.filter_expression
    variable = expression.var
    name = getattr(variable, "var", None)
    if not isinstance(name, str) or getattr(variable, "literal", None) is not None:
        raise ValueError(f"{{{{ {expression.token} }}}} is not a merge field.")
    if name not in MERGE_FIELDS:
        raise ValueError(f"{{{{ {name} }}}} is not a merge field.")
    filters = []
    for func, args in expression.filters:
        filter_name = getattr(func, "_filter_name", func.__name__)
        if filter_name not in FILTERS:
            raise ValueError(
                f"The filter |{filter_name} is not allowed. Filters: {', '.join(FILTERS)}."
            )
        arg = None
        if args:
            lookup, arg_var = args[0]
            if lookup:
                raise ValueError(
                    f"The argument to |{filter_name} must be quoted text, "
                    f'such as |{filter_name}:"..."'
                )
            arg = str(arg_var.resolve({}) if hasattr(arg_var, "resolve") else arg_var)
        filters.append((func, filter_name, arg))
    return _Field(tuple(name.split(".")), tuple(filters))


def template_errors(subject: str, body: str) -> list[str]:
    """What is wrong with a subject and body as merge templates; empty when both are valid.
    One message for each of the two that has problems, naming every problem found in it, and
    ending with the list of merge fields that exist."""
    errors = []
    for label, source in (("Subject", subject), ("Body", body)):
        parts, problems = _parse_checked(source or "")
        # A filter may still reject its argument (a bad date format, say): try the sample.
        for part in parts:
            if isinstance(part, _Field):
                try:
                    part.value(SAMPLE_CONTEXT)
                except Exception as exc:  # a filter failing on its argument
                    problems.append(str(exc))
        if problems:
            sentences = []
            for problem in dict.fromkeys(problems):
                problem = problem.rstrip()
                sentences.append(problem if problem.endswith(".") else problem + ".")
            errors.append(f"{label}: {' '.join(sentences)} Merge fields: {MERGE_FIELD_LIST}")
    return errors


_FIELD_IN_TEXT_RE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)[^}]*\}\}")


def subject_title(subject: str) -> str:
    """A subject as people read it in lists and headings: each merge field as a placeholder,
    "{{ council.name }}: getting ready" as "[council name]: getting ready"."""
    return _FIELD_IN_TEXT_RE.sub(
        lambda match: "[" + match.group(1).replace(".", " ").replace("_", " ") + "]", subject
    )


def fields_needing_values(subject: str, body: str) -> list[str]:
    """The merge fields a subject and body use without a |default, in the order they first
    appear: a recipient with no value for one of them gets a gap in the message. Empty when
    the templates are invalid (template_errors reports that)."""
    try:
        parts = [*_parse(subject or ""), *_parse(body or "")]
    except ValueError:
        return []
    names: dict[str, None] = {}
    for part in parts:
        if isinstance(part, _Field) and not part.has_default:
            names.setdefault(".".join(part.path))
    return list(names)


def markdown_to_html(source: str) -> str:
    rendered = markdown.markdown(source, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES)


def _parts(
    *,
    subject: str,
    markdown_body: str,
    text_body: str,
    unsubscribe_url: str | None,
    reason: str,
    note: str,
) -> tuple[str, str, str]:
    """A message's HTML content, its whole HTML page (styles inlined) and its text part."""
    content = markdown_to_html(markdown_body)
    page = render_to_string(
        WRAPPER_TEMPLATE,
        {
            "subject": subject,
            "reason": reason,
            "note": note,
            # Sanitised by nh3 in markdown_to_html.
            "content": mark_safe(content),  # noqa: S308
            "unsubscribe_url": unsubscribe_url,
        },
    )
    # The text part: the note (if any), the body, and the footer.
    heading = f"{note}\n\n" if note else ""
    footer = text_footer(unsubscribe_url=unsubscribe_url, reason=reason)
    return content, css_inline.inline(page), heading + text_body.strip() + "\n" + footer


def text_footer(*, unsubscribe_url: str | None, reason: str) -> str:
    if not unsubscribe_url:
        return f"\n\n--\n{reason}\n"
    return f"\n\n--\n{reason}\nTo stop receiving these emails: {unsubscribe_url}\n"


@dataclass(frozen=True)
class _Compiled:
    subject: tuple
    text: tuple
    html: tuple
    fields: tuple  # the _Field of each marker number
    has_unsubscribe: bool
    text_links: frozenset  # marker numbers inside a link target, in the text and in the HTML
    html_links: frozenset
    content: tuple = ()

    def render(self, context: dict) -> Rendered:
        values = [field.value(context) for field in self.fields]
        # Subject: one line, whatever the values contain.
        subject = " ".join(_join(self.subject, values).split())
        text_values = values
        if self.text_links:
            text_values = [
                _url_quote(v) if i in self.text_links else v for i, v in enumerate(values)
            ]
        html_values = [
            html.escape(_url_quote(v) if i in self.html_links else v) for i, v in enumerate(values)
        ]
        text, page = _join(self.text, text_values), _join(self.html, html_values)
        content = _join(self.content, html_values)
        return Rendered(subject=subject, text=text, html=page, content=content)


def _join(parts: tuple, values: list[str]) -> str:
    return "".join(values[part] if isinstance(part, int) else part for part in parts)


def _url_quote(value: str) -> str:
    """A merge value inside a URL is data, never URL structure: encode every reserved character."""
    return quote(value, safe="")


def _link_markers(*, markdown_source: str, page: str) -> tuple[frozenset, frozenset]:
    """Marker numbers that sit inside a link target: in the Markdown source (the text part
    shows it as written) and in the HTML's href attributes."""
    in_text = {
        int(n)
        for target in _MARKDOWN_LINK_TARGET_RE.findall(markdown_source)
        for n in _MARKER_RE.findall(target)
    }
    in_html = {int(n) for href in _HREF_RE.findall(page) for n in _MARKER_RE.findall(href)}
    return frozenset(in_text), frozenset(in_html)


def _split(source: str) -> tuple:
    """Split text containing markers into a tuple of str and marker numbers."""
    pieces = _MARKER_RE.split(source)
    out: list = []
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append(int(piece))
        elif piece:
            out.append(piece)
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _compile(subject: str, body: str, has_unsubscribe: bool, reason: str, note: str) -> _Compiled:
    fields: list[_Field] = []

    def marked(parts: list) -> str:
        out = []
        for part in parts:
            if isinstance(part, _Field):
                out.append(f"{_MARKER}{len(fields)}Z")
                fields.append(part)
            else:
                out.append(part)
        return "".join(out)

    subject_marked = marked(_parse(subject))
    body_marked = marked(_parse(body))
    # The unsubscribe link is the last "field": values[-1] at render time.
    unsubscribe_marker = f"{_MARKER}{len(fields)}Z" if has_unsubscribe else None
    content_marked, html_marked, text_marked = _parts(
        subject=subject_marked,
        markdown_body=body_marked,
        text_body=body_marked,
        unsubscribe_url=unsubscribe_marker,
        reason=reason,
        note=note,
    )
    text_links, html_links = _link_markers(markdown_source=body_marked, page=html_marked)
    if has_unsubscribe:
        # The unsubscribe link is a URL already.
        html_links -= {len(fields)}
        fields.append(_Field(("unsubscribe_url",), ()))
    return _Compiled(
        subject=_split(subject_marked),
        text=_split(text_marked),
        html=_split(html_marked),
        fields=tuple(fields),
        has_unsubscribe=has_unsubscribe,
        text_links=text_links,
        html_links=html_links,
        content=_split(content_marked),
    )


def render_message(*, subject: str, body: str, context: dict, note: str = "") -> Rendered:
    """Render one message. `context` is nested plain values, e.g. {"group": {"name": ...}};
    an `unsubscribe_url` key at the top level adds the unsubscribe footer. A `note` heads the
    message in both parts (a test copy says that it is one).

    Raises ValueError if the templates are invalid (template_errors says why).
    """
    compiled = _compile(
        subject, body, bool(context.get("unsubscribe_url")), footer_reason(context), note
    )
    return compiled.render(context)


def render_message_simple(*, subject: str, body: str, context: dict, note: str = "") -> Rendered:
    """The same result as render_message, computed from scratch for every message.

    Kept as the reference the fast path is tested against, and as the benchmark's baseline.
    """
    subject_parts = _parse(subject)
    body_parts = _parse(body)
    subject_text = "".join(p.value(context) if isinstance(p, _Field) else p for p in subject_parts)
    subject_text = " ".join(subject_text.split())
    # Which fields are inside link targets: find out where they land with numbered markers.
    numbered = [f"{_MARKER}{i}Z" if isinstance(p, _Field) else p for i, p in enumerate(body_parts)]
    text_links, html_links = _link_markers(
        markdown_source="".join(numbered), page=markdown_to_html("".join(numbered))
    )
    body_text = "".join(
        (_url_quote(p.value(context)) if i in text_links else p.value(context))
        if isinstance(p, _Field)
        else p
        for i, p in enumerate(body_parts)
    )
    body_html_source = "".join(
        (_url_quote(p.value(context)) if i in html_links else _markdown_safe(p.value(context)))
        if isinstance(p, _Field)
        else p
        for i, p in enumerate(body_parts)
    )
    unsubscribe_url = context.get("unsubscribe_url") or None
    reason = footer_reason(context)
    content, page, text = _parts(
        subject=subject_text,
        markdown_body=body_html_source,
        text_body=body_text,
        unsubscribe_url=unsubscribe_url,
        reason=reason,
        note=note,
    )
    return Rendered(subject=subject_text, text=text, html=page, content=content)


def _markdown_safe(value: str) -> str:
    """Escape a value so Markdown shows it literally: HTML entities and backslash-escapes."""
    escaped = html.escape(value, quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!])", r"\\\1", escaped)
