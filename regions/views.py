from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alc_portal import fragments

from . import history, services
from .access import (
    current_representatives_visible_to,
    get_council_for_user_or_404,
    get_group_for_user_or_404,
    get_officer_for_user_or_404,
    get_region_for_user_or_404,
    get_representative_for_user_or_404,
    manages_region,
    may_correct_council,
    regions_visible_to,
    require_national_staff,
)
from .charts import bar_chart
from .control import party_codes_in
from .forms import (
    CouncilCorrectionForm,
    CouncilFilterForm,
    ElectionFormSet,
    GroupContactForm,
    OfficerAppointForm,
    OfficerEndForm,
)
from .models import GroupOfficer

# Sortable columns of the region dashboard: GET value -> (label, ordering field, numeric?).
COUNCIL_COLUMNS = {
    "council": ("Council", "short_name", False),
    "type": ("Type", "kind", False),
    "control": ("Control", "control", False),
    "seats": ("Seats", "total_seats", True),
    "labour": ("Labour seats", "labour_seats", True),
    "election": ("Next election", "next_election_date", False),
    "up": ("Labour seats up", "next_labour_seats_up", True),
    "portal": ("On the portal", "portal_councillors", True),
    "vacant": ("Vacant offices", "vacant_offices", True),
}


def _sort_columns(query, sort, descending, hidden=()):
    """Header links that sort by each column, keeping the filters, with aria-sort on one."""
    params = {k: v for k, v in query.items() if k not in ("sort", "order")}
    columns = []
    for key, (label, _field, numeric) in COUNCIL_COLUMNS.items():
        if key in hidden:
            continue
        current = key == sort
        order = "desc" if current and not descending else "asc"
        columns.append(
            {
                "label": label,
                "numeric": numeric,
                "url": "?" + urlencode({**params, "sort": key, "order": order}),
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    return columns


def _region_totals(councils):
    return {
        "councils": len(councils),
        "groups": sum(1 for c in councils if hasattr(c, "labour_group")),
        "seats": sum(c.total_seats for c in councils),
        "labour_seats": sum(c.labour_seats for c in councils),
        "labour_seats_up": sum(c.next_labour_seats_up or 0 for c in councils),
    }


# The query parameters the region dashboard reads; a page asked for with others is not cached.
REGION_PARAMETERS = {"sort", "order", *CouncilFilterForm.base_fields}


def _ordering(query):
    """The column the table is sorted by, whether downwards, and the ordering for the query."""
    sort = query.get("sort", "council")
    if sort not in COUNCIL_COLUMNS:
        sort = "council"
    descending = query.get("order") == "desc"
    field = F(COUNCIL_COLUMNS[sort][1])
    ordering = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
    return sort, descending, ordering


def _same_in_every_row(councils) -> dict:
    """Columns that would repeat one value down the whole table, and what the caption says for
    them instead: every council of one type, under one control, or with every Labour seat up at
    its next election."""
    same = {}
    if len(councils) < 2:
        return same
    if len({c.kind for c in councils}) == 1:
        same["type"] = f"All are of one type: {councils[0].get_kind_display().lower()}."
    if len({c.control for c in councils}) == 1 and councils[0].control:
        same["control"] = f"All are under the same control: {councils[0].control}."
    if all(c.next_election_date and c.next_labour_seats_up == c.labour_seats for c in councils):
        same["up"] = "At each council's next election every Labour seat is up."
    return same


def _region_councils(region, query) -> dict:
    """The region dashboard's parts drawn from the council data alone: the totals, and the
    filters, table, chart and former councils, for the filters and order in `query`."""
    control_labels = region.councils.current().order_by().values_list("control", flat=True)
    form = CouncilFilterForm(query or None, control_labels=control_labels.distinct())
    sort, descending, ordering = _ordering(query)
    councils = list(
        form.filter(region.councils.current())
        .with_next_election_figures()
        .with_portal_figures()
        .select_related("labour_group")
        .order_by(ordering, "short_name", "pk")
    )
    chart_rows = sorted(
        (c for c in councils if c.next_labour_seats_up),
        key=lambda c: (-c.next_labour_seats_up, c.short_name),
    )
    same = _same_in_every_row(councils)
    context = {
        "region": region,
        "form": form,
        "filtered": bool(form.applied()),
        "councils": councils,
        "same": same,
        "columns": _sort_columns(query, sort, descending, hidden=same),
        "sort_param": query.get("sort", ""),
        "order_param": query.get("order", ""),
        "totals": _region_totals(councils),
        "chart": bar_chart([(c.short_name, c.next_labour_seats_up) for c in chart_rows]),
        "former_councils": region.councils.former().select_related("labour_group"),
        "party_codes": party_codes_in(c.control for c in councils),
    }
    return {
        "totals": render_to_string("regions/_region_totals.html", context),
        "councils": render_to_string("regions/_region_councils.html", context),
    }


@login_required
@require_safe
def region_detail(request, slug):
    region = get_region_for_user_or_404(request.user, slug)
    query = request.GET
    if set(query) <= REGION_PARAMETERS:
        key = (region.pk, sorted(query.lists()))
        parts = fragments.cached("region", key, lambda: _region_councils(region, query))
    else:
        parts = _region_councils(region, query)
    context = {
        "region": region,
        "parts": parts,
        "representatives": current_representatives_visible_to(request.user, region),
        "can_manage": manages_region(request.user, region.pk),
        "is_staff": request.user.is_national_staff,
    }
    return render(request, "regions/region_detail.html", context)


@login_required
@require_safe
def council_detail(request, slug):
    council = get_council_for_user_or_404(request.user, slug)
    context = {"council": council, "may_correct": may_correct_council(request.user)}
    return render(request, "regions/council_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def council_correct(request, slug):
    council = get_council_for_user_or_404(request.user, slug)
    if not may_correct_council(request.user):
        raise PermissionDenied
    form = CouncilCorrectionForm(request.POST or None, instance=council)
    upcoming = [
        {"date": e.date, "seats_up": e.seats_up, "labour_seats_up": e.labour_seats_up}
        for e in council.upcoming_elections
    ]
    elections = ElectionFormSet(request.POST or None, initial=upcoming, prefix="elections")
    if request.method == "POST" and form.is_valid() and elections.is_valid():
        try:
            services.council_correct(
                council=council, by=request.user, elections=elections.elections(),
                **{k: form.cleaned_data[k] for k in form.Meta.fields + ["reason"]},
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{council.name}'s figures are corrected.")
            return redirect(council.get_absolute_url())
    context = {"council": council, "form": form, "elections": elections}
    return render(request, "regions/council_correct.html", context)


def _officer_rows(officers):
    """Current (and future) officers in the order of the offices, then past ones."""
    today = timezone.localdate()
    order = {role: i for i, role in enumerate(GroupOfficer.Role.values)}
    current = [o for o in officers if o.end_date is None or o.end_date > today]
    past = [o for o in officers if o.end_date is not None and o.end_date <= today]
    current.sort(key=lambda o: (order[o.role], o.start_date))
    past.sort(key=lambda o: o.end_date, reverse=True)
    return current, past


@login_required
@require_safe
def group_detail(request, pk):
    group = get_group_for_user_or_404(request.user, pk)
    current, past = _officer_rows(list(group.officers.select_related("user")))
    councillors = (
        group.council.councillors.filter(left_on__isnull=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    # Councillors read names only, as on the council's list of councillors; contact details
    # are for those who manage the region.
    can_manage = manages_region(request.user, group.council.region_id)
    context = {
        "group": group,
        "current_officers": current,
        "past_officers": past,
        "vacant_offices": [
            label
            for role, label in GroupOfficer.Role.choices
            if not any(o.role == role for o in current)
        ],
        "councillors": councillors,
        "changes": history.group_changes(group, limit=20, reveal_emails=can_manage),
        "can_manage": can_manage,
        "is_staff": request.user.is_national_staff,
    }
    return render(request, "regions/group_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request, pk):
    group = get_group_for_user_or_404(request.user, pk, manage=True)
    form = GroupContactForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_contact_update(group=group, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The group's contact details are saved.")
            return redirect(group)
    return render(request, "regions/group_edit.html", {"group": group, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def group_officers(request, pk):
    group = get_group_for_user_or_404(request.user, pk, manage=True)
    form = OfficerAppointForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        try:
            officer = services.officer_appoint(group=group, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"{officer.user} is now {officer.get_role_display().lower()}."
            )
            return redirect("regions:group_officers", pk=group.pk)
    current, _past = _officer_rows(list(group.officers.select_related("user")))
    context = {
        "group": group,
        "form": form,
        # With nobody to choose, the page says why and where to add councillors instead.
        "has_candidates": form.fields["user"].queryset.exists(),
        "current_officers": [(o, OfficerEndForm(officer=o)) for o in current],
    }
    return render(request, "regions/group_officers.html", context)


@login_required
@require_POST
def officer_end(request, pk):
    officer = get_officer_for_user_or_404(request.user, pk, manage=True)
    form = OfficerEndForm(request.POST, officer=officer)
    if form.is_valid():
        try:
            services.officer_end(officer=officer, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"{officer.user}'s term as {officer.get_role_display().lower()} ends."
            )
            return redirect("regions:group_officers", pk=officer.group_id)
    return render(
        request, "regions/officer_end.html", {"officer": officer, "form": form}, status=400
    )


def _national_overview(user) -> str:
    """The national overview's figures and table: every region, as staff see them all."""
    regions = list(regions_visible_to(user).with_national_figures())
    figures = [
        "council_count",
        "group_count",
        "councillor_count",
        "groups_without_address",
        "groups_without_leader",
        "groups_without_secretary",
    ]
    totals = {name: sum(getattr(r, name) for r in regions) for name in figures}
    totals["representatives"] = len(
        {rep.user_id for r in regions for rep in r.current_representatives}
    )
    context = {"regions": regions, "totals": totals}
    return render_to_string("regions/_national_overview.html", context)


@login_required
@require_safe
def national_dashboard(request):
    require_national_staff(request.user)
    # Staff see every region: the overview is the same for each of them.
    overview = fragments.cached("national", (), lambda: _national_overview(request.user))
    return render(request, "regions/national.html", {"overview": overview})


HISTORY_KINDS = {
    "council": (
        lambda user, pk: get_council_for_user_or_404(user, pk=pk),
        history.council_changes,
        "Council",
    ),
    "group": (get_group_for_user_or_404, history.group_changes, "Labour group"),
    "officer": (get_officer_for_user_or_404, history.officer_changes, "Group officer"),
    "representative": (
        get_representative_for_user_or_404,
        history.representative_changes,
        "Representative appointment",
    ),
}


@login_required
@require_safe
def object_history(request, kind, pk):
    if kind not in HISTORY_KINDS:
        raise Http404
    get_object, read_changes, label = HISTORY_KINDS[kind]
    obj = get_object(request.user, pk)
    require_national_staff(request.user)
    context = {"object": obj, "label": label, "changes": read_changes(obj)}
    return render(request, "regions/history.html", context)
