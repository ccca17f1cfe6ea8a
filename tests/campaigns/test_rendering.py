import pytest

from campaigns.rendering import (
    MERGE_FIELDS,
    SAMPLE_CONTEXT,
    render_message,
    render_message_simple,
    template_errors,
)

CONTEXT = {
    "recipient": {"first_name": "Morgan", "full_name": "Morgan Jones"},
    "group": {"name": "Cardiff Labour Group"},
    "council": {"name": "Cardiff Council"},
    "region": {"name": "Wales"},
    "election": {"date": "2027-05-06", "seats_up": 79, "labour_seats_up": 55},
}

BODY = """# Dear {{ recipient.first_name|default:"colleague" }}

Elections to **{{ council.name }}** are on {{ election.date|date:"j F Y" }}:
{{ election.seats_up }} seats, {{ election.labour_seats_up }} of them Labour.

- {{ group.name|upper }}
- {{ region.name }}

[Read the campaign pack](https://alc.example.org/pack/)
"""


def test_every_documented_field_is_valid():
    body = " ".join("{{ " + name + " }}" for name in MERGE_FIELDS)
    assert template_errors("Hello {{ recipient.first_name }}", body) == []


def test_unknown_field_is_an_error_listing_the_fields_that_exist():
    errors = template_errors("Hi", "Dear {{ recipient.nickname }}")
    assert len(errors) == 1
    assert errors[0].startswith("Body:")
    assert "recipient.nickname" in errors[0]
    assert "{{ group.name }}" in errors[0]


def test_syntax_error_is_an_error_not_an_exception():
    assert template_errors("Hi {{ group.name", "ok")[0].startswith("Subject:")
    assert template_errors("Hi", "{{ }}")


@pytest.mark.parametrize(
    "body",
    [
        "{% for x in group %}{{ x }}{% endfor %}",
        "{% load static %}",
        "{% include 'base.html' %}",
        "{% if group.name %}yes{% endif %}",
        "{{ group.name|safe }}",
        "{{ group.name|default:group.name }}",
        '{{ "literal" }}',
        "{{ group.__class__ }}",
    ],
)
def test_tags_and_unsafe_filters_are_refused(body):
    assert template_errors("Subject", body)


def test_it_fills_in_merge_fields_in_subject_text_and_html():
    rendered = render_message(subject="Elections at {{ council.name }}", body=BODY, context=CONTEXT)
    assert rendered.subject == "Elections at Cardiff Council"
    assert "Dear Morgan" in rendered.text
    assert "6 May 2027" in rendered.text
    assert "CARDIFF LABOUR GROUP" in rendered.html
    assert "<strong" in rendered.html and "Cardiff Council</strong>" in rendered.html
    assert "<style" not in rendered.html
    assert 'style="' in rendered.html  # CSS inlined


def test_missing_values_use_the_default_filter():
    rendered = render_message(subject="Hi", body=BODY, context={})
    assert "Dear colleague" in rendered.text


def test_values_are_plain_text_never_markup():
    context = {**CONTEXT, "group": {"name": "<script>alert(1)</script> *Group*"}}
    rendered = render_message(
        subject="{{ group.name }}\nBcc: x@evil.example", body=BODY, context=context
    )
    assert "<script>" not in rendered.html
    assert "&lt;SCRIPT&gt;" in rendered.html
    assert "\n" not in rendered.subject


def test_markup_in_the_body_is_sanitised():
    rendered = render_message(
        subject="Hi",
        body='<script>alert(1)</script><img src="https://t.example/p.gif">'
        " [x](javascript:alert(1))",
        context=CONTEXT,
    )
    assert "<script" not in rendered.html
    assert "<img" not in rendered.html
    assert "javascript:" not in rendered.html


def test_unsubscribe_link_appears_in_both_parts():
    url = "https://alc.example.org/unsubscribe/abc/"
    rendered = render_message(subject="Hi", body=BODY, context={**CONTEXT, "unsubscribe_url": url})
    assert url in rendered.text
    assert f'href="{url}"' in rendered.html


def test_fast_rendering_matches_rendering_from_scratch():
    for context in (
        CONTEXT,
        SAMPLE_CONTEXT,
        {**CONTEXT, "unsubscribe_url": "https://x.example/u/1/"},
    ):
        fast = render_message(subject="To {{ group.name }}", body=BODY, context=context)
        simple = render_message_simple(subject="To {{ group.name }}", body=BODY, context=context)
        assert fast == simple


def test_render_refuses_an_invalid_template():
    with pytest.raises(ValueError):
        render_message(subject="Hi", body="{% now 'Y' %}", context=CONTEXT)
