import email
import email.policy

import pytest

from campaigns.rendering import (
    FOOTER_REASON_UNKNOWN,
    MERGE_FIELDS,
    SAMPLE_CONTEXT,
    fields_needing_values,
    render_message,
    render_message_simple,
    subject_title,
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


def test_every_problem_in_a_subject_is_reported_at_once():
    errors = template_errors("Bad {% if x %}tag{% endif %} {{ nope }} {{ group.name|safe }}", "ok")
    assert len(errors) == 1
    assert errors[0].startswith("Subject:")
    assert "{% if x %} is not allowed" in errors[0]
    assert "{{ nope }} is not a merge field." in errors[0]
    assert "The filter |safe is not allowed." in errors[0]
    assert errors[0].count("Merge fields:") == 1


def test_problems_in_subject_and_body_are_reported_together():
    errors = template_errors("{{ nope }}", "{% now 'Y' %} {{ recipient.nickname }}")
    assert [e.split(":")[0] for e in errors] == ["Subject", "Body"]
    assert "{% now 'Y' %} is not allowed" in errors[1]
    assert "{{ recipient.nickname }} is not a merge field." in errors[1]


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


@pytest.mark.parametrize(
    "body",
    [
        "{% now 'Y' %}",
        "{{ group.name|safe }}",
        "{{ group.name|default:group.name }}",
        "Dear }} colleague",
        "Dear {{ group.name",
        "{{ recipient.nickname }}",
    ],
)
def test_every_template_error_lists_the_fields_that_exist(body):
    errors = template_errors("Subject", body)
    assert len(errors) == 1
    for name in MERGE_FIELDS:
        assert "{{ " + name + " }}" in errors[0]


def test_merge_field_in_a_link_target_is_url_encoded_and_escaped():
    context = {**CONTEXT, "group": {"name": 'Vale & "Cardiff" Group'}}
    body = "Read [your page](https://alc.example.org/groups/{{ group.name }}/) now."
    rendered = render_message(subject="Hi", body=body, context=context)
    assert (
        '<a href="https://alc.example.org/groups/Vale%20%26%20%22Cardiff%22%20Group/"'
        in rendered.html
    )
    assert "(https://alc.example.org/groups/Vale%20%26%20%22Cardiff%22%20Group/)" in rendered.text
    # Outside the link the value is shown as written.
    assert render_message(subject="Hi", body="{{ group.name }}", context=context).html.count(
        "Vale &amp; &quot;Cardiff&quot; Group"
    )
    simple = render_message_simple(subject="Hi", body=body, context=context)
    assert simple == rendered


def test_unsubscribe_link_is_not_url_encoded_again():
    url = "https://alc.example.org/unsubscribe/a:b/"
    rendered = render_message(
        subject="Hi",
        body="[x](https://x.example/{{ group.name }})",
        context={"unsubscribe_url": url},
    )
    assert f'href="{url}"' in rendered.html


def _envelope(**fields):
    from campaigns.models import Mailing
    from campaigns.services.messages import Envelope

    mailing = Mailing(
        pk=7,
        subject="Elections at {{ council.name }}",
        body=BODY,
        from_name="Cymdeithas Cynghorwyr Llafur",
        reply_to="office@alc.example.org",
        **fields,
    )
    return Envelope.for_mailing(mailing)


def test_message_bytes_are_what_django_would_send(settings):
    settings.MAILING_UNSUBSCRIBE_MAILTO = "unsubscribe@alc.example.org"
    context = {**CONTEXT, "council": {"name": "Cyngor Sir Ynys Môn"}}
    message, message_id = _envelope().message(email="labour@example.org", context=context)
    fast = email.message_from_bytes(message.smtp_bytes(), policy=email.policy.default)
    django = email.message_from_bytes(
        message.message().as_bytes(linesep="\r\n"), policy=email.policy.default
    )
    assert fast["Message-ID"] == message_id
    assert fast["Date"]
    for header in (
        "Subject", "From", "To", "Reply-To", "Message-ID", "List-Unsubscribe",
        "List-Unsubscribe-Post", "MIME-Version",
    ):  # fmt: skip
        assert " ".join(fast[header].split()) == " ".join(django[header].split()), header
    assert fast["Subject"] == "Elections at Cyngor Sir Ynys Môn"
    assert fast["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert fast.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        assert fast.get_body((kind,)).get_content() == django.get_body((kind,)).get_content()
    assert not fast.defects and not any(part.defects for part in fast.walk())
    assert all(len(line) <= 998 for line in message.smtp_bytes().split(b"\r\n"))


def test_message_bytes_encode_long_lines_safely():
    long_name = "Labour " * 200
    context = {**CONTEXT, "group": {"name": long_name}}
    message, _ = _envelope().message(email="labour@example.org", context=context)
    data = message.smtp_bytes()
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert long_name.upper().strip() in parsed.get_body(("html",)).get_content()


def test_unusual_addresses_use_djangos_own_serialisation():
    message, _ = _envelope().message(email="labour@exämple.org", context=CONTEXT)
    assert message.smtp_bytes() is None


# --- dates: stored as ISO text, shown as "6 May 2027" or as |date asks ------------------------


@pytest.mark.parametrize("render", [render_message, render_message_simple])
@pytest.mark.parametrize(
    "field, shown",
    [
        ("{{ election.date }}", "6 May 2027"),
        ('{{ election.date|date:"l j F" }}', "Thursday 6 May"),
        ('{{ election.date|date:"D j M Y" }}', "Thu 6 May 2027"),
        ("{{ election.date|upper }}", "6 MAY 2027"),
        ('{{ election.date|default:"soon" }}', "6 May 2027"),
    ],
)
def test_an_iso_election_date_shows_as_a_date(render, field, shown):
    rendered = render(subject=field, body=f"Polling day: {field}.", context=CONTEXT)
    assert rendered.subject == shown
    assert f"Polling day: {shown}." in rendered.text
    assert f"Polling day: {shown}." in rendered.html


@pytest.mark.parametrize(
    "field, shown",
    [
        ("{{ election.date }}", "6 May 2027"),
        ('{{ election.date|date:"l j F" }}', "6 May 2027"),
        ("{{ election.date|upper }}", "6 MAY 2027"),
    ],
)
def test_a_date_stored_as_text_before_dates_were_iso_shows_unchanged(field, shown):
    context = {**CONTEXT, "election": {"date": "6 May 2027"}}
    assert render_message(subject=field, body="x", context=context).subject == shown


@pytest.mark.parametrize(
    "field, shown",
    [
        ("{{ election.date }}", ""),
        ('{{ election.date|date:"l j F" }}', ""),
        ('{{ election.date|default:"to be announced" }}', "to be announced"),
    ],
)
def test_no_election_date_is_empty_or_the_default(field, shown):
    context = {**CONTEXT, "election": {"date": ""}}
    rendered = render_message(subject=f"[{field}]", body="x", context=context)
    assert rendered.subject == f"[{shown}]"


def test_the_sample_values_render_dates_as_real_ones_do():
    field = '{{ election.date }} / {{ election.date|date:"l j F" }}'
    sample = render_message(subject=field, body="x", context=SAMPLE_CONTEXT).subject
    real = render_message(subject=field, body="x", context=CONTEXT).subject
    assert sample == real == "6 May 2027 / Thursday 6 May"


def test_other_fields_looking_like_dates_are_left_as_written():
    context = {**CONTEXT, "group": {"name": "2027-05-06"}}
    assert render_message(subject="{{ group.name }}", body="x", context=context).subject == (
        "2027-05-06"
    )


def test_fields_needing_values_are_those_used_without_a_default():
    fields = fields_needing_values(
        "{{ council.name }}: {{ election.date }}",
        '{{ recipient.first_name|default:"colleague" }} {{ election.date|date:"j F" }} '
        "{{ election.seats_up }} {{ council.name }}",
    )
    assert fields == ["council.name", "election.date", "election.seats_up"]


def test_an_invalid_template_needs_no_values():
    assert fields_needing_values("{{ nonsense }}", "{% if x %}") == []


# --- line breaks and the footer's reason ------------------------------------------------------

SIGN_OFF = "Thank you for all you do.\n\nBest wishes,\nALC National Office"


@pytest.mark.parametrize("render", [render_message, render_message_simple])
def test_a_single_line_break_stays_a_line_break_in_the_html_part(render):
    rendered = render(subject="Hi", body=SIGN_OFF, context=CONTEXT)
    assert "<p>Best wishes,<br>\nALC National Office</p>" in rendered.html
    # Blank lines still make paragraphs, and the text part is as written.
    assert "<p>Thank you for all you do.</p>" in rendered.html
    assert rendered.text == SIGN_OFF + "\n\n\n--\n" + FOOTER_REASON_UNKNOWN + "\n"


@pytest.mark.parametrize(
    "reason, footer",
    [
        ("contact", "You receive this as the contact address of a council Labour group."),
        ("leader", "You receive this as the leader of a council Labour group."),
        ("secretary", "You receive this as the secretary of a council Labour group."),
        ("all_councillors", "You receive this as a councillor in a council Labour group."),
        (None, "You receive this as a member or contact of a council Labour group."),
    ],
)
def test_the_footer_says_why_the_recipient_gets_the_message(reason, footer):
    context = {**CONTEXT, "unsubscribe_url": "https://alc.example.org/unsubscribe/t/"}
    if reason:
        context["reason"] = reason
    fast = render_message(subject="Hi", body=BODY, context=context)
    assert footer in fast.html
    # The plain-text part says the same, just above the unsubscribe link.
    assert f"\n--\n{footer}\nTo stop receiving these emails: {context['unsubscribe_url']}\n" in (
        fast.text
    )
    others = {"contact", "leader", "secretary", "all_councillors"} - {reason}
    assert "as a contact for" not in fast.html
    assert fast == render_message_simple(subject="Hi", body=BODY, context=context)
    for other in others:
        other_footer = render_message(subject="Hi", body=BODY, context={**context, "reason": other})
        assert footer not in other_footer.html
        assert footer not in other_footer.text


def test_subject_title_shows_merge_fields_as_placeholders():
    assert (
        subject_title('{{ council.name }}: getting ready for {{ election.date|date:"j F" }}')
        == "[council name]: getting ready for [election date]"
    )
    assert subject_title("No fields here") == "No fields here"
